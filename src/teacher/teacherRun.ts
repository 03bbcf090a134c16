import { type AgentEvent } from '../agent/agentLoop';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { type AnswerScorerOptions, judgementFromVerdicts, scoreAnswerByProfile } from '../scoring/answerScorer';
import { type Origin, type Task, type Trajectory, newTrajectory } from '../trajectory/schema';
import { setRecordsAside, TrajectoryAppender } from '../trajectory/jsonlWriters';
import { type CotModel, requestFirstThought } from './firstThoughtPrefix';
import { readQuestionSet, sampleTasks } from '../trajectory/questionSet';
import {
  incompatibleSettings,
  readManifest,
  type RunRecord,
  type TeacherManifest,
  type TeacherRunConfig,
  writeManifest,
} from './runConfig';
import { decideTeacherFilter, type FilterDecision } from './trajectoryFilter';
import { summarizeTeacherFile, type TeacherRunSummary } from './runSummary';
import { fileExists } from '../runs/runFiles';
import { type QuestionWork, remainingMs, runQuestions, writtenRecords } from '../runs/questionRun';
import { endRunSession } from '../runs/manifestFields';

/** One agent episode as the teacher run needs it: the agent loop (src/agent/) behind a function. */
export interface TeacherEpisodeInput {
  task: Task;
  /**
   * The first-thought prefix (METHOD §4) and the chain-of-thought reply it was cut from, still arriving:
   * the runner may set up its sandbox meanwhile, then continues `prefix` on the first call. A rejection
   * (the CoT call failed) fails the episode.
   */
  firstThought?: Promise<{ prefix: string; cotReply: string }>;
  signal: AbortSignal;
  /** Hears the agent's events as the episode runs (live views); the run itself passes none. */
  onEvent?: (event: AgentEvent) => void;
}

/**
 * Runs one episode and returns its trajectory (steps, final answer, origin); throws for a failure of the
 * run itself (server, sandbox). See `agentEpisodeRunner` for the product's implementation.
 */
export type TeacherEpisodeRunner = (input: TeacherEpisodeInput) => Promise<Trajectory>;

export interface TeacherRunDependencies {
  /** Runs one episode; throws for a failure of the run itself (server, sandbox). */
  runEpisode: TeacherEpisodeRunner;
  /** The teacher for the chain-of-thought call (needed when the prefix is on). */
  cot?: CotModel;
  scorer: AnswerScorerOptions;
  /** Recorded in the manifest (versions, isolation in force). */
  environment?: Record<string, string>;
  /** Time source (tests). */
  now?: () => number;
}

export interface TeacherRunOptions {
  /** Remove the records of questions that failed with a run error and run them again. */
  retryFailed?: boolean;
  /** Append to an output file made with different settings (the manifest keeps both). */
  allowSettingsChange?: boolean;
}

/** Counts at one moment of a run, for the notification, the status bar and the CLI bar. */
export interface TeacherRunSnapshot {
  /** Questions selected for this output file. */
  total: number;
  /** Finished in this file so far (earlier runs included). */
  done: number;
  /** Finished by this run. */
  doneThisRun: number;
  correct: number;
  accepted: number;
  failures: number;
  elapsedMs: number;
  /** Estimated time left, once something has finished. */
  etaMs?: number;
  /** Completion tokens per second of this run. */
  tokensPerSecond: number;
  promptTokens: number;
  completionTokens: number;
}

export type TeacherRunEvent =
  | { type: 'start'; message: string; fraction: number; snapshot: TeacherRunSnapshot; outputFile: string; manifestFile: string; notes: string[] }
  | { type: 'question'; message: string; fraction: number; snapshot: TeacherRunSnapshot; taskId: string; decision: FilterDecision }
  | { type: 'end'; message: string; fraction: number; snapshot: TeacherRunSnapshot; cancelled: boolean; summary: TeacherRunSummary };

/** Whether a written record is a question that failed with a run error (Retry Failed runs those again). */
function failedRun(value: Record<string, unknown>): boolean {
  return (value as { meta?: { teacherFilter?: { verdict?: unknown } } }).meta?.teacherFilter?.verdict === 'run-error';
}

