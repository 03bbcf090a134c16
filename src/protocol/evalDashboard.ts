import { z } from 'zod';
import { defineProtocol } from './envelope';
import { comparisonViewSchema, runListEntrySchema, runViewSchema, trajectoryPaneSchema } from '../eval/dashboardViewSchema';

/**
 * Messages between the evaluation dashboard and the extension host. The host computes everything (metrics,
 * comparisons, trajectory excerpts); the page only shows it and asks for more.
 */

/** The views' shapes (defined by the core, which builds them). */
export * from '../eval/dashboardViewSchema';

/** Where one question's trajectory lies. */
export const questionRefSchema = z.object({ runFolder: z.string(), file: z.string(), slot: z.number().int().nonnegative() });

export const evalDashboardProtocol = defineProtocol({
  requests: {
    listRuns: { params: z.object({}), result: z.object({ runs: z.array(runListEntrySchema) }) },
    loadRun: { params: z.object({ runFolder: z.string() }), result: runViewSchema },
    /** Opens the trajectory in the editor at a step (the first failing one), where its candidates are shown. */
    openQuestion: { params: questionRefSchema.extend({ step: z.number().int().nonnegative() }), result: z.object({ opened: z.boolean() }) },
    compare: { params: z.object({ a: z.string(), b: z.string() }), result: comparisonViewSchema },
    sideBySide: { params: z.object({ a: questionRefSchema, b: questionRefSchema }), result: z.object({ a: trajectoryPaneSchema, b: trajectoryPaneSchema }) },
    /** Asks the user for a teacher trajectory file and pairs the question with its trajectory there. */
    sideBySideWithTeacher: { params: questionRefSchema, result: z.object({ a: trajectoryPaneSchema, b: trajectoryPaneSchema }).nullable() },
    /** Asks the user for a run folder that is not in the list yet. */
    /** Waits on the user's folder dialog. */
    addRun: { params: z.object({}), result: z.object({ runFolder: z.string().optional() }), timeoutMs: null },
  },
  hostNotifications: {
    /** Show this run (after a command or when a run finishes); without one, what the page showed last. */
    showRun: z.object({ runFolder: z.string().optional() }),
    /** Show the comparison of two runs. */
    showComparison: z.object({ a: z.string(), b: z.string() }),
    /** A run in progress finished another question; the page reloads it when it is the one shown. */
    runProgress: z.object({ runFolder: z.string(), done: z.number(), total: z.number() }),
  },
  webviewNotifications: {},
});
export type EvalDashboardProtocol = typeof evalDashboardProtocol;
