import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type ExecErrorKind, type ExecOutcome } from './execOutcome';
import { compatibilitySchema } from './compatibility';

/**
 * The trajectory record: one agent episode on one task, as stored one per line in a `*.traj.jsonl` file.
 *
 * Every record carries `schema` (the version of this shape). Readers call {@link parseTrajectory}, which
 * migrates older versions to the current one and refuses newer ones with a clear message. Objects are
 * strict: a field this version does not know is reported as an error (with its JSON path) rather than
 * silently dropped on the next save; free-form extras belong in the `meta` objects.
 *
 * Writers build records with {@link newTrajectory} and the inferred types below. The observation of a
 * step has the shape of the sandbox's `ExecOutcome`, so the agent loop can store an outcome directly.
 */

/**
 * The version this code writes. Bump it only together with a migration in `migrations` below.
 * History: 1 the first published shape; 2 adds the rubric judge's result (`review.rubric`).
 */
export const TRAJECTORY_SCHEMA_VERSION = 2;

/** Free-form extras (JSON values) that tools may attach without a schema change. */
const metaSchema = z.record(z.string(), z.json()).describe('Free-form extras; any JSON values.');

const nonNegativeInt = z.int().nonnegative();

// ---------------------------------------------------------------------------------------------------------
// Task and origin
// ---------------------------------------------------------------------------------------------------------

export const taskDomainSchema = z.enum(['math', 'factual']);
/** `math` is judged by math equivalence, `factual` by an LLM judge or exact match / F1 (METHOD §6). */
export type TaskDomain = z.infer<typeof taskDomainSchema>;

export const taskSchema = z.strictObject({
  /** Id of the question in its question set (stable across runs, used to pair trajectories of one task). */
  id: z.string(),
  /** The question exactly as the agent was given it (without the `New task:` prefix and instruction suffix). */
  question: z.string(),
  /** Reference answer, as text (numbers are stored as their text). Absent for unlabelled questions. */
  goldAnswer: z.string().optional(),
  domain: taskDomainSchema,
  /** The question-set file the task came from (a path or a name), for provenance. */
  source: z.string().optional(),
  meta: metaSchema.optional(),
});
export type Task = z.infer<typeof taskSchema>;

export const originKindSchema = z.enum(['teacher', 'student', 'import', 'hand-written']);
export type OriginKind = z.infer<typeof originKindSchema>;

/** Sampling parameters sent with the model requests (only those actually sent are stored). */
export const samplingParamsSchema = z.strictObject({
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.int().optional(),
  maxTokens: nonNegativeInt.optional(),
  seed: z.int().optional(),
  /** Candidates per request (SAG uses 8). */
  n: z.int().positive().optional(),
  repetitionPenalty: z.number().optional(),
  stop: z.array(z.string()).optional(),
});
export type SamplingParams = z.infer<typeof samplingParamsSchema>;

export const originSchema = z.strictObject({
  /** Who produced the trajectory. */
  kind: originKindSchema,
  /** Model name as the server knows it (for a student: the LoRA module name). */
  model: z.string().optional(),
  /** Name of the endpoint profile that served the model (e.g. `teacher`, `student`). */
  endpoint: z.string().optional(),
  sampling: samplingParamsSchema.optional(),
  /** Name of the prompt profile (system prompt, task suffix) the agent ran with. */
  promptProfile: z.string().optional(),
  /** Hash of the exact prompt texts of that profile, so a changed prompt is visible. */
  promptHash: z.string().optional(),
  /** First-thought prefix injected into the first step (METHOD §4), when FTP was used. */
  firstThoughtPrefix: z.string().optional(),
  /** The chain-of-thought reply the prefix was cut from. */
  cotReply: z.string().optional(),
  /** SAG settings of a student run: candidates per step and how they were isolated. */
  sag: z
    .strictObject({
      /** Candidates per step; for adaptive SAG the most a step may draw. */
      candidates: z.int().positive(),
      isolation: z.enum(['isolated', 'shared']),
      /** Adaptive SAG: candidates drawn in rounds until the vote is decided (absent: all at once, the method's way). */
      adaptive: z.strictObject({ firstRound: z.int().positive(), roundSize: z.int().positive(), agreement: z.number().gt(0).max(1) }).optional(),
      /** `normalized`: outputs that differ only in form voted together (absent: exact print output). */
      voteKeys: z.enum(['exact', 'normalized']).optional(),
    })
    .optional(),
  /** The compatibility profile the run followed (observations, scoring, filter; docs/COMPATIBILITY.md). */
  compatibility: compatibilitySchema.optional(),
  /** For imports: the file the record was read from and its line (1-based). */
  importedFrom: z.strictObject({ file: z.string(), line: z.int().positive().optional(), format: z.string() }).optional(),
  /** ISO 8601 time the run started. */
  startedAt: z.string().optional(),
  meta: metaSchema.optional(),
});
export type Origin = z.infer<typeof originSchema>;

