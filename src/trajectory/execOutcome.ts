import { type RetrievedPassage } from '../retrieval/types';

/**
 * What one execution of model-written code produced: the sandbox returns it (`src/sandbox/types.ts` re-exports
 * these types as part of its contract), the agent loop formats it (`observationFormat.ts`) and every trajectory
 * stores it (`observationSchema` in `schema.ts` mirrors `ExecOutcome`).
 */

export type ExecErrorKind =
  /** The code did not parse (SyntaxError / IndentationError). */
  | 'parse'
  /** The code raised an exception; state is kept. */
  | 'execution'
  /** The per-step CPU budget ran out inside Python; state is kept. */
  | 'timeout'
  /** The wall-clock limit killed the worker (code stuck in C); the episode's state is lost. */
  | 'killed'
  /** The worker died (segfault, memory limit); the episode's state is lost. */
  | 'crash'
  /** The import allowlist or another policy refused the code. */
  | 'policy';

export interface ExecError {
  kind: ExecErrorKind;
  /** Python exception type, e.g. `ZeroDivisionError`, `SyntaxError`, `StepTimeout`. */
  type: string;
  message: string;
  /** 1-based line of the failing statement within the executed code, when known. */
  line?: number;
  /** Source of the failing top-level statement, when known. */
  statement?: string;
  /** True when the worker had to be restarted and the episode's variables are gone. */
  stateLost?: boolean;
}

export interface WebSearchCall {
  query: string;
  passages: RetrievedPassage[];
  /** Set when the retrieval backend failed; the model saw this message as the tool's exception. */
  error?: string;
}

/**
 * Where Python's parser stopped, for the caret line of a parse-error observation. Kept on the outcome, not in
 * `ExecError`: trajectories store the observation text with the caret it produced, not the position.
 */
export interface SyntaxErrorPosition {
  /** The source line as Python gives it in `SyntaxError.text` (a trailing newline kept when Python has one). */
  text?: string;
  /** `SyntaxError.offset`: the 1-based column the parser points at. */
  offset?: number;
}

/** What one execution of model-written code produced. */
export interface ExecOutcome {
  /**
   * The execution logs the observation shows, after the output cap. `studio`: everything the code printed,
   * stdout and stderr (warnings) interleaved. `reference`: stdout only, as the reference shows only print output.
   */
  printOutput: string;
  /** Characters of `printOutput` in total, before the cap. */
  printedChars: number;
  /**
   * `str()` of the step's last value. `studio`: the last top-level expression's value, `"None"` when the code
   * ends with any other statement. `reference`: the last top-level statement's value by the reference
   * interpreter's rules (an assignment's value, a loop's last body value, a `def`'s function...).
   */
  lastValue: string;
  /**
   * What the code printed to stdout, set only when `printOutput` holds more than that (stderr text or bytes
   * written straight to the process's output). The SAG vote compares stdout: a warning never splits a vote.
   */
  stdoutOutput?: string;
  /** What went to stderr or straight to the process's file descriptors, when anything did. Under `reference` it is not in `printOutput`. */
  stderrOutput?: string;
  /** For a Python syntax error: the parser's line and column (see {@link SyntaxErrorPosition}). */
  syntaxError?: SyntaxErrorPosition;
  error?: ExecError;
  /** Set when the code called `final_answer(x)`: `str(x)`. Execution stopped at that call. */
  finalAnswer?: string;
  webSearchCalls: WebSearchCall[];
  durationMs: number;
}
