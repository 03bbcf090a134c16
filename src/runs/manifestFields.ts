import { z } from 'zod';

/** Fields the run manifests (teacher generation, evaluation) share. */

/** The first fields of a run manifest: what kind of run it describes, and the manifest format's version. */
export function runManifestHeader<K extends string, V extends number>(kind: K, version: V): { kind: z.ZodLiteral<K>; manifestVersion: z.ZodLiteral<V> } {
  return { kind: z.literal(kind), manifestVersion: z.literal(version) };
}

/**
 * What every run manifest records about one start of a run (the first, or a resume): when it started and
 * ended, how many questions it worked on, how many failed and whether it was stopped. Teacher and evaluation
 * manifests add their own counts to these fields.
 */
export const runSessionFields = {
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** Questions this start worked on (finished or failed). */
  attempted: z.int().nonnegative(),
  failures: z.int().nonnegative(),
  cancelled: z.boolean().default(false),
};

/** Marks the end of one start of a run: when, and whether it was stopped. */
export function endRunSession(session: { finishedAt?: string; cancelled: boolean }, cancelled: boolean, endedAtMs: number): void {
  session.finishedAt = new Date(endedAtMs).toISOString();
  session.cancelled = cancelled;
}

/**
 * The model a run talks to, as its manifest records it (beside `profile`, the endpoint profile's name): the
 * model name the server knows, its base URLs and server flavor.
 */
export const runEndpointFields = {
  model: z.string().min(1),
  baseUrls: z.array(z.string()).default([]),
  flavor: z.enum(['vllm', 'openai']).default('vllm'),
  /** Set when the model is the test suite's scripted server, so the run's results say they are not a model's. */
  scripted: z.string().optional(),
};
