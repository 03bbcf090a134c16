import * as path from 'node:path';
import { type CliCommand, type CliIo, CliUsageError, numberOption, optionalIntOption, type ParsedCliArgs, requiredStringOption, stringOption } from '../command';
import { environmentApiKeys, profileFromEnvironment, type EndpointRole } from '../../llm/profiles';
import { type RetrievalSetting } from '../../teacher/runConfig';
import { expandBenchmarkFiles } from '../../eval/benchmarks';
import { type EvalRunConfig, evalRunConfigSchema, sagDefaults } from '../../eval/evalConfig';
import { runEvaluation } from '../../eval/evalRun';
import { prepareEvalRun } from '../../eval/evalSetup';
import { formatMetricsTable } from '../../eval/metrics';
import { compareRuns, formatComparison } from '../../eval/runComparison';
import { computeRunResults } from '../../eval/runResults';
import { formatTriageCounts } from '../../triage/flags';
import { printRunProgress } from '../runProgressLine';
import { factualScoringFromFlags } from '../judgeEndpoint';
import { sagCliOptions, sagCliUsage, sagExtrasFromArgs } from '../sagOptions';

function optionalNumber(args: ParsedCliArgs, key: string): number | undefined {
  return stringOption(args, key) === undefined ? undefined : numberOption(args, key, 0);
}

function retrievalFrom(args: ParsedCliArgs, io: CliIo): RetrievalSetting {
  const index = stringOption(args, 'index');
  const url = stringOption(args, 'retrieval-url');
  if (index && url) throw new CliUsageError('give either --index or --retrieval-url, not both');
  const mode = stringOption(args, 'mode') ?? 'fts';
  if (mode !== 'fts' && mode !== 'vector' && mode !== 'hybrid') throw new CliUsageError(`--mode must be fts, vector or hybrid, got "${mode}"`);
  if (index) return { kind: 'lancedb', indexDir: path.resolve(io.cwd, index), mode };
  if (url) return { kind: 'http', url };
  return { kind: 'none' };
}

function profileRole(name: string): EndpointRole {
  if (name === 'teacher' || name === 'student' || name === 'judge') return name;
  throw new CliUsageError(`--profile must be student, teacher or judge (the endpoint profile read from TRAJECTORY_STUDIO_<PROFILE>_* variables), got "${name}"`);
}

