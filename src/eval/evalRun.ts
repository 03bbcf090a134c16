import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { type AgentEvent } from '../agent/agentLoop';
import { type AnswerScorerOptions, judgementFromVerdicts, scoreAnswerByProfile } from '../scoring/answerScorer';
import { sampleTasks } from '../trajectory/questionSet';
import { TrajectoryAppender } from '../trajectory/jsonlWriters';
import { newTrajectory, type Task, type Trajectory } from '../trajectory/schema';
import { type Benchmark, readBenchmarks } from './benchmarks';
import {
  effectiveSampling,
  type EvalManifest,
  type EvalRunConfig,
  type EvalSession,
  ignoredModeSettings,
  incompatibleEvalSettings,
  manifestFile,
  readEvalManifest,
  trajectoryFileName,
} from './evalConfig';
import { type EvalTrajectoryMeta } from './metrics';
import { type RunResults, writeRunMetrics } from './runResults';
import { writeJsonDurably } from '../runs/durableFile';
import { type QuestionWork, remainingMs, runQuestions, writtenRecords } from '../runs/questionRun';
import { endRunSession } from '../runs/manifestFields';

/** One question's episode as the run needs it: the student agent behind a function. */
export interface EvalEpisodeInput {
  task: Task;
  signal: AbortSignal;
  /** Hears the agent's events as the episode runs (live views). */
  onEvent?: (event: AgentEvent) => void;
}

/** Runs one episode and returns its trajectory; throws for a failure of the run itself (server, sandbox start). */
export type EvalEpisodeRunner = (input: EvalEpisodeInput) => Promise<Trajectory>;

export interface EvalRunDependencies {
  runEpisode: EvalEpisodeRunner;
  scorer: AnswerScorerOptions;
  /** The prompt profile the agent runs with, for the manifest. */
  promptProfile: { name: string; hash: string };
  /** Versions and the environment in force (runtime, sandbox, retrieval), for the manifest. */
  environment?: Record<string, string>;
  /** The trained adapter's manifest, when the student is one. */
  adapterManifest?: EvalManifest['adapterManifest'];
  /** Told about each agent event, by question (benchmark name and task id). */
  onAgentEvent?: (question: { benchmark: string; taskId: string }, event: AgentEvent) => void;
  /** Time source (tests). */
  now?: () => number;
}

export interface EvalRunOptions {
  /** Resume a run folder made with other settings (the manifest keeps every session). */
  allowSettingsChange?: boolean;
}

/** Counts at one moment of a run, for the notification, the dashboard and the CLI bar. */
export interface EvalRunSnapshot {
  total: number;
  done: number;
  doneThisRun: number;
  correct: number;
  failures: number;
  elapsedMs: number;
  etaMs?: number;
  completionTokens: number;
  tokensPerSecond: number;
}

export type EvalRunEvent =
  | { type: 'start'; message: string; fraction: number; snapshot: EvalRunSnapshot; runFolder: string; notes: string[] }
  | { type: 'question'; message: string; fraction: number; snapshot: EvalRunSnapshot; benchmark: string; taskId: string; correct: boolean; runError?: string }
  | { type: 'end'; message: string; fraction: number; snapshot: EvalRunSnapshot; cancelled: boolean; results: RunResults };

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The questions of a benchmark this run covers (limit, then a seeded sample). */
export function selectTasks(benchmark: Benchmark, config: Pick<EvalRunConfig, 'limit' | 'sample' | 'seed'>): Task[] {
  let tasks = benchmark.tasks;
  if (config.limit !== undefined) tasks = tasks.slice(0, config.limit);
  if (config.sample !== undefined) tasks = sampleTasks(tasks, config.sample, config.seed);
  return tasks;
}

/**
 * Why a finished episode cannot count: its sandbox worker crashed on a chosen action (the state was lost,
 * so what followed is not the student's doing). Such a question is scored wrong with this reason.
 */
export function sandboxCrashReason(t: Trajectory): string | undefined {
  const index = t.steps.findIndex((s) => s.observation?.error?.kind === 'crash');
  if (index < 0) return undefined;
  const e = t.steps[index].observation!.error!;
  return `the sandbox crashed at step ${index + 1} (${e.type}: ${e.message})`;
}