/** Takes the records of failed questions out of the output file into a side file (see {@link setRecordsAside}). */
function setFailedRecordsAside(file: string, nowMs: number): Promise<{ count: number; sideFile?: string }> {
  return setRecordsAside(file, (value) => failedRun(value as Record<string, unknown>), nowMs);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Runs the teacher over a question set (METHOD §1, §4, §6) and appends one trajectory per question to the
 * output file as results arrive: optional chain-of-thought call and first-thought prefix, the agent
 * episode, scoring, the filter decision. Questions already in the file are skipped, so a crashed or
 * cancelled run is resumed by running it again. Yields progress events; aborting `signal` stops new work,
 * aborts the episodes in flight (they are not written) and ends with a summary.
 */
export function runTeacherGeneration(
  config: TeacherRunConfig,
  deps: TeacherRunDependencies,
  signal: AbortSignal,
  options: TeacherRunOptions = {},
): AsyncIterable<TeacherRunEvent> {
  return { [Symbol.asyncIterator]: () => generate(config, deps, signal, options) };
}

async function* generate(config: TeacherRunConfig, deps: TeacherRunDependencies, outerSignal: AbortSignal, options: TeacherRunOptions): AsyncGenerator<TeacherRunEvent> {
  const now = deps.now ?? Date.now;
  const notes: string[] = [];
  if (config.firstThoughtPrefix && !deps.cot) throw new Error('the first-thought prefix is on but no teacher endpoint was given for the chain-of-thought call');

  const questionSet = await readQuestionSet(config.questionFile, { defaultDomain: config.defaultDomain });
  let tasks = questionSet.tasks;
  if (config.limit !== undefined) tasks = tasks.slice(0, config.limit);
  if (config.sample !== undefined) tasks = sampleTasks(tasks, config.sample, config.seed);
  const selectedIds = new Set(tasks.map((t) => t.id));

  const previous = await readManifest(config.outputFile);
  const outputExists = await fileExists(config.outputFile);
  if (previous) {
    const problems = incompatibleSettings(previous, config, questionSet.sha256);
    if (problems.length && !options.allowSettingsChange) {
      throw new Error(`${config.outputFile} was made with other settings (${problems.join('; ')}). Write to a new file, or allow the change explicitly.`);
    }
    if (problems.length) notes.push(`appending with changed settings: ${problems.join('; ')}`);
  } else if (outputExists) {
    notes.push(`${config.outputFile} exists without a manifest; questions already in it are skipped`);
  }

  // A torn last line (a crash mid-write) is set aside before anything reads or rewrites the file.
  if (outputExists) {
    const repair = await TrajectoryAppender.open(config.outputFile);
    if (repair.tornTail) notes.push(`an incomplete last line (${repair.tornTail.bytes} bytes) was moved to ${repair.tornTail.setAsidePath}`);
    await repair.close();
  }

  let retried = 0;
  if (options.retryFailed && outputExists) {
    const aside = await setFailedRecordsAside(config.outputFile, now());
    retried = aside.count;
    notes.push(aside.count ? `retrying ${aside.count} failed question(s); their old records were moved to ${aside.sideFile}` : 'no failed questions to retry');
  }

  const existing = await writtenRecords(config.outputFile, failedRun);
  if (existing.unreadable) notes.push(`${existing.unreadable} line(s) of ${config.outputFile} could not be read; they are kept as they are`);
  const finished = new Set(existing.records.filter((r) => selectedIds.has(r.taskId)).map((r) => r.taskId));
  const earlierFailures = existing.records.filter((r) => r.info && selectedIds.has(r.taskId)).length;
  const pending = tasks.filter((t) => !finished.has(t.id));

  const manifest: TeacherManifest = {
    kind: 'teacher-generation',
    manifestVersion: 1,
    config,
    questionSetSha256: questionSet.sha256,
    questionCount: tasks.length,
    environment: { ...(previous?.environment ?? {}), ...(deps.environment ?? {}) },
    runs: previous?.runs ?? [],
  };
  const run: RunRecord = {
    startedAt: new Date(now()).toISOString(),
    attempted: 0,
    correct: 0,
    accepted: 0,
    failures: 0,
    cancelled: false,
    retriedFailed: retried,
    promptTokens: 0,
    completionTokens: 0,
  };
  manifest.runs.push(run);
  await mkdir(path.dirname(config.outputFile), { recursive: true });
  await writeManifest(config.outputFile, manifest);

  const appender = await TrajectoryAppender.open(config.outputFile);

  const startedMs = now();
  const snapshot = (): TeacherRunSnapshot => {
    const elapsedMs = Math.max(1, now() - startedMs);
    const doneThisRun = run.attempted;
    const remaining = tasks.length - finished.size;
    return {
      total: tasks.length,
      done: finished.size,
      doneThisRun,
      correct: run.correct,
      accepted: run.accepted,
      failures: run.failures + earlierFailures,
      elapsedMs,
      etaMs: remainingMs(remaining, doneThisRun, elapsedMs),
      tokensPerSecond: (run.completionTokens * 1000) / elapsedMs,
      promptTokens: run.promptTokens,
      completionTokens: run.completionTokens,
    };
  };
  const fraction = () => (tasks.length === 0 ? 1 : finished.size / tasks.length);

  yield {
    type: 'start',
    message: `${pending.length} of ${tasks.length} question(s) to run${finished.size ? ` (${finished.size} already in the file)` : ''}`,
    fraction: fraction(),
    snapshot: snapshot(),
    outputFile: config.outputFile,
    manifestFile: config.outputFile.replace(/\.jsonl$/i, '') + '.manifest.json',
    notes,
  };

  const runOne = async (task: Task, { signal, emit }: QuestionWork<TeacherRunEvent>): Promise<void> => {
    const started = now();
    const baseOrigin: Origin = { kind: 'teacher', model: config.teacher.model, endpoint: config.teacher.profile, startedAt: new Date(started).toISOString() };
    let trajectory = newTrajectory({ task, origin: baseOrigin });
    let runError: string | undefined;
    let cotUsage = { promptTokens: 0, completionTokens: 0 };
    const phases: Record<string, number> = {};
    try {
      // The CoT call runs while the episode runner starts its Python worker.
      const firstThought = config.firstThoughtPrefix && deps.cot
        ? requestFirstThought(deps.cot, task.question, task.domain, { temperature: config.cotTemperature, seed: config.seed, signal }).finally(() => {
            phases.cotMs = now() - started;
          })
        : undefined;
      firstThought?.catch(() => undefined); // observed below; never an unhandled rejection
      trajectory = await deps.runEpisode({ task, firstThought, signal });
      phases.episodeMs = now() - started;
      const thought = firstThought ? await firstThought : undefined;
      // The prefix and the reply it came from belong to the record whatever the episode runner kept.
      if (thought) {
        cotUsage = thought.usage;
        trajectory.origin.firstThoughtPrefix = thought.prefix;
        trajectory.origin.cotReply = thought.cotReply;
      }
      if (trajectory.finalAnswer !== undefined && task.goldAnswer !== undefined) {
        // Both profiles' verdicts are stored; `correct` (what the filter keeps) follows the run's compatibility.
        const verdicts = await scoreAnswerByProfile({ domain: task.domain, prediction: trajectory.finalAnswer, gold: task.goldAnswer, question: task.question }, deps.scorer, signal);
        trajectory.judgement = judgementFromVerdicts(verdicts, config.compatibility, new Date(now()));
        phases.scoredMs = now() - started;
      }
    } catch (err) {
      if (signal.aborted) return; // cancelled: nothing half-done is written; the question stays pending
      runError = errorMessage(err);
    }
    if (config.teacher.scripted) trajectory.origin.meta = { ...(trajectory.origin.meta ?? {}), scriptedTeacher: config.teacher.scripted };
    if (config.firstThoughtPrefix) trajectory.origin.meta = { ...(trajectory.origin.meta ?? {}), cotTemperature: config.cotTemperature };
    const stepTokens = trajectory.steps.reduce(
      (sum, step) => ({ promptTokens: sum.promptTokens + (step.tokens?.prompt ?? 0), completionTokens: sum.completionTokens + (step.tokens?.completion ?? 0) }),
      cotUsage,
    );
    const usage = stepTokens;
    // The filter follows the run's profile unless its own settings name one.
    const decision = decideTeacherFilter(trajectory, { ...config.filter, compatibility: config.filter.compatibility ?? config.compatibility }, runError);
    trajectory.meta = {
      teacherFilter: decision,
      durationMs: now() - started,
      // Milliseconds from the question's start to the end of each phase (the CoT call overlaps the episode's start).
      phaseEndsMs: phases,
      tokens: { prompt: usage.promptTokens, completion: usage.completionTokens },
      ...(runError !== undefined ? { runError } : {}),
    };
    await appender.append(trajectory);
    finished.add(task.id);
    run.attempted++;
    run.promptTokens += usage.promptTokens;
    run.completionTokens += usage.completionTokens;
    if (trajectory.judgement?.correct) run.correct++;
    if (decision.accepted) run.accepted++;
    if (decision.verdict === 'run-error') run.failures++;
    emit({
      type: 'question',
      message: `${task.id}: ${decision.verdict}${runError ? ` (${runError})` : ''}`,
      fraction: fraction(),
      snapshot: snapshot(),
      taskId: task.id,
      decision,
    });
  };

  const settle = async (cancelled: boolean): Promise<void> => {
    await appender.close();
    endRunSession(run, cancelled, now());
    await writeManifest(config.outputFile, manifest);
  };
  const { cancelled } = yield* runQuestions({ pending, concurrency: config.concurrency, signal: outerSignal, runOne, settle });

  const summary = await summarizeTeacherFile(config.outputFile, selectedIds);
  const snap = snapshot();
  yield {
    type: 'end',
    message: `${cancelled ? 'cancelled' : 'finished'}: ${snap.done}/${snap.total} done, ${run.correct} correct and ${run.accepted} passed the filter in this run, ${snap.failures} failed`,
    fraction: fraction(),
    snapshot: snap,
    cancelled,
    summary,
  };
}