function timestampFolder(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

/** Builds the run configuration from flags, with the student endpoint from the environment. */
export async function evalConfigFromArgs(args: ParsedCliArgs, io: CliIo): Promise<EvalRunConfig> {
  const role = profileRole(stringOption(args, 'profile') ?? 'student');
  const profile = profileFromEnvironment(role, io.env);
  const listed = requiredStringOption(args, 'benchmarks').split(',').map((f) => f.trim()).filter(Boolean).map((f) => path.resolve(io.cwd, f));
  const benchmarks = await expandBenchmarkFiles(listed);
  const urls = stringOption(args, 'student-url');
  const flavor = stringOption(args, 'flavor') ?? profile.flavor;
  if (flavor !== 'vllm' && flavor !== 'openai') throw new CliUsageError(`--flavor must be vllm or openai, got "${flavor}"`);
  if (args.values.greedy === true && stringOption(args, 'sag') !== undefined) throw new CliUsageError('pass either --greedy or --sag N');
  const isolation = stringOption(args, 'isolation');
  const adapter = stringOption(args, 'adapter');
  const scripted = stringOption(args, 'scripted-student');
  const compatibility = stringOption(args, 'compat');
  const benchmarkDomain = stringOption(args, 'domain');
  if (benchmarkDomain !== undefined && benchmarkDomain !== 'math' && benchmarkDomain !== 'factual') throw new CliUsageError(`--domain must be math or factual, got "${benchmarkDomain}"`);
  if (compatibility !== undefined && compatibility !== 'studio' && compatibility !== 'reference') throw new CliUsageError(`--compat must be studio or reference, got "${compatibility}"`);
  const sagExtras = sagExtrasFromArgs(args, args.values.greedy !== true);
  const factual = factualScoringFromFlags(io, { judge: args.values.judge === true, noJudge: args.values['no-judge'] === true, judgePrompt: stringOption(args, 'judge-prompt') });
  const parsed = evalRunConfigSchema.safeParse({
    runFolder: path.resolve(io.cwd, stringOption(args, 'out') ?? path.join('eval-runs', timestampFolder())),
    benchmarks,
    ...(benchmarkDomain ? { benchmarkDomain } : {}),
    student: {
      profile: role,
      model: stringOption(args, 'model') ?? profile.model,
      baseUrls: urls ? urls.split(',').map((u) => u.trim()).filter(Boolean) : profile.baseUrls,
      flavor,
      ...(adapter ? { adapter: path.resolve(io.cwd, adapter) } : {}),
      ...(scripted ? { scripted } : {}),
    },
    mode:
      args.values.greedy === true
        ? { kind: 'greedy' }
        : {
            kind: 'sag',
            candidates: optionalIntOption(args, 'sag') ?? sagDefaults.candidates,
            isolation: args.values['shared-state'] === true ? 'shared' : 'isolated',
            ...(args.values['execute-duplicates'] === true ? { executeDuplicates: true } : {}),
            ...sagExtras,
          },
    temperature: optionalNumber(args, 'temperature'),
    topP: optionalNumber(args, 'top-p'),
    seed: optionalIntOption(args, 'seed'),
    maxTokens: optionalIntOption(args, 'max-tokens'),
    maxSteps: optionalIntOption(args, 'max-steps'),
    retrieval: retrievalFrom(args, io),
    ...(isolation ? { sandboxIsolation: isolation } : {}),
    concurrency: optionalIntOption(args, 'concurrency'),
    limit: optionalIntOption(args, 'limit'),
    sample: optionalIntOption(args, 'sample'),
    scoring: {
      factual: factual.factual,
      ...(factual.judgeModel !== undefined ? { judgeModel: factual.judgeModel } : {}),
      ...(factual.judgePrompt !== undefined ? { judgePrompt: factual.judgePrompt } : {}),
      ...(stringOption(args, 'f1-threshold') !== undefined ? { f1Threshold: numberOption(args, 'f1-threshold', 0) } : {}),
    },
    ...(stringOption(args, 'prompt') ? { promptProfile: stringOption(args, 'prompt') } : {}),
    ...(compatibility ? { compatibility } : {}),
  });
  if (!parsed.success) throw new CliUsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

/** What the run scores factual answers with, and under which profile its headline accuracy counts. */
function factualScoringNote(config: EvalRunConfig): string {
  const factual = config.scoring.factual === 'judge' ? `factual answers are judged by ${config.scoring.judgeModel ?? 'the judge model'}` : 'factual answers are scored by exact match (no judge)';
  return `${factual}; both profiles' verdicts are stored, the headline accuracy counts the ${config.compatibility} profile's`;
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate the student agent (greedy or SAG) on benchmark files; writes a resumable run folder and prints the table',
  usage: [
    'trajectory-studio eval --benchmarks FILE[,FILE…] [--out RUN_FOLDER] [--profile student] [--sag 8 | --greedy] [options]',
    '',
    'Student endpoint: TRAJECTORY_STUDIO_STUDENT_BASE_URLS, _MODEL, _FLAVOR (or the flags below); API key in',
    'TRAJECTORY_STUDIO_STUDENT_API_KEY or OPENAI_API_KEY. Running the same command on the same --out resumes:',
    'questions already in the run folder are skipped. The folder holds manifest.json, trajectories/*.traj.jsonl',
    'and metrics.json.',
    '',
    '  --benchmarks FILES        benchmark files ({metadata, examples} JSON or JSONL) or benchmark-set files, comma-separated;',
    '                            the method\'s own test-set files are read as they are (domain from their data set)',
    '  --domain math|factual     the domain of benchmark files that name none',
    '  --out DIR                 run folder (default eval-runs/<time>)',
    '  --profile NAME            endpoint profile to read from the environment (default student)',
    '  --student-url URLS        base URL(s), comma-separated (…/v1);  --model NAME  model or LoRA module name',
    '  --flavor vllm|openai      what the server understands',
    '  --adapter PATH            the trained adapter (folder or run.json): its manifest is kept with the run',
    `  --sag N                   self-consistent action generation with N candidates per step (default ${sagDefaults.candidates})`,
    '  --greedy                  one action per step, greedy decoding',
    '  --shared-state            SAG candidates run one after another in one state (the reference\'s behaviour)',
    '  --execute-duplicates      run every copy of a repeated candidate code (by default identical codes',
    '                            run once per step and share the outcome)',
    ...sagCliUsage,
    '  --compat studio|reference the profile the run follows (default studio). Both profiles\' verdicts are stored',
    '                            and reported; this one counts for the headline accuracy. The reference samples',
    '                            every SAG candidate at once with exact vote keys (adaptive and normalized ignored)',
    `  --temperature T --top-p P --seed N --max-tokens N   sampling (SAG default ${sagDefaults.temperature} / ${sagDefaults.topP} / ${sagDefaults.seed} / ${sagDefaults.maxTokens})`,
    '  --max-steps N             action steps before the fallback answer (default 5)',
    '  --index DIR               LanceDB index for web_search   (or --retrieval-url URL of a /retrieve server)',
    '  --mode fts|vector|hybrid  search mode of --index (default fts)',
    '  --isolation MODE          sandbox: auto|bwrap|rlimits|refuse-without-bwrap;  --python PATH',
    '  --concurrency N           questions at once (default 8)',
    '  --limit N                 first N questions of each benchmark;  --sample N  a seeded sample of N of each',
    '  --judge / --no-judge      factual answers are judged by the judge endpoint (TRAJECTORY_STUDIO_JUDGE_BASE_URLS,',
    '                            _MODEL) whenever it is set; --no-judge scores them by exact match instead, --judge',
    '                            fails when no judge is set;  --f1-threshold X  exact match also accepts token F1 ≥ X',
    '                            (the manifest records which was used)',
    '  --judge-prompt FILE       a judge prompt file (.judge.txt) in place of the built-in one of the run\'s profile',
    '  --prompt NAME|FILE        agent prompt profile (default student), or a prompt YAML in the reference\'s format',
    '                            (FILE.yaml, FILE.yaml#system_prompt_short for another template of the file)',
    '  --allow-settings-change   resume a run folder made with other settings',
    '  --scripted-student LABEL  mark results as made by a scripted test student',
    '  --json                    progress events as JSON lines',
  ].join('\n'),
  options: {
    benchmarks: { type: 'string' },
    domain: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
    'student-url': { type: 'string' },
    model: { type: 'string' },
    flavor: { type: 'string' },
    adapter: { type: 'string' },
    sag: { type: 'string' },
    greedy: { type: 'boolean' },
    'shared-state': { type: 'boolean' },
    'execute-duplicates': { type: 'boolean' },
    ...sagCliOptions,
    compat: { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    'max-tokens': { type: 'string' },
    'max-steps': { type: 'string' },
    index: { type: 'string' },
    'retrieval-url': { type: 'string' },
    mode: { type: 'string' },
    isolation: { type: 'string' },
    python: { type: 'string' },
    concurrency: { type: 'string' },
    limit: { type: 'string' },
    sample: { type: 'string' },
    judge: { type: 'boolean' },
    'no-judge': { type: 'boolean' },
    'judge-prompt': { type: 'string' },
    'f1-threshold': { type: 'string' },
    prompt: { type: 'string' },
    'allow-settings-change': { type: 'boolean' },
    'scripted-student': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const config = await evalConfigFromArgs(args, io);
    const json = args.values.json === true;
    const python = stringOption(args, 'python');
    const role = profileRole(stringOption(args, 'profile') ?? 'student');
    const prepared = await prepareEvalRun(config, {
      studentProfile: profileFromEnvironment(role, io.env),
      judgeProfile: profileFromEnvironment('judge', io.env),
      apiKeys: environmentApiKeys(io.env),
      sandbox: { ...(python ? { interpreter: python } : {}), onWarning: (message) => io.stderr(`warning: ${message}\n`) },
      onRetry: (info) => {
        if (!json) io.stderr(`${io.isTty ? '\r\x1b[K' : ''}retrying a request to ${info.baseUrl} in ${Math.round(info.delayMs)} ms (attempt ${info.attempt} failed: ${info.error instanceof Error ? info.error.message : String(info.error)})\n`);
      },
    });
    let cancelled = false;
    try {
      for await (const event of runEvaluation(config, prepared.deps, io.signal, { allowSettingsChange: args.values['allow-settings-change'] === true })) {
        if (json) {
          if (event.type === 'end') {
            // The question list is in metrics.json; the event line carries the summary only.
            const { questions: _questions, ...summary } = event.results.metrics;
            io.stdout(`${JSON.stringify({ type: event.type, message: event.message, snapshot: event.snapshot, cancelled: event.cancelled, metrics: summary })}\n`);
            cancelled = event.cancelled;
          } else {
            io.stdout(`${JSON.stringify(event)}\n`);
          }
          continue;
        }
        if (event.type === 'start') {
          io.stdout(`${event.message}\n`);
          io.stdout(`note: ${factualScoringNote(config)}\n`);
          for (const note of event.notes) io.stdout(`note: ${note}\n`);
          io.stdout(`writing ${event.runFolder}\n`);
        } else if (event.type === 'question') {
          printRunProgress(io, event.snapshot, event.message);
        } else {
          if (io.isTty) io.stdout('\n');
          io.stdout(`${event.message}\n\n`);
          for (const line of formatMetricsTable(event.results.metrics)) io.stdout(`${line}\n`);
          for (const u of event.results.unreadable) io.stdout(`warning: ${u.file}:${u.line} is not a valid trajectory (${u.problem})\n`);
          cancelled = event.cancelled;
        }
      }
    } finally {
      await prepared.close();
    }
    return cancelled ? 130 : 0;
  },
};

export const evalReportCommand: CliCommand = {
  name: 'eval report',
  summary: 'Print the per-benchmark table of an evaluation run folder (recomputed from its trajectories)',
  usage: 'trajectory-studio eval report RUN_FOLDER [--json]',
  options: { json: { type: 'boolean' } },
  async run(args, io) {
    const folder = args.positionals[0];
    if (!folder) throw new CliUsageError('give the run folder');
    const results = await computeRunResults(path.resolve(io.cwd, folder), io.signal);
    if (args.values.json === true) {
      io.stdout(`${JSON.stringify({ ...results.metrics, triage: results.triage })}\n`);
      return 0;
    }
    for (const line of formatMetricsTable(results.metrics)) io.stdout(`${line}\n`);
    for (const line of formatTriageCounts(results.triage.flagged, results.metrics.pooled.questions, new Map(Object.entries(results.triage.byRule)))) io.stdout(`${line}\n`);
    return 0;
  },
};

export const evalCompareCommand: CliCommand = {
  name: 'eval compare',
  summary: 'Compare two evaluation runs: per-benchmark deltas and the questions that flipped',
  usage: 'trajectory-studio eval compare RUN_A RUN_B',
  options: {},
  async run(args, io) {
    const [a, b] = args.positionals;
    if (!a || !b) throw new CliUsageError('give two run folders');
    const ra = await computeRunResults(path.resolve(io.cwd, a), io.signal);
    const rb = await computeRunResults(path.resolve(io.cwd, b), io.signal);
    for (const line of formatComparison(compareRuns(ra.metrics, rb.metrics), { a, b })) io.stdout(`${line}\n`);
    return 0;
  },
};

export const evalCommands: readonly CliCommand[] = [evalCommand, evalReportCommand, evalCompareCommand];
