/**
 * Normalisation of a LaTeX math answer before comparison (METHOD §6): sizing commands, fraction
 * variants, units, `\text{}`, degrees, dollars, `x =` prefixes, fraction and square-root shorthands.
 * The result is a compact LaTeX string without spaces, so that two ways of writing the same answer
 * usually become the same string; the later rules of the cascade handle what normalisation cannot.
 */

/** Unit words removed when they follow a number, e.g. `5 \text{ cm}` or `12 inches`. Longest first. */
const unitWords = [
  'square units', 'square feet', 'square inches', 'square meters', 'square centimeters', 'square miles',
  'square yards', 'sq units', 'sq ft', 'cubic units', 'cubic feet', 'cubic inches', 'cubic meters',
  'cubic centimeters', 'units', 'unit', 'centimeters', 'centimeter', 'millimeters', 'millimeter',
  'kilometers', 'kilometer', 'meters', 'meter', 'inches', 'inch', 'feet', 'foot', 'yards', 'yard', 'miles',
  'mile', 'degrees', 'degree', 'dollars', 'dollar', 'cents', 'cent', 'hours', 'hour', 'minutes', 'minute',
  'seconds', 'second', 'days', 'day', 'weeks', 'week', 'months', 'month', 'years', 'year', 'mph', 'km/h',
  'kg', 'grams', 'gram', 'pounds', 'pound', 'ounces', 'ounce', 'liters', 'liter', 'gallons', 'gallon',
  'people', 'students', 'points', 'ways', 'times', 'cm', 'mm', 'km', 'm', 'ft', 'in', 'g', 'lb', 'lbs', 'oz',
];

function unitAlternatives(words: readonly string[]): string {
  return words.map((w) => w.replace(/[/.]/g, '\\$&').replace(/ /g, '\\s+')).join('|');
}
/** Short unit names (`m`, `in`, `g`) would eat variables if they could touch the number, so they need a space or `\text{}`. */
const shortUnits = unitWords.filter((w) => w.length <= 3);
const longUnits = unitWords.filter((w) => w.length > 3);
const unitTail = `\\s*\\}?\\s*(?:\\^?\\{?[23]\\}?)?\\s*\\}?\\s*$`;
const unitPattern = new RegExp(
  `(?<=[0-9}.)])(?:\\s*(?:\\\\(?:text|mbox|mathrm)\\{\\s*)?(?:${unitAlternatives(longUnits)})|\\s*\\\\(?:text|mbox|mathrm)\\{\\s*(?:${unitAlternatives(shortUnits)})|\\s+(?:${unitAlternatives(shortUnits)}))${unitTail}`,
  'i',
);

/** `\sqrt3` → `\sqrt{3}`, `\sqrt 2x` → `\sqrt{2}x`. */
function braceSqrtArguments(s: string): string {
  return s.replace(/\\sqrt\s*(?![{[])([0-9a-zA-Z])/g, '\\sqrt{$1}');
}

/** `\frac12` → `\frac{1}{2}`, `\frac1{2}` → `\frac{1}{2}`, `\frac{1}2` → `\frac{1}{2}`. */
function braceFracArguments(s: string): string {
  return s
    .replace(/\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])/g, '\\frac{$1}{$2}')
    .replace(/\\frac\s*([0-9a-zA-Z])\s*\{/g, '\\frac{$1}{')
    .replace(/\\frac\s*(\{[^{}]*\})\s*([0-9a-zA-Z])/g, '\\frac$1{$2}');
}

/** Replaces `\text{…}`-like wrappers by their content, innermost first. */
function unwrapTextCommands(s: string): string {
  let prev: string;
  do {
    prev = s;
    s = s.replace(/\\(?:text|textbf|textit|mbox|mathrm|mathbf|mathit|operatorname)\s*\{([^{}]*)\}/g, '$1');
  } while (s !== prev);
  return s;
}

/** A simple `a/b` with integer parts becomes `\frac{a}{b}` (so that it meets the LaTeX form of the gold). */
function slashToFrac(s: string): string {
  const m = /^(-?)(\d+)\/(\d+)$/.exec(s);
  return m ? `${m[1]}\\frac{${m[2]}}{${m[3]}}` : s;
}

/**
 * Removes a short left-hand side such as `x =`, `y=`, `k =`, `f(x) =`: the answer is what follows the
 * last top-level `=` when the left side is one variable or one function application. Equations with a
 * longer left side (`x + y = 3`) are left alone: they are answers in their own right.
 */
function dropVariablePrefix(s: string): string {
  const eq = s.lastIndexOf('=');
  if (eq < 0) return s;
  const lhs = s.slice(0, eq).trim();
  if (/[<>]$/.test(lhs) || /^[<>!]/.test(s.slice(eq + 1))) return s; // `\le`, `>=`, `!=` are relations
  if (/^(?:\\?[a-zA-Z]{1,2}(?:_\{?[0-9a-zA-Z]+\}?)?(?:\([a-zA-Z, ]*\))?|\\[a-zA-Z]+)$/.test(lhs)) {
    return s.slice(eq + 1).trim();
  }
  return s;
}

/** A thousands-separated integer (`1,000,000`) loses its commas; a tuple such as `(1,000, 2)` is not touched. */
function dropThousandsSeparators(s: string): string {
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) return s.replace(/,/g, '');
  if (/^-?\d{1,3}(?:\{,\}\d{3})+(?:\.\d+)?$/.test(s)) return s.replace(/\{,\}/g, '');
  return s;
}

