import { z } from 'zod';
import { defineProtocol } from './envelope';

/**
 * Messages between a training run's view and the extension host. The host follows the run over SSH and
 * sends what arrives; the page draws the chart and the numbers and asks for actions (cancel, resume,
 * download, serve). Everything here is display data: strings from the host are shown as text only.
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

export const gpuSchema = z.object({ name: z.string(), memoryGb: z.number() });

export const runSnapshotSchema = z.object({
  run: runSummarySchema,
  points: z.array(metricPointSchema),
  totalSteps: z.number().nullable(),
  worldSize: z.number().nullable(),
  gpus: z.array(gpuSchema),
  /** Notable events as lines of text: start, checkpoints, errors, the end. */
  events: z.array(z.string()),
  log: z.string(),
});
export type RunSnapshot = z.infer<typeof runSnapshotSchema>;

export const serveResultSchema = z.object({
  serve: z.string(),
  forward: z.string(),
  baseUrl: z.string(),
  model: z.string(),
  started: z.boolean(),
});
export type ServeResult = z.infer<typeof serveResultSchema>;

export const trainingRunProtocol = defineProtocol({
  requests: {
    snapshot: { params: z.object({}), result: runSnapshotSchema },
    refreshLog: { params: z.object({}), result: z.object({ log: z.string() }) },
    cancel: { params: z.object({}), result: z.object({ message: z.string() }) },
    resume: { params: z.object({}), result: z.object({ message: z.string() }) },
    download: { params: z.object({}), result: z.object({ folder: z.string().nullable() }) },
    serve: {
      params: z.object({ moduleName: z.string().min(1), remotePort: z.number().int().min(1).max(65535), localPort: z.number().int().min(0).max(65535), start: z.boolean() }),
      result: serveResultSchema,
    },
    evaluate: { params: z.object({ baseUrl: z.string(), model: z.string() }), result: z.object({ started: z.boolean() }) },
  },
  hostNotifications: {
    /** New metrics and events since the last update, and the run's current summary. */
    update: z.object({ run: runSummarySchema, points: z.array(metricPointSchema), events: z.array(z.string()), totalSteps: z.number().nullable(), worldSize: z.number().nullable(), gpus: z.array(gpuSchema).optional() }),
    log: z.object({ log: z.string() }),
  },
  webviewNotifications: {},
});
export type TrainingRunProtocol = typeof trainingRunProtocol;

/** What the page reads synchronously at start. */
export const trainingRunInitialStateSchema = z.object({ runId: z.string() });
