import { answerFromText } from './boxedAnswer';
import { latexToSympy } from './latexToSympy';
import { normalizeMathAnswer } from './mathNormalize';
import { type SymbolicEquality } from './sympyChecker';

/**
 * The rule of the math cascade (METHOD §6) that decided a verdict. For a correct verdict it is the rule
 * that found the two answers equal; for a wrong one, the rule that could tell them apart, or `no-answer`
 * (nothing to compare) / `no-match` (no rule found them equal) / `symbolic-undecided` (the symbolic check
 * timed out or failed, so the pair counts as wrong).
 */
export type MathRule =
  | 'string'
  | 'choice'
  | 'numeric'
  | 'numeric-percent'
  | 'stripped'
  | 'elementwise'
  | 'symbolic'
  | 'no-answer'
  | 'no-match'
  | 'symbolic-undecided';

export interface MathVerdict {
  correct: boolean;
  rule: MathRule;
  /** The answer taken from the prediction (last `\boxed{}` content, or the whole text). */
  predAnswer: string;
  goldAnswer: string;
  predNormalized: string;
  goldNormalized: string;
  /** Why, in a sentence: the numbers compared, the mismatching element, the symbolic method. */
  detail: string;
}

export interface MathJudgeOptions {
  /** The symbolic checker; without one the symbolic rule is skipped (the verdict says so). */
  symbolic?: SymbolicEquality;
  signal?: AbortSignal;
}

const relativeTolerance = 1e-4;

function isClose(a: number, b: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= relativeTolerance * Math.max(Math.abs(a), Math.abs(b));
}

/** A plain number in a normalised answer: integer, decimal, scientific, a numeric fraction, `a\times10^{k}`. */
export function parseNumericAnswer(s: string): number | undefined {
  if (/^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(s)) return Number(s);
  let m = /^([-+]?)\\frac\{([-+]?\d+(?:\.\d+)?)\}\{([-+]?\d+(?:\.\d+)?)\}$/.exec(s);
  if (m) {
    const den = Number(m[3]);
    if (den === 0) return undefined;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) / den);
  }
  m = /^([-+]?\d+(?:\.\d+)?)(?:\\times|\\cdot|\*)10\^\{?([-+]?\d+)\}?$/.exec(s);
  if (m) return Number(m[1]) * 10 ** Number(m[2]);
  return undefined;
}

/** `(B)`, `B`, `B.`, `(b) 12`, `\text{(C)}`: a multiple-choice letter A–E, or undefined. */
function choiceLetter(raw: string, strict: boolean): string | undefined {
  const s = raw.trim().replace(/^\\text\{(.*)\}$/, '$1').trim();
  const m = strict ? /^\(?([A-Ea-e])\)?\.?$/.exec(s) : /^\(?([A-E])(?:\)|\.|:|\s|$)/.exec(s);
  return m ? m[1].toUpperCase() : undefined;
}

function stripBracketsAndSpaces(s: string): string {
  return s.replace(/\\[{}]/g, '').replace(/[()[\]{}\s]/g, '').toLowerCase();
}

// --------------------------------------------------------------------------------------------------------
// Structured answers: tuples, intervals (and unions of them), matrices
// --------------------------------------------------------------------------------------------------------

interface Sequence {
  kind: 'sequence';
  open: string;
  close: string;
  items: string[];
}
interface Matrix {
  kind: 'matrix';
  rows: string[][];
}
interface Union {
  kind: 'union';
  parts: string[];
}
type Structure = Sequence | Matrix | Union;

/** Splits at `sep` outside any brackets. */
function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
      continue;
    }
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      parts.push(s.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** True when the bracket opened at index 0 closes at the last character. */
function enclosesWhole(s: string, openLen: number, closeLen: number): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    if (depth === 0 && i < s.length - closeLen && i >= openLen - 1) return false;
  }
  return depth === 0;
}

/** A two-element sequence in round or square brackets: possibly an interval, whose brackets matter. */
function isInterval(s: Structure): boolean {
  return s.kind === 'sequence' && s.items.length === 2 && (s.open === '(' || s.open === '[');
}

function parseStructure(s: string): Structure | undefined {
  const matrix = /^\\begin\{[pbvBV]?matrix\}(.*)\\end\{[pbvBV]?matrix\}$/.exec(s);
  if (matrix) {
    const rows = matrix[1].split('\\\\').filter((r) => r.length > 0).map((r) => r.split('&'));
    return { kind: 'matrix', rows };
  }
  const union = splitTopLevel(s, '\\cup');
  if (union.length > 1) return { kind: 'union', parts: union };
  for (const [open, close] of [['\\{', '\\}'], ['(', ')'], ['[', ']'], ['(', ']'], ['[', ')'], ['\\langle', '\\rangle']] as const) {
    if (s.startsWith(open) && s.endsWith(close) && s.length >= open.length + close.length && enclosesWhole(s, open.length, close.length)) {
      const inner = s.slice(open.length, s.length - close.length);
      const items = splitTopLevel(inner, ',');
      if (items.length > 1) return { kind: 'sequence', open, close, items };
    }
  }
  const bare = splitTopLevel(s, ',');
  if (bare.length > 1) return { kind: 'sequence', open: '', close: '', items: bare };
  return undefined;
}