// ---------------------------------------------------------------------------------------------------------
// Steps (shapes follow src/sandbox/types.ts)
// ---------------------------------------------------------------------------------------------------------

const execErrorKinds = ['parse', 'execution', 'timeout', 'killed', 'crash', 'policy'] as const satisfies readonly ExecErrorKind[];
export const execErrorKindSchema = z.enum(execErrorKinds);

/** Mirrors `ExecError` of the sandbox. */
export const execErrorSchema = z.strictObject({
  kind: execErrorKindSchema,
  /** Python exception type, e.g. `ZeroDivisionError`, `SyntaxError`. */
  type: z.string(),
  message: z.string(),
  /** 1-based line of the failing statement in the executed code. */
  line: z.int().optional(),
  /** Source of the failing top-level statement. */
  statement: z.string().optional(),
  /** True when the worker was restarted and the episode's variables were lost. */
  stateLost: z.boolean().optional(),
});
export type StepError = z.infer<typeof execErrorSchema>;

/** Mirrors `RetrievedPassage` of the retrieval contract. */
export const passageSchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  text: z.string(),
  score: z.number(),
});
export type StoredPassage = z.infer<typeof passageSchema>;

/** Mirrors `WebSearchCall`: one `web_search` call made by the step's code and what it returned. */
export const webSearchCallSchema = z.strictObject({
  query: z.string(),
  passages: z.array(passageSchema),
  /** Set when the retrieval backend failed; the model saw this as the tool's exception. */
  error: z.string().optional(),
});
export type StoredWebSearchCall = z.infer<typeof webSearchCallSchema>;

/**
 * What executing the step's code produced. Structurally an `ExecOutcome` (the agent loop stores one
 * directly); `printedChars` and `durationMs` are optional because imported records do not have them, and
 * `text` holds the observation exactly as the model was shown it when that was recorded.
 */
export const observationSchema = z.strictObject({
  /** Everything the code printed (after the output cap). */
  printOutput: z.string(),
  /** Characters printed before the cap. */
  printedChars: nonNegativeInt.optional(),
  /** The "last output" shown to the model: under `studio` the last expression's value (`"None"` after a statement); under `reference` the last top-level statement's value. */
  lastValue: z.string(),
  /** What the code wrote to stderr (warnings). Under `studio` it is also interleaved in `printOutput`; under `reference` the model never sees it. */
  stderr: z.string().optional(),
  error: execErrorSchema.optional(),
  /** Set when the code called `final_answer(x)`: `str(x)`. */
  finalAnswer: z.string().optional(),
  webSearchCalls: z.array(webSearchCallSchema).default([]),
  durationMs: z.number().nonnegative().optional(),
  /** The observation turn exactly as sent to the model (imports keep only this; exporters prefer it). */
  text: z.string().optional(),
});
export type Observation = z.infer<typeof observationSchema>;

