import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type RetrievedPassage } from '../retrieval/types';
import { type Compatibility } from '../trajectory/compatibility';
import { formatWebSearchResult } from '../retrieval/webSearchText';
import { type IsolationMode, type LaunchPlan } from './isolation';
import { truncateHeadTail } from '../trajectory/observationFormat';
import { type ConversationEnd, SandboxWorker, type ToolAnswer } from './sandboxWorker';
import {
  type CandidateExecution,
  type CandidateIsolation,
  type ExecError,
  type ExecOutcome,
  type PythonEpisode,
  type WebSearchCall,
  type WebSearchHandler,
} from './types';
import { type ToolCallMessage, type WorkerOutcome } from './workerMessages';

/** Everything an episode needs to (re)start its worker; built once by `startEpisode`. */
export interface EpisodeLaunch {
  mode: IsolationMode;
  /** Builds the launch plan for a work folder. */
  plan(workFolder: string): LaunchPlan;
  runAs?: { uid: number; gid: number };
  /** Folder under which the episode's work folder is created (default: the OS temp folder). */
  workFolderParent?: string;
  cpuSeconds: number;
  wallSeconds: number;
  /** Extra time the host grants past `wallSeconds` before it kills the worker (Python interrupts first). */
  killGraceSeconds: number;
  webSearch?: WebSearchHandler;
  /** Isolate SAG candidates by replaying the episode's steps in fresh workers instead of forking. */
  replayCandidates: boolean;
  /** Fork idle candidate processes ahead of the next SAG step, so it does not wait for fork(). */
  prestartCandidates: boolean;
  /** A web_search answer that takes longer fails the call (the step's clock is paused while waiting). */
  toolTimeoutSeconds: number;
  /** Whose rules the outcomes follow (the worker gets the same setting in its start-up config). */
  compatibility: Compatibility;
}

class AbortError extends Error {
  override readonly name = 'AbortError';
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new AbortError(typeof reason === 'string' ? reason : 'The Python step was cancelled');
}

/**
 * Calls the retrieval backend with a deadline: the step's clocks stop while a tool call is pending, so a
 * backend that never answers must not hold the step forever, even one that ignores its AbortSignal.
 */