// --------------------------------------------------------------------------------------------------------
// The cascade
// --------------------------------------------------------------------------------------------------------

interface Decision {
  equal: boolean;
  rule: MathRule;
  detail: string;
}

async function symbolicRule(pred: string, gold: string, options: MathJudgeOptions): Promise<Decision | undefined> {
  if (!options.symbolic) return undefined;
  const a = latexToSympy(pred);
  const b = latexToSympy(gold);
  if (a === undefined || b === undefined) return undefined;
  const result = await options.symbolic.check(a, b, options.signal);
  if (result.equal === undefined) {
    return { equal: false, rule: 'symbolic-undecided', detail: `symbolic check of ${a} against ${b}: ${result.method}${result.error ? ` (${result.error})` : ''}` };
  }
  return {
    equal: result.equal,
    rule: 'symbolic',
    detail: `sympy (${result.method}) says ${a} ${result.equal ? '=' : '≠'} ${b}`,
  };
}

/** Which side of the whole answer carried a percent sign (normalisation drops it; its meaning is kept here). */
interface PercentSigns {
  pred: boolean;
  gold: boolean;
}

/**
 * The scalar rules, in the order of METHOD §6, for two normalised answers. A number with a percent sign is
 * first read as what it says (`50\%` is 0.5, so it equals `\frac{1}{2}`); then, as METHOD §6 prescribes for
 * bare numbers, the gold ×100 and ÷100 are accepted too (a dataset may store a percentage either way).
 */
async function compareScalars(pred: string, gold: string, options: MathJudgeOptions, percent?: PercentSigns): Promise<Decision> {
  if (pred.toLowerCase() === gold.toLowerCase()) return { equal: true, rule: 'string', detail: `both read "${gold}"` };
  const p = parseNumericAnswer(pred);
  const g = parseNumericAnswer(gold);
  if (p !== undefined && g !== undefined) {
    if (isClose(p, g)) return { equal: true, rule: 'numeric', detail: `${p} ≈ ${g} (relative tolerance ${relativeTolerance})` };
    if (percent?.pred && !percent.gold && isClose(p / 100, g)) {
      return { equal: true, rule: 'numeric-percent', detail: `${p}% is ${g}` };
    }
    if (percent?.gold && !percent.pred && isClose(p, g / 100)) {
      return { equal: true, rule: 'numeric-percent', detail: `${p} is the gold's ${g}%` };
    }
    if (isClose(p, g * 100) || isClose(p, g / 100)) {
      return { equal: true, rule: 'numeric-percent', detail: `${p} matches ${g} read as a percentage` };
    }
    return { equal: false, rule: 'numeric', detail: `${p} ≠ ${g}` };
  }
  if (stripBracketsAndSpaces(pred) === stripBracketsAndSpaces(gold) && stripBracketsAndSpaces(gold) !== '') {
    return { equal: true, rule: 'stripped', detail: `equal once brackets and spaces are removed ("${stripBracketsAndSpaces(gold)}")` };
  }
  const symbolic = await symbolicRule(pred, gold, options);
  if (symbolic) return symbolic;
  return {
    equal: false,
    rule: 'no-match',
    detail: options.symbolic ? `"${pred}" and "${gold}" differ and the symbolic check does not apply` : `"${pred}" and "${gold}" differ (symbolic check not enabled)`,
  };
}

async function compareItems(preds: string[], golds: string[], anyOrder: boolean, options: MathJudgeOptions): Promise<Decision> {
  if (preds.length !== golds.length) {
    return { equal: false, rule: 'elementwise', detail: `${preds.length} elements against ${golds.length}` };
  }
  if (!anyOrder) {
    for (let i = 0; i < golds.length; i++) {
      const d = await compareNormalized(preds[i], golds[i], options, false);
      if (!d.equal) return { equal: false, rule: 'elementwise', detail: `element ${i + 1}: "${preds[i]}" vs "${golds[i]}" (${d.rule}: ${d.detail})` };
    }
    return { equal: true, rule: 'elementwise', detail: `all ${golds.length} elements equal` };
  }
  // A bare list of solutions: every gold element must meet a distinct predicted one, in any order.
  const used = new Set<number>();
  for (const gold of golds) {
    let found = false;
    for (let i = 0; i < preds.length && !found; i++) {
      if (used.has(i)) continue;
      if ((await compareNormalized(preds[i], gold, options, false)).equal) {
        used.add(i);
        found = true;
      }
    }
    if (!found) return { equal: false, rule: 'elementwise', detail: `no predicted element equals "${gold}"` };
  }
  return { equal: true, rule: 'elementwise', detail: `all ${golds.length} elements equal (in any order)` };
}

