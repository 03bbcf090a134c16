/**
 * The reference grader's answer extraction and normalisation, reproduced rule for rule so that the
 * reference-compatible profile scores as the paper's numbers were scored (docs/COMPATIBILITY.md).
 * Quirks are kept on purpose (the letter `a` is a unit, `and` is deleted anywhere, `j` becomes `i`);
 * the studio's own normalisation is `mathNormalize.ts`.
 *
 * Behaviour source: exps_research/unified_framework/math_utils/qwen_math_parser.py of the reference
 * (strip_string, extract_answer and their helpers) and the word2number package it calls.
 */

/**
 * Words the reference deletes as units wherever they stand alone (between non-word characters), each
 * also with an `s` appended. They are regular-expression sources: `.` in `q .` matches any character.
 */
const referenceUnitsBase: readonly string[] = [
  'east', 'degree', 'mph', 'kmph', 'ft', 'm sqaure', ' m east', 'sq m', 'deg', 'mile', 'q .', 'monkey',
  'prime', 'ratio', 'profit of rs', 'rd', 'o', 'gm', 'p . m', 'lb', 'tile', 'per', 'dm', 'lt', 'gain', 'ab',
  'way', 'west', 'a .', 'b .', 'c .', 'd .', 'e .', 'f .', 'g .', 'h .', 't', 'a', 'h', 'no change', 'men',
  'soldier', 'pie', 'bc', 'excess', 'st', 'inches', 'noon', 'percent', 'by', 'gal', 'kmh', 'c', 'acre',
  'rise', 'a . m', 'th', 'π r 2', 'sq', 'mark', 'l', 'toy', 'coin', 'sq . m', 'gallon', '° f', 'profit',
  'minw', 'yr', 'women', 'feet', 'am', 'pm', 'hr', 'cu cm', 'square', 'v â € ™', 'are', 'rupee', 'rounds',
  'cubic', 'cc', 'mtr', 's', 'ohm', 'number', 'kmph', 'day', 'hour', 'minute', 'min', 'second', 'man',
  'woman', 'sec', 'cube', 'mt', 'sq inch', 'mp', '∏ cm ³', 'hectare', 'more', 'sec', 'unit', 'cu . m',
  'cm 2', 'rs .', 'rs', 'kg', 'g', 'month', 'km', 'm', 'cm', 'mm', 'apple', 'liter', 'loss', 'yard', 'pure',
  'year', 'increase', 'decrease', 'd', 'less', 'Surface', 'litre', 'pi sq m', 's .', 'metre', 'meter', 'inch',
];
const referenceUnits: readonly string[] = [...referenceUnitsBase, ...referenceUnitsBase.map((u) => `${u}s`)];

/** Python's `\W` for str patterns: anything but a Unicode letter, digit, combining mark or underscore. */
const nonWord = '[^\\p{L}\\p{N}\\p{M}_]';
const unitPatterns: readonly RegExp[] = referenceUnits.map((u) => new RegExp(`(^|${nonWord})${u}($|${nonWord})`, 'gu'));

// ---------------------------------------------------------------------------------------------------------
// Number words (the word2number package's `word_to_num`, as the reference calls it on every prediction)
// ---------------------------------------------------------------------------------------------------------

const numberWords: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  hundred: 100, thousand: 1000, million: 1000000, billion: 1000000000,
};
const digitWords = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** word2number's grouping of up to four words below a thousand (`two hundred five` = 2·100 + 5). */
function formGroup(words: readonly string[]): number {
  const n = words.map((w) => numberWords[w]);
  if (n.length === 4) return n[0] * n[1] + n[2] + n[3];
  if (n.length === 3) return n[0] * n[1] + n[2];
  if (n.length === 2) return n.includes(100) ? n[0] * n[1] : n[0] + n[1];
  return n[0];
}

/** Python's `str()` of an int or float result. */
function pythonNumberText(value: number, isFloat: boolean): string {
  if (!isFloat) return String(value);
  if (Number.isInteger(value)) return `${value}.0`;
  return String(value);
}

/**
 * The value of a number phrase as word2number reads it, as text, or `undefined` where it raises (the
 * reference then keeps the string). Words that are not number words are skipped, so `five apples` is 5
 * and a lone `point` is 0; all-digit text is read as an integer (`007` → `7`).
 */
