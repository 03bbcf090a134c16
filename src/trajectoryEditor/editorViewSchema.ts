import { z } from 'zod';

/**
 * What the trajectory editor's page shows and sends: list rows and the query that filters them, one trajectory
 * shaped for display (long texts capped, with their full length so the page can offer "show all"), the
 * comparison rows, an edit as the page requests it and the editor's state. The editor's session and view
 * builders make them and `src/protocol/trajectoryEditor.ts` carries them; the shapes are the core's, the
 * protocol re-exports them. Only zod here: the webview bundle compiles this file through the protocol.
 */

const reviewStatus = z.enum(['unreviewed', 'accepted', 'rejected']);
const listStatus = z.enum(['unreviewed', 'accepted', 'rejected', 'invalid']);
/** `needs-judging`: the answer changed and its scorer needs a model that is not configured. */
const verdict = z.enum(['correct', 'incorrect', 'unjudged', 'needs-judging']);
/**
 * The generation filter's decision (`meta.teacherFilter`): `passed` or `dropped`; `none` for records that
 * did not come from a filtered generation run. Never the same words as a person's "accepted".
 */
const filterOutcome = z.enum(['passed', 'dropped', 'none']);
const domain = z.enum(['math', 'factual']);
const flagSeverity = z.enum(['high', 'medium', 'low']);

/**
 * A triage flag as a list row carries it: enough to count, colour and filter; the page takes titles from
 * the state's `flagRules` (the rule titles live on the host, which the page cannot import).
 */
export const rowFlagSchema = z.object({
  rule: z.string(),
  severity: flagSeverity,
  /** 0-based step the flag points at; absent for a whole-trajectory flag. */
  step: z.number().int().nonnegative().optional(),
});
export type RowFlag = z.infer<typeof rowFlagSchema>;

/** A triage flag as the trajectory view shows it, on its step card or in the header. */
export const flagViewSchema = rowFlagSchema.extend({
  title: z.string(),
  /** What the rule looks for and why it matters (for the tooltip). */
  description: z.string().optional(),
  message: z.string(),
  /** The text that triggered the flag; plain text, shown in a code style. */
  evidence: z.string().optional(),
});
export type FlagView = z.infer<typeof flagViewSchema>;

/** A text cut for display; `totalChars` > `text.length` means there is more ("show all"). */
export const cappedTextSchema = z.object({ text: z.string(), totalChars: z.number().int().nonnegative() });
export type CappedText = z.infer<typeof cappedTextSchema>;

export const trajectoryQuerySchema = z.object({
  status: z.array(listStatus).optional(),
  verdict: z.array(verdict).optional(),
  domain: z.array(domain).optional(),
  hasErrors: z.boolean().optional(),
  hasEdits: z.boolean().optional(),
  hasStale: z.boolean().optional(),
  tag: z.string().optional(),
  /** The generation filter's decision. */
  filter: z.array(filterOutcome).optional(),
  /** `any`: trajectories with a triage flag; `none`: without one; otherwise a rule id they are flagged by. */
  flag: z.string().max(200).optional(),
  search: z.string().max(1000).optional(),
  /** `risk`: highest triage risk first, ties in file order. */
  sort: z.enum(['file', 'steps', 'status', 'verdict', 'question', 'risk']).optional(),
  descending: z.boolean().optional(),
});
export type TrajectoryQueryWire = z.infer<typeof trajectoryQuerySchema>;

export const listRowSchema = z.object({
  slot: z.number().int().nonnegative(),
  id: z.string().optional(),
  question: z.string(),
  domain: domain.optional(),
  steps: z.number().int().nonnegative(),
  verdict,
  status: listStatus,
  reasonTags: z.array(z.string()),
  hasErrors: z.boolean(),
  hasEdits: z.boolean(),
  hasStale: z.boolean(),
  /** Triage flags in reading order (by step, whole-trajectory flags last). */
  flags: z.array(rowFlagSchema),
  /** Sum of the flags' severity weights; 0 when clean. */
  risk: z.number().int().nonnegative(),
  /** True when the record has unsaved changes. */
  dirty: z.boolean(),
  /** The generation filter's decision; absent when the record has none. */
  filter: z.enum(['passed', 'dropped']).optional(),
});
export type ListRow = z.infer<typeof listRowSchema>;

const errorViewSchema = z.object({
  kind: z.string(),
  type: z.string(),
  message: cappedTextSchema,
  line: z.number().int().optional(),
  statement: z.string().optional(),
});
export type ErrorView = z.infer<typeof errorViewSchema>;

const webSearchViewSchema = z.object({
  query: z.string(),
  error: z.string().optional(),
  passages: z.array(z.object({ title: z.string(), text: cappedTextSchema, score: z.number() })),
});

export const observationViewSchema = z.object({
  printOutput: cappedTextSchema,
  lastValue: cappedTextSchema,
  error: errorViewSchema.optional(),
  finalAnswer: z.string().optional(),
  webSearch: z.array(webSearchViewSchema),
});
export type ObservationView = z.infer<typeof observationViewSchema>;

const candidateViewSchema = z.object({
  index: z.number().int().nonnegative(),
  code: cappedTextSchema,
  valid: z.boolean(),
  error: z.string().optional(),
  printOutput: cappedTextSchema,
  finalAnswer: z.string().optional(),
  /** Index of the candidate's vote group in `voteGroups`, or -1 when it is in none. */
  group: z.number().int(),
  /** The earlier candidate with the same code; it was executed once for both. */
  sameCodeAs: z.number().int().nonnegative().optional(),
});