/** One sampled action of a SAG step (METHOD §5). */
export const sagCandidateSchema = z.strictObject({
  /** The candidate's raw model text. */
  text: z.string(),
  /** The code extracted from it. */
  code: z.string(),
  /** Parsed and executed without error (a `final_answer` call counts as valid). */
  valid: z.boolean(),
  error: execErrorSchema.optional(),
  /** What the vote compares: the candidate's exact stdout (warnings never split a vote). */
  voteKey: z.string(),
  printOutput: z.string(),
  lastValue: z.string().optional(),
  finalAnswer: z.string().optional(),
  /** The code is identical to this earlier candidate's, so it was executed once for both (isolated SAG). */
  sameCodeAs: nonNegativeInt.optional(),
});
export type SagCandidate = z.infer<typeof sagCandidateSchema>;

/** One group of candidates that share a vote key, in order of first appearance. */
export const voteGroupSchema = z.strictObject({
  voteKey: z.string(),
  /** Indexes into `candidates`, ascending. */
  members: z.array(nonNegativeInt),
});
export type VoteGroup = z.infer<typeof voteGroupSchema>;

export const stepTimingsSchema = z.strictObject({
  /** Time waiting for the model's reply. */
  modelMs: z.number().nonnegative().optional(),
  /** Time executing the code (all candidates for SAG). */
  execMs: z.number().nonnegative().optional(),
  /** ISO 8601 time the step started. */
  startedAt: z.string().optional(),
});

export const stepTokensSchema = z.strictObject({
  /** Prompt tokens the server counted (summed over the requests of an adaptive SAG step). */
  prompt: nonNegativeInt.optional(),
  /** Completion tokens (all candidates together for SAG: every token sampled for the step). */
  completion: nonNegativeInt.optional(),
});

/** One round of an adaptive SAG step: one request for several candidates. */
export const sagRoundSchema = z.strictObject({
  /** Candidates the round drew (they follow the earlier rounds' in `candidates`). */
  candidates: nonNegativeInt,
  /** The seed sent with the round's request. */
  seed: z.int().optional(),
  tokens: stepTokensSchema.optional(),
});
export type SagRound = z.infer<typeof sagRoundSchema>;

export const stepSchema = z.strictObject({
  /** The text after `Thought:` up to `Code:` (for the first step with FTP: including the prefix). */
  thought: z.string(),
  /** The code that was executed: extracted blocks joined by a blank line. */
  code: z.string(),
  /** The model's reply as stored (with `<end_code>` restored when the stop sequence cut it). */
  modelOutput: z.string(),
  /** Absent when the step was never executed (a run cut short, or a hand-written step not yet run). */
  observation: observationSchema.optional(),
  /** SAG: every sampled candidate; the step's own fields are those of the winner. */
  candidates: z.array(sagCandidateSchema).optional(),
  /** SAG: index of the chosen candidate in `candidates`. */
  winner: nonNegativeInt.optional(),
  /** SAG: vote groups, in order of first appearance. */
  voteGroups: z.array(voteGroupSchema).optional(),
  /** Adaptive SAG: the rounds drawn, in order (absent when every candidate came from one request). */
  sagRounds: z.array(sagRoundSchema).optional(),
  /**
   * Adaptive SAG: why drawing stopped. `decided`: no further candidate could change the winner; `agreement`:
   * the leading group reached the agreement setting; `budget`: every allowed candidate was drawn.
   */
  sagStop: z.enum(['decided', 'agreement', 'budget']).optional(),
  timings: stepTimingsSchema.optional(),
  tokens: stepTokensSchema.optional(),
  /** Review flag: keep this step in the training context but give it no loss (weight 0 / `train: false`). */
  excludeFromTraining: z.boolean().optional(),
  /** Review flag: an earlier step was edited, so this step's observation may no longer follow from it. */
  stale: z.boolean().optional(),
  meta: metaSchema.optional(),
});
export type Step = z.infer<typeof stepSchema>;

