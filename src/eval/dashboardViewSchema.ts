import { z } from 'zod';

/**
 * What the evaluation dashboard shows: a run's benchmarks and questions, the comparison of two runs, a
 * trajectory shortened for the side-by-side view. `dashboardViews.ts` and the dashboard's glue build them and
 * `src/protocol/evalDashboard.ts` sends them to the page; the shapes are the core's, the protocol re-exports
 * them. Only zod here: the webview bundle compiles this file through the protocol.
 */

const interval = z.object({ low: z.number(), high: z.number() });

/** The compatibility profiles (docs/COMPATIBILITY.md): `reference` is the paper's scoring, `studio` the corrected one. */
export const profileSchema = z.enum(['studio', 'reference']);
export type Profile = z.infer<typeof profileSchema>;

const profileAccuracySchema = z.object({ correct: z.number(), accuracy: z.number(), interval });

/** One profile's verdict on an answer, and the rule that decided. */
export const profileVerdictSchema = z.object({ correct: z.boolean(), method: z.string(), rule: z.string(), detail: z.string().optional(), error: z.string().optional() });
export type ProfileVerdictRow = z.infer<typeof profileVerdictSchema>;

/** A question the two profiles' scorers judged differently. */
export const disagreementSchema = z.object({
  benchmark: z.string(),
  domain: z.enum(['math', 'factual']),
  taskId: z.string(),
  question: z.string(),
  prediction: z.string().optional(),
  gold: z.string().optional(),
  studio: profileVerdictSchema,
  reference: profileVerdictSchema,
  file: z.string(),
  slot: z.number(),
  focusStep: z.number(),
  id: z.string(),
});
export type DisagreementRow = z.infer<typeof disagreementSchema>;

export const errorRatesSchema = z.object({
  actions: z.number(),
  parseErrors: z.number(),
  execErrors: z.number(),
  parseRate: z.number(),
  execRate: z.number(),
});

export const benchmarkRowSchema = z.object({
  name: z.string(),
  domain: z.enum(['math', 'factual']).optional(),
  questions: z.number(),
  correct: z.number(),
  accuracy: z.number(),
  interval,
  /** Accuracy under each profile; `accuracy` is the run's own profile's. */
  byProfile: z.object({ studio: profileAccuracySchema, reference: profileAccuracySchema }),
  disagreements: z.number(),
  /** Records with one verdict only: it counts for both profiles. */
  withoutBothVerdicts: z.number(),
  runErrors: z.number(),
  fallbackAnswers: z.number(),
  meanSteps: z.number(),
  meanRetrievalCalls: z.number(),
  meanCompletionTokens: z.number(),
  completionTokens: z.number(),
  promptTokens: z.number(),
  meanCandidates: z.number(),
  candidates: z.number(),
  meanModelCalls: z.number(),
  modelCalls: z.number(),
  meanWallMs: z.number(),
  sampled: errorRatesSchema,
  chosen: errorRatesSchema,
  voteAgreement: z.number().optional(),
  noValidCandidateSteps: z.number(),
});
export type BenchmarkRow = z.infer<typeof benchmarkRowSchema>;

export const questionRowSchema = z.object({
  benchmark: z.string(),
  domain: z.enum(['math', 'factual']),
  taskId: z.string(),
  question: z.string(),
  goldAnswer: z.string().optional(),
  finalAnswer: z.string().optional(),
  correct: z.boolean(),
  verdict: z.string(),
  correctByProfile: z.object({ studio: z.boolean(), reference: z.boolean() }),
  singleVerdict: z.boolean(),
  runError: z.string().optional(),
  steps: z.number(),
  focusStep: z.number(),
  hasFailingStep: z.boolean(),
  fromFallback: z.boolean(),
  retrievalCalls: z.number(),
  completionTokens: z.number(),
  candidates: z.number(),
  modelCalls: z.number(),
  wallMs: z.number(),
  file: z.string(),
  slot: z.number(),
  id: z.string(),
});
export type QuestionRow = z.infer<typeof questionRowSchema>;

/** What a run sampled per question, over every benchmark. */
const samplingCostSchema = z.object({ questions: z.number(), candidatesPerQuestion: z.number(), tokensPerQuestion: z.number(), modelCallsPerQuestion: z.number() });