function searchWithDeadline(search: WebSearchHandler, query: string, signal: AbortSignal, timeoutMs: number): Promise<RetrievedPassage[]> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const combined = AbortSignal.any([signal, deadline]);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(new Error(deadline.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : 'the step ended'));
    };
    if (combined.aborted) {
      onAbort();
      return;
    }
    combined.addEventListener('abort', onAbort, { once: true });
    search(query, combined).then(
      (passages) => {
        combined.removeEventListener('abort', onAbort);
        resolve(passages);
      },
      (err: unknown) => {
        combined.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function stateLostOutcome(kind: 'killed' | 'crash', message: string, durationMs: number, webSearchCalls: WebSearchCall[]): ExecOutcome {
  const type = kind === 'killed' ? 'WallClockTimeout' : 'WorkerCrash';
  return { printOutput: '', printedChars: 0, lastValue: 'None', error: { kind, type, message, stateLost: true }, webSearchCalls, durationMs };
}

/**
 * The host's own caps on what a worker reports. The worker caps its capture already, but it runs model
 * code that can reach into it; these bound what reaches trajectories whatever the worker sends.
 */
const HOST_PRINT_CAP = 250_000;
const HOST_LAST_VALUE_CAP = 100_000;

function toExecOutcome(outcome: WorkerOutcome, webSearchCalls: WebSearchCall[], durationMs: number, compatibility: Compatibility): ExecOutcome {
  const raw = outcome.rawOutput ?? '';
  // Under `reference` the logs are print output only; bytes written straight to fd 1/2 (C libraries) are not.
  const shownRaw = compatibility === 'reference' ? '' : raw;
  const result: ExecOutcome = {
    // Bytes written straight to fd 1/2 come after the Python-level prints (their interleaving is not kept).
    printOutput: truncateHeadTail(outcome.printOutput + shownRaw, HOST_PRINT_CAP),
    printedChars: outcome.printedChars + shownRaw.length,
    lastValue: truncateHeadTail(outcome.lastValue, HOST_LAST_VALUE_CAP),
    webSearchCalls,
    durationMs,
  };
  if (outcome.stdoutOutput !== undefined || shownRaw) {
    result.stdoutOutput = truncateHeadTail(outcome.stdoutOutput ?? outcome.printOutput, HOST_PRINT_CAP);
  }
  const stderr = (outcome.stderrOutput ?? '') + raw;
  if (stderr) result.stderrOutput = truncateHeadTail(stderr, HOST_PRINT_CAP);
  if (outcome.syntax) {
    result.syntaxError = {
      ...(outcome.syntax.text !== null ? { text: truncateHeadTail(outcome.syntax.text, HOST_LAST_VALUE_CAP) } : {}),
      ...(outcome.syntax.offset !== null ? { offset: outcome.syntax.offset } : {}),
    };
  }
  if (outcome.error) {
    const { offset: _offset, ...error } = outcome.error;
    result.error = error satisfies ExecError;
  }
  if (outcome.finalAnswer !== undefined) result.finalAnswer = outcome.finalAnswer;
  return result;
}

/** What the last `runCandidates` left behind for `adoptCandidate`. */
type PendingCandidates =
  | { kind: 'forked'; count: number; codes: readonly string[] }
  | { kind: 'replayed'; workers: (SandboxWorker | undefined)[]; codes: readonly string[] }
  | { kind: 'shared'; count: number };

/**
 * One agent episode's persistent Python state, in a sandboxed worker process. Operations run one at a time
 * (callers may still issue them concurrently; they queue). A wall-clock kill or a crash loses the state: the
 * outcome says so, and the next call starts a fresh worker.
 */
export class SandboxEpisode implements PythonEpisode {
  readonly isolation: IsolationMode;
  readonly compatibility: Compatibility;
  private worker: SandboxWorker | undefined;
  private workFolder: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pendingCandidates: PendingCandidates | undefined;
  private nextRequestId = 1;
  private closed = false;
  /** Code run in the current state, in order; only kept when candidates are isolated by replay. */
  private history: string[] = [];
  /** Answers of earlier web_search calls, so a replay does not query the index again. */
  private readonly searchAnswers = new Map<string, ToolAnswer>();

  private constructor(private readonly launch: EpisodeLaunch) {
    this.isolation = launch.mode;
    this.compatibility = launch.compatibility;
  }

  /** Creates the work folder and starts the worker; resolves once Python is ready for the first step. */
  static async start(launch: EpisodeLaunch, signal?: AbortSignal): Promise<SandboxEpisode> {
    const episode = new SandboxEpisode(launch);
    try {
      await episode.ensureWorker(signal);
    } catch (err) {
      await episode.close();
      throw err;
    }
    return episode;
  }

  /** The process id of the current worker (tests use it to check that nothing outlives the episode). */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  /** The episode's writable work folder on the host (the model sees it as its current directory). */
  get workFolderPath(): string | undefined {
    return this.workFolder;
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async createWorkFolder(): Promise<string> {
    const parent = this.launch.workFolderParent ?? os.tmpdir();
    await mkdir(parent, { recursive: true });
    const folder = await mkdtemp(path.join(parent, 'trajectory-studio-sandbox-'));
    await mkdir(path.join(folder, 'tmp'));
    if (this.launch.runAs) {
      await chown(folder, this.launch.runAs.uid, this.launch.runAs.gid);
      await chown(path.join(folder, 'tmp'), this.launch.runAs.uid, this.launch.runAs.gid);
    }
    return folder;
  }

  private async startWorker(signal?: AbortSignal): Promise<SandboxWorker> {
    this.workFolder ??= await this.createWorkFolder();
    return SandboxWorker.start(this.launch.plan(this.workFolder), { runAs: this.launch.runAs, signal });
  }

  private async ensureWorker(signal?: AbortSignal): Promise<SandboxWorker> {
    if (this.closed) throw new Error('This Python episode is closed');
    if (this.worker?.alive) return this.worker;
    this.worker = undefined;
    this.history = [];
    this.worker = await this.startWorker(signal);
    return this.worker;
  }

  private async dropPendingCandidates(): Promise<void> {
    const pending = this.pendingCandidates;
    this.pendingCandidates = undefined;
    if (pending?.kind === 'replayed') await Promise.all(pending.workers.map((w) => (w ? w.kill() : Promise.resolve())));
  }

  private toolHandler(calls: WebSearchCall[], byCandidate?: Map<number, WebSearchCall[]>) {
    return async (message: ToolCallMessage, signal: AbortSignal): Promise<ToolAnswer> => {
      const record: WebSearchCall = { query: message.query, passages: [] };
      const list = message.candidate !== undefined && byCandidate ? (byCandidate.get(message.candidate) ?? []) : calls;
      if (message.candidate !== undefined && byCandidate) byCandidate.set(message.candidate, list);
      list.push(record);
      if (!this.launch.webSearch) {
        record.error = 'web_search is not available: no retrieval index is configured for this run';
        return { ok: false, error: record.error };
      }
      try {
        const passages = await searchWithDeadline(this.launch.webSearch, message.query, signal, this.launch.toolTimeoutSeconds * 1000);
        record.passages = passages;
        const answer: ToolAnswer = { ok: true, text: formatWebSearchResult(passages) };
        if (this.launch.replayCandidates) this.searchAnswers.set(message.query, answer);
        return answer;
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
        return { ok: false, error: `web_search failed: ${record.error}` };
      }
    };
  }

  private wallMs(): number {
    return (this.launch.wallSeconds + this.launch.killGraceSeconds) * 1000;
  }

  private lostStateOutcome(end: ConversationEnd<unknown>, startedAt: number, calls: WebSearchCall[], signal?: AbortSignal): ExecOutcome {
    const durationMs = Date.now() - startedAt;
    if (end.status === 'aborted') throw abortError(signal);
    if (end.status === 'killed') {
      return stateLostOutcome(
        'killed',
        `the code ran longer than ${this.launch.wallSeconds} s of wall-clock time without returning to Python (for example inside one long numpy or C call), so the Python process was stopped`,
        durationMs,
        calls,
      );
    }
    const detail = end.status === 'crashed' ? end.detail : 'unknown';
    return stateLostOutcome('crash', `the Python process died while running the code (${detail})`, durationMs, calls);
  }

  exec(code: string, signal?: AbortSignal): Promise<ExecOutcome> {
    return this.serialize(async () => {
      await this.dropPendingCandidates();
      return this.execNow(code, signal);
    });
  }

  private async execNow(code: string, signal?: AbortSignal, worker?: SandboxWorker): Promise<ExecOutcome> {
    if (signal?.aborted) throw abortError(signal);
    const target = worker ?? (await this.ensureWorker(signal));
    const startedAt = Date.now();
    const calls: WebSearchCall[] = [];
    const id = this.nextRequestId++;
    const end = await target.converse(
      { op: 'exec', id, code, cpuSeconds: this.launch.cpuSeconds, wallSeconds: this.launch.wallSeconds },
      {
        wallMs: this.wallMs(),
        signal,
        onToolCall: this.toolHandler(calls),
        onMessage: (m) => (m.type === 'result' && m.id === id ? m.outcome : undefined),
      },
    );
    if (end.status !== 'done') {
      if (!worker) this.worker = undefined;
      return this.lostStateOutcome(end, startedAt, calls, signal);
    }
    if (!worker && this.launch.replayCandidates) this.history.push(code);
    return toExecOutcome(end.value, calls, Date.now() - startedAt, this.launch.compatibility);
  }

  runCandidates(codes: readonly string[], isolation: CandidateIsolation, signal?: AbortSignal): Promise<CandidateExecution[]> {
    return this.serialize(async () => {
      await this.dropPendingCandidates();
      if (isolation === 'shared') {
        const results: CandidateExecution[] = [];
        // The reference's behaviour: one after another in the episode state, side effects leaking.
        for (const code of codes) results.push({ outcome: await this.execNow(code, signal) });
        this.pendingCandidates = { kind: 'shared', count: codes.length };
        return results;
      }
      const worker = await this.ensureWorker(signal);
      if (this.launch.replayCandidates || !worker.hasFork) return this.runReplayedCandidates(codes, signal);
      return this.runForkedCandidates(worker, codes, signal);
    });
  }

  private async runForkedCandidates(worker: SandboxWorker, codes: readonly string[], signal?: AbortSignal): Promise<CandidateExecution[]> {
    const startedAt = Date.now();
    const id = this.nextRequestId++;
    const byCandidate = new Map<number, WebSearchCall[]>();
    const outcomes = new Map<number, { outcome: WorkerOutcome; at: number }>();
    const end = await worker.converse(
      {
        op: 'candidates',
        id,
        codes,
        cpuSeconds: this.launch.cpuSeconds,
        wallSeconds: this.launch.wallSeconds,
        keepReady: this.launch.prestartCandidates ? codes.length : 0,
      },
      {
        // The worker stops a stuck candidate itself (1 s past the wall limit); this is the backstop.
        wallMs: this.wallMs() + 2000,
        signal,
        onToolCall: this.toolHandler([], byCandidate),
        onMessage: (m) => {
          if (m.type === 'candidate_result' && m.id === id) outcomes.set(m.candidate, { outcome: m.outcome, at: Date.now() });
          return m.type === 'candidates_done' && m.id === id ? true : undefined;
        },
      },
    );
    if (end.status !== 'done') {
      this.worker = undefined;
      const lost = this.lostStateOutcome(end, startedAt, []);
      return codes.map((_code, index) => ({ outcome: { ...lost, webSearchCalls: byCandidate.get(index) ?? [] } }));
    }
    this.pendingCandidates = { kind: 'forked', count: codes.length, codes };
    return codes.map((_code, index) => {
      const got = outcomes.get(index);
      const calls = byCandidate.get(index) ?? [];
      if (!got) return { outcome: stateLostOutcome('crash', 'the candidate process gave no result', Date.now() - startedAt, calls) };
      const outcome = toExecOutcome(got.outcome, calls, got.at - startedAt, this.launch.compatibility);
      // A candidate killed by the worker loses only its own copy of the state, never the episode's.
      if (outcome.error && (outcome.error.kind === 'killed' || outcome.error.kind === 'crash')) outcome.error.stateLost = false;
      return { outcome };
    });
  }

  /** Where fork is unavailable: each candidate gets a fresh worker that first replays the episode's steps. */
  private async runReplayedCandidates(codes: readonly string[], signal?: AbortSignal): Promise<CandidateExecution[]> {
    const history = [...this.history];
    const replayAnswers = (message: ToolCallMessage): Promise<ToolAnswer> =>
      Promise.resolve(this.searchAnswers.get(message.query) ?? { ok: false, error: 'web_search answer not recorded for replay' });
    const workers: (SandboxWorker | undefined)[] = [];
    const results = await Promise.all(
      codes.map(async (code, index): Promise<CandidateExecution> => {
        let worker: SandboxWorker | undefined = await this.startWorker(signal);
        workers[index] = worker;
        for (const step of history) {
          const id = this.nextRequestId++;
          const end = await worker.converse(
            { op: 'exec', id, code: step, cpuSeconds: this.launch.cpuSeconds, wallSeconds: this.launch.wallSeconds },
            { wallMs: this.wallMs(), signal, onToolCall: replayAnswers, onMessage: (m) => (m.type === 'result' && m.id === id ? true : undefined) },
          );
          if (end.status === 'aborted') throw abortError(signal);
        }
        const outcome = await this.execNow(code, signal, worker);
        if (!worker.alive) worker = undefined;
        workers[index] = worker;
        if (outcome.error?.stateLost) outcome.error.stateLost = false;
        return { outcome };
      }),
    ).catch(async (err: unknown) => {
      await Promise.all(workers.map((w) => (w ? w.kill() : Promise.resolve())));
      throw err;
    });
    this.pendingCandidates = { kind: 'replayed', workers, codes };
    return results;
  }

  adoptCandidate(index: number): Promise<void> {
    return this.serialize(async () => {
      const pending = this.pendingCandidates;
      if (!pending) throw new Error('adoptCandidate: there are no candidates to adopt (call runCandidates first)');
      const count = pending.kind === 'replayed' ? pending.workers.length : pending.count;
      if (!Number.isInteger(index) || index < 0 || index >= count) {
        throw new Error(`adoptCandidate: candidate ${index} does not exist (the last runCandidates call had ${count})`);
      }
      if (pending.kind === 'shared') {
        this.pendingCandidates = undefined;
        return;
      }
      if (pending.kind === 'replayed') {
        const chosen = pending.workers[index];
        if (!chosen?.alive) throw new Error(`adoptCandidate: candidate ${index} lost its state (it crashed or was stopped)`);
        this.pendingCandidates = undefined;
        await Promise.all(pending.workers.map((w, i) => (i === index || !w ? Promise.resolve() : w.kill())));
        await this.worker?.kill();
        this.worker = chosen;
        this.history.push(pending.codes[index] ?? '');
        return;
      }
      const worker = this.worker;
      this.pendingCandidates = undefined;
      if (!worker?.alive) throw new Error('adoptCandidate: the Python worker is gone');
      const id = this.nextRequestId++;
      const end = await worker.converse<{ ok: true } | { ok: false; message: string }>(
        { op: 'adopt', id, index },
        {
          wallMs: 10_000,
          onToolCall: () => Promise.resolve({ ok: false, error: 'no step is running' }),
          onMessage: (m) => {
            if (m.type === 'adopted' && m.id === id) return { ok: true };
            if (m.type === 'adopt_failed' && m.id === id) return { ok: false, message: m.message };
            return undefined;
          },
        },
      );
      if (end.status !== 'done') {
        this.worker = undefined;
        throw new Error(`adoptCandidate: the Python worker failed while switching state (${end.status === 'crashed' ? end.detail : end.status}); the episode's state is lost`);
      }
      if (!end.value.ok) throw new Error(`adoptCandidate: ${end.value.message}`);
    });
  }

  /** Throws away the episode's state: a fresh worker (variables, imports) and an empty work folder. */
  reset(): Promise<void> {
    return this.serialize(async () => {
      await this.dropPendingCandidates();
      await this.worker?.kill();
      this.worker = undefined;
      if (this.workFolder) await rm(this.workFolder, { recursive: true, force: true });
      this.workFolder = undefined;
      await this.ensureWorker();
    });
  }

  close(): Promise<void> {
    this.closed = true;
    // Runs after anything queued; a queued step still running is cut short by the kill below as well.
    const killNow = this.worker?.kill();
    return this.serialize(async () => {
      await killNow;
      await this.dropPendingCandidates();
      await this.worker?.kill();
      this.worker = undefined;
      if (this.workFolder) await rm(this.workFolder, { recursive: true, force: true });
      this.workFolder = undefined;
    });
  }
}
