import { type Compatibility } from './compatibility';
import { type ExecError, type ExecOutcome, type SyntaxErrorPosition } from './execOutcome';

/**
 * The observation turns the model reads after each step, in the shapes of METHOD §2. These are protocols
 * the students learn, so the structure (labels, line breaks, limits) is fixed; the retry sentence and the
 * truncation marker are our own wording.
 */

/** Print output kept in an observation (head and tail around a marker). */
export const PRINT_OUTPUT_LIMIT = 50_000;
/** `str()` of the last expression kept in an observation (head and tail around a marker). */
export const LAST_VALUE_LIMIT = 20_000;

/** Appended after every error observation: what the model should do next. */
export const RETRY_INSTRUCTION =
  'Fix the cause of this error and try again with changed code; if the same approach keeps failing, take a different one.';

/**
 * Keeps the first and last `limit / 2` characters of `text` around a marker that says how much was cut.
 * Texts within the limit are returned unchanged.
 */
export function truncateHeadTail(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  const omitted = text.length - 2 * half;
  return `${text.slice(0, half)}\n[... ${omitted} characters cut here to keep this under ${limit} characters ...]\n${text.slice(text.length - half)}`;
}

function callIdLine(callNumber: number): string {
  return `Call id: call_${callNumber}\n`;
}

/** `Call id: call_<k>\nObservation:\nExecution logs:\n<prints>Last output from code snippet:\n<last>` */
export function formatSuccessObservation(outcome: Pick<ExecOutcome, 'printOutput' | 'lastValue'>, callNumber: number): string {
  return (
    `${callIdLine(callNumber)}Observation:\nExecution logs:\n${truncateHeadTail(outcome.printOutput, PRINT_OUTPUT_LIMIT)}` +
    `Last output from code snippet:\n${truncateHeadTail(outcome.lastValue, LAST_VALUE_LIMIT)}`
  );
}

/** What shapes an observation beside the outcome itself. */
export interface ObservationOptions {
  /** Whose rules the text follows where the studio and the reference differ (default `studio`). */
  compatibility?: Compatibility;
}

/** The text the SAG vote compares for an outcome: what the code printed to stdout (never stderr warnings). */
export function voteOutputOf(outcome: Pick<ExecOutcome, 'printOutput' | 'stdoutOutput'>): string {
  return outcome.stdoutOutput ?? outcome.printOutput;
}

/**
 * The studio's caret line: spaces (tabs kept, so the caret lines up however tabs are shown) up to the column
 * the parser points at. Columns count code points, as Python's do.
 */
function caretUnder(line: string, offset: number): string {
  const before = Array.from(line).slice(0, Math.max(0, offset - 1));
  return `${before.map((c) => (c === '\t' ? '\t' : ' ')).join('')}^`;
}

/** `Code parsing failed on line <n> due to: <Type>` then the line, a caret line and the parser's message. */
function parseErrorText(error: ExecError, syntax: SyntaxErrorPosition | undefined, compatibility: Compatibility): string {
  if (compatibility === 'reference' && syntax) {
    // The reference pastes Python's line as it is (no newline is added when Python's text has none, so the
    // caret then follows on the same line) and indents the caret by the 1-based offset: one column to the right.
    return (
      `Code parsing failed on line ${error.line ?? 'None'} due to: ${error.type}\n` +
      `${syntax.text ?? 'None'}${' '.repeat(syntax.offset ?? 0)}^\nError: ${error.message}`
    );
  }
  const lines = [`Code parsing failed on line ${error.line ?? 1} due to: ${error.type}`];
  const line = syntax?.text?.replace(/\r?\n$/, '') ?? error.statement;
  if (line) {
    lines.push(line);
    if (syntax?.offset !== undefined && syntax.text !== undefined) lines.push(caretUnder(line, syntax.offset));
  }
  lines.push(`Error: ${error.message}`);
  return lines.join('\n');
}

/**
 * The error text of METHOD §2:
 * - parse errors: `Code parsing failed on line <n> due to: SyntaxError`, the offending line, a caret line
 *   under the column (when the outcome's `syntaxError` says where), and the parser's message;
 * - execution errors: `Code execution failed at line '<statement>' due to: <Type>: <message>`;
 * - a state loss (wall-clock kill, crash) adds a sentence saying that earlier variables are gone.
 */
export function formatErrorText(error: ExecError, syntax?: SyntaxErrorPosition, options: ObservationOptions = {}): string {
  if (error.kind === 'parse') return parseErrorText(error, syntax, options.compatibility ?? 'studio');
  const where = error.statement ? ` at line '${error.statement}'` : '';
  let text = `Code execution failed${where} due to: ${error.type}: ${error.message}`;
  if (error.stateLost) {
    text += '\nThe Python state was reset: variables, functions and imports from earlier steps no longer exist.';
  }
  return text;
}

/**
 * The error turn: `Call id: call_<k>\nError:\n<error text>\n<retry instruction>\n`. A Python syntax error
 * carries the `Call id` line too (the reference records the call before it runs the code); only a reply with no
 * code at all has none, and the agent loop writes that turn itself. When an execution error follows some
 * printing, the printed logs come first as an observation, as the reference shows them; a parse error never
 * repeats an earlier step's output (the reference does, METHOD §9; neither profile inherits that).
 */
export function formatErrorObservation(
  outcome: Pick<ExecOutcome, 'printOutput' | 'syntaxError'> & { error: ExecError },
  callNumber: number,
  options: ObservationOptions = {},
): string {
  const errorTurn = `${callIdLine(callNumber)}Error:\n${formatErrorText(outcome.error, outcome.syntaxError, options)}\n${RETRY_INSTRUCTION}\n`;
  if (outcome.error.kind === 'parse') return errorTurn;
  const logs = outcome.printOutput
    ? `${callIdLine(callNumber)}Observation:\nExecution logs:\n${truncateHeadTail(outcome.printOutput, PRINT_OUTPUT_LIMIT)}`
    : '';
  return `${logs}${errorTurn}`;
}

/** The observation turn for one executed step: the error shape when it failed, the success shape otherwise. */
export function formatObservation(outcome: ExecOutcome, callNumber: number, options: ObservationOptions = {}): string {
  if (outcome.error) return formatErrorObservation({ printOutput: outcome.printOutput, syntaxError: outcome.syntaxError, error: outcome.error }, callNumber, options);
  return formatSuccessObservation(outcome, callNumber);
}
