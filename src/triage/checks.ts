import { extractLastBoxed } from '../scoring/boxedAnswer';
import { latexToSympy } from '../scoring/latexToSympy';
import { normalizeMathAnswer } from '../scoring/mathNormalize';
import { type Observation, type Step, type Trajectory } from '../trajectory/schema';
import { around, contentWords, finalAnswerArgument, literalValue, numbersIn, numericValue, ObservedNumbers, wordsOf } from './answerText';
import { evidenceChars, type TriageFlag, type TriageRuleId, triageRuleInfo } from './flags';
import { rubricFlagsOf } from './rubricJudge';

/**
 * The deterministic triage rules over one trajectory (see `flags.ts` for what each looks for). Pure and
 * cheap: no model, no tokenizer unless the caller passes a token counter for `over-length`. The file-level
 * rule (`near-duplicate`) is in `nearDuplicates.ts`.
 */

export interface TriageOptions {
  /**
   * Tokens of the trajectory's training text; the `over-length` rule runs only when this is given. It may
   * return an upper bound instead when that bound is within `maxLength` (see `trainingTokens.ts`).
   */
  countTrainingTokens?: (t: Trajectory) => number;
  /** The export's max length in tokens (default 10,240, the method's agent setting). */
  maxLength?: number;
  /** A SAG step whose winning group holds at most this share of the candidates is flagged (default 0.5). */
  lowAgreement?: number;
  /** Math answers must be in `\boxed{}` (default true: the task instruction asks for it). */
  requireBoxed?: boolean;
}

export const defaultTriageMaxLength = 10_240;

function flag(rule: TriageRuleId, message: string, step?: number, evidence?: string): TriageFlag {
  const info = triageRuleInfo(rule);
  if (!info) throw new Error(`unknown triage rule ${rule}`);
  const f: TriageFlag = { rule, severity: info.severity, message };
  if (step !== undefined) f.step = step;
  if (evidence !== undefined && evidence !== '') f.evidence = evidence.length > evidenceChars ? `${evidence.slice(0, evidenceChars - 1)}…` : evidence;
  return f;
}

/** Everything the model was shown after running a step: printed output, last value, error, passages. */
function observedTexts(o: Observation | undefined): string[] {
  if (!o) return [];
  const texts = [o.printOutput, o.lastValue];
  if (o.text !== undefined) texts.push(o.text);
  if (o.error) texts.push(o.error.message);
  if (o.finalAnswer !== undefined) texts.push(o.finalAnswer);
  for (const c of o.webSearchCalls) for (const p of c.passages) texts.push(p.title, p.text);
  return texts;
}

/** The step that called `final_answer`, or undefined (no answer, or the answer came from the fallback call). */
function finalStepOf(t: Trajectory): number | undefined {
  if (t.fromFallback === true) return undefined;
  for (let i = t.steps.length - 1; i >= 0; i--) if (t.steps[i].observation?.finalAnswer !== undefined) return i;
  return undefined;
}