// ---------------------------------------------------------------------------------------------------------
// Outcome, judgement, review, history
// ---------------------------------------------------------------------------------------------------------

/** One compatibility profile's verdict on an answer (docs/COMPATIBILITY.md). */
export const profileVerdictSchema = z.strictObject({
  correct: z.boolean(),
  /** `math-equivalence`, `llm-judge`, `exact-match`. */
  method: z.string(),
  /** The rule that decided (e.g. `numeric-tolerance`, `gold-as-written`, `judge-yes`). */
  rule: z.string(),
  detail: z.string().optional(),
  /** Set when the verdict could not be reached (a judge reply that could not be read, a timeout): counted as wrong. */
  error: z.string().optional(),
});
export type ProfileVerdict = z.infer<typeof profileVerdictSchema>;

export const judgementSchema = z.strictObject({
  correct: z.boolean(),
  /** How it was judged: `math-equivalence`, `llm-judge`, `exact-match`, `f1`, `human`, `imported`. */
  method: z.string(),
  /** Judge explanation, normalised forms compared, or the reason it could not be judged. */
  detail: z.string().optional(),
  /** Graded score where the method has one (F1, the reference's `score`). */
  score: z.number().optional(),
  /** ISO 8601 time of judging. */
  at: z.string().optional(),
  /** Which profile's verdict `correct` is (the run's compatibility); absent on records judged before profiles. */
  profile: compatibilitySchema.optional(),
  /** Both scorers' verdicts, so every run can report the paper's accuracy and the corrected one side by side. */
  byProfile: z.strictObject({ studio: profileVerdictSchema, reference: profileVerdictSchema }).optional(),
});
export type Judgement = z.infer<typeof judgementSchema>;

export const reviewStatusSchema = z.enum(['unreviewed', 'accepted', 'rejected']);
export type ReviewStatus = z.infer<typeof reviewStatusSchema>;

export const rubricSeveritySchema = z.enum(['high', 'medium', 'low']);

/** The rubric judge's verdict on one criterion of the rubric. */
export const rubricFindingSchema = z.strictObject({
  /** The criterion's id in the rubric file. */
  criterion: z.string(),
  verdict: z.enum(['pass', 'fail', 'not-applicable']),
  /** 0-based index of the step the finding points at; absent when it concerns the whole trajectory. */
  step: nonNegativeInt.optional(),
  /** The judge's one-sentence reason. */
  reason: z.string(),
  /** The criterion's severity when it was judged (so the flag does not change if the rubric file does). */
  severity: rubricSeveritySchema,
});
export type RubricFinding = z.infer<typeof rubricFindingSchema>;

/**
 * What the rubric judge said about the trajectory, with what it needs to know whether it is still current:
 * the rubric's hash, the judge model and the hash of the content judged. A reply that could not be read,
 * or a call that failed, is kept as `error` (with no findings) so it is visible and judged again next time.
 */
export const rubricResultSchema = z.strictObject({
  /** The rubric's name. */
  rubric: z.string(),
  /** sha256 of the rubric's canonical content. */
  rubricHash: z.string(),
  /** The judge model's name, when known. */
  model: z.string().optional(),
  /** ISO 8601 time of judging. */
  at: z.string(),
  /** sha256 of the rubric hash, the model and the judged content (task, steps, final answer). */
  contentHash: z.string(),
  findings: z.array(rubricFindingSchema),
  /** Set when the judge's reply could not be read or the call failed; the findings are then empty. */
  error: z.string().optional(),
});
export type RubricResult = z.infer<typeof rubricResultSchema>;

/**
 * The curator's verdict. Per-step review flags (`excludeFromTraining`, `stale`) live on each step so they
 * move with the step when steps are cut or re-run.
 */