export const runViewSchema = z.object({
  runFolder: z.string(),
  label: z.string(),
  /** e.g. `SAG ×8 (isolated)` or `greedy`. */
  mode: z.string(),
  model: z.string(),
  /** `finished`, `cancelled`, `running`, `not finished`. */
  status: z.string(),
  startedAt: z.string().optional(),
  wallMs: z.number(),
  benchmarks: z.array(benchmarkRowSchema),
  averageAccuracy: z.number(),
  /** The run's own compatibility profile (whose verdicts `accuracy` is). */
  profile: profileSchema,
  averageAccuracyByProfile: z.object({ studio: z.number(), reference: z.number() }),
  withoutBothVerdicts: z.number(),
  /** Every question the two profiles judged differently. */
  disagreements: z.array(disagreementSchema),
  pooled: z.object({ questions: z.number(), correct: z.number(), accuracy: z.number(), interval }),
  sampled: errorRatesSchema,
  chosen: errorRatesSchema,
  voteAgreement: z.number().optional(),
  sampling: samplingCostSchema,
  pending: z.number(),
  questions: z.array(questionRowSchema),
  /** Lines of the trajectory files that are not valid trajectories. */
  problems: z.array(z.string()),
  /** The trained adapter the student was, and the data snapshot (`sha256:`) and training run behind it, when known. */
  adapter: z.object({ path: z.string(), dataSnapshot: z.string().optional(), trainingRun: z.string().optional() }).optional(),
});
export type RunView = z.infer<typeof runViewSchema>;

export const runListEntrySchema = z.object({ runFolder: z.string(), label: z.string(), detail: z.string() });
export type RunListEntry = z.infer<typeof runListEntrySchema>;

export const flippedSchema = z.object({ benchmark: z.string(), taskId: z.string(), question: z.string(), a: questionRowSchema, b: questionRowSchema });
export type FlippedRow = z.infer<typeof flippedSchema>;

const pairedDeltaSchema = z.object({ questions: z.number(), delta: z.number(), interval });
const profileDeltaSchema = z.object({ a: z.number().optional(), b: z.number().optional(), delta: z.number().optional() });
const byProfileDeltaSchema = z.object({ studio: profileDeltaSchema, reference: profileDeltaSchema });

export const comparisonViewSchema = z.object({
  a: z.object({ runFolder: z.string(), label: z.string(), mode: z.string() }),
  b: z.object({ runFolder: z.string(), label: z.string(), mode: z.string() }),
  benchmarks: z.array(
    z.object({
      name: z.string(),
      a: benchmarkRowSchema.optional(),
      b: benchmarkRowSchema.optional(),
      accuracyDelta: z.number().optional(),
      chosenParseRateDelta: z.number().optional(),
      chosenExecRateDelta: z.number().optional(),
      pairedDelta: pairedDeltaSchema.optional(),
      candidateSaving: z.number().optional(),
      tokenSaving: z.number().optional(),
      byProfile: byProfileDeltaSchema,
    }),
  ),
  averageAccuracy: z.object({ a: z.number(), b: z.number(), delta: z.number() }),
  profiles: z.object({ a: profileSchema, b: profileSchema }),
  averageAccuracyByProfile: byProfileDeltaSchema,
  disagreements: z.object({ a: z.array(disagreementSchema), b: z.array(disagreementSchema) }),
  /** B − A over every question both runs answered, with its 95 % interval. */
  pairedDelta: pairedDeltaSchema.optional(),
  /** What each run sampled per question, and B's saving against A. */
  sampling: z.object({ a: samplingCostSchema, b: samplingCostSchema, candidateSaving: z.number().optional(), tokenSaving: z.number().optional() }),
  fixed: z.array(flippedSchema),
  broken: z.array(flippedSchema),
  paired: z.number(),
  unchanged: z.number(),
});
export type ComparisonView = z.infer<typeof comparisonViewSchema>;

/** One step, shortened for the side-by-side view. */
export const compactStepSchema = z.object({
  thought: z.string(),
  code: z.string(),
  observation: z.string(),
  error: z.string().optional(),
  candidates: z.number().optional(),
  validCandidates: z.number().optional(),
  winner: z.number().optional(),
});
export const trajectoryPaneSchema = z.object({
  title: z.string(),
  finalAnswer: z.string().optional(),
  correct: z.boolean().optional(),
  verdict: z.string().optional(),
  steps: z.array(compactStepSchema),
});
export type TrajectoryPane = z.infer<typeof trajectoryPaneSchema>;
