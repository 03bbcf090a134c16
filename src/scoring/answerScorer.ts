import { type Compatibility } from '../trajectory/compatibility';
import { type Judgement, type ProfileVerdict, type TaskDomain } from '../trajectory/schema';
import { judgeFactualOffline, type FactualVerdict } from './factualMatch';
import { type JudgePrompt } from './judgePrompt';
import { judgeFactualWithModel, type JudgeModel } from './llmJudge';
import { judgeMathAnswer, type MathVerdict } from './mathEquivalence';
import { judgeMathAnswerReference, type ReferenceMathVerdict } from './referenceMath';
import { MemoizedSymbolicEquality, type SymbolicEquality } from './sympyChecker';

/** One scored answer, whichever domain. `rule` names what decided; `method` is the scoring method family. */
export interface AnswerVerdict {
  domain: TaskDomain;
  correct: boolean;
  /** `math-equivalence`, `llm-judge` or `exact-match` (offline factual; F1 is reported beside it). */
  method: 'math-equivalence' | 'llm-judge' | 'exact-match';
  rule: string;
  detail: string;
  /** Token F1 for factual answers. */
  score?: number;
  predAnswer: string;
  goldAnswer: string;
  /** Set when no verdict could be reached (e.g. the judge's reply could not be read); the answer then counts as wrong. */
  error?: string;
}

/** What the scorer uses: a symbolic checker for math, and a judge model for factual answers (offline without one). */
export interface AnswerScorerOptions {
  symbolic?: SymbolicEquality;
  judge?: JudgeModel;
  /** A user's judge prompt per profile (`trajectoryStudio.scoring.judgePrompt`, `--judge-prompt`); absent: the profile's built-in prompt. */
  judgePrompts?: Partial<Record<Compatibility, JudgePrompt>>;
  /** Offline factual scoring: accept F1 at or above this value as correct. Default: exact match only. */
  f1Threshold?: number;
}

export interface AnswerToScore {
  domain: TaskDomain;
  prediction: string;
  gold: string | readonly string[];
  /** The question; the judge model needs it. */
  question?: string;
}

function fromMath(v: MathVerdict): AnswerVerdict {
  return { domain: 'math', correct: v.correct, method: 'math-equivalence', rule: v.rule, detail: v.detail, predAnswer: v.predAnswer, goldAnswer: v.goldAnswer };
}

function fromReferenceMath(v: ReferenceMathVerdict): AnswerVerdict {
  return { domain: 'math', correct: v.correct, method: 'math-equivalence', rule: v.rule, detail: v.detail, predAnswer: v.predAnswer, goldAnswer: v.goldAnswer };
}

function fromFactual(v: FactualVerdict, judged: boolean): AnswerVerdict {
  return {
    domain: 'factual',
    correct: v.correct,
    method: judged ? 'llm-judge' : 'exact-match',
    rule: v.rule,
    detail: v.detail,
    score: v.f1,
    predAnswer: v.predAnswer,
    goldAnswer: v.goldAnswer,
    ...(v.error !== undefined ? { error: v.error } : {}),
  };
}

function firstGold(gold: string | readonly string[]): string {
  return typeof gold === 'string' ? gold : gold[0] ?? '';
}

/** Scores one answer with the method its domain calls for (METHOD §6). */
export async function scoreAnswer(input: AnswerToScore, options: AnswerScorerOptions = {}, signal?: AbortSignal): Promise<AnswerVerdict> {
  if (input.domain === 'math') {
    const gold = firstGold(input.gold);
    return fromMath(await judgeMathAnswer(input.prediction, gold, { symbolic: options.symbolic, signal }));
  }
  if (options.judge) {
    return fromFactual(await judgeFactualWithModel(options.judge, input.question ?? '', input.prediction, input.gold, { signal, prompt: options.judgePrompts?.studio }), true);
  }
  return fromFactual(judgeFactualOffline(input.prediction, input.gold, { f1Threshold: options.f1Threshold }), false);
}

/** The verdict as a trajectory's `judgement` field. */
export function judgementFromVerdict(v: AnswerVerdict, at: Date = new Date()): Judgement {
  return {
    correct: v.correct,
    method: v.method,
    detail: `${v.rule}: ${v.detail}`,
    ...(v.score !== undefined ? { score: v.score } : {}),
    at: at.toISOString(),
  };
}

/** The verdicts of both compatibility profiles' scorers on one answer (docs/COMPATIBILITY.md). */
export type VerdictsByProfile = Record<Compatibility, AnswerVerdict>;

/**
 * Scores one answer under both profiles: the reference-compatible scorer (the paper's way) and the studio's
 * corrected one. Every run stores both, so the paper's accuracy and the corrected one are always side by side.
 */
export async function scoreAnswerByProfile(input: AnswerToScore, options: AnswerScorerOptions = {}, signal?: AbortSignal): Promise<VerdictsByProfile> {
  // Both scorers often put the same symbolic question (same prediction, a gold that needs no
  // normalising): one sympy call answers both.
  const shared = { ...options, symbolic: options.symbolic ? new MemoizedSymbolicEquality(options.symbolic) : undefined };
  const studio = await scoreAnswer(input, shared, signal);
  const reference = await scoreAnswerReference(input, shared, signal);
  return { studio, reference };
}

/**
 * Scores one answer as the reference does (docs/COMPATIBILITY.md): math with the reference's grader
 * (`referenceMath.ts`); factual answers with the judge in the reference's request/reply format, or, with no
 * judge configured, exact match with a rule (`no-judge-…`) that says the judge was missing.
 */
export async function scoreAnswerReference(input: AnswerToScore, options: AnswerScorerOptions = {}, signal?: AbortSignal): Promise<AnswerVerdict> {
  if (input.domain === 'math') {
    return fromReferenceMath(await judgeMathAnswerReference(input.prediction, firstGold(input.gold), { symbolic: options.symbolic, signal }));
  }
  if (options.judge) {
    return fromFactual(await judgeFactualWithModel(options.judge, input.question ?? '', input.prediction, input.gold, { signal, profile: 'reference', prompt: options.judgePrompts?.reference }), true);
  }
  const exact = judgeFactualOffline(input.prediction, input.gold);
  return {
    ...fromFactual(exact, false),
    rule: `no-judge-${exact.rule}`,
    detail: `no judge model is configured, so exact match stands in for the reference's judge: ${exact.detail}`,
  };
}

function profileVerdict(v: AnswerVerdict): ProfileVerdict {
  return {
    correct: v.correct,
    method: v.method,
    rule: v.rule,
    ...(v.detail ? { detail: v.detail } : {}),
    ...(v.error !== undefined ? { error: v.error } : {}),
  };
}

/** Both verdicts as a trajectory's `judgement`; `correct` is the verdict of the run's `profile`. */
export function judgementFromVerdicts(verdicts: VerdictsByProfile, profile: Compatibility, at: Date = new Date()): Judgement {
  return {
    ...judgementFromVerdict(verdicts[profile], at),
    profile,
    byProfile: { studio: profileVerdict(verdicts.studio), reference: profileVerdict(verdicts.reference) },
  };
}