function searchQueriesOf(step: Step): string[] {
  const recorded = step.observation?.webSearchCalls.map((c) => c.query) ?? [];
  if (recorded.length) return recorded;
  // Imported records may keep only the code: read the literal queries from it.
  return [...step.code.matchAll(/\bweb_search\s*\(\s*(?:query\s*=\s*)?(["'])((?:\\.|(?!\1).)*)\1/g)].map((m) => m[2]);
}

function searched(t: Trajectory): boolean {
  return t.steps.some((s) => (s.observation?.webSearchCalls.length ?? 0) > 0 || /\bweb_search\s*\(/.test(s.code));
}

const yesNo = new Set(['yes', 'no', 'true', 'false']);

function checkGrounding(t: Trajectory, finalStep: number | undefined, flags: TriageFlag[]): void {
  if (t.task.domain !== 'factual' || t.finalAnswer === undefined || t.finalAnswer.trim() === '') return;
  if (!searched(t)) {
    const ftp = t.origin.firstThoughtPrefix !== undefined ? ' (a first-thought prefix was used, which invites answering from memory)' : '';
    flags.push(flag('no-search', `Answered a factual question without any web_search call${ftp}`, finalStep, t.finalAnswer));
    return;
  }
  const answerWords = contentWords(extractLastBoxed(t.finalAnswer) ?? t.finalAnswer);
  // A yes/no answer to a comparison question is never written in a passage.
  if (answerWords.length === 0 || (answerWords.length === 1 && yesNo.has(answerWords[0]))) return;
  // What the model could have read before it answered: the answering step's own output came too late.
  // One normalised string searched word by word is much cheaper than a set of every word on big files.
  const upTo = finalStep ?? t.steps.length;
  const texts: string[] = [];
  for (let i = 0; i < upTo; i++) texts.push(...observedTexts(t.steps[i].observation));
  const seen = ` ${wordsOf(texts.join(' ')).join(' ')} `;
  const has = (w: string): boolean => seen.includes(` ${w} `);
  const found = answerWords.filter(has).length;
  if (found / answerWords.length < 0.75) {
    const missing = answerWords.filter((w) => !has(w));
    flags.push(flag('ungrounded-answer', `The answer “${t.finalAnswer}” is in no passage or output read before it (missing: ${missing.join(', ')})`, finalStep, t.finalAnswer));
  }
}

/** A math answer in a form that can be looked for in printed output: LaTeX compacted, and as sympy writes it. */
function answerForms(answer: string): string[] {
  const inner = (extractLastBoxed(answer) ?? answer).trim();
  const compact = (s: string): string => s.replace(/\s+/g, '').replace(/\\left|\\right/g, '').replace(/\\[dt]frac/g, '\\frac').replace(/^\$+|\$+$/g, '');
  const forms = new Set([compact(inner), compact(normalizeMathAnswer(inner))]);
  const sympy = latexToSympy(inner);
  if (sympy !== undefined) forms.add(compact(sympy).replace(/\*\*/g, '^'));
  forms.delete('');
  return [...forms];
}

function checkComputed(t: Trajectory, finalStep: number | undefined, flags: TriageFlag[]): void {
  if (t.task.domain === 'factual' || finalStep === undefined) return;
  const argument = finalAnswerArgument(t.steps[finalStep].code);
  if (argument === undefined) return;
  const literal = literalValue(argument);
  if (literal === undefined || literal.trim() === '') return;
  const earlier = t.steps.slice(0, finalStep).flatMap((s) => observedTexts(s.observation));
  const observed = new ObservedNumbers();
  for (const text of earlier) observed.addText(text);
  const value = numericValue(literal);
  if (value !== undefined) {
    const written = numbersIn(literal)[0];
    const decimals = /^[-+]?\d+(\.\d+)?$/.test(literal.trim()) && written ? written.decimals : 6;
    if (observed.has({ value, decimals })) return;
  } else {
    // A symbolic answer retyped in LaTeX from sympy's output (`11\sqrt{2}` from `11*sqrt(2)`): every number
    // in it was shown, or the expression itself was.
    const numbers = numbersIn(literal);
    if (numbers.length > 0 && numbers.every((n) => observed.has(n))) return;
    const haystack = earlier.join('\n').replace(/\s+/g, '').replace(/\*\*/g, '^');
    if (answerForms(literal).some((f) => haystack.includes(f))) return;
  }
  flags.push(flag('answer-not-computed', `final_answer(${argument}) reports a value that no earlier output shows`, finalStep, argument));
}

function checkThoughtNumbers(t: Trajectory, flags: TriageFlag[]): void {
  // Small whole numbers count things ("2 steps", "the 3 cases") rather than state results.
  const claims = t.steps.map((s) => numbersIn(s.thought).filter((n) => n.decimals > 0 || Math.abs(n.value) > 10));
  if (claims.every((c) => c.length === 0)) return;
  const observed = new ObservedNumbers();
  observed.addText(t.task.question);
  for (const s of t.steps) {
    for (const text of observedTexts(s.observation)) observed.addText(text);
    // A number the code uses is one the result depends on; a wrong one shows up in what the code prints.
    observed.addText(s.code);
  }
  const reported = new Set<number>();
  t.steps.forEach((s, i) => {
    const unchecked = claims[i].filter((n) => !observed.has(n) && !reported.has(n.value));
    if (unchecked.length === 0) return;
    for (const n of unchecked) reported.add(n.value);
    const shown = unchecked.slice(0, 3).map((n) => n.text);
    const more = unchecked.length > 3 ? ` and ${unchecked.length - 3} more` : '';
    flags.push(flag('unchecked-thought-number', `The thought states ${shown.join(', ')}${more}, which neither the code nor any observation shows`, i, around(s.thought, unchecked[0].index, unchecked[0].text.length)));
  });
}

const compactCode = (code: string): string => code.replace(/\s+/g, ' ').trim();

function checkErrorsAndSearches(t: Trajectory, flags: TriageFlag[]): void {
  const seenQueries = new Map<string, number>();
  t.steps.forEach((s, i) => {
    const previous = t.steps[i - 1];
    const previousError = previous?.observation?.error;
    if (previous && previousError) {
      const error = s.observation?.error;
      if (compactCode(s.code) === compactCode(previous.code)) {
        flags.push(flag('ignored-error', `Ran the code that failed in step ${i} again unchanged (${previousError.type})`, i, s.code.split('\n')[0]));
      } else if (error && error.type === previousError.type && error.message === previousError.message) {
        flags.push(flag('ignored-error', `Failed again with the error of step ${i}: ${error.type}: ${error.message}`, i, error.statement ?? error.message));
      }
    }
    const repeats: string[] = [];
    for (const query of searchQueriesOf(s)) {
      const key = wordsOf(query).join(' ');
      if (key === '') continue;
      if (seenQueries.has(key)) repeats.push(query);
      else seenQueries.set(key, i);
    }
    if (repeats.length) {
      const first = seenQueries.get(wordsOf(repeats[0]).join(' ')) ?? i;
      flags.push(flag('repeated-search', `Searched again for “${repeats[0]}” (first searched in step ${first + 1})${repeats.length > 1 ? ` and ${repeats.length - 1} more repeats` : ''}`, i, repeats[0]));
    }
  });
}

/** The observation text of an imported record, without the labels the format adds around the output. */
function observationContent(text: string): string {
  return text.replace(/Call id:\s*\S+|Observation:|Execution logs:|Last output from code snippet:|\bNone\b/g, '').trim();
}

function checkSilentSteps(t: Trajectory, flags: TriageFlag[]): void {
  t.steps.forEach((s, i) => {
    const o = s.observation;
    if (!o || o.error || o.finalAnswer !== undefined) return;
    const last = o.lastValue.trim();
    const silent = o.printOutput.trim() === '' && (last === '' || last === 'None') && (o.text === undefined || observationContent(o.text) === '');
    if (silent) flags.push(flag('silent-step', 'The code printed nothing and its last statement has no value: the observation was empty', i, s.code.split('\n').at(-1)));
  });
}

function answerShapeProblem(answer: string, gold: string): string | undefined {
  const a = (extractLastBoxed(answer) ?? answer).trim();
  const g = (extractLastBoxed(gold) ?? gold).trim();
  const decimal = /^-?\d*\.\d+$/;
  if (decimal.test(a) && !decimal.test(g)) return `a decimal (${a}) where the gold is written exactly (${g})`;
  const prefix = /^[a-zA-Z]\s*=/.exec(a);
  if (prefix && !/^[a-zA-Z]\s*=/.test(g)) return `a variable prefix (“${prefix[0]}”) the gold does not have`;
  const words = (s: string): number => (s.replace(/\\[a-zA-Z]+/g, ' ').match(/[a-zA-Z]{3,}/g) ?? []).length;
  if (numericValue(g) !== undefined && words(a) > 0) return `words or units beside the number, where the gold (${g}) is a plain number`;
  return undefined;
}

function checkAnswerForm(t: Trajectory, finalStep: number | undefined, options: TriageOptions, flags: TriageFlag[]): void {
  const answer = t.finalAnswer;
  if (answer === undefined || answer.trim() === '') return;
  const gold = t.task.goldAnswer;
  if (t.task.domain === 'math') {
    if (options.requireBoxed !== false && extractLastBoxed(answer) === undefined) {
      flags.push(flag('missing-boxed', 'The math answer is not in \\boxed{}, which the task instruction asks for', finalStep, answer));
    }
    if (gold !== undefined) {
      const problem = answerShapeProblem(answer, gold);
      if (problem) flags.push(flag('answer-format-drift', `The answer is ${problem}`, finalStep, answer));
    }
    return;
  }
  if (gold === undefined) return;
  const answerWords = wordsOf(answer).length;
  const goldWords = wordsOf(gold).length;
  if (goldWords > 0 && answerWords > Math.max(4, 3 * goldWords)) {
    flags.push(flag('answer-format-drift', `The answer is a ${answerWords}-word sentence where the gold is ${goldWords === 1 ? 'one word' : `${goldWords} words`} (“${gold}”)`, finalStep, answer));
  }
}

function checkSag(t: Trajectory, options: TriageOptions, flags: TriageFlag[]): void {
  const threshold = options.lowAgreement ?? 0.5;
  t.steps.forEach((s, i) => {
    const candidates = s.candidates;
    if (!candidates || candidates.length < 2 || s.winner === undefined) return;
    const group = s.voteGroups?.find((g) => g.members.includes(s.winner ?? -1));
    const agreeing = group?.members.length ?? 0;
    if (agreeing / candidates.length <= threshold) {
      flags.push(flag('low-agreement', `Only ${agreeing} of ${candidates.length} candidates agreed with the chosen action`, i, group ? group.voteKey.slice(0, 80) : undefined));
    }
    const winner = candidates[s.winner];
    if (!winner) return;
    if (compactCode(winner.code) !== compactCode(s.code)) {
      flags.push(flag('winner-overridden', `The step’s code is no longer candidate ${s.winner + 1}’s, which the vote chose`, i, s.code.split('\n')[0]));
    } else if (s.observation && s.stale !== true && !s.observation.error && winner.valid && s.observation.printOutput !== winner.printOutput) {
      flags.push(flag('winner-overridden', 'Re-running the chosen action printed something other than what the vote counted', i, s.observation.printOutput.slice(0, 80)));
    }
  });
}

/**
 * Runs every per-trajectory rule, and adds the findings a rubric judge stored in the trajectory's review data.
 * Flags come in step order; whole-trajectory flags have no `step`.
 */
export function triageTrajectory(t: Trajectory, options: TriageOptions = {}): TriageFlag[] {
  const flags: TriageFlag[] = [];
  const finalStep = finalStepOf(t);
  checkGrounding(t, finalStep, flags);
  checkComputed(t, finalStep, flags);
  checkThoughtNumbers(t, flags);
  checkErrorsAndSearches(t, flags);
  checkSilentSteps(t, flags);
  checkAnswerForm(t, finalStep, options, flags);
  checkSag(t, options, flags);
  t.steps.forEach((s, i) => {
    if (s.stale === true) flags.push(flag('stale-step', 'This step or one before it was edited after it ran: re-run it, or check that its observation still follows', i));
  });
  if (options.countTrainingTokens) {
    const maxLength = options.maxLength ?? defaultTriageMaxLength;
    const tokens = options.countTrainingTokens(t);
    if (tokens > maxLength) flags.push(flag('over-length', `The training text has ${tokens} tokens, over the max length of ${maxLength}: the trainer would cut it`));
  }
  flags.push(...rubricFlagsOf(t));
  return flags.sort((a, b) => (a.step ?? Infinity) - (b.step ?? Infinity));
}