export const stepViewSchema = z.object({
  index: z.number().int().nonnegative(),
  thought: z.string(),
  code: z.string(),
  stale: z.boolean(),
  excluded: z.boolean(),
  observation: observationViewSchema.optional(),
  /** The observation before the latest re-execution of this step, shown beside the new one. */
  previousObservation: observationViewSchema.optional(),
  candidates: z.array(candidateViewSchema).optional(),
  winner: z.number().int().optional(),
  voteGroups: z.array(z.object({ voteKey: cappedTextSchema, members: z.array(z.number().int()) })).optional(),
  /** Adaptive SAG: the rounds in order (candidates drawn, seed, tokens generated) and why drawing stopped. */
  sagRounds: z.array(z.object({ candidates: z.number().int().nonnegative(), seed: z.number().int().optional(), completionTokens: z.number().int().optional() })).optional(),
  sagStop: z.enum(['decided', 'agreement', 'budget']).optional(),
  /** The most candidates the step could have drawn (the run's SAG setting), when known. */
  sagBudget: z.number().int().positive().optional(),
});
export type StepView = z.infer<typeof stepViewSchema>;

export const trajectoryViewSchema = z.object({
  slot: z.number().int().nonnegative(),
  id: z.string(),
  taskId: z.string(),
  question: z.string(),
  goldAnswer: z.string().optional(),
  domain,
  origin: z.string(),
  steps: z.array(stepViewSchema),
  finalAnswer: z.string().optional(),
  fromFallback: z.boolean(),
  verdict,
  judgementDetail: z.string().optional(),
  /** Why the record waits for a judge (`verdict` is `needs-judging`). */
  needsJudging: z.string().optional(),
  /** The generation filter's decision: `passed the filter` or `dropped by the filter: <reason>`. */
  filterVerdict: z.object({ passed: z.boolean(), text: z.string() }).optional(),
  review: z.object({ status: reviewStatus, reasonTags: z.array(z.string()), note: z.string().optional() }),
  revisions: z.number().int().nonnegative(),
  dirty: z.boolean(),
  /** Triage flags in reading order; those with a `step` go on that step's card, the others in the header. */
  flags: z.array(flagViewSchema),
});
export type TrajectoryView = z.infer<typeof trajectoryViewSchema>;

export const invalidLineViewSchema = z.object({
  slot: z.number().int().nonnegative(),
  line: z.number().int().positive(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  preview: z.string(),
});

export const slotViewSchema = z.discriminatedUnion('valid', [
  z.object({ valid: z.literal(true), trajectory: trajectoryViewSchema }),
  z.object({ valid: z.literal(false), invalid: invalidLineViewSchema }),
]);
export type SlotView = z.infer<typeof slotViewSchema>;

/** An edit as the page requests it (the host turns it into a `TrajectoryEdit`). */
export const editRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('setThought'), stepIndex: z.number().int().nonnegative(), text: z.string() }),
  z.object({ kind: z.literal('setCode'), stepIndex: z.number().int().nonnegative(), text: z.string() }),
  z.object({ kind: z.literal('setStepExcluded'), stepIndex: z.number().int().nonnegative(), excluded: z.boolean() }),
  z.object({ kind: z.literal('setReview'), status: reviewStatus, reasonTags: z.array(z.string().max(200)).max(50), note: z.string().max(20000).optional() }),
]);
export type EditRequest = z.infer<typeof editRequestSchema>;

export const compareRowSchema = z.object({
  stepIndex: z.number().int().nonnegative(),
  left: stepViewSchema.optional(),
  right: stepViewSchema.optional(),
  thoughtDiffers: z.boolean(),
  codeDiffers: z.boolean(),
  observationDiffers: z.boolean(),
});
export type CompareRow = z.infer<typeof compareRowSchema>;

export const editorStateSchema = z.object({
  fileName: z.string(),
  slotCount: z.number().int().nonnegative(),
  scanned: z.number().int().nonnegative(),
  complete: z.boolean(),
  /** Eval run folders and untrusted workspaces: review only. */
  readOnly: z.boolean(),
  /** False in an untrusted workspace: no re-execution, no model calls. */
  canExecute: z.boolean(),
  reasonTaxonomy: z.array(z.string()),
  counts: z.object({ unreviewed: z.number(), accepted: z.number(), rejected: z.number(), invalid: z.number() }),
  /** Counts by the generation filter's decision (`none`: records without one), shown apart from the review counts. */
  filterCounts: z.object({ passed: z.number(), dropped: z.number(), none: z.number() }),
  tagsInUse: z.array(z.string()),
  /** The triage rules that flag at least one scanned trajectory, in rule order, for the flag filter and tooltips. */
  flagRules: z.array(z.object({ rule: z.string(), title: z.string(), severity: flagSeverity.optional(), count: z.number().int().nonnegative() })),
  /** `trajectoryStudio.review.advanceAfterVerdict`: Accept and Reject move on to the next unreviewed trajectory. */
  advanceAfterVerdict: z.boolean(),
  /** Problems to show above the list, e.g. "the file changed on disk". */
  banner: z.string().optional(),
});
export type EditorState = z.infer<typeof editorStateSchema>;
