import { z } from 'zod';

/**
 * The state of a live teacher-generation or evaluation run as its view shows it. `liveRunTracker.ts` builds it
 * from the run's events and `src/protocol/liveRun.ts` sends it whole to the page; the shapes are the core's, the
 * protocol re-exports them. Only zod here: the webview bundle compiles this file through the protocol.
 */

/** Where one question stands. Teacher runs end in accepted / rejected (by the filter), evaluations in correct / wrong. */
export const liveQuestionStatusSchema = z.enum(['queued', 'running', 'accepted', 'rejected', 'correct', 'wrong', 'failed', 'cancelled']);
export type LiveQuestionStatus = z.infer<typeof liveQuestionStatusSchema>;

export const liveQuestionSchema = z.object({
  /** Unique within the run (the task id, or `benchmark/taskId` for evaluation). */
  key: z.string(),
  taskId: z.string(),
  /** The benchmark, for evaluation runs. */
  group: z.string().optional(),
  /** The start of the question text. */
  question: z.string(),
  status: liveQuestionStatusSchema,
  /** Finished by an earlier run of the same output file or run folder. */
  earlier: z.boolean(),
  /** 1-based agent step in progress while running; the steps taken once finished. */
  step: z.number().int().nonnegative().optional(),
  /** The filter's reason, the scoring verdict or the error, in words. */
  detail: z.string().optional(),
  /** Whether its trajectory is in the output and can be opened in the editor. */
  canOpen: z.boolean(),
});
export type LiveQuestion = z.infer<typeof liveQuestionSchema>;

export const liveRunPhaseSchema = z.enum(['starting', 'running', 'cancelling', 'finished', 'cancelled', 'failed']);
export type LiveRunPhase = z.infer<typeof liveRunPhaseSchema>;

export const liveRunErrorSchema = z.object({ key: z.string(), taskId: z.string(), message: z.string(), at: z.string() });
export type LiveRunError = z.infer<typeof liveRunErrorSchema>;

export const liveRunCountsSchema = z.object({
  total: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  /** Finished by this run. */
  done: z.number().int().nonnegative(),
  /** Finished by earlier runs of the same output. */
  earlier: z.number().int().nonnegative(),
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  correct: z.number().int().nonnegative(),
  wrong: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
});
export type LiveRunCounts = z.infer<typeof liveRunCountsSchema>;

export const liveRunStateSchema = z.object({
  kind: z.enum(['teacher', 'evaluation']),
  title: z.string(),
  /** The output file (teacher) or run folder (evaluation). */
  output: z.string(),
  phase: liveRunPhaseSchema,
  /** Why the run failed, when it did. */
  failure: z.string().optional(),
  counts: liveRunCountsSchema,
  elapsedMs: z.number().nonnegative(),
  etaMs: z.number().nonnegative().nullable(),
  /** Questions finished per minute by this run. */
  questionsPerMinute: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  /** Newest first, at most a few. */
  errors: z.array(liveRunErrorSchema),
  notes: z.array(z.string()),
  /** The end's summary line, once the run ended. */
  summary: z.string().optional(),
  canCancel: z.boolean(),
  canRetryFailed: z.boolean(),
  questions: z.array(liveQuestionSchema),
});
export type LiveRunState = z.infer<typeof liveRunStateSchema>;
