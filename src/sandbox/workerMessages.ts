import { z } from 'zod';

/**
 * The JSON-lines protocol between the host and media/python/sandbox_worker.py (worker → host side).
 * Every line is validated: the worker runs model code, so its output is untrusted input.
 */

const errorSchema = z.object({
  kind: z.enum(['parse', 'execution', 'timeout', 'killed', 'crash', 'policy']),
  type: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
  statement: z.string().optional(),
  offset: z.number().int().optional(),
});

export const workerOutcomeSchema = z.object({
  printOutput: z.string(),
  printedChars: z.number().int().nonnegative(),
  lastValue: z.string(),
  error: errorSchema.optional(),
  finalAnswer: z.string().optional(),
  /** Bytes written straight to fd 1/2 (bypassing sys.stdout), capped by the worker. */
  rawOutput: z.string().optional(),
  /** stdout alone, sent when `printOutput` also holds stderr text (studio rules). */
  stdoutOutput: z.string().optional(),
  /** What went to sys.stderr, when anything did. */
  stderrOutput: z.string().optional(),
  /** A syntax error's `SyntaxError.text` and `.offset` (either may be null). */
  syntax: z.object({ text: z.string().nullable(), offset: z.number().int().nullable() }).optional(),
  workerMs: z.number().optional(),
});
export type WorkerOutcome = z.infer<typeof workerOutcomeSchema>;

export const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int(), python: z.string(), fork: z.boolean() }),
  z.object({ type: z.literal('result'), id: z.number().int(), outcome: workerOutcomeSchema }),
  z.object({ type: z.literal('candidate_result'), id: z.number().int(), candidate: z.number().int(), outcome: workerOutcomeSchema }),
  z.object({ type: z.literal('candidates_done'), id: z.number().int() }),
  z.object({ type: z.literal('adopted'), id: z.number().int() }),
  z.object({ type: z.literal('adopt_failed'), id: z.number().int(), message: z.string() }),
  z.object({ type: z.literal('discarded'), id: z.number().int() }),
  z.object({ type: z.literal('protocol_error'), id: z.number().int(), message: z.string() }),
  z.object({
    type: z.literal('tool_call'),
    id: z.number().int(),
    call: z.number().int(),
    candidate: z.number().int().optional(),
    tool: z.literal('web_search'),
    query: z.string(),
  }),
]);
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type ToolCallMessage = Extract<WorkerMessage, { type: 'tool_call' }>;

/** Host → worker requests. */
export type WorkerRequest =
  | { op: 'exec'; id: number; code: string; cpuSeconds: number; wallSeconds: number }
  /** `keepReady`: idle children the worker forks ahead of the next SAG step (0: none). */
  | { op: 'candidates'; id: number; codes: readonly string[]; cpuSeconds: number; wallSeconds: number; keepReady: number }
  | { op: 'adopt'; id: number; index: number }
  | { op: 'discard'; id: number }
  | { op: 'tool_result'; id: number; call: number; candidate?: number; ok: true; text: string }
  | { op: 'tool_result'; id: number; call: number; candidate?: number; ok: false; error: string };
