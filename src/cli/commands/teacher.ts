import * as path from 'node:path';
import { type CliCommand, type CliIo, CliUsageError, type ParsedCliArgs, numberOption, optionalIntOption, requiredStringOption, stringOption } from '../command';
import { profileFromEnvironment } from '../../llm/profiles';
import { type TeacherRunConfig, teacherRunConfigSchema } from '../../teacher/runConfig';
import { cliRunEnvironment, promptsFolderCliOption, retrievalCliOptions, retrievalSettingFromArgs, sandboxCliOptions, searchModeCliOption } from '../runEnvironmentArgs';
import { formatTeacherSummary, summarizeTeacherFiles } from '../../teacher/runSummary';
import { runTeacherGeneration, type TeacherRunSnapshot } from '../../teacher/teacherRun';
import { prepareTeacherRun } from '../../teacher/teacherRunSetup';
import { factualScoringCliOptions, factualScoringFromFlags } from '../judgeEndpoint';
import { printRetry, printRunProgress, runProgressLine } from '../runProgressLine';
import { sharedRunServices } from '../../runs/runEnvironment';


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
    retrieval: retrievalSettingFromArgs(args, io),
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
  synopsis: 'trajectory-studio generate --questions FILE --out FILE.traj.jsonl [options]',
  description: [
    'Teacher endpoint: TRAJECTORY_STUDIO_TEACHER_BASE_URLS, _MODEL, _FLAVOR (or the flags below); API key in TRAJECTORY_STUDIO_TEACHER_API_KEY or OPENAI_API_KEY. ' +
      'A re-run of the same command resumes: questions already in the output file are skipped. The settings are kept in FILE.traj.manifest.json beside the output.',
  ],
  options: {
    questions: { type: 'string', value: 'FILE', help: 'question set: JSON ({"examples": [...]} or an array) or JSONL' },
    out: { type: 'string', value: 'FILE', help: 'trajectory file to append to' },
    'teacher-url': { type: 'string', value: 'URLS', help: 'teacher base URL(s), comma-separated (…/v1)' },
    model: { type: 'string', value: 'NAME', help: 'teacher model name' },
    flavor: { type: 'string', value: 'vllm|openai', help: 'what the server understands (the prefix needs vllm)' },
    prefix: { type: 'boolean', help: 'start the first step with the first-thought prefix (the default)' },
    'no-prefix': { type: 'boolean', help: 'no first-thought prefix' },
    'cot-temperature': { type: 'string', value: 'T', help: 'temperature of the chain-of-thought call (default 0)' },
    temperature: { type: 'string', value: 'T', help: 'temperature of the agent calls (default 0: greedy)' },
    'max-steps': { type: 'string', value: 'N', help: 'action steps before the fallback answer (default 5)' },
    seed: { type: 'string', value: 'N', help: 'seed sent with every call and used for --sample (default 42)' },
    ...retrievalCliOptions,
    ...searchModeCliOption,
    concurrency: { type: 'string', value: 'N', help: 'questions at once (default 8)' },
    limit: { type: 'string', value: 'N', help: 'only the first N questions' },
    sample: { type: 'string', value: 'N', help: 'a seeded random sample of N questions' },
    domain: { type: 'string', value: 'math|factual', help: 'domain of questions that do not name one' },
    ...factualScoringCliOptions,
    compat: { type: 'string', value: 'studio|reference', help: "the profile the run follows (default studio): its verdict decides what the filter keeps. Both profiles' verdicts are stored in every trajectory and summed up" },
    'keep-parse-errors': { type: 'boolean', help: 'accept correct trajectories with a reply that had no code block (dropped by default)' },
    'drop-syntax-errors': { type: 'boolean', help: 'also drop correct trajectories that recovered from a Python SyntaxError (kept by default)' },
    'drop-execution-errors': { type: 'boolean', help: 'drop trajectories with an execution error (kept by default)' },
    prompt: { type: 'string', value: 'NAME|FILE', help: "agent prompt profile (default teacher), or a prompt YAML in the reference's format (FILE.yaml, FILE.yaml#system_prompt_short for another template of the file)" },
    ...promptsFolderCliOption,
    'retry-failed': { type: 'boolean', help: 'run again the questions that failed with a server or sandbox error' },
    'allow-settings-change': { type: 'boolean', help: 'append to a file made with other settings' },
    ...sandboxCliOptions,
    'scripted-teacher': { type: 'string', value: 'LABEL', help: 'mark the data as made by a scripted test teacher (kept in the origin)' },
    json: { type: 'boolean', help: 'progress events as JSON lines' },
  },
  async run(args, io) {
    const config = teacherConfigFromArgs(args, io);
    const environment = cliRunEnvironment(args, io);
    const json = args.values.json === true;
    const prepared = await prepareTeacherRun(config, {
      teacherProfile: environment.endpoint('teacher'),
      ...sharedRunServices(environment, (message) => io.stderr(`warning: ${message}\n`)),
      onRetry: (info) => {
        if (!json) printRetry(io, info);
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
  synopsis: 'trajectory-studio generate summary FILE.traj.jsonl [MORE.traj.jsonl ...] [--json]',
  options: { json: { type: 'boolean', help: 'print the summary as JSON' } },
  async run(args, io) {
    if (args.positionals.length === 0) throw new CliUsageError('give at least one trajectory file');
    const summary = await summarizeTeacherFiles(args.positionals.map((f) => path.resolve(io.cwd, f)), io.signal);
    if (args.values.json === true) io.stdout(`${JSON.stringify(summary)}\n`);
    else for (const line of formatTeacherSummary(summary)) io.stdout(`${line}\n`);
    return 0;
  },
};
