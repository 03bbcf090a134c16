import * as path from 'node:path';
import { type CliCommand, type CliIo, CliUsageError, numberOption, optionalIntOption, type ParsedCliArgs, requiredStringOption, stringOption } from '../command';
import { profileFromEnvironment, type EndpointRole } from '../../llm/profiles';
import { cliRunEnvironment, isolationOption, promptsFolderCliOption, retrievalCliOptions, retrievalSettingFromArgs, sandboxCliOptions, searchModeCliOption } from '../runEnvironmentArgs';
import { expandBenchmarkFiles } from '../../eval/benchmarks';
import { type EvalRunConfig, evalRunConfigSchema, sagDefaults } from '../../eval/evalConfig';
import { runEvaluation } from '../../eval/evalRun';
import { prepareEvalRun } from '../../eval/evalSetup';
import { formatMetricsTable } from '../../eval/metrics';
import { compareRuns, formatComparison } from '../../eval/runComparison';
import { computeRunResults } from '../../eval/runResults';
import { formatTriageCounts } from '../../triage/flags';
import { printRetry, printRunProgress } from '../runProgressLine';
import { factualScoringCliOptions, factualScoringFromFlags } from '../judgeEndpoint';
import { sagCliOptions, sagExtrasFromArgs } from '../sagOptions';
import { sharedRunServices } from '../../runs/runEnvironment';

function optionalNumber(args: ParsedCliArgs, key: string): number | undefined {
  return stringOption(args, key) === undefined ? undefined : numberOption(args, key, 0);
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
  const isolation = isolationOption(args);
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
    retrieval: retrievalSettingFromArgs(args, io),
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
  synopsis: 'trajectory-studio eval --benchmarks FILE[,FILE…] [--out RUN_FOLDER] [--profile student] [--sag 8 | --greedy] [options]',
  description: [
    'Student endpoint: TRAJECTORY_STUDIO_STUDENT_BASE_URLS, _MODEL, _FLAVOR (or the flags below); API key in TRAJECTORY_STUDIO_STUDENT_API_KEY or OPENAI_API_KEY. ' +
      'Running the same command on the same --out resumes: questions already in the run folder are skipped. The folder holds manifest.json, trajectories/*.traj.jsonl and metrics.json.',
  ],
  options: {
    benchmarks: { type: 'string', value: 'FILE[,FILE…]', help: "benchmark files ({metadata, examples} JSON or JSONL) or benchmark-set files, comma-separated; the method's own test-set files are read as they are (domain from their data set)" },
    domain: { type: 'string', value: 'math|factual', help: 'the domain of benchmark files that name none' },
    out: { type: 'string', value: 'DIR', help: 'run folder (default eval-runs/<time>)' },
    profile: { type: 'string', value: 'NAME', help: 'endpoint profile to read from the environment: student (default), teacher or judge' },
    'student-url': { type: 'string', value: 'URLS', help: 'base URL(s), comma-separated (…/v1)' },
    model: { type: 'string', value: 'NAME', help: 'model or LoRA module name' },
    flavor: { type: 'string', value: 'vllm|openai', help: 'what the server understands' },
    adapter: { type: 'string', value: 'PATH', help: 'the trained adapter (folder or run.json): its manifest is kept with the run' },
    sag: { type: 'string', value: 'N', help: `self-consistent action generation with N candidates per step (default ${sagDefaults.candidates})` },
    greedy: { type: 'boolean', help: 'one action per step, greedy decoding' },
    'shared-state': { type: 'boolean', help: "SAG candidates run one after another in one state (the reference's behaviour)" },
    'execute-duplicates': { type: 'boolean', help: 'run every copy of a repeated candidate code (by default identical codes run once per step and share the outcome)' },
    ...sagCliOptions,
    compat: { type: 'string', value: 'studio|reference', help: "the profile the run follows (default studio). Both profiles' verdicts are stored and reported; this one counts for the headline accuracy. The reference samples every SAG candidate at once with exact vote keys (adaptive and normalized ignored)" },
    temperature: { type: 'string', value: 'T', help: `sampling temperature (SAG default ${sagDefaults.temperature})` },
    'top-p': { type: 'string', value: 'P', help: `nucleus sampling share (SAG default ${sagDefaults.topP})` },
    seed: { type: 'string', value: 'N', help: `sampling seed (SAG default ${sagDefaults.seed})` },
    'max-tokens': { type: 'string', value: 'N', help: `most tokens per reply (SAG default ${sagDefaults.maxTokens})` },
    'max-steps': { type: 'string', value: 'N', help: 'action steps before the fallback answer (default 5)' },
    ...retrievalCliOptions,
    ...searchModeCliOption,
    ...sandboxCliOptions,
    concurrency: { type: 'string', value: 'N', help: 'questions at once (default 8)' },
    limit: { type: 'string', value: 'N', help: 'first N questions of each benchmark' },
    sample: { type: 'string', value: 'N', help: 'a seeded sample of N questions of each benchmark' },
    ...factualScoringCliOptions,
    prompt: { type: 'string', value: 'NAME|FILE', help: "agent prompt profile (default student), or a prompt YAML in the reference's format (FILE.yaml, FILE.yaml#system_prompt_short for another template of the file)" },
    ...promptsFolderCliOption,
    'allow-settings-change': { type: 'boolean', help: 'resume a run folder made with other settings' },
    'scripted-student': { type: 'string', value: 'LABEL', help: 'mark results as made by a scripted test student' },
    json: { type: 'boolean', help: 'progress events as JSON lines' },
  },
  async run(args, io) {
    const config = await evalConfigFromArgs(args, io);
    const json = args.values.json === true;
    const role = profileRole(stringOption(args, 'profile') ?? 'student');
    const environment = cliRunEnvironment(args, io);
    const prepared = await prepareEvalRun(config, {
      studentProfile: environment.endpoint(role),
      ...sharedRunServices(environment, (message) => io.stderr(`warning: ${message}\n`)),
      onRetry: (info) => {
        if (!json) printRetry(io, info);
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
  synopsis: 'trajectory-studio eval report RUN_FOLDER [--json]',
  options: { json: { type: 'boolean', help: 'print the metrics and the triage counts as one JSON object' } },
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
  synopsis: 'trajectory-studio eval compare RUN_A RUN_B',
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
