import { latexToSympy } from '../scoring/latexToSympy';
import { type SymbolicEquality } from '../scoring/sympyChecker';

/**
 * What the SAG vote compares. `exact` is the method's rule: the candidate's print output, byte for byte.
 * `normalized` also puts together outputs that differ only in form: trailing spaces and blank lines, how a
 * number is written (`7` / `7.0` / `7.00`, `1e3` / `1000`, `-0` / `0`), and single-line expressions that the
 * symbolic checker finds equal (`1/2` / `0.5`, `2*x+1` / `1+2*x`).
 */
export type VoteKeyMode = 'exact' | 'normalized';

/** A number as its shortest exact form; integers without a fraction part or exponent where they are exact. */
function canonicalNumber(text: string): string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  // Beyond 2^53 the float is not the integer that was printed; keep the digits.
  if (/^[-+]?\d+$/.test(text) && !Number.isSafeInteger(n)) return text.replace(/^\+/, '');
  if (Object.is(n, -0)) return '0';
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
}

// A number not glued to a word or another number (so `x2`, `v1.2.3` and dates' parts stay text).
const numberToken = /(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])/g;

/** The output with its form normalised: lines without trailing spaces, no blank lines at either end, numbers canonical. */
export function canonicalOutput(text: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trimEnd().replace(numberToken, canonicalNumber));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** A one-line arithmetic or algebraic expression the symbolic checker may compare (words are not). */
function symbolicForm(key: string): string | undefined {
  if (key.includes('\n') || key.length > 200 || !/\d/.test(key)) return undefined;
  // Letters only as single-letter variables or LaTeX commands: `pi` would read as p·i, `x = 5` is prose.
  if (/[A-Za-z]{2,}/.test(key.replace(/\\[A-Za-z]+/g, ''))) return undefined;
  return latexToSympy(key);
}

/**
 * The vote key of each output under `mode`. With `normalized`, outputs of one equivalence class share the key
 * of the first of them (its canonical form), so the vote groups them; without a symbolic checker only the
 * textual normalisation applies. An undecided symbolic check keeps the outputs apart.
 */
export async function voteKeysOf(outputs: readonly string[], mode: VoteKeyMode, symbolic?: SymbolicEquality, signal?: AbortSignal): Promise<string[]> {
  if (mode === 'exact') return [...outputs];
  const classes: { key: string; expression?: string }[] = [];
  const keys: string[] = [];
  for (const output of outputs) {
    const key = canonicalOutput(output);
    let found = classes.find((c) => c.key === key);
    if (!found && symbolic) {
      const expression = symbolicForm(key);
      if (expression !== undefined) {
        for (const c of classes) {
          if (c.expression === undefined) continue;
          if ((await symbolic.check(c.expression, expression, signal)).equal === true) {
            found = c;
            break;
          }
        }
      }
      if (!found) classes.push((found = { key, ...(expression !== undefined ? { expression } : {}) }));
    } else if (!found) {
      classes.push((found = { key }));
    }
    keys.push(found.key);
  }
  return keys;
}
