import { z } from 'zod';
import { defineProtocol } from './envelope';
import { liveRunStateSchema } from '../runs/liveRunState';

/**
 * Messages between the live view of a teacher generation or evaluation run and the extension host. The host
 * keeps the run's whole state and sends all of it on every change (throttled), so a page that was hidden,
 * reloaded or opened late shows exactly what the run is doing: nothing is replayed, nothing can be lost.
 * Every string here may come from a question set or a model: the page renders it as text only.
 */

/** The run's state (its shapes are defined by the core, which builds it). */
export * from '../runs/liveRunState';

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
