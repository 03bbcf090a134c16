import { z } from 'zod';
import { defineProtocol } from './envelope';
import {
  compareRowSchema,
  editorStateSchema,
  editRequestSchema,
  listRowSchema,
  slotViewSchema,
  stepViewSchema,
  trajectoryQuerySchema,
  trajectoryViewSchema,
} from '../trajectoryEditor/editorViewSchema';

/**
 * Messages between the trajectory editor's webview and the extension host. The page never sees a whole
 * file: it asks for pages of list rows and for one trajectory at a time, already shaped for display
 * (long texts capped, with their full length so the page can offer "show all"). No `vscode`, no DOM.
 */

/** The shapes of rows, trajectories, edits and the editor's state (defined by the core, which builds them). */
export * from '../trajectoryEditor/editorViewSchema';

/** Actions the editor's commands (command palette) send to the page; the page's own keys do the same. */
export const editorActionSchema = z.enum([
  'nextStep',
  'previousStep',
  'nextTrajectory',
  'previousTrajectory',
  'nextUnreviewed',
  'accept',
  'reject',
  'editStep',
  'toggleExcludeStep',
  'focusSearch',
]);
export type EditorAction = z.infer<typeof editorActionSchema>;

/** What a single key in the editor's page does: an action above, or one the page asks the host for. */
export type EditorKeyAction = EditorAction | 'openTextForm' | 'reexecuteStep' | 'continueWithTeacher';

/**
 * The editor's single-key shortcuts. The page handles them in its own keydown listener, where it can see
 * synchronously whether the key went to a text field or an IME composition; VS Code keybindings gated by a
 * context key could not (the page updates the key asynchronously, so fast typing raced it). `key` is
 * `KeyboardEvent.key`; `edits` marks keys that change the file, which read-only files do not offer.
 */
export const editorKeys: readonly { key: string; label: string; action: EditorKeyAction; edits?: true }[] = [
  { key: 'j', label: 'next step', action: 'nextStep' },
  { key: 'k', label: 'previous step', action: 'previousStep' },
  { key: 'J', label: 'next trajectory', action: 'nextTrajectory' },
  { key: 'K', label: 'previous trajectory', action: 'previousTrajectory' },
  { key: 'u', label: 'next unreviewed', action: 'nextUnreviewed' },
  { key: 'a', label: 'accept', action: 'accept', edits: true },
  { key: 'r', label: 'reject', action: 'reject', edits: true },
  { key: 'e', label: 'edit', action: 'editStep', edits: true },
  { key: 'x', label: 'exclude step', action: 'toggleExcludeStep', edits: true },
  { key: '/', label: 'search', action: 'focusSearch' },
  { key: 't', label: 'as text', action: 'openTextForm' },
  { key: 'R', label: 're-execute', action: 'reexecuteStep', edits: true },
  { key: 'C', label: 'continue', action: 'continueWithTeacher', edits: true },
];

/** Progress of a re-execution or a continuation, for the record `slot`. */
export const runEventSchema = z.object({
  slot: z.number().int().nonnegative(),
  /** `text`: model text of step `stepIndex` so far; `step`: a finished new step; `truncated`: steps after `stepIndex` were dropped. */
  kind: z.enum(['started', 'text', 'step', 'truncated', 'finished', 'failed']),
  message: z.string().optional(),
  step: stepViewSchema.optional(),
  stepIndex: z.number().int().nonnegative().optional(),
  text: z.string().optional(),
});
export type RunEvent = z.infer<typeof runEventSchema>;

