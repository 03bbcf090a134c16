import { z } from 'zod';
import { defineProtocol } from './envelope';
import { metricPointSchema, runSummarySchema } from '../training/runViewSchema';

/**
 * Messages between a training run's view and the extension host. The host follows the run over SSH and
 * sends what arrives; the page draws the chart and the numbers and asks for actions (cancel, resume,
 * download, serve). Everything here is display data: strings from the host are shown as text only.
 */

/** The run's summary and metric points (their shapes are defined by the core, which builds them). */
export * from '../training/runViewSchema';

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
    // Cancel, resume, download and serve talk to the training host over SSH and may ask the user first (a
    // passphrase, a folder): the page shows them as in progress rather than giving up on them.
    cancel: { params: z.object({}), result: z.object({ message: z.string() }), timeoutMs: null },
    resume: { params: z.object({}), result: z.object({ message: z.string() }), timeoutMs: null },
    download: { params: z.object({}), result: z.object({ folder: z.string().nullable() }), timeoutMs: null },
    serve: {
      params: z.object({ moduleName: z.string().min(1), remotePort: z.number().int().min(1).max(65535), localPort: z.number().int().min(0).max(65535), start: z.boolean() }),
      result: serveResultSchema,
      timeoutMs: null,
    },
    evaluate: { params: z.object({ baseUrl: z.string(), model: z.string() }), result: z.object({ started: z.boolean() }), timeoutMs: null },
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