const smallNumberWords: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const scaleWords: Readonly<Record<string, number>> = { thousand: 1e3, million: 1e6, billion: 1e9 };

/**
 * An answer written wholly in English number words (`five`, `twenty-one`, `three hundred and two`) as
 * digits; undefined when any word is not a number word, so `five apples` or `one of them` stay text.
 */
export function numberFromWords(text: string): string | undefined {
  const words = text.toLowerCase().replace(/-/g, ' ').trim().split(/\s+/).filter((w) => w !== 'and');
  if (words.length === 0 || words[0] === '') return undefined;
  let total = 0;
  let current = 0;
  let sawNumber = false;
  for (const w of words) {
    if (w in smallNumberWords) {
      current += smallNumberWords[w];
      sawNumber = true;
    } else if (w === 'hundred') {
      current = (current || 1) * 100;
      sawNumber = true;
    } else if (w in scaleWords) {
      total += (current || 1) * scaleWords[w];
      current = 0;
      sawNumber = true;
    } else {
      return undefined;
    }
  }
  return sawNumber ? String(total + current) : undefined;
}

/**
 * Normalises a math answer (already taken out of its box). Idempotent: normalising twice gives the
 * same string as normalising once.
 */
export function normalizeMathAnswer(raw: string): string {
  let s = raw.trim();
  // Math-mode delimiters around the whole answer.
  s = s.replace(/^\$+|\$+$/g, '').replace(/^\\\(|\\\)$/g, '').replace(/^\\\[|\\\]$/g, '');
  s = s.replace(/\n/g, ' ');
  // `\\ ` in a matrix is a row break followed by a space, not a spacing command.
  s = s.replace(/(?<!\\)\\!/g, '').replace(/(?<!\\)\\[,;: ]/g, ' ').replace(/~/g, ' ');
  s = s.replace(/\\displaystyle/g, '');
  // Sizing commands.
  s = s.replace(/\\left\s*\\?([([{|.]|\\\{|\\lbrace|\\langle)?/g, (_m, d: string | undefined) => (d === '.' ? '' : (d ?? '')));
  s = s.replace(/\\right\s*\\?([)\]}|.]|\\\}|\\rbrace|\\rangle)?/g, (_m, d: string | undefined) => (d === '.' ? '' : (d ?? '')));
  s = s.replace(/\\(?:big|Big|bigg|Bigg)[lr]?/g, '');
  s = s.replace(/\\lbrace/g, '\\{').replace(/\\rbrace/g, '\\}');
  // Fraction variants.
  s = s.replace(/\\[dt]frac/g, '\\frac');
  // Degrees.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}/g, '').replace(/\^\s*\\circ/g, '').replace(/\\circ/g, '').replace(/°/g, '');
  // Dollars and percent.
  s = s.replace(/\\\$/g, '').replace(/\$/g, '');
  s = s.replace(/\\%/g, '').replace(/%/g, '');
  // Units after a number (possibly inside \text{}), repeatedly (`5 \text{ cm}^2`).
  for (let i = 0; i < 3; i++) {
    const next = s.replace(unitPattern, '');
    if (next === s) break;
    s = next.trim();
  }
  s = unwrapTextCommands(s);
  s = s.replace(/(?<!\\)\\(?:,|;|:|quad|qquad)/g, ' ');
  // Words some answers carry.
  s = s.replace(/^(?:the answer is|answer:|ans:)\s*/i, '');
  s = numberFromWords(s.replace(/\s*\.\s*$/, '')) ?? s;
  s = s.replace(/\binfinity\b/gi, '\\infty').replace(/\binf\b/g, '\\infty');
  s = s.replace(/\s*\.\s*$/, '');
  s = dropVariablePrefix(s);
  s = braceSqrtArguments(s);
  s = braceFracArguments(s);
  // Leading-dot decimals: `.5` → `0.5`, `-.5` → `-0.5`, `{.5}` → `{0.5}`.
  s = s.replace(/(^|[\s{(,\-+=])\.(\d)/g, '$10.$2');
  // Spaces go, except one after a command that a letter follows (`\pi r` must not become `\pir`).
  s = s.replace(/(\\[a-zA-Z]+)\s+(?=[a-zA-Z])/g, '$1\u241f');
  s = s.replace(/\s+/g, '').replace(/\u241f/g, ' ');
  s = dropThousandsSeparators(s);
  s = slashToFrac(s);
  // A trailing `.0` on an integer (`12.0`, `12.00`) says the same as `12`.
  s = s.replace(/^(-?\d+)\.0+$/, '$1');
  return s;
}