export const reviewSchema = z.strictObject({
  status: reviewStatusSchema,
  /** Short reasons, e.g. `hallucinated-fact`, `wrong-tool-use`, `lucky-guess`. */
  reasonTags: z.array(z.string()).default([]),
  note: z.string().optional(),
  /** ISO 8601 time of the last status change. */
  at: z.string().optional(),
  /** The rubric judge's findings (schema version 2), when a rubric was run on the trajectory. */
  rubric: rubricResultSchema.optional(),
});
export type Review = z.infer<typeof reviewSchema>;

/** One edit in the trajectory's history, newest last. */
export const revisionSchema = z.strictObject({
  /** ISO 8601 time. */
  at: z.string(),
  /** What changed: `thought`, `code`, `observation`, `steps-truncated`, `continued`, `review`, `answer`, … */
  what: z.string(),
  /** The step it concerns, when it concerns one. */
  stepIndex: nonNegativeInt.optional(),
  before: z.json().optional(),
  after: z.json().optional(),
});
export type Revision = z.infer<typeof revisionSchema>;

// ---------------------------------------------------------------------------------------------------------
// The record
// ---------------------------------------------------------------------------------------------------------

export const trajectorySchema = z.strictObject({
  schema: z.literal(TRAJECTORY_SCHEMA_VERSION),
  /** Unique id of this trajectory (several trajectories may share a task). */
  id: z.string().min(1),
  /** ISO 8601 creation time. */
  createdAt: z.string().optional(),
  task: taskSchema,
  origin: originSchema,
  steps: z.array(stepSchema),
  /** The answer the episode ended with (`final_answer` or the fallback call); absent when there was none. */
  finalAnswer: z.string().optional(),
  /** True when the answer came from the after-max-steps fallback call rather than `final_answer`. */
  fromFallback: z.boolean().optional(),
  /** The fallback call's raw reply, when one was made. */
  fallbackOutput: z.string().optional(),
  judgement: judgementSchema.optional(),
  review: reviewSchema.default({ status: 'unreviewed', reasonTags: [] }),
  revisions: z.array(revisionSchema).default([]),
  meta: metaSchema.optional(),
});

/** A trajectory as the code uses it (defaults filled in). */
export type Trajectory = z.infer<typeof trajectorySchema>;
/** A trajectory as it may appear in a file (fields with defaults may be absent). */
export type TrajectoryInput = z.input<typeof trajectorySchema>;

// The observation must accept a sandbox outcome as is; this fails to compile if the contracts drift apart.
const _outcomeFitsObservation = (o: ExecOutcome): z.input<typeof observationSchema> => o;
void _outcomeFitsObservation;

// ---------------------------------------------------------------------------------------------------------
// Parsing with migration
// ---------------------------------------------------------------------------------------------------------

/** One problem found in a record: where (a JSON path such as `$.steps[2].observation.error.kind`) and what. */
export interface TrajectoryIssue {
  path: string;
  message: string;
}

