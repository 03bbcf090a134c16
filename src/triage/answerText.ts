import { extractLastBoxed } from '../scoring/boxedAnswer';

/**
 * Small text tools the triage rules share: the argument of a `final_answer(…)` call, Python literals,
 * numbers in prose and their comparison, and a loose word normalisation for "does this answer appear in
 * that text". Deliberately cheap (regular expressions over strings, no parsing), since triage runs over
 * whole files in seconds.
 */

/** The argument text of the last `final_answer(…)` call in the code, or undefined when there is none. */
export function finalAnswerArgument(code: string): string | undefined {
  const re = /(?<![.\w])final_answer\s*\(/g;
  let last: number | undefined;
  for (let m = re.exec(code); m; m = re.exec(code)) last = m.index + m[0].length;
  if (last === undefined) return undefined;
  let depth = 1;
  let quote: string | undefined;
  for (let i = last; i < code.length; i++) {
    const ch = code[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (code.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = code.startsWith(ch.repeat(3), i) ? ch.repeat(3) : ch;
      i += quote.length - 1;
    } else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return code.slice(last, i).trim();
    }
  }
  return undefined;
}

/**
 * The value of a Python literal the model typed: a string (not an f-string with a placeholder) or a
 * number, possibly signed. Undefined when the argument is an expression or a variable, i.e. computed.
 */
export function literalValue(argument: string): string | undefined {
  const number = /^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.exec(argument);
  if (number) return argument.replace(/_/g, '');
  const str = /^([rRbBuUfF]{0,2})("""|'''|"|')([\s\S]*)\2$/.exec(argument);
  if (!str) return undefined;
  const prefix = str[1].toLowerCase();
  const body = str[3];
  if (prefix.includes('f') && /\{[^{]/.test(body)) return undefined;
  // Close enough to Python's unescaping for comparing answers: `\\boxed` → `\boxed`, `\'` → `'`.
  return prefix.includes('r') ? body : body.replace(/\\([\\'"])/g, '$1').replace(/\\n/g, '\n');
}

/** A number in prose, with how many decimals it was written with. */
export interface WrittenNumber {
  value: number;
  decimals: number;
  /** Where it starts in the text. */
  index: number;
  text: string;
}

// Digits not glued to letters (`x2`, `3rd`, `h1`), with thousands separators and decimals.
const numberPattern = /(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])/g;

export function numbersIn(text: string): WrittenNumber[] {
  const out: WrittenNumber[] = [];
  for (const m of text.matchAll(numberPattern)) {
    const raw = m[0];
    const value = Number(raw.replace(/,/g, ''));
    if (!Number.isFinite(value)) continue;
    const dot = raw.indexOf('.');
    out.push({ value, decimals: dot < 0 ? 0 : raw.length - dot - 1, index: m.index, text: raw });
  }
  return out;
}

/**
 * The numbers a set of texts shows, for "was this number ever observed". Compared with tolerance for
 * rounding: a thought that writes `3.14` checked a printed `3.14159`, and `25%` checked `0.25`.
 */
export class ObservedNumbers {
  private readonly exact = new Set<number>();
  private readonly values: number[] = [];

  addText(text: string): void {
    for (const n of numbersIn(text)) this.add(n.value);
    // sympy prints exact fractions as `5/9`.
    for (const m of text.matchAll(/(?<![\w.])(-?\d+)\/(\d+)(?![\w.])/g)) if (Number(m[2]) !== 0) this.add(Number(m[1]) / Number(m[2]));
  }

  add(value: number): void {
    if (this.exact.has(value)) return;
    this.exact.add(value);
    this.values.push(value);
  }

  has(n: Pick<WrittenNumber, 'value' | 'decimals'>): boolean {
    const half = 0.5 * 10 ** -n.decimals;
    for (const target of [n.value, n.value / 100, n.value * 100]) {
      if (this.exact.has(target)) return true;
    }
    for (const v of this.values) {
      for (const target of [n.value, n.value / 100]) {
        const tolerance = Math.max(half * (target === n.value ? 1 : 0.01), 1e-9 * Math.abs(target));
        if (Math.abs(v - target) <= tolerance) return true;
      }
    }
    return false;
  }
}

/**
 * A math answer as a number when it is a plain one: `42`, `-3.5`, `1,000`, `\frac{1}{2}`, `3/4`,
 * `\boxed{…}` around any of these. Undefined for anything symbolic.
 */
export function numericValue(answer: string): number | undefined {
  let a = (extractLastBoxed(answer) ?? answer).trim().replace(/^\$+|\$+$/g, '').replace(/\\[dt]frac/g, '\\frac').replace(/\s+/g, '');
  a = a.replace(/^\\left\(|\\right\)$/g, '');
  const plain = /^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/.exec(a);
  if (plain) return Number(a.replace(/,/g, ''));
  const frac = /^(-?)\\frac\{(-?\d+(?:\.\d+)?)\}\{(-?\d+(?:\.\d+)?)\}$/.exec(a) ?? /^(-?)(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(a);
  if (frac) {
    const d = Number(frac[3]);
    return d === 0 ? undefined : (frac[1] ? -1 : 1) * (Number(frac[2]) / d);
  }
  return undefined;
}

/** Lower-case words of a text (letters and digits), for containment tests that ignore punctuation and case. */
export function wordsOf(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

const fillerWords = new Set(['the', 'a', 'an', 'of', 'and', 'in', 'on', 'at', 'to', 'is', 'was', 'it']);

/** The words of an answer that carry its content (filler dropped unless nothing else is left). */
export function contentWords(answer: string): string[] {
  const words = wordsOf(answer.replace(/\\boxed\{([^}]*)\}/g, '$1').replace(/\\text\{([^}]*)\}/g, '$1'));
  const content = words.filter((w) => !fillerWords.has(w));
  return content.length ? content : words;
}

/** Text cut around a position for a flag's evidence. */
export function around(text: string, index: number, length: number, chars = 60): string {
  const start = Math.max(0, index - chars);
  const end = Math.min(text.length, index + length + chars);
  return `${start > 0 ? '…' : ''}${text.slice(start, end).replace(/\s+/g, ' ').trim()}${end < text.length ? '…' : ''}`;
}
