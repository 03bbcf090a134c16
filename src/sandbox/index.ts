import { SandboxEpisode } from './episode';
import { type EpisodeOptions, prepareSandbox } from './prepare';

/**
 * The Python sandbox: a persistent, isolated CPython worker per agent episode.
 *
 * - `types.ts`: the contract the agent loop uses (`PythonEpisode`, `ExecOutcome`).
 * - `../trajectory/observationFormat.ts` (re-exported here): the observation text the model reads (METHOD §2
 *   shapes, head/tail truncation).
 *   The `compatibility` option (`EpisodeOptions`, `ObservationOptions`) chooses the studio's rules or the
 *   reference's for the last value, the execution logs (stderr shown or not) and the syntax-error caret.
 * - `prepare.ts`: options → interpreter (`interpreter.ts`, probed once) + isolation (`isolation.ts`:
 *   bubblewrap probe, the mode a setting gets, the launch plan with its mounts and cleared environment).
 * - `episode.ts`: one episode's state; queues its operations; restarts the worker after a kill or crash
 *   and says the state is lost; SAG candidates by fork (or by replay where fork does not exist).
 * - `sandboxWorker.ts`: the worker process (its own process group) and the JSON-lines protocol on fds 3/4,
 *   with the wall-clock kill, cancellation and tool calls (`web_search` answered by the host).
 * - `media/python/sandbox_worker.py`: the worker itself: rlimits, CPU/wall timers that interrupt Python
 *   without losing state, capped output capture, the import policy, forked candidates and adoption.
 * - `pool.ts`: pre-started episodes; `environmentReport.ts`: what runs where, for the report and the CLI;
 *   `sandbox.vscode.ts`: settings and the persistent isolation warning in the status bar.
 */
export { SandboxEpisode } from './episode';
export { SandboxPool } from './pool';
export { describeSandboxEnvironment, formatSandboxEnvironment, type SandboxEnvironmentReport } from './environmentReport';
export { type IsolationMode, type IsolationSetting, SandboxUnavailableError, isolationGaps } from './isolation';
export { type PythonInterpreterInfo } from './interpreter';
export { DEFAULT_ALLOWED_IMPORTS, type EpisodeOptions, prepareSandbox, type PreparedSandbox } from './prepare';
export * from '../trajectory/observationFormat';
export type * from './types';

/**
 * Starts one agent episode: a fresh, persistent Python state in a sandboxed worker. Resolves once the worker
 * is ready. Throws `SandboxUnavailableError` when the isolation setting cannot be honoured here.
 */
export async function startEpisode(options: EpisodeOptions = {}): Promise<SandboxEpisode> {
  const prepared = await prepareSandbox(options);
  if (prepared.warning) options.onWarning?.(prepared.warning);
  return SandboxEpisode.start(prepared.launch, options.signal);
}
