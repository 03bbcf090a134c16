import { type AgentMode, type ChatCompleter, runAgentEpisode } from '../agent/agentLoop';
import { type PromptProfile } from '../agent/promptProfiles';
import { agentEpisodePool } from '../agent/episodePool';
import { type SamplingSettings } from '../llm/types';
import { type RetrievalBackend } from '../retrieval/types';
import { type CandidateExecution, type CandidateIsolation, type EpisodeOptions, type ExecOutcome, type PythonEpisode } from '../sandbox';
import { type SymbolicEquality } from '../scoring/sympyChecker';
import { type Compatibility } from '../trajectory/compatibility';
import { type EvalEpisodeRunner } from './evalRun';

export interface StudentAgentSettings {
  endpoint: ChatCompleter;
  prompt: PromptProfile;
  mode: AgentMode;
  /** Where `web_search` looks; without one the tool raises an error the model can read. */
  retrieval?: RetrievalBackend;
  maxSteps: number;
  sampling: Partial<SamplingSettings>;
  sandbox?: EpisodeOptions;
  /** Python workers started ahead of time. */
  warmEpisodes?: number;
  /** Stream model text into `model-text` events (live views). */
  streamText?: boolean;
  /** For `normalized` SAG vote keys. */
  symbolic?: SymbolicEquality;
  /** Whose rules the observations follow (the sandbox and the loop both get it). Default `studio`. */
  compatibility?: Compatibility;
}


/** Measured sandbox time, so a run can report the cost of executing candidates per step. */
export interface SandboxTiming {
  steps: number;
  execMs: number;
  /** Questions, and the time they waited for a Python worker and for it to be stopped afterwards. */
  episodes: number;
  acquireMs: number;
  closeMs: number;
}

/**
 * An episode in which a vote may be won by a candidate whose process crashed (when no candidate was valid,
 * candidate 0 is taken): such a candidate left no state to adopt, so the episode goes on from the state
 * before the step instead of failing. The run then scores the question as a sandbox crash.
 */
class CrashTolerantEpisode implements PythonEpisode {
  private last: readonly CandidateExecution[] = [];
  constructor(private readonly inner: PythonEpisode) {}
  get isolation(): string {
    return this.inner.isolation;
  }
  get compatibility(): Compatibility | undefined {
    return this.inner.compatibility;
  }
  exec(code: string, signal?: AbortSignal): Promise<ExecOutcome> {
    return this.inner.exec(code, signal);
  }
  async runCandidates(codes: readonly string[], isolation: CandidateIsolation, signal?: AbortSignal): Promise<CandidateExecution[]> {
    const executions = await this.inner.runCandidates(codes, isolation, signal);
    this.last = executions;
    return executions;
  }
  async adoptCandidate(index: number): Promise<void> {
    const error = this.last[index]?.outcome.error;
    if (error?.kind === 'crash' || error?.kind === 'killed') {
      // The candidate's process is gone; the episode keeps the state from before the step (or the fresh
      // one the sandbox started when the crash took the episode's own worker).
      return;
    }
    await this.inner.adoptCandidate(index);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The student's episodes through the product's agent loop and sandbox: a fresh Python state per question
 * from a pool of pre-started workers, greedy or SAG. `close` stops the waiting workers.
 */
export function studentEpisodeRunner(settings: StudentAgentSettings): {
  runEpisode: EvalEpisodeRunner;
  isolation: () => Promise<string>;
  /** Starts the pre-started workers now (before a run, so its first questions do not wait for Python). */
  warm: () => Promise<void>;
  timing: () => SandboxTiming;
  close: () => Promise<void>;
} {
  const retrieval = settings.retrieval;
  const compatibility = settings.compatibility ?? 'studio';
  const pool = agentEpisodePool({ ...(settings.sandbox ? { sandbox: settings.sandbox } : {}), compatibility, ...(retrieval ? { retrieval } : {}), ...(settings.warmEpisodes !== undefined ? { warmEpisodes: settings.warmEpisodes } : {}) });
  const timing: SandboxTiming = { steps: 0, execMs: 0, episodes: 0, acquireMs: 0, closeMs: 0 };
  const pendingCloses = new Set<Promise<void>>();
  const runEpisode: EvalEpisodeRunner = async ({ task, signal, onEvent }) => {
    const acquireStarted = performance.now();
    const episode = new CrashTolerantEpisode(await pool.acquire());
    timing.episodes++;
    timing.acquireMs += performance.now() - acquireStarted;
    try {
      const trajectory = await runAgentEpisode(
        {
          task,
          endpoint: settings.endpoint,
          episode,
          prompt: settings.prompt,
          originKind: 'student',
          mode: settings.mode,
          maxSteps: settings.maxSteps,
          sampling: settings.sampling,
          compatibility,
          ...(settings.streamText ? { streamText: true } : {}),
          ...(settings.symbolic ? { symbolic: settings.symbolic } : {}),
          signal,
        },
        onEvent,
      );
      for (const step of trajectory.steps) {
        timing.steps++;
        timing.execMs += step.timings?.execMs ?? 0;
      }
      return trajectory;
    } finally {
      // Stopping the worker (kill, remove its folder) need not hold up the next question; `close` waits for it.
      const closeStarted = performance.now();
      const closing = episode.close().then(
        () => {
          timing.closeMs += performance.now() - closeStarted;
        },
        () => undefined,
      );
      pendingCloses.add(closing);
      void closing.finally(() => pendingCloses.delete(closing));
    }
  };
  return {
    runEpisode,
    isolation: () => pool.isolation(),
    warm: () => pool.warm(),
    timing: () => ({ ...timing }),
    close: async () => {
      await Promise.all([...pendingCloses]);
      await pool.close();
    },
  };
}
