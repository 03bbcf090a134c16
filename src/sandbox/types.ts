import { type RetrievedPassage } from '../retrieval/types';
import { type Compatibility } from '../trajectory/compatibility';
import { type ExecOutcome } from '../trajectory/execOutcome';

// What an execution produced is stored in every trajectory, so the data model owns those types; the sandbox's
// contract re-exports them for its callers.
export type { ExecError, ExecErrorKind, ExecOutcome, SyntaxErrorPosition, WebSearchCall } from '../trajectory/execOutcome';

/**
 * The contract between the agent loop and the Python sandbox. The sandbox implementation lives in this
 * folder; the agent loop (src/agent/) and the editor's re-execution use only these types.
 */

/** How SAG candidates are executed: each in its own copy of the state, or one after another in one state (the reference's behaviour). */
export type CandidateIsolation = 'isolated' | 'shared';

/** One candidate's execution from a `runCandidates` call. */
export interface CandidateExecution {
  outcome: ExecOutcome;
}

/** A persistent Python state for one agent episode (one question). */
export interface PythonEpisode {
  /** Which isolation is actually in force, e.g. `bwrap` or `rlimits`. */
  readonly isolation: string;
  /** Which rules the outcomes follow (last value, logs); absent means `studio`. Optional for test doubles. */
  readonly compatibility?: Compatibility;
  exec(code: string, signal?: AbortSignal): Promise<ExecOutcome>;
  /**
   * Executes each candidate from the current state. With `isolated`, no candidate sees another's side
   * effects and the episode state is unchanged until `adoptCandidate` is called. With `shared`, candidates
   * run one after another in the episode state itself (state changes leak, as in the reference).
   */
  runCandidates(codes: readonly string[], isolation: CandidateIsolation, signal?: AbortSignal): Promise<CandidateExecution[]>;
  /** Makes candidate `index` of the last `runCandidates` call the episode's state, without re-running it. */
  adoptCandidate(index: number): Promise<void>;
  /** Throws the episode's state away (variables, imports, work folder) and starts a fresh worker. Optional for test doubles. */
  reset?(): Promise<void>;
  /** Ends the episode: kills the worker's process group and removes its work folder. */
  close(): Promise<void>;
}

/** Host side of the `web_search` tool, called from inside the sandbox. */
export type WebSearchHandler = (query: string, signal?: AbortSignal) => Promise<RetrievedPassage[]>;
