import { latexToSympy } from './latexToSympy';
import { type ReferencePrediction, referencePrediction, stripChars } from './referenceNormalize';
import { type SymbolicEquality } from './sympyChecker';

/**
 * The reference-compatible math scorer: the paper's grader reproduced, quirks included, so that the
 * reference profile's accuracy is the number the paper's method would report (docs/COMPATIBILITY.md).
 * Only the prediction is normalised; the gold is compared as written.
 *
 * Behaviour source: exps_research/unified_framework/score_answers.py (evaluate_math_answer) and
 * exps_research/unified_framework/math_utils/qwen_math_grader.py (math_equal, symbolic_equal) of the reference.
 *
 * One deliberate difference: the reference's symbolic step parses with sympy's LaTeX parser, sympy's
 * Python-expression parser (which evaluates text) and latex2sympy; here the studio's safe LaTeX
 * translation feeds the same checks (structural, `simplify(a − b) = 0`, numbers within 1e-4), and a
 * side it cannot translate is not equal, as an unparsable side is in the reference.
 */

/** The rule of the reference's grader that decided. */
export type ReferenceMathRule =
  | 'string'
  | 'choice'
  | 'numeric'
  | 'numeric-percent'
  | 'empty'
  | 'stripped'
  | 'elementwise'
  | 'matrix'
  | 'equation'
  | 'equation-rhs'
  | 'symbolic'
  | 'symbolic-timeout'
  | 'no-match';

export interface ReferenceMathVerdict {
  correct: boolean;
  rule: ReferenceMathRule;
  /** The prediction as the grader saw it (extracted and normalised when boxed, else the text as written). */
  predAnswer: string;
  /** How the prediction was read: `boxed` (extracted, normalised), `raw` (no `boxed` in it: as written). */
  predRead: ReferencePrediction['read'];
  /** The gold, as written: the reference does not normalise it. */
  goldAnswer: string;
  detail: string;
}

export interface ReferenceMathOptions {
  /** The symbolic checker; without one the symbolic step is skipped (counted as not equal). */
  symbolic?: SymbolicEquality;
  signal?: AbortSignal;
}

/** The reference's numeric tolerance: Python's `math.isclose(gold, pred, rel_tol=1e-4)`. */
export const referenceRelativeTolerance = 1e-4;

function pythonIsClose(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= referenceRelativeTolerance * Math.max(Math.abs(a), Math.abs(b));
}

/** Python's `float()` of a string: decimal or scientific with optional single underscores, `inf`, `nan`. */
function pythonFloat(text: string): number | undefined {
  const t = text.trim();
  const digits = '\\d(?:_?\\d)*';
  const decimal = new RegExp(`^[-+]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][-+]?${digits})?$`);
  if (decimal.test(t)) return Number(t.replace(/_/g, ''));
  const m = /^([-+]?)(inf|infinity|nan)$/i.exec(t);
  if (m) return m[2].toLowerCase() === 'nan' ? Number.NaN : (m[1] === '-' ? -Infinity : Infinity);
  return undefined;
}

/** The reference's reading of an answer as a number: commas dropped; a trailing `%` (or `\%`) divides by 100. */
export function referenceParseDigits(text: string): number | undefined {
  let t = text.replace(/,/g, '');
  const plain = pythonFloat(t);
  if (plain !== undefined) return plain;
  if (!t.endsWith('%')) return undefined;
  t = t.slice(0, -1);
  if (t.endsWith('\\')) t = t.slice(0, -1);
  const percent = pythonFloat(t);
  return percent === undefined ? undefined : percent / 100;
}

/** The reference's multiple-choice reading of a prediction: the last standalone letter A–E, else the text. */
function referenceChoice(prediction: string): string {
  const cleaned = stripChars(stripChars(prediction, '\n').replace(/\.+$/, '').replace(/\/+$/, ''), ' ').replace(/^:+/, '');
  const letters = cleaned.toUpperCase().match(/\b[A-E]\b/g);
  const picked = letters ? letters[letters.length - 1] : stripChars(cleaned.trim(), '.');
  return picked.replace(/\.+$/, '').replace(/\/+$/, '');
}

/** `{…,…}` groups of a gold become `\begin{pmatrix}…\end{pmatrix}` when the prediction is a pmatrix. */
function referenceToPmatrix(gold: string): string {
  const groups = gold.trim().match(/\{.*,.*\}/g) ?? [];
  return groups.map((g) => `\\begin{pmatrix}${stripChars(g, '{}').replace(/,/g, '\\')}\\end{pmatrix}`).join(', ');
}

