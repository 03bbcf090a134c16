import { z } from 'zod';

/**
 * A training run as its view shows it: the run record's summary and one point of its metrics. `runView.ts`
 * builds them and `src/protocol/trainingRun.ts` sends them to the page; the shapes are the core's, the protocol
 * re-exports them. Only zod here: the webview bundle compiles this file through the protocol.
 */

export const runStateSchema = z.enum(['uploading', 'checking', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost']);

export const runSummarySchema = z.object({
  id: z.string(),
  host: z.string(),
  remoteDir: z.string(),
  scheduler: z.enum(['direct', 'slurm']),
  baseModel: z.string(),
  dataFile: z.string(),
  dataSha256: z.string(),
  /** `sha256:` of the exported bytes as the export manifest names it, and that manifest (absent: data without one). */
  dataSnapshot: z.string().optional(),
  exportManifest: z.string().optional(),
  /** The trajectory files the export was made from, with their hashes at export time. */
  sourceTrajectories: z.array(z.object({ file: z.string(), sha256: z.string() })).optional(),
  createdAt: z.string(),
  state: runStateSchema,
  exitCode: z.number().nullable().optional(),
  overrides: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  downloadedTo: z.string().optional(),
  resumes: z.number(),
  /** Set while the host cannot be reached (the view keeps the last known numbers). */
  connectionProblem: z.string().optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const metricPointSchema = z.object({
  step: z.number(),
  epoch: z.number(),
  loss: z.number(),
  lr: z.number(),
  gradNorm: z.number().nullable(),
  tokensPerS: z.number().nullable(),
  gpuMemGb: z.number().nullable(),
  etaS: z.number().nullable(),
  totalSteps: z.number().nullable(),
  time: z.number(),
});
export type MetricPoint = z.infer<typeof metricPointSchema>;
