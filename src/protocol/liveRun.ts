import { z } from 'zod';
import { defineProtocol } from './envelope';

/**
 * Messages between the live view of a teacher generation or evaluation run and the extension host. The host
 * keeps the run's whole state and sends all of it on every change (throttled), so a page that was hidden,
 * reloaded or opened late shows exactly what the run is doing: nothing is replayed, nothing can be lost.
 * Every string here may come from a question set or a model: the page renders it as text only.
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

export const liveRunProtocol = defineProtocol({
  requests: {
    snapshot: { params: z.object({}), result: liveRunStateSchema },
    cancel: { params: z.object({}), result: z.object({ message: z.string() }) },
    retryFailed: { params: z.object({}), result: z.object({ message: z.string() }) },
    openQuestion: { params: z.object({ key: z.string().min(1) }), result: z.object({ opened: z.boolean() }) },
  },
  hostNotifications: {
    /** The whole current state of the run. */
    state: liveRunStateSchema,
  },
  webviewNotifications: {},
});
export type LiveRunProtocol = typeof liveRunProtocol;

/** What the page reads synchronously at start: the run's state when the page was rendered. */
export const liveRunInitialStateSchema = z.object({ state: liveRunStateSchema });