const matrixBegin = ['\\begin{pmatrix}', '\\begin{bmatrix}'];
const matrixEnd = ['\\end{pmatrix}', '\\end{bmatrix}'];
function isMatrix(s: string): boolean {
  return matrixBegin.some((b) => s.startsWith(b)) && matrixEnd.some((e) => s.endsWith(e));
}
function matrixRows(s: string): string[] {
  return s
    .slice('\\begin{pmatrix}'.length, s.length - '\\end{pmatrix}'.length)
    .split('\\\\')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

interface Decision {
  equal: boolean;
  rule: ReferenceMathRule;
  detail: string;
}

/** Light clean-up standing in for the reference's more tolerant LaTeX parsers before translation. */
function sympyFromReferenceText(text: string): string | undefined {
  const cleaned = text
    .replace(/\\\\/g, '\\')
    .replace(/\\[dt]frac/g, '\\frac')
    .replace(/\\left|\\right/g, '')
    .replace(/\\[!,;: ]/g, ' ')
    .trim();
  return latexToSympy(cleaned);
}

/**
 * The reference's final symbolic step: equal when sympy finds the same tree, `a − b` simplifies to zero,
 * or both evaluate to numbers within the reference's relative tolerance. A timeout is "not equal".
 */
async function referenceSymbolicEqual(pred: string, gold: string, options: ReferenceMathOptions): Promise<Decision> {
  if (!options.symbolic) return { equal: false, rule: 'no-match', detail: `"${pred}" and "${gold}" differ (symbolic check not enabled)` };
  const a = sympyFromReferenceText(pred);
  const b = sympyFromReferenceText(gold);
  if (a === undefined || b === undefined) {
    return { equal: false, rule: 'no-match', detail: `"${pred}" and "${gold}" differ and ${a === undefined ? 'the prediction' : 'the gold'} is no expression sympy can compare` };
  }
  const result = await options.symbolic.check(a, b, options.signal);
  if (result.method === 'timeout') return { equal: false, rule: 'symbolic-timeout', detail: `the symbolic check of ${a} against ${b} ran out of time (counted as not equal)` };
  if (result.equal === true && (result.method === 'structural' || result.method === 'simplify')) {
    return { equal: true, rule: 'symbolic', detail: `sympy (${result.method}) says ${a} = ${b}` };
  }
  if (result.relativeDifference !== undefined) {
    const close = result.relativeDifference <= referenceRelativeTolerance;
    return {
      equal: close,
      rule: 'symbolic',
      detail: `sympy evaluates ${a} and ${b} ${close ? 'within' : 'beyond'} relative ${referenceRelativeTolerance} (difference ${result.relativeDifference.toPrecision(3)})`,
    };
  }
  if (result.equal === undefined) {
    return { equal: false, rule: 'no-match', detail: `the symbolic check of ${a} against ${b} failed (${result.error ?? result.method}): not equal` };
  }
  return { equal: result.equal, rule: 'symbolic', detail: `sympy (${result.method}) says ${a} ${result.equal ? '=' : '≠'} ${b}` };
}

/** The reference's `math_equal`: the cascade in its order, each step deciding or passing on. */
async function referenceMathEqual(prediction: string, reference: string, options: ReferenceMathOptions, depth = 0): Promise<Decision> {
  if (depth > 20) return { equal: false, rule: 'no-match', detail: 'nested too deeply' };
  if (prediction.trim().toLowerCase() === reference.trim().toLowerCase()) {
    return { equal: true, rule: 'string', detail: `both read "${reference.trim()}"` };
  }
  if (['A', 'B', 'C', 'D', 'E'].includes(reference)) {
    const letter = referenceChoice(prediction);
    if (letter === reference) return { equal: true, rule: 'choice', detail: `choice ${letter}` };
  }
  const p = referenceParseDigits(prediction);
  const g = referenceParseDigits(reference);
  if (p !== undefined && g !== undefined) {
    if (pythonIsClose(p, g)) return { equal: true, rule: 'numeric', detail: `${p} ≈ ${g} (relative tolerance ${referenceRelativeTolerance})` };
    if (pythonIsClose(p, g / 100) || pythonIsClose(p, g * 100)) {
      return { equal: true, rule: 'numeric-percent', detail: `${p} matches ${g} scaled by 100` };
    }
    return { equal: false, rule: 'numeric', detail: `${p} ≠ ${g}` };
  }
  if (prediction === '') return { equal: false, rule: 'empty', detail: 'the prediction is empty' };
  let ref = reference.trim();
  const pred = prediction.trim();
  if (pred.includes('pmatrix') && !ref.includes('pmatrix')) ref = referenceToPmatrix(ref);

  // Brackets and spaces aside.
  let predStr = pred;
  let refStr = ref;
  for (const s of ['\\left', '\\right', '\\text']) {
    predStr = predStr.split(s).join('');
    refStr = refStr.split(s).join('');
  }
  if ((pred.startsWith('[') && pred.endsWith(']') && !ref.startsWith('(')) || (pred.startsWith('(') && pred.endsWith(')') && !ref.startsWith('['))) {
    predStr = stripChars(predStr, '[]()');
    refStr = stripChars(refStr, '[]()');
  }
  predStr = predStr.replace(/[{}()]/g, '').split(' ').join('');
  refStr = refStr.replace(/[{}()]/g, '').split(' ').join('');
  if (predStr.toLowerCase() === refStr.toLowerCase()) {
    return { equal: true, rule: 'stripped', detail: `equal once brackets and spaces are removed ("${refStr}")` };
  }

  // Bracketed sequences, element by element (any bracket kind on either side).
  const bracketed = /^[([].+[)\]]/;
  if (bracketed.test(pred) && bracketed.test(ref)) {
    const predParts = pred.slice(1, -1).split(',');
    const refParts = ref.slice(1, -1).split(',');
    if (predParts.length === refParts.length) {
      let all = true;
      for (let i = 0; i < predParts.length && all; i++) all = (await referenceMathEqual(predParts[i], refParts[i], options, depth + 1)).equal;
      if (all) return { equal: true, rule: 'elementwise', detail: `all ${refParts.length} elements equal (brackets not compared)` };
    }
  }

  if (isMatrix(pred) && isMatrix(ref)) {
    const predRows = matrixRows(pred);
    const refRows = matrixRows(ref);
    let matched = predRows.length === refRows.length;
    for (let r = 0; r < predRows.length && matched; r++) {
      const pc = predRows[r].split('&');
      const rc = refRows[r].split('&');
      matched = pc.length === rc.length;
      for (let c = 0; c < pc.length && matched; c++) matched = (await referenceMathEqual(pc[c], rc[c], options, depth + 1)).equal;
    }
    if (matched) return { equal: true, rule: 'matrix', detail: `all ${refRows.length} rows equal` };
  }

  const predEq = pred.split('=').length - 1;
  const refEq = ref.split('=').length - 1;
  if (predEq === 1 && refEq === 1) {
    const [pl, pr] = pred.split('=');
    const [rl, rr] = ref.split('=');
    const pd = `${pl.trim()} - (${pr.trim()})`;
    const rd = `${rl.trim()} - (${rr.trim()})`;
    const direct = await referenceSymbolicEqual(pd, rd, options);
    if (direct.equal) return { ...direct, rule: 'equation', detail: `the equations agree: ${direct.detail}` };
    const flipped = await referenceSymbolicEqual(`-(${pd})`, rd, options);
    if (flipped.equal) return { ...flipped, rule: 'equation', detail: `the equations agree up to sign: ${flipped.detail}` };
  } else if (predEq === 1 && pred.split('=')[0].trim().length <= 2 && refEq === 0) {
    const rhs = await referenceMathEqual(pred.split('=')[1], ref, options, depth + 1);
    if (rhs.equal) return { ...rhs, rule: 'equation-rhs', detail: `the right-hand side of "${pred}" matches: ${rhs.detail}` };
  } else if (refEq === 1 && ref.split('=')[0].trim().length <= 2 && predEq === 0) {
    const rhs = await referenceMathEqual(pred, ref.split('=')[1], options, depth + 1);
    if (rhs.equal) return { ...rhs, rule: 'equation-rhs', detail: `the gold's right-hand side matches: ${rhs.detail}` };
  }

  return referenceSymbolicEqual(pred, ref, options);
}

/**
 * Scores a math answer as the reference does: a prediction containing `boxed` is extracted and
 * normalised, any other prediction is taken as written, and the gold is always taken as written.
 * Never throws on odd input.
 */
export async function judgeMathAnswerReference(prediction: string, gold: string, options: ReferenceMathOptions = {}): Promise<ReferenceMathVerdict> {
  const read = referencePrediction(prediction);
  const decision = await referenceMathEqual(read.answer, gold, options);
  const how = read.read === 'raw' ? 'no \\boxed{}: the prediction was compared as written; ' : '';
  return { correct: decision.equal, rule: decision.rule, predAnswer: read.answer, predRead: read.read, goldAnswer: gold, detail: `${how}${decision.detail}` };
}
