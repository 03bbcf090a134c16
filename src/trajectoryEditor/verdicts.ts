import { type AnswerToScore, type AnswerVerdict, judgementFromVerdicts, type VerdictsByProfile } from '../scoring/answerScorer';
import { compatibilityOfTrajectory } from '../trajectory/compatibility';
import { judgeFactualOffline } from '../scoring/factualMatch';
import { filterDecisionOf } from '../teacher/trajectoryFilter';
import { type Judgement, type Revision, type Trajectory } from '../trajectory/schema';

/**
 * Verdicts that follow the data: after an edit, a re-execution or a continuation changes what answer the
 * steps produce, the trajectory is judged again with the scorer its run used, so the editor never shows
 * (and a save never keeps) a verdict the steps no longer support. Where that scorer needs a model (a
 * factual answer judged by the judge model) and none is configured, the record is marked "needs judging"
 * instead of keeping the old verdict. No `vscode`: the host supplies the scorer.
 */

/** The scoring methods the pipeline uses (src/scoring/answerScorer.ts). */
export type ScoringMethod = 'math-equivalence' | 'llm-judge' | 'exact-match';

/**
 * Scores one answer with a given method. Resolves `undefined` when the method needs a model that is not
 * available here (no judge endpoint configured), so the caller can say so instead of guessing.
 */
/** Both profiles' verdicts on an answer with the given method; undefined when the method needs a model that is not configured. */
export type TrajectoryScorer = (input: AnswerToScore, method: ScoringMethod, signal?: AbortSignal) => Promise<VerdictsByProfile | undefined>;

/** What the list and the header show about a record's correctness. */
export type VerdictState = 'correct' | 'incorrect' | 'unjudged' | 'needs-judging';

/** Kept in `meta` (free-form) because a judgement must say correct or not, and this one cannot yet. */
const needsJudgingKey = 'needsJudging';

interface NeedsJudging {
  method: ScoringMethod;
  reason: string;
}

/** Why the record is waiting for a judge, when it is. */
export function needsJudgingOf(t: Trajectory): NeedsJudging | undefined {
  const value = t.meta?.[needsJudgingKey];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { method, reason } = value as { method?: unknown; reason?: unknown };
  if (method !== 'math-equivalence' && method !== 'llm-judge' && method !== 'exact-match') return undefined;
  return { method, reason: typeof reason === 'string' ? reason : 'the answer changed and has not been judged again' };
}

export function verdictStateOf(t: Trajectory): VerdictState {
  if (t.judgement) return t.judgement.correct ? 'correct' : 'incorrect';
  return needsJudgingOf(t) ? 'needs-judging' : 'unjudged';
}

/**
 * The answer the recorded steps end with: the value of the first `final_answer` call (the agent loop stops
 * there), or undefined when no step's observation holds one.
 */
