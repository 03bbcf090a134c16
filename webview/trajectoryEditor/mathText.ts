/**
 * Splits a text from a trajectory (a question, a thought, an answer) into plain runs and LaTeX formulas.
 * Pure: no DOM, so the delimiter rules are unit-tested under node. The page renders the formulas with KaTeX
 * and the plain runs as text nodes.
 *
 * Delimiters: `$$…$$` and `\[…\]` (display), `$…$` and `\(…\)` (inline). A backslash escapes the next
 * character, so `\$` is a literal dollar. Inline `$` follows Pandoc's rule so prices stay prose: the
 * opening `$` is not followed by whitespace, the closing `$` is not preceded by whitespace nor followed by a
 * digit, the formula holds no other unescaped `$` and does not cross a line. `$5 and $10` is text.
 */

import type { KatexOptions } from 'katex';

export type MathSegment =
  | { kind: 'text'; text: string }
  /** `tex` is the formula without delimiters; `source` is exactly what the file holds, delimiters included. */
  | { kind: 'math'; tex: string; display: boolean; source: string };

/** Formulas longer than this stay text: a reviewer reads them better raw, and rendering stays cheap. */
export const maxFormulaChars = 4000;
/** At most this many formulas per text are rendered; the rest stay text. */
export const maxFormulasPerText = 200;

/** The options every formula is rendered with (here, with no DOM, so the tests of hostile input use them too). */
export const katexOptions: KatexOptions = {
  output: 'htmlAndMathml',
  throwOnError: false,
  trust: false,
  strict: 'ignore',
  // Theme colour, set through the DOM style object (no inline style attribute for the CSP to block).
  errorColor: 'var(--vscode-errorForeground)',
  // A model can write `\rule{1000em}{1000em}` or a macro that expands forever.
  maxSize: 20,
  maxExpand: 200,
  // Macros a formula defines stay in that formula.
  globalGroup: false,
};

/**
 * Commands KaTeX renders only for trusted input (links, pictures, HTML attributes). A trajectory is never
 * trusted: a formula that uses one is shown as its source, marked, so the reviewer sees the whole command
 * (where the link pointed) instead of KaTeX's bare red command name.
 */
const untrustedCommands = /\\(href|url|includegraphics|htmlClass|htmlId|htmlStyle|htmlData)(?![A-Za-z])/;

/** The first command of `tex` that needs trust (e.g. `\href`), or undefined when there is none. */
export function untrustedCommand(tex: string): string | undefined {
  const m = untrustedCommands.exec(tex);
  return m ? `\\${m[1]}` : undefined;
}

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Index of `close` at or after `from`, stepping over backslash escapes; -1 when absent. */
function findClosing(text: string, from: number, close: string): number {
  for (let i = from; i < text.length; i++) {
    if (text.startsWith(close, i)) return i;
    if (text[i] === '\\') i++;
  }
  return -1;
}

/**
 * The end (exclusive) of an inline `$…$` formula opening at `open`, or -1 when this `$` is not one. A `$`
 * met inside that cannot close the formula ends the attempt: the formula would hold a stray `$`.
 */
function inlineDollarEnd(text: string, open: number): number {
  const first = text[open + 1];
  if (first === undefined || isSpace(first) || first === '$') return -1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') return -1;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c !== '$') continue;
    return !isSpace(text[i - 1]) && !isDigit(text[i + 1]) ? i + 1 : -1;
  }
  return -1;
}

/** Splits `text` into plain and math segments; joining every segment's text or source gives `text` back. */
export function splitMath(text: string): MathSegment[] {
  const out: MathSegment[] = [];
  let plainStart = 0;
  let formulas = 0;
  const pushMath = (start: number, end: number, open: number, close: number, display: boolean): void => {
    if (start > plainStart) out.push({ kind: 'text', text: text.slice(plainStart, start) });
    out.push({ kind: 'math', tex: text.slice(start + open, end - close), display, source: text.slice(start, end) });
    plainStart = end;
    formulas++;
  };
  const fits = (tex: string): boolean => tex.trim().length > 0 && tex.length <= maxFormulaChars;
  let i = 0;
  while (i < text.length && formulas < maxFormulasPerText) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '\\' && (next === '(' || next === '[')) {
      const close = next === '(' ? '\\)' : '\\]';
      const at = findClosing(text, i + 2, close);
      if (at >= 0 && fits(text.slice(i + 2, at))) {
        pushMath(i, at + 2, 2, 2, next === '[');
        i = at + 2;
        continue;
      }
      i += 2;
      continue;
    }
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '$' && next === '$') {
      const at = findClosing(text, i + 2, '$$');
      if (at >= 0 && fits(text.slice(i + 2, at))) {
        pushMath(i, at + 2, 2, 2, true);
        i = at + 2;
        continue;
      }
      i += 2;
      continue;
    }
    if (c === '$') {
      const end = inlineDollarEnd(text, i);
      if (end >= 0 && fits(text.slice(i + 1, end - 1))) {
        pushMath(i, end, 1, 1, false);
        i = end;
        continue;
      }
    }
    i++;
  }
  if (plainStart < text.length) out.push({ kind: 'text', text: text.slice(plainStart) });
  return out;
}

/** True when the text holds at least one formula (so the page can skip the renderer for plain text). */
export function hasMath(text: string): boolean {
  return splitMath(text).some((s) => s.kind === 'math');
}
