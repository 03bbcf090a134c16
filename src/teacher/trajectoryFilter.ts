import { z } from 'zod';
import { compatibilitySchema, type Compatibility } from '../trajectory/compatibility';
import { type Step, type Trajectory } from '../trajectory/schema';
import { MISSING_CODE_BLOCK_TYPE } from '../trajectory/stepErrors';

/**
 * The teacher filter of METHOD §6: keep correct trajectories, drop those where a model output had no parsable
 * code block, keep errors raised by the code, Python `SyntaxError`s included (they teach recovery). Every
 * trajectory is written with the decision and its reason in `meta.teacherFilter`, so annotators see what was
 * filtered and why; exporters take the accepted ones.
 *
 * Two kinds of "parse" error are told apart (both have `error.kind === 'parse'`): a reply with no code block
 * to run (`type: 'CodeBlockMissing'`, the reference's "Error in code parsing") and code that Python could not
 * compile (`SyntaxError`, `IndentationError`, ...). Only the first is what the reference drops.
 */

export const teacherVerdictSchema = z.enum(['correct', 'wrong-answer', 'no-answer', 'unscored', 'parse-error', 'execution-error', 'run-error']);
/**
 * Why a trajectory was kept or dropped. `run-error`: the run itself failed (server, sandbox); the question can
 * be retried. `unscored`: the question has no gold answer, so correctness is unknown (left for review).
 */
export type TeacherVerdict = z.infer<typeof teacherVerdictSchema>;

export const filterDecisionSchema = z.object({
  verdict: teacherVerdictSchema,
  accepted: z.boolean(),
  reason: z.string(),
});
/** Stored as `meta.teacherFilter` of each generated trajectory. */
export type FilterDecision = z.infer<typeof filterDecisionSchema>;

export const filterSettingsSchema = z.object({
  /**
   * Which profile's rules the unset options below follow (docs/COMPATIBILITY.md); absent: `studio`. Both
   * profiles drop missing code blocks and keep syntax and execution errors (the reference's rule); explicit
   * options below override the profile.
   */
  compatibility: compatibilitySchema.optional(),
  /** Drop trajectories with a step whose reply had no parsable code block (METHOD: yes). */
  dropParseErrors: z.boolean().default(true),
  /** Drop trajectories with a step whose code raised (METHOD: no, they teach recovery). */
  dropExecutionErrors: z.boolean().default(false),
  /**
   * Drop trajectories with a step whose code Python could not compile (a `SyntaxError`). Unset: keep them, as
   * the reference does and as both profiles do (the model read the error and recovered, which is worth learning).
   */
  dropSyntaxErrors: z.boolean().optional(),
});
export type FilterSettings = z.infer<typeof filterSettingsSchema>;

export const defaultFilterSettings: FilterSettings = { dropParseErrors: true, dropExecutionErrors: false };

export { MISSING_CODE_BLOCK_TYPE };

/** The step's reply had no parsable code block: nothing was run (the reference's "Error in code parsing"). */
export function isMissingCodeBlock(step: Step): boolean {
  const error = step.observation?.error;
  return error?.kind === 'parse' && error.type === MISSING_CODE_BLOCK_TYPE;
}

/** The step's code was found but Python could not compile it (`SyntaxError` and its subclasses). */
export function isSyntaxError(step: Step): boolean {
  const error = step.observation?.error;
  return error?.kind === 'parse' && error.type !== MISSING_CODE_BLOCK_TYPE;
}

/** The options with the profile's defaults filled in. */
export function effectiveFilterSettings(settings: FilterSettings): Required<Omit<FilterSettings, 'compatibility'>> & { compatibility: Compatibility } {
  return {
    compatibility: settings.compatibility ?? 'studio',
    dropParseErrors: settings.dropParseErrors,
    dropExecutionErrors: settings.dropExecutionErrors,
    dropSyntaxErrors: settings.dropSyntaxErrors ?? false,
  };
}

/** Decides whether a scored trajectory is kept. `runError` is the failure message when the run itself failed. */
export function decideTeacherFilter(t: Trajectory, settings: FilterSettings, runError?: string): FilterDecision {
  if (runError !== undefined) return { verdict: 'run-error', accepted: false, reason: runError };
  const rules = effectiveFilterSettings(settings);
  const stepsWhere = (test: (s: Step) => boolean): number[] => t.steps.flatMap((s, i) => (test(s) ? [i + 1] : []));
  const parseSteps = stepsWhere(isMissingCodeBlock);
  const syntaxSteps = stepsWhere(isSyntaxError);
  const execSteps = stepsWhere((s) => s.observation?.error !== undefined && s.observation.error.kind !== 'parse');
  const parseNote = parseSteps.length ? `; no code block in step ${parseSteps.join(', ')}` : '';
  if (t.finalAnswer === undefined || t.finalAnswer.trim() === '') {
    return { verdict: 'no-answer', accepted: false, reason: `the episode ended without an answer${parseNote}` };
  }
  if (!t.judgement) return { verdict: 'unscored', accepted: false, reason: 'the question has no gold answer, so the answer was not scored; review it by hand' };
  if (!t.judgement.correct) {
    return { verdict: 'wrong-answer', accepted: false, reason: `${t.judgement.detail ?? 'the answer does not match the gold answer'}${parseNote}` };
  }
  if (rules.dropParseErrors && parseSteps.length) {
    return { verdict: 'parse-error', accepted: false, reason: `correct answer, but the reply had no code block in step ${parseSteps.join(', ')}` };
  }
  if (rules.dropSyntaxErrors && syntaxSteps.length) {
    return { verdict: 'parse-error', accepted: false, reason: `correct answer, but the code had a syntax error in step ${syntaxSteps.join(', ')}` };
  }
  if (rules.dropExecutionErrors && execSteps.length) {
    return { verdict: 'execution-error', accepted: false, reason: `correct answer, but the code raised in step ${execSteps.join(', ')}` };
  }
  const errorSteps = [...new Set([...syntaxSteps, ...execSteps, ...(rules.dropParseErrors ? [] : parseSteps)])].sort((a, b) => a - b);
  const recovered = errorSteps.length ? ` (recovered from an error in step ${errorSteps.join(', ')})` : '';
  return { verdict: 'correct', accepted: true, reason: `correct answer${recovered}` };
}

/** The decision stored in a trajectory, or undefined when it has none (or an unreadable one). */
export function filterDecisionOf(t: Trajectory): FilterDecision | undefined {
  const parsed = filterDecisionSchema.safeParse(t.meta?.teacherFilter);
  return parsed.success ? parsed.data : undefined;
}
