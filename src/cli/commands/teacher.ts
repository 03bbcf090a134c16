import * as path from 'node:path';
import { type CliCommand, type CliIo, CliUsageError, type ParsedCliArgs, numberOption, optionalIntOption, requiredStringOption, stringOption } from '../command';
import { environmentApiKeys, profileFromEnvironment } from '../../llm/profiles';
import { type IsolationSetting } from '../../sandbox';
import { type RetrievalSetting, type TeacherRunConfig, teacherRunConfigSchema } from '../../teacher/runConfig';
import { formatTeacherSummary, summarizeTeacherFiles } from '../../teacher/runSummary';
import { runTeacherGeneration, type TeacherRunSnapshot } from '../../teacher/teacherRun';
import { prepareTeacherRun } from '../../teacher/teacherRunSetup';
import { factualScoringFromFlags } from '../judgeEndpoint';
import { printRunProgress, runProgressLine } from '../runProgressLine';

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

/** Builds the run configuration from flags, with the teacher endpoint from the environment. */
export function teacherConfigFromArgs(args: ParsedCliArgs, io: CliIo): TeacherRunConfig {
  const teacherProfile = profileFromEnvironment('teacher', io.env);
  const urls = stringOption(args, 'teacher-url');
  const flavor = stringOption(args, 'flavor') ?? teacherProfile.flavor;
  if (flavor !== 'vllm' && flavor !== 'openai') throw new CliUsageError(`--flavor must be vllm or openai, got "${flavor}"`);
  const domain = stringOption(args, 'domain');
  if (domain !== undefined && domain !== 'math' && domain !== 'factual') throw new CliUsageError(`--domain must be math or factual, got "${domain}"`);
  if (args.values.prefix === true && args.values['no-prefix'] === true) throw new CliUsageError('pass either --prefix or --no-prefix');
  const compatibility = stringOption(args, 'compat');
  if (compatibility !== undefined && compatibility !== 'studio' && compatibility !== 'reference') throw new CliUsageError(`--compat must be studio or reference, got "${compatibility}"`);
  const factual = factualScoringFromFlags(io, { judge: args.values.judge === true, noJudge: args.values['no-judge'] === true, judgePrompt: stringOption(args, 'judge-prompt') });
  const parsed = teacherRunConfigSchema.safeParse({
    questionFile: path.resolve(io.cwd, requiredStringOption(args, 'questions')),
    outputFile: path.resolve(io.cwd, requiredStringOption(args, 'out')),
    teacher: {
      profile: 'teacher',
      model: stringOption(args, 'model') ?? teacherProfile.model,
      baseUrls: urls ? urls.split(',').map((u) => u.trim()).filter(Boolean) : teacherProfile.baseUrls,
      flavor,
      ...(stringOption(args, 'scripted-teacher') ? { scripted: stringOption(args, 'scripted-teacher') } : {}),
    },
    firstThoughtPrefix: args.values['no-prefix'] !== true,
    cotTemperature: numberOption(args, 'cot-temperature', 0),
    agentTemperature: numberOption(args, 'temperature', 0),
    maxSteps: optionalIntOption(args, 'max-steps') ?? 5,
    seed: optionalIntOption(args, 'seed') ?? 42,
    retrieval: retrievalFrom(args, io),
    concurrency: optionalIntOption(args, 'concurrency') ?? 8,
    limit: optionalIntOption(args, 'limit'),
    sample: optionalIntOption(args, 'sample'),
    defaultDomain: domain,
    scoring: {
      factual: factual.factual,
      ...(factual.judgeModel !== undefined ? { judgeModel: factual.judgeModel } : {}),
      ...(factual.judgePrompt !== undefined ? { judgePrompt: factual.judgePrompt } : {}),
      ...(stringOption(args, 'f1-threshold') !== undefined ? { f1Threshold: numberOption(args, 'f1-threshold', 0) } : {}),
    },
    filter: {
      dropParseErrors: args.values['keep-parse-errors'] !== true,
      dropExecutionErrors: args.values['drop-execution-errors'] === true,
      ...(args.values['drop-syntax-errors'] === true ? { dropSyntaxErrors: true } : {}),
    },
    promptProfile: stringOption(args, 'prompt'),
    ...(compatibility ? { compatibility } : {}),
  });
  if (!parsed.success) {
    throw new CliUsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/** One line of progress: a bar, counts, ETA and throughput. */
export function progressLine(s: TeacherRunSnapshot, width = 24): string {
  return runProgressLine(s, width);
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Run the teacher agent over a question set (with the first-thought prefix), score, filter and append trajectories',
  usage: [
    'trajectory-studio generate --questions FILE --out FILE.traj.jsonl [options]',
    '',
    'Teacher endpoint: TRAJECTORY_STUDIO_TEACHER_BASE_URLS, _MODEL, _FLAVOR (or the flags below); API key in',
    'TRAJECTORY_STUDIO_TEACHER_API_KEY or OPENAI_API_KEY. A re-run of the same command resumes: questions already',
    'in the output file are skipped. The settings are kept in FILE.traj.manifest.json beside the output.',
    '',
    '  --questions FILE          question set: JSON ({"examples": [...]} or an array) or JSONL',
    '  --out FILE                trajectory file to append to',
    '  --teacher-url URLS        teacher base URL(s), comma-separated (…/v1)',
    '  --model NAME              teacher model name',
    '  --flavor vllm|openai      what the server understands (the prefix needs vllm)',
    '  --no-prefix               no first-thought prefix (on by default)',
    '  --cot-temperature T       temperature of the chain-of-thought call (default 0)',
    '  --temperature T           temperature of the agent calls (default 0: greedy)',
    '  --max-steps N             action steps before the fallback answer (default 5)',
    '  --seed N                  seed sent with every call and used for --sample (default 42)',
    '  --index DIR               LanceDB index for web_search   (or --retrieval-url URL of a /retrieve server)',
    '  --mode fts|vector|hybrid  search mode of --index (default fts)',
    '  --concurrency N           questions at once (default 8)',
    '  --limit N                 only the first N questions;  --sample N  a seeded random sample of N',
    '  --domain math|factual     domain of questions that do not name one',
    '  --judge / --no-judge      factual answers are judged by the judge endpoint (TRAJECTORY_STUDIO_JUDGE_BASE_URLS,',
    '                            _MODEL) whenever it is set; --no-judge scores them by exact match instead, --judge',
    '                            fails when no judge is set (the manifest records which was used)',
    '  --judge-prompt FILE       a judge prompt file (.judge.txt) in place of the built-in one of the run\'s profile',
    '  --f1-threshold X          exact-match scoring: also accept token F1 ≥ X',
    '  --compat studio|reference the profile the run follows (default studio): its verdict decides what the filter',
    '                            keeps. Both profiles\' verdicts are stored in every trajectory and summed up',
    '  --keep-parse-errors       accept correct trajectories with a reply that had no code block (dropped by default)',
    '  --drop-syntax-errors      also drop correct trajectories that recovered from a Python SyntaxError (kept by default)',
    '  --drop-execution-errors   drop trajectories with an execution error (kept by default)',
    '  --prompt NAME|FILE        agent prompt profile (default teacher), or a prompt YAML in the reference\'s format',
    '                            (FILE.yaml, FILE.yaml#system_prompt_short for another template of the file)',
    '  --retry-failed            run again the questions that failed with a server or sandbox error',
    '  --allow-settings-change   append to a file made with other settings',
    '  --python PATH             Python for the sandbox;  --isolation auto|bwrap|rlimits|refuse-without-bwrap',
    '  --scripted-teacher LABEL  mark the data as made by a scripted test teacher (kept in the origin)',
    '  --json                    progress events as JSON lines',
  ].join('\n'),
  options: {
    questions: { type: 'string' },
    out: { type: 'string' },
    'teacher-url': { type: 'string' },
    model: { type: 'string' },
    flavor: { type: 'string' },
    prefix: { type: 'boolean' },
    'no-prefix': { type: 'boolean' },
    'cot-temperature': { type: 'string' },
    temperature: { type: 'string' },
    'max-steps': { type: 'string' },
    seed: { type: 'string' },
    index: { type: 'string' },
    'retrieval-url': { type: 'string' },
    mode: { type: 'string' },
    concurrency: { type: 'string' },
    limit: { type: 'string' },
    sample: { type: 'string' },
    domain: { type: 'string' },
    judge: { type: 'boolean' },
    'no-judge': { type: 'boolean' },
    'judge-prompt': { type: 'string' },
    compat: { type: 'string' },
    'f1-threshold': { type: 'string' },
    'keep-parse-errors': { type: 'boolean' },
    'drop-syntax-errors': { type: 'boolean' },
    'drop-execution-errors': { type: 'boolean' },
    prompt: { type: 'string' },
    'retry-failed': { type: 'boolean' },
    'allow-settings-change': { type: 'boolean' },
    python: { type: 'string' },
    isolation: { type: 'string' },
    'scripted-teacher': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const config = teacherConfigFromArgs(args, io);
    const isolation = stringOption(args, 'isolation');
    if (isolation !== undefined && !['auto', 'bwrap', 'rlimits', 'refuse-without-bwrap'].includes(isolation)) {
      throw new CliUsageError(`--isolation must be auto, bwrap, rlimits or refuse-without-bwrap, got "${isolation}"`);
    }
    const json = args.values.json === true;
    const python = stringOption(args, 'python');
    const prepared = await prepareTeacherRun(config, {
      teacherProfile: profileFromEnvironment('teacher', io.env),
      judgeProfile: profileFromEnvironment('judge', io.env),
      apiKeys: environmentApiKeys(io.env),
      sandbox: {
        ...(python ? { interpreter: python } : {}),
        ...(isolation ? { isolation: isolation as IsolationSetting } : {}),
        onWarning: (message) => io.stderr(`warning: ${message}\n`),
      },
      onRetry: (info) => {
        if (!json) io.stderr(`${io.isTty ? '\r\x1b[K' : ''}retrying a request to ${info.baseUrl} in ${Math.round(info.delayMs)} ms (attempt ${info.attempt} failed: ${info.error instanceof Error ? info.error.message : String(info.error)})\n`);
      },
    });
    let failures = 0;
    let cancelled = false;
    try {
      for await (const event of runTeacherGeneration(config, prepared.deps, io.signal, {
        retryFailed: args.values['retry-failed'] === true,
        allowSettingsChange: args.values['allow-settings-change'] === true,
      })) {
        if (json) {
          io.stdout(`${JSON.stringify(event)}\n`);
          if (event.type === 'end') {
            failures = event.snapshot.failures;
            cancelled = event.cancelled;
          }
          continue;
        }
        if (event.type === 'start') {
          io.stdout(`${event.message}\n`);
          io.stdout(`note: ${config.scoring.factual === 'judge' ? `factual answers are judged by ${config.scoring.judgeModel ?? 'the judge model'}` : 'factual answers are scored by exact match (no judge)'}; the filter keeps what the ${config.compatibility} profile judges correct, both profiles' verdicts are stored\n`);
          for (const note of event.notes) io.stdout(`note: ${note}\n`);
          io.stdout(`writing ${event.outputFile}\n`);
        } else if (event.type === 'question') {
          printRunProgress(io, event.snapshot, event.message);
        } else if (event.type === 'end') {
          if (io.isTty) io.stdout('\n');
          io.stdout(`${event.message}\n`);
          for (const line of formatTeacherSummary(event.summary)) io.stdout(`${line}\n`);
          failures = event.snapshot.failures;
          cancelled = event.cancelled;
          if (failures) io.stdout(`${failures} question(s) failed; run the same command with --retry-failed to run them again\n`);
        }
      }
    } finally {
      await prepared.close();
    }
    if (cancelled) return 130;
    return failures ? 3 : 0;
  },
};

export const generationSummaryCommand: CliCommand = {
  name: 'generate summary',
  summary: 'Sum up teacher trajectory files: success by domain, with and without the first-thought prefix, and filter verdicts',
  usage: 'trajectory-studio generate summary FILE.traj.jsonl [MORE.traj.jsonl ...] [--json]',
  options: { json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length === 0) throw new CliUsageError('give at least one trajectory file');
    const summary = await summarizeTeacherFiles(args.positionals.map((f) => path.resolve(io.cwd, f)), io.signal);
    if (args.values.json === true) io.stdout(`${JSON.stringify(summary)}\n`);
    else for (const line of formatTeacherSummary(summary)) io.stdout(`${line}\n`);
    return 0;
  },
};