/**
 * Evaluates the student on the run's benchmarks (METHOD §5, §8): one agent episode per question (greedy or
 * SAG), the answer scored with its domain's scorer, the trajectory appended to the benchmark's file in the
 * run folder as it finishes. Questions already in the folder are skipped, so a crashed or cancelled run
 * resumes by running it again. A question whose episode fails (server gave up, sandbox crashed) is recorded
 * as wrong with the reason, and the run goes on. Aborting `signal` stops new work and aborts the episodes in
 * flight (they are not written); the run then ends with the metrics of what is done.
 */
export function runEvaluation(config: EvalRunConfig, deps: EvalRunDependencies, signal: AbortSignal, options: EvalRunOptions = {}): AsyncIterable<EvalRunEvent> {
  return { [Symbol.asyncIterator]: () => evaluate(config, deps, signal, options) };
}

interface PendingQuestion {
  benchmark: Benchmark;
  task: Task;
  appender: TrajectoryAppender;
}

async function* evaluate(config: EvalRunConfig, deps: EvalRunDependencies, outerSignal: AbortSignal, options: EvalRunOptions): AsyncGenerator<EvalRunEvent> {
  const now = deps.now ?? Date.now;
  const notes: string[] = ignoredModeSettings(config);
  const benchmarks = await readBenchmarks(config.benchmarks, config.benchmarkDomain ? { domain: config.benchmarkDomain } : {});
  for (const b of benchmarks) if (b.domain && b.domainFrom) notes.push(`${b.name}: scored as ${b.domain} (the domain from ${b.domainFrom})`);
  await mkdir(path.join(config.runFolder, 'trajectories'), { recursive: true });

  const previous = await readEvalManifest(config.runFolder);
  if (previous) {
    const problems = incompatibleEvalSettings(previous, config, new Map(benchmarks.map((b) => [b.name, b.sha256])));
    if (problems.length && !options.allowSettingsChange) {
      throw new Error(`${config.runFolder} holds a run made with other settings (${problems.join('; ')}). Use a new run folder, or allow the change explicitly.`);
    }
    if (problems.length) notes.push(`resuming with changed settings: ${problems.join('; ')}`);
  }

  const selections = benchmarks.map((b) => ({ benchmark: b, tasks: selectTasks(b, config), file: trajectoryFileName(b.name) }));
  const manifest: EvalManifest = {
    kind: 'eval-run',
    manifestVersion: 1,
    config,
    benchmarks: selections.map((s) => ({
      name: s.benchmark.name,
      file: s.benchmark.file,
      sha256: s.benchmark.sha256,
      ...(s.benchmark.domain ? { domain: s.benchmark.domain } : {}),
      questions: s.tasks.length,
      trajectories: s.file,
    })),
    promptProfile: deps.promptProfile,
    environment: { ...(previous?.environment ?? {}), ...(deps.environment ?? {}), sampling: JSON.stringify(effectiveSampling(config)) },
    ...(deps.adapterManifest !== undefined ? { adapterManifest: deps.adapterManifest } : previous?.adapterManifest !== undefined ? { adapterManifest: previous.adapterManifest } : {}),
    sessions: previous?.sessions ?? [],
  };
  const session: EvalSession = { startedAt: new Date(now()).toISOString(), attempted: 0, failures: 0, cancelled: false, wallMs: 0 };
  manifest.sessions.push(session);
  await writeJsonDurably(manifestFile(config.runFolder), manifest);

  const appenders: TrajectoryAppender[] = [];
  const pending: PendingQuestion[] = [];
  let total = 0;
  let alreadyDone = 0;
  try {
    for (const s of selections) {
      const file = path.join(config.runFolder, s.file);
      const done = new Set((await writtenRecords(file)).records.map((r) => r.taskId));
      const appender = await TrajectoryAppender.open(file);
      appenders.push(appender);
      if (appender.tornTail) notes.push(`${s.file}: an incomplete last line (${appender.tornTail.bytes} bytes) was moved to ${appender.tornTail.setAsidePath}; that question runs again`);
      total += s.tasks.length;
      for (const task of s.tasks) {
        if (done.has(task.id)) alreadyDone++;
        else pending.push({ benchmark: s.benchmark, task, appender });
      }
    }
  } catch (err) {
    await Promise.all(appenders.map((a) => a.close()));
    throw err;
  }

  const startedMs = now();
  let finished = alreadyDone;
  let correct = 0;
  let completionTokens = 0;
  const snapshot = (): EvalRunSnapshot => {
    const elapsedMs = Math.max(1, now() - startedMs);
    const doneThisRun = session.attempted;
    return {
      total,
      done: finished,
      doneThisRun,
      correct,
      failures: session.failures,
      elapsedMs,
      etaMs: remainingMs(total - finished, doneThisRun, elapsedMs),
      completionTokens,
      tokensPerSecond: (completionTokens * 1000) / elapsedMs,
    };
  };
  const fraction = (): number => (total === 0 ? 1 : finished / total);

  yield {
    type: 'start',
    message: `${pending.length} of ${total} question(s) to run${alreadyDone ? ` (${alreadyDone} already in the run folder)` : ''}`,
    fraction: fraction(),
    snapshot: snapshot(),
    runFolder: config.runFolder,
    notes,
  };

  const runOne = async (q: PendingQuestion, { signal, emit }: QuestionWork<EvalRunEvent>): Promise<void> => {
    const started = now();
    let trajectory: Trajectory;
    let runError: string | undefined;
    try {
      trajectory = await deps.runEpisode({
        task: q.task,
        signal,
        ...(deps.onAgentEvent ? { onEvent: (event: AgentEvent) => deps.onAgentEvent?.({ benchmark: q.benchmark.name, taskId: q.task.id }, event) } : {}),
      });
      runError = sandboxCrashReason(trajectory);
      if (runError === undefined && trajectory.finalAnswer !== undefined && q.task.goldAnswer !== undefined) {
        // Both profiles' verdicts are stored, so the paper's accuracy and the corrected one are always known;
        // `correct` is the verdict of the run's own compatibility.
        const verdicts = await scoreAnswerByProfile({ domain: q.task.domain, prediction: trajectory.finalAnswer, gold: q.task.goldAnswer, question: q.task.question }, deps.scorer, signal);
        trajectory.judgement = judgementFromVerdicts(verdicts, config.compatibility, new Date(now()));
      }
    } catch (err) {
      if (signal.aborted) return; // cancelled: nothing half-done is written; the question stays pending
      runError = errorMessage(err);
      trajectory = newTrajectory({ task: q.task, origin: { kind: 'student', model: config.student.model, endpoint: config.student.profile, startedAt: new Date(started).toISOString() } });
    }
    if (runError !== undefined) trajectory.judgement = { correct: false, method: 'run-error', detail: runError, at: new Date(now()).toISOString() };
    if (trajectory.judgement === undefined) trajectory.judgement = { correct: false, method: 'no-answer', detail: 'the episode ended without an answer', at: new Date(now()).toISOString() };
    if (config.student.scripted) trajectory.origin.meta = { ...(trajectory.origin.meta ?? {}), scriptedStudent: config.student.scripted };
    const evalMeta: EvalTrajectoryMeta = { benchmark: q.benchmark.name, durationMs: now() - started, ...(runError !== undefined ? { runError } : {}) };
    trajectory.meta = { ...(trajectory.meta ?? {}), eval: { ...evalMeta } };
    await q.appender.append(trajectory);
    finished++;
    session.attempted++;
    const isCorrect = runError === undefined && trajectory.judgement.correct;
    if (isCorrect) correct++;
    if (runError !== undefined) session.failures++;
    completionTokens += trajectory.steps.reduce((n, s) => n + (s.tokens?.completion ?? 0), 0);
    emit({
      type: 'question',
      message: `${q.benchmark.name}/${q.task.id}: ${isCorrect ? 'correct' : 'wrong'}${runError ? ` (${runError})` : ''}`,
      fraction: fraction(),
      snapshot: snapshot(),
      benchmark: q.benchmark.name,
      taskId: q.task.id,
      correct: isCorrect,
      ...(runError !== undefined ? { runError } : {}),
    });
  };

  const settle = async (cancelled: boolean): Promise<void> => {
    await Promise.all(appenders.map((a) => a.close()));
    endRunSession(session, cancelled, now());
    session.wallMs = now() - startedMs;
    await writeJsonDurably(manifestFile(config.runFolder), manifest);
  };
  const { cancelled } = yield* runQuestions({ pending, concurrency: config.concurrency, signal: outerSignal, runOne, settle });

  const results = await writeRunMetrics(config.runFolder);
  const snap = snapshot();
  yield {
    type: 'end',
    message: `${cancelled ? 'cancelled' : 'finished'}: ${snap.done}/${snap.total} done, average accuracy ${(100 * results.metrics.averageAccuracy).toFixed(1)}%, ${snap.failures} failed in this run`,
    fraction: fraction(),
    snapshot: snap,
    cancelled,
    results,
  };
}