async function compareStructures(p: Structure, g: Structure, options: MathJudgeOptions): Promise<Decision> {
  if (p.kind !== g.kind) return { equal: false, rule: 'elementwise', detail: `a ${p.kind} against a ${g.kind}` };
  if (p.kind === 'matrix' && g.kind === 'matrix') {
    if (p.rows.length !== g.rows.length) return { equal: false, rule: 'elementwise', detail: `${p.rows.length} rows against ${g.rows.length}` };
    for (let r = 0; r < g.rows.length; r++) {
      const d = await compareItems(p.rows[r], g.rows[r], false, options);
      if (!d.equal) return { ...d, detail: `row ${r + 1}: ${d.detail}` };
    }
    return { equal: true, rule: 'elementwise', detail: `all ${g.rows.length} rows equal` };
  }
  if (p.kind === 'union' && g.kind === 'union') return compareItems(p.parts, g.parts, false, options);
  if (p.kind === 'sequence' && g.kind === 'sequence') {
    // An interval's brackets say whether the ends belong to it: `(1,2]` is not `[1,2]`.
    if (isInterval(p) && isInterval(g) && (p.open !== g.open || p.close !== g.close)) {
      return { equal: false, rule: 'elementwise', detail: `interval ends differ: ${p.open}…${p.close} against ${g.open}…${g.close}` };
    }
    const anyOrder = g.open === '' || g.open === '\\{';
    return compareItems(p.items, g.items, anyOrder, options);
  }
  return { equal: false, rule: 'elementwise', detail: 'different structures' };
}

async function compareNormalized(pred: string, gold: string, options: MathJudgeOptions, allowChoice: boolean, percent?: PercentSigns): Promise<Decision> {
  if (pred.toLowerCase() === gold.toLowerCase()) return { equal: true, rule: 'string', detail: `both read "${gold}"` };
  if (allowChoice) {
    const goldLetter = choiceLetter(gold, true);
    const predLetter = goldLetter ? choiceLetter(pred, false) : undefined;
    if (goldLetter && predLetter) {
      return { equal: predLetter === goldLetter, rule: 'choice', detail: `choice ${predLetter} against ${goldLetter}` };
    }
  }
  const ps = parseStructure(pred);
  const gs = parseStructure(gold);
  if (ps || gs) {
    // Brackets aside, identical text needs no element-wise work (`(1,2)` against `1,2`), except for two
    // intervals, whose brackets carry meaning (`[1,2]` is not `(1,2]`).
    if (stripBracketsAndSpaces(pred) === stripBracketsAndSpaces(gold) && !(ps && gs && isInterval(ps) && isInterval(gs))) {
      return { equal: true, rule: 'stripped', detail: `equal once brackets and spaces are removed ("${stripBracketsAndSpaces(gold)}")` };
    }
    if (ps && gs) return compareStructures(ps, gs, options);
    const structured = (ps ?? gs)!;
    if (structured.kind !== 'matrix') {
      const count = structured.kind === 'sequence' ? structured.items.length : structured.parts.length;
      return { equal: false, rule: 'elementwise', detail: `${ps ? `${count} elements against one` : `one element against ${count}`}` };
    }
  }
  return compareScalars(pred, gold, options, percent);
}

/** True when a whole answer ends in a percent sign (`50\%`, `50 %`, `$50\%$`). */
function hasPercentSign(answer: string): boolean {
  return /%\s*\$*\s*\.?\s*$/.test(answer);
}

/**
 * Judges a model's output against a gold answer with the cascade of METHOD §6. Gold and prediction are
 * extracted and normalised alike, so a gold boxed verbatim is always accepted (the reference-compatible
 * scorer, `referenceMath.ts`, normalises only the prediction). Both sides may be whole
 * texts: the last `\boxed{}` of each is used when there is one. Never throws on odd input; a symbolic
 * check that times out makes the verdict wrong with rule `symbolic-undecided`.
 */
export async function judgeMathAnswer(prediction: string, gold: string, options: MathJudgeOptions = {}): Promise<MathVerdict> {
  const pred = answerFromText(prediction);
  const goldAnswer = answerFromText(gold).answer;
  const predNormalized = normalizeMathAnswer(pred.answer);
  const goldNormalized = normalizeMathAnswer(goldAnswer);
  const base = { predAnswer: pred.answer, goldAnswer, predNormalized, goldNormalized };
  if (predNormalized === '') {
    return { ...base, correct: false, rule: 'no-answer', detail: prediction.trim() === '' ? 'the prediction is empty' : 'the prediction has no answer to compare' };
  }
  // Multiple-choice letters are read from the raw answers: normalisation may drop the brackets.
  const goldLetter = choiceLetter(goldAnswer, true) ?? choiceLetter(goldNormalized, true);
  if (goldLetter && predNormalized.toLowerCase() !== goldNormalized.toLowerCase()) {
    const predLetter = choiceLetter(pred.answer, true) ?? choiceLetter(pred.answer, false) ?? choiceLetter(predNormalized, false);
    if (predLetter) {
      return { ...base, correct: predLetter === goldLetter, rule: 'choice', detail: `choice ${predLetter} against ${goldLetter}` };
    }
  }
  const percent = { pred: hasPercentSign(pred.answer), gold: hasPercentSign(goldAnswer) };
  const decision = await compareNormalized(predNormalized, goldNormalized, options, false, percent);
  return { ...base, correct: decision.equal, rule: decision.rule, detail: decision.detail };
}