export function answerFromSteps(t: Trajectory, from = 0): string | undefined {
  for (let i = from; i < t.steps.length; i++) {
    const answer = t.steps[i].observation?.finalAnswer;
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/**
 * The scoring method the run used for this record: the method of its last judgement when it is one of the
 * pipeline's, else the domain's default (math: equivalence; factual: the judge model when one is
 * configured, exact match otherwise — what a generation run with the same settings would have used).
 */
export function scoringMethodFor(t: Trajectory, previous: Judgement | undefined, judgeAvailable: boolean): ScoringMethod {
  const m = previous?.method ?? needsJudgingOf(t)?.method;
  if (m === 'math-equivalence' || m === 'llm-judge' || m === 'exact-match') {
    // A record's domain decides the method family; a stale method from another domain does not carry over.
    if ((m === 'math-equivalence') === (t.task.domain === 'math')) return m;
  }
  if (t.task.domain === 'math') return 'math-equivalence';
  return judgeAvailable ? 'llm-judge' : 'exact-match';
}

/** The inputs a verdict rests on; when they change, the verdict must be made again. */
function verdictBasis(t: Trajectory): string {
  return JSON.stringify([t.finalAnswer ?? null, t.task.goldAnswer ?? null, t.task.domain, t.task.question]);
}

/** True when `after`'s verdict no longer rests on what `before`'s did, or an answer waits to be judged. */
export function needsRejudging(before: Trajectory, after: Trajectory): boolean {
  if (verdictBasis(before) !== verdictBasis(after)) return true;
  // A continuation drops the judgement with the steps; the answer it ends with must be judged.
  const judgeable = after.finalAnswer !== undefined && after.task.goldAnswer !== undefined;
  return judgeable && !after.judgement && !needsJudgingOf(after) && (before.judgement !== undefined || before.finalAnswer !== after.finalAnswer);
}

function describeVerdict(t: Trajectory): string {
  if (t.finalAnswer === undefined) return 'no answer';
  const state = verdictStateOf(t);
  return state === 'unjudged' ? 'not judged' : state === 'needs-judging' ? 'needs judging' : state;
}

export interface RejudgeOptions {
  scorer: TrajectoryScorer;
  /** True when a judge model is configured (decides the factual method of a record that never had one). */
  judgeAvailable: boolean;
  signal?: AbortSignal;
  now?: () => Date;
}

function withoutNeedsJudging(meta: Trajectory['meta']): Trajectory['meta'] {
  if (!meta || !(needsJudgingKey in meta)) return meta;
  const { [needsJudgingKey]: _dropped, ...rest } = meta;
  return Object.keys(rest).length ? rest : undefined;
}

/**
 * `after` with a verdict that follows its answer: judged again with the run's scorer when the answer (or
 * the gold) changed since `before`, marked "needs judging" when that scorer needs a model that is not
 * available, and with no verdict when the steps end without an answer. The change of verdict is recorded
 * in the revision history. Returns `after` itself when nothing had to be judged.
 */
export async function rejudgeTrajectory(before: Trajectory, after: Trajectory, options: RejudgeOptions): Promise<Trajectory> {
  if (!needsRejudging(before, after)) return after;
  const now = options.now ?? (() => new Date());
  const next: Trajectory = { ...after };
  delete next.judgement;
  const meta = withoutNeedsJudging(after.meta);
  if (meta) next.meta = meta;
  else delete next.meta;
  const gold = after.task.goldAnswer;
  if (after.finalAnswer !== undefined && gold !== undefined) {
    const method = scoringMethodFor(after, before.judgement ?? after.judgement, options.judgeAvailable);
    const input: AnswerToScore = { domain: after.task.domain, prediction: after.finalAnswer, gold, question: after.task.question };
    let verdicts: VerdictsByProfile | undefined;
    let unavailable = 'no judge model is configured (trajectoryStudio.endpoints.judge.baseUrls)';
    try {
      verdicts = await options.scorer(input, method, options.signal);
    } catch (err) {
      options.signal?.throwIfAborted();
      unavailable = `the scorer failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!verdicts && method === 'llm-judge') {
      // An answer equal to the gold (after normalisation) is correct under any judge; only a mismatch needs the model.
      const offline = judgeFactualOffline(input.prediction, gold);
      if (offline.correct) {
        const verdict: AnswerVerdict = { domain: 'factual', correct: true, method: 'exact-match', rule: offline.rule, detail: `${offline.detail} (the judge model was not needed)`, score: offline.f1, predAnswer: offline.predAnswer, goldAnswer: offline.goldAnswer };
        verdicts = { studio: verdict, reference: verdict };
      }
    }
    // Both profiles' verdicts, as generation and evaluation store them; the trajectory's own profile counts.
    if (verdicts) next.judgement = judgementFromVerdicts(verdicts, compatibilityOfTrajectory(after), now());
    else next.meta = { ...(next.meta ?? {}), [needsJudgingKey]: { method, reason: `the answer changed and needs the ${method === 'llm-judge' ? 'judge model' : 'scorer'}: ${unavailable}` } };
  }
  const revision: Revision = { at: now().toISOString(), what: 'judgement', before: describeVerdict(before), after: describeVerdict(next) };
  next.revisions = [...after.revisions, revision];
  return next;
}

/** The generation filter's decision as the editor shows it: distinct words from a person's review. */
export interface FilterVerdictView {
  passed: boolean;
  /** `passed the filter` or `dropped by the filter: <reason>`. */
  text: string;
  reason: string;
}

export function filterVerdictView(t: Trajectory): FilterVerdictView | undefined {
  const d = filterDecisionOf(t);
  if (!d) return undefined;
  return d.accepted ? { passed: true, text: 'passed the filter', reason: d.reason } : { passed: false, text: `dropped by the filter: ${d.reason}`, reason: d.reason };
}

/** One sentence on the answer and its verdict after a run, for the run bar. */
export function answerSentence(t: Trajectory): string {
  if (t.finalAnswer === undefined) return 'The steps end without a final answer now, so there is no verdict.';
  const state = verdictStateOf(t);
  const verdict = state === 'needs-judging' ? 'needs judging' : state === 'unjudged' ? 'not judged (no gold answer)' : state;
  return `Final answer ${JSON.stringify(t.finalAnswer)}: ${verdict}.`;
}