export function referenceWordToNumber(text: string): string | undefined {
  const sentence = text.replace(/-/g, ' ').toLowerCase();
  if (/^\d+$/.test(sentence)) return String(Number.parseInt(sentence, 10));
  if (/^\p{Nd}+$/u.test(sentence)) return undefined; // Python's isdigit() accepts them; int() does not
  let words = sentence.trim().split(/\s+/).filter((w) => w in numberWords || w === 'point');
  if (words.length === 0) return undefined;
  const count = (w: string) => words.filter((x) => x === w).length;
  if (count('thousand') > 1 || count('million') > 1 || count('billion') > 1 || count('point') > 1) return undefined;
  let decimals: string[] = [];
  if (count('point') === 1) {
    decimals = words.slice(words.indexOf('point') + 1);
    words = words.slice(0, words.indexOf('point'));
  }
  const bi = words.indexOf('billion');
  const mi = words.indexOf('million');
  const th = words.indexOf('thousand');
  if ((th > -1 && (th < mi || th < bi)) || (mi > -1 && mi < bi)) return undefined;
  let total = 0;
  if (words.length === 1) total += numberWords[words[0]];
  else if (words.length > 1) {
    if (bi > -1) total += formGroup(words.slice(0, bi)) * 1e9;
    if (mi > -1) total += formGroup(words.slice(bi > -1 ? bi + 1 : 0, mi)) * 1e6;
    if (th > -1) total += formGroup(words.slice(mi > -1 ? mi + 1 : bi > -1 ? bi + 1 : 0, th)) * 1000;
    const last = words.length - 1;
    if (th > -1 && th !== last) total += formGroup(words.slice(th + 1));
    else if (mi > -1 && mi !== last) total += formGroup(words.slice(mi + 1));
    else if (bi > -1 && bi !== last) total += formGroup(words.slice(bi + 1));
    else if (th === -1 && mi === -1 && bi === -1) total += formGroup(words);
  }
  if (Number.isNaN(total)) return undefined; // an empty group before a scale word raises in Python
  if (decimals.length > 0) {
    const digits = decimals.every((w) => digitWords.includes(w)) ? decimals.map((w) => numberWords[w]).join('') : '';
    const fraction = digits === '' ? 0 : Number(`0.${digits}`);
    return pythonNumberText(total + fraction, true);
  }
  return pythonNumberText(total, false);
}

// ---------------------------------------------------------------------------------------------------------
// Normalisation and extraction
// ---------------------------------------------------------------------------------------------------------

/** `\fracab` → `\frac{a}{b}`, `\frac1{2}` → `\frac{1}{2}`; gives up (returns the input) on a bare `\frac` with one character after it. */
function referenceFixFracs(s: string): string {
  const pieces = s.split('\\frac');
  let out = pieces[0];
  for (const piece of pieces.slice(1)) {
    out += '\\frac';
    if (piece.length > 0 && piece[0] === '{') {
      out += piece;
      continue;
    }
    if (piece.length < 2) return s;
    const [a, b] = [piece[0], piece[1]];
    out += b !== '{' ? `{${a}}{${b}}${piece.slice(2)}` : `{${a}}${b}${piece.slice(2)}`;
  }
  return out;
}

/** Python's `int()` on a string: optional sign, digits with single underscores, surrounding spaces. */
function pythonInt(text: string): number | undefined {
  const t = text.trim();
  if (!/^[-+]?\d(?:_?\d)*$/.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

/** `a/b` with integers written plainly becomes `\frac{a}{b}`; a side holding `sqrt` is taken as it is. */
function referenceFixSlash(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts;
  const ai = a.includes('sqrt') ? a : pythonInt(a);
  const bi = b.includes('sqrt') ? b : pythonInt(b);
  if (ai === undefined || bi === undefined) return s;
  if (s !== `${String(ai)}/${String(bi)}`) return s;
  return `\\frac{${String(ai)}}{${String(bi)}}`;
}

function replaceAll(s: string, from: string, to: string): string {
  return s.split(from).join(to);
}

/** Strips trailing characters of a set (Python's `rstrip(chars)`). */
function rstripChars(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1])) end--;
  return s.slice(0, end);
}

/** Strips characters of a set from both ends (Python's `strip(chars)`). */
export function stripChars(s: string, chars: string): string {
  let start = 0;
  while (start < s.length && chars.includes(s[start])) start++;
  return rstripChars(s.slice(start), chars);
}

/**
 * The reference's normalisation of a predicted answer (its `strip_string` with units on), step for step.
 * Only predictions go through it: the reference compares the result with the gold as written.
 */