/** Thrown by {@link parseTrajectory}; `issues` lists every problem, not just the first. */
export class TrajectoryValidationError extends Error {
  override readonly name = 'TrajectoryValidationError';
  constructor(readonly issues: readonly TrajectoryIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

/** Turns a path of keys and indexes into `$.a.b[2]["odd key"]`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Converts a record of version `from` into version `from + 1`. Pure functions on plain JSON. */
export type TrajectoryMigration = (record: Record<string, unknown>) => Record<string, unknown>;

/**
 * Migrations by the version they read. A change to the shape bumps {@link TRAJECTORY_SCHEMA_VERSION} and
 * adds the step from the old version here.
 */
export const trajectoryMigrations: Readonly<Record<number, TrajectoryMigration>> = {
  // 1 → 2 only added the optional `review.rubric`, which a version 1 record cannot have: nothing to change.
  1: (record) => record,
};

export type TrajectoryParseResult =
  | { ok: true; value: Trajectory; migratedFrom?: number }
  | { ok: false; issues: TrajectoryIssue[] };

function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `a string` : `${typeof value}`;
}

/**
 * Validates a parsed JSON value as a trajectory, migrating older versions first. Never throws: problems
 * come back as issues with JSON paths. `migrations` is injectable for tests of the migration path.
 */
export function safeParseTrajectory(
  json: unknown,
  migrations: Readonly<Record<number, TrajectoryMigration>> = trajectoryMigrations,
  currentVersion: number = TRAJECTORY_SCHEMA_VERSION,
): TrajectoryParseResult {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, issues: [{ path: '$', message: `expected a trajectory object, got ${describeReceived(json)}` }] };
  }
  let record = json as Record<string, unknown>;
  const version = record.schema;
  if (version === undefined) {
    return { ok: false, issues: [{ path: '$.schema', message: `missing schema version (expected "schema": ${currentVersion})` }] };
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    return { ok: false, issues: [{ path: '$.schema', message: `expected a whole-number schema version, got ${JSON.stringify(version)}` }] };
  }
  if (version > currentVersion) {
    return {
      ok: false,
      issues: [
        {
          path: '$.schema',
          message: `schema version ${version} was written by a newer Trajectory Studio; this version reads versions up to ${currentVersion}. Update Trajectory Studio to open this record.`,
        },
      ],
    };
  }
  let migratedFrom: number | undefined;
  for (let v = version; v < currentVersion; v++) {
    const migrate = migrations[v];
    if (!migrate) {
      return { ok: false, issues: [{ path: '$.schema', message: `no migration from schema version ${v} to ${v + 1}` }] };
    }
    migratedFrom ??= version;
    record = { ...migrate(record), schema: v + 1 };
  }
  const parsed = trajectorySchema.safeParse(record);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message })) };
  }
  return migratedFrom === undefined ? { ok: true, value: parsed.data } : { ok: true, value: parsed.data, migratedFrom };
}

/**
 * Validates a parsed JSON value (or a JSON string) as a trajectory, migrating older versions. Throws a
 * {@link TrajectoryValidationError} listing every problem with its JSON path; a record from a newer
 * version of the product gets a message saying so.
 */
export function parseTrajectory(json: unknown): Trajectory {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json) as unknown;
    } catch (err) {
      throw new TrajectoryValidationError([{ path: '$', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  const result = safeParseTrajectory(value);
  if (!result.ok) throw new TrajectoryValidationError(result.issues);
  return result.value;
}

// ---------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------

export interface NewTrajectoryInit {
  task: Task;
  origin: Origin;
  /** Defaults to a random UUID. */
  id?: string;
  steps?: Step[];
  /** Defaults to now. */
  createdAt?: string;
}

/** A fresh, unreviewed trajectory with no steps (or the given ones). */
export function newTrajectory(init: NewTrajectoryInit): Trajectory {
  return {
    schema: TRAJECTORY_SCHEMA_VERSION,
    id: init.id ?? randomUUID(),
    createdAt: init.createdAt ?? new Date().toISOString(),
    task: init.task,
    origin: init.origin,
    steps: init.steps ?? [],
    review: { status: 'unreviewed', reasonTags: [] },
    revisions: [],
  };
}

/** Builds a step's observation from a sandbox outcome (a copy, so later mutation of either is safe). */
export function observationFromOutcome(outcome: ExecOutcome, text?: string): Observation {
  const observation: Observation = {
    printOutput: outcome.printOutput,
    printedChars: outcome.printedChars,
    lastValue: outcome.lastValue,
    webSearchCalls: outcome.webSearchCalls.map((c) => ({
      query: c.query,
      passages: c.passages.map((p) => ({ id: p.id, title: p.title, text: p.text, score: p.score })),
      ...(c.error !== undefined ? { error: c.error } : {}),
    })),
    durationMs: outcome.durationMs,
  };
  if (outcome.error) observation.error = { ...outcome.error };
  if (outcome.finalAnswer !== undefined) observation.finalAnswer = outcome.finalAnswer;
  if (outcome.stderrOutput) observation.stderr = outcome.stderrOutput;
  if (text !== undefined) observation.text = text;
  return observation;
}