export const trajectoryEditorProtocol = defineProtocol({
  requests: {
    /** One page of the list for a query (the host caches the query's result). */
    rows: {
      params: z.object({ query: trajectoryQuerySchema, offset: z.number().int().nonnegative(), limit: z.number().int().positive().max(500) }),
      result: z.object({ total: z.number().int().nonnegative(), offset: z.number().int().nonnegative(), rows: z.array(listRowSchema) }),
    },
    /**
     * Type-ahead in the list: the first position at or after `from` (wrapping) in a query's result whose
     * question starts with `prefix` (case-insensitive, leading spaces ignored), or -1.
     */
    findByPrefix: {
      params: z.object({ query: trajectoryQuerySchema, from: z.number().int().nonnegative(), prefix: z.string().min(1).max(200) }),
      result: z.number().int(),
    },
    /** Position of a slot in a query's result (to keep the selection visible), or -1. */
    positionOf: {
      params: z.object({ query: trajectoryQuerySchema, slot: z.number().int().nonnegative() }),
      result: z.number().int(),
    },
    open: { params: z.object({ slot: z.number().int().nonnegative() }), result: slotViewSchema },
    /** The full text behind a capped field. */
    fullText: {
      params: z.object({ slot: z.number().int().nonnegative(), stepIndex: z.number().int().nonnegative(), field: z.enum(['printOutput', 'lastValue', 'error']) }),
      result: z.string(),
    },
    /** May ask the user first (accepting a flagged trajectory), so it waits as long as the question does. */
    edit: { params: z.object({ slot: z.number().int().nonnegative(), edit: editRequestSchema }), result: z.object({ changed: z.boolean() }), timeoutMs: null },
    /**
     * The next unreviewed slot of the review queue after `after` (wrapping), or -1 when none is left. The
     * queue is the query's result with flagged trajectories first, highest risk first, then the rest in
     * the query's order. `fromQueueStart`: start at the queue's front (passing over `after`), for a
     * selection the page made itself on open.
     */
    nextUnreviewed: {
      params: z.object({ query: trajectoryQuerySchema, after: z.number().int(), fromQueueStart: z.boolean().optional() }),
      result: z.number().int(),
    },
    /** Other trajectories of the same task, for the compare picker. */
    sameTask: {
      params: z.object({ slot: z.number().int().nonnegative() }),
      result: z.array(z.object({ slot: z.number().int().nonnegative(), label: z.string() })),
    },
    compare: {
      params: z.object({ left: z.number().int().nonnegative(), right: z.number().int().nonnegative() }),
      result: z.object({ left: trajectoryViewSchema, right: trajectoryViewSchema, rows: z.array(compareRowSchema) }),
    },
    /**
     * Trajectories of the same task (same task id or question) in the workspace's other trajectory files
     * and evaluation runs. The search streams and stops at a time budget; `unfinished` names the files it
     * did not search to the end. `ref` is opaque: the page hands it back to `compareAcross`, so it never
     * names a file path the host did not offer.
     */
    sameTaskInFiles: {
      params: z.object({ slot: z.number().int().nonnegative() }),
      result: z.object({
        matches: z.array(z.object({ ref: z.string().max(100), label: z.string() })),
        filesSearched: z.number().int().nonnegative(),
        unfinished: z.array(z.string()),
      }),
    },
    /** A record of this file beside one found by `sameTaskInFiles`; `rightSource` says which file it is from. */
    compareAcross: {
      params: z.object({ left: z.number().int().nonnegative(), ref: z.string().max(100) }),
      result: z.object({ left: trajectoryViewSchema, right: trajectoryViewSchema, rows: z.array(compareRowSchema), rightSource: z.string() }),
    },
    /** Opens the trajectory in its readable `.traj` text form in a text editor; edits there flow back. */
    openTextForm: { params: z.object({ slot: z.number().int().nonnegative() }), result: z.object({ opened: z.boolean() }) },
    /** Re-runs steps 1..k-1 to rebuild the state, then runs step k; later steps become stale. */
    reexecute: { params: z.object({ slot: z.number().int().nonnegative(), stepIndex: z.number().int().nonnegative() }), result: z.object({ started: z.boolean() }), timeoutMs: null },
    /** Drops the steps after k (kept in the history) and lets the teacher write the rest, streaming. */
    continueWithTeacher: {
      params: z.object({ slot: z.number().int().nonnegative(), stepIndex: z.number().int().nonnegative() }),
      result: z.object({ started: z.boolean() }),
      timeoutMs: null,
    },
    cancelRun: { params: z.object({ slot: z.number().int().nonnegative() }), result: z.object({ cancelled: z.boolean() }) },
  },
  hostNotifications: {
    state: editorStateSchema,
    /** Records changed (edit, undo, redo, reload); `all` after a reload or save. */
    changed: z.object({ slots: z.union([z.array(z.number().int().nonnegative()), z.literal('all')]) }),
    action: z.object({ action: editorActionSchema }),
    run: runEventSchema,
    /** Asks the page to select a slot (e.g. from a tree view or a failing eval question). */
    reveal: z.object({ slot: z.number().int().nonnegative(), stepIndex: z.number().int().nonnegative().optional() }),
  },
  webviewNotifications: {
    /** The selected trajectory and step, so host commands act on them. */
    selection: z.object({ slot: z.number().int().nonnegative().nullable(), stepIndex: z.number().int().nonnegative().nullable() }),
  },
});
export type TrajectoryEditorProtocol = typeof trajectoryEditorProtocol;