export function referenceStripString(input: string): string {
  let s = input.trim();
  s = replaceAll(s, '\n', '');
  s = rstripChars(s, '.');
  s = replaceAll(s, '\\!', '');
  s = s.replace(/\\begin\{array\}\{.*?\}/g, '\\begin{pmatrix}').replace(/\\end\{array\}/g, '\\end{pmatrix}');
  s = replaceAll(s, 'bmatrix', 'pmatrix');
  s = replaceAll(replaceAll(s, 'tfrac', 'frac'), 'dfrac', 'frac');
  s = replaceAll(replaceAll(replaceAll(s, '\\neq', '\\ne'), '\\leq', '\\le'), '\\geq', '\\ge');
  s = replaceAll(replaceAll(s, '\\left', ''), '\\right', '');
  s = replaceAll(replaceAll(s, '\\{', '{'), '\\}', '}');
  // A trailing \text{…} is a unit, unless it is all there is.
  const withoutTextTail = s.replace(/\\text\{.*?\}$/, '').trim();
  if (withoutTextTail !== '' && withoutTextTail !== s) s = withoutTextTail;
  for (let pass = 0; pass < 2; pass++) {
    for (const pattern of unitPatterns) {
      const next = s.replace(pattern, '$1$2');
      if (next !== '') s = next;
    }
  }
  s = replaceAll(replaceAll(s, '^{\\circ}', ''), '^\\circ', '');
  s = replaceAll(replaceAll(s, '\\$', ''), '$', '');
  s = replaceAll(replaceAll(s, '\\(', ''), '\\)', '');
  s = referenceWordToNumber(s) ?? s;
  s = s.replace(/\\text\{(.*?)\}/g, '$1');
  for (const key of ['x=', 'y=', 'z=', 'x\\in', 'y\\in', 'z\\in', 'x\\to', 'y\\to', 'z\\to']) s = replaceAll(s, key, '');
  s = replaceAll(s, '\\emptyset', '{}');
  s = replaceAll(s, '(-\\infty,\\infty)', '\\mathbb{R}');
  s = replaceAll(replaceAll(s, '\\%', ''), '%', '');
  s = replaceAll(replaceAll(s, ' .', ' 0.'), '{.', '{0.');
  // (The reference's unwrapping of `{x}`, `(x)`, `[x]` requires the bracketed text to be alphanumeric, which it never is.)
  s = replaceAll(s, 'infinity', '\\infty');
  if (!s.includes('\\infty')) s = replaceAll(s, 'inf', '\\infty');
  s = replaceAll(s, '+\\inity', '\\infty');
  s = replaceAll(s, 'and', '');
  s = replaceAll(s, '\\mathbf', '');
  s = s.replace(/\\mbox\{.*?\}/g, '');
  if (s.includes('j') && !s.includes('i')) s = replaceAll(s, 'j', 'i');
  s = s.replace(/(\d+)\.0*([^\d])/g, '$1$2').replace(/(\d+)\.0*$/, '$1');
  if (s.length === 0) return s;
  if (s[0] === '.') s = `0${s}`;
  const sides = s.split('=');
  if (sides.length === 2 && sides[0].length <= 2) s = sides[1];
  s = s.replace(/\\sqrt([\p{L}\p{N}\p{M}_]+)/gu, '\\sqrt{$1}');
  s = replaceAll(s, ' ', '');
  s = referenceFixFracs(s);
  return referenceFixSlash(s);
}

/** The text after the last `boxed`: the brace-balanced group (escapes not honoured), or up to the next `$`. */
function referenceBoxContent(afterBoxed: string): string {
  if (afterBoxed.length === 0) return '';
  if (afterBoxed[0] !== '{') return afterBoxed.split('$')[0].trim();
  let depth = 1;
  let out = '';
  for (const ch of afterBoxed.slice(1)) {
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) break;
    }
    out += ch;
  }
  return out;
}

/** How the reference read a prediction: `boxed` (extracted and normalised) or `raw` (compared as written). */
export interface ReferencePrediction {
  answer: string;
  read: 'boxed' | 'minerva' | 'raw';
}

/**
 * The prediction as the reference's scorer hands it to the grader: when the text contains `boxed`, the
 * extracted and normalised answer; otherwise the whole text, unnormalised.
 */
export function referencePrediction(prediction: string): ReferencePrediction {
  if (!prediction.includes('boxed')) return { answer: prediction, read: 'raw' };
  const text = replaceAll(prediction, '\u043a\u0438', '');
  let pred: string;
  let read: ReferencePrediction['read'] = 'boxed';
  if (text.includes('final answer is $') && text.includes('$. I hope')) {
    pred = text.split('final answer is $').slice(1).join('final answer is $').split('$. I hope')[0].trim();
    read = 'minerva';
  } else {
    const pieces = text.split('boxed');
    pred = referenceBoxContent(pieces[pieces.length - 1]);
  }
  pred = pred.replace(/\n\s*/g, '');
  if (pred.startsWith(':')) pred = pred.slice(1);
  if (pred.endsWith('.')) pred = pred.slice(0, -1);
  if (pred.endsWith('/')) pred = pred.slice(0, -1);
  return { answer: referenceStripString(pred), read };
}
