import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/** What the symbolic check concluded for one pair of expressions. */
export interface SymbolicResult {
  /** `undefined` when the check could not decide (timeout, parse error, no Python). */
  equal: boolean | undefined;
  /** `structural` (same expression tree), `simplify` (`simplify(a-b) == 0`), `numeric` (evaluation), or why it failed. */
  method: 'structural' | 'simplify' | 'numeric' | 'timeout' | 'error' | 'unavailable';
  error?: string;
  /**
   * `|a − b| / max(|a|, |b|)` when both sides were evaluated as numbers (method `numeric`): `equal` applies the
   * studio's tolerance (1e-6); the reference-compatible scorer applies its own (1e-4) to the same figure.
   */
  relativeDifference?: number;
}

/** Decides whether two sympy-syntax expressions are equal. Implementations bound each check in time. */
export interface SymbolicEquality {
  check(a: string, b: string, signal?: AbortSignal): Promise<SymbolicResult>;
  /** Stops any helper process. Safe to call more than once. */
  close(): Promise<void>;
}

export interface SympyCheckerOptions {
  /** Python interpreter with sympy; default `python3`. */
  python?: string;
  /** The helper script; default: `media/python/sympy_equivalence.py` of this installation. */
  scriptPath?: string;
  /** Time one check may take inside Python (METHOD §6: 1 s). */
  timeoutMs?: number;
  /** How long the helper may take to start (importing sympy takes about 0.3–1 s). */
  startTimeoutMs?: number;
}

interface ReplyLine {
  id?: number;
  ready?: boolean;
  equal?: boolean | null;
  method?: string;
  error?: string;
  relative_difference?: number;
}

const knownMethods = new Set<SymbolicResult['method']>(['structural', 'simplify', 'numeric', 'timeout', 'error']);

/** Finds the helper script both from the sources (`src/scoring/`) and from the bundle (`dist/`). */
async function defaultScriptPath(): Promise<string> {
  const candidates = [
    path.resolve(__dirname, '../../media/python/sympy_equivalence.py'),
    path.resolve(__dirname, '../media/python/sympy_equivalence.py'),
  ];
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next layout
    }
  }
  throw new Error(`the sympy helper script is missing (looked in ${candidates.join(', ')})`);
}

/**
 * Runs sympy in one long-lived Python helper process, one check at a time. The helper interrupts a check
 * after `timeoutMs` itself; if it stops answering (stuck in C code), Node kills it and the next check
 * starts a fresh one. The expressions reaching the helper are produced by {@link latexToSympy} and
 * re-checked token by token in Python, because sympy's parser evaluates its input.
 */
export class SympyChecker implements SymbolicEquality {
  private child: ChildProcessWithoutNullStreams | undefined;
  private starting: Promise<ChildProcessWithoutNullStreams> | undefined;
  private readonly pending = new Map<number, (reply: ReplyLine) => void>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private unavailable: string | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: SympyCheckerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  check(a: string, b: string, signal?: AbortSignal): Promise<SymbolicResult> {
    const run = this.queue.then(() => this.checkNow(a, b, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async checkNow(a: string, b: string, signal?: AbortSignal): Promise<SymbolicResult> {
    if (signal?.aborted) return { equal: undefined, method: 'error', error: 'cancelled' };
    if (this.unavailable) return { equal: undefined, method: 'unavailable', error: this.unavailable };
    let child: ChildProcessWithoutNullStreams;
    try {
      child = await this.ensureStarted();
    } catch (err) {
      this.unavailable = err instanceof Error ? err.message : String(err);
      return { equal: undefined, method: 'unavailable', error: this.unavailable };
    }
    const id = this.nextId++;
    const reply = await new Promise<ReplyLine | 'killed'>((resolve) => {
      // The helper's own alarm should answer first; this is the backstop for code stuck in C.
      const backstop = setTimeout(() => {
        this.pending.delete(id);
        this.kill(child);
        resolve('killed');
      }, this.timeoutMs + 2000);
      const onAbort = () => {
        clearTimeout(backstop);
        this.pending.delete(id);
        this.kill(child);
        resolve('killed');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, (line) => {
        clearTimeout(backstop);
        signal?.removeEventListener('abort', onAbort);
        resolve(line);
      });
      child.stdin.write(`${JSON.stringify({ id, a, b, timeout: this.timeoutMs / 1000 })}\n`);
    });
    if (reply === 'killed') {
      return signal?.aborted
        ? { equal: undefined, method: 'error', error: 'cancelled' }
        : { equal: undefined, method: 'timeout', error: `no answer within ${this.timeoutMs + 2000} ms; helper restarted` };
    }
    const method = knownMethods.has(reply.method as SymbolicResult['method']) ? (reply.method as SymbolicResult['method']) : 'error';
    return {
      equal: typeof reply.equal === 'boolean' ? reply.equal : undefined,
      method,
      error: reply.error,
      ...(typeof reply.relative_difference === 'number' ? { relativeDifference: reply.relative_difference } : {}),
    };
  }

  private ensureStarted(): Promise<ChildProcessWithoutNullStreams> {
    if (this.child) return Promise.resolve(this.child);
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<ChildProcessWithoutNullStreams> {
    const script = this.options.scriptPath ?? (await defaultScriptPath());
    const python = this.options.python ?? 'python3';
    const child = spawn(python, ['-u', '-I', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    return new Promise((resolve, reject) => {
      const startTimer = setTimeout(() => {
        this.kill(child);
        reject(new Error(`the sympy helper did not start within ${this.options.startTimeoutMs ?? 20000} ms`));
      }, this.options.startTimeoutMs ?? 20000);
      child.once('error', (err) => {
        clearTimeout(startTimer);
        reject(new Error(`cannot run ${python}: ${err.message}`));
      });
      child.once('exit', (code, sig) => {
        clearTimeout(startTimer);
        if (this.child === child) this.child = undefined;
        for (const [id, settle] of this.pending) {
          this.pending.delete(id);
          settle({ id, equal: null, method: 'error', error: `the sympy helper exited (${sig ?? code ?? 'unknown'})` });
        }
        reject(new Error(`the sympy helper exited before it was ready (${sig ?? code}): ${stderr.trim() || 'no message'}`));
      });
      createInterface({ input: child.stdout }).on('line', (text) => {
        let line: ReplyLine;
        try {
          line = JSON.parse(text) as ReplyLine;
        } catch {
          return; // not a protocol line
        }
        if (line.ready) {
          clearTimeout(startTimer);
          this.child = child;
          resolve(child);
          return;
        }
        if (typeof line.id === 'number') {
          const settle = this.pending.get(line.id);
          this.pending.delete(line.id);
          settle?.(line);
        }
      });
    });
  }

  private kill(child: ChildProcessWithoutNullStreams): void {
    if (this.child === child) this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    const child = this.child ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
      // The helper leaves on end of input; a stuck one is killed.
      setTimeout(() => child.kill('SIGKILL'), 500).unref();
    });
  }
}

/**
 * Remembers each question's answer, so that two scorers asking the same symbolic question about one answer
 * (the studio and the reference-compatible profile usually do) pay for one sympy call. Cancelled or failed
 * checks are not remembered. Closing it forgets the answers; the wrapped checker stays open (its owner closes it).
 */
export class MemoizedSymbolicEquality implements SymbolicEquality {
  private readonly answers = new Map<string, Promise<SymbolicResult>>();
  /** How many checks reached the wrapped checker (the others were answered from memory). */
  calls = 0;

  constructor(private readonly inner: SymbolicEquality) {}

  check(a: string, b: string, signal?: AbortSignal): Promise<SymbolicResult> {
    const key = `${a}\u0000${b}`;
    const known = this.answers.get(key);
    if (known) return known;
    this.calls++;
    const answer = this.inner.check(a, b, signal);
    this.answers.set(key, answer);
    answer.then(
      (r) => {
        if (r.method === 'error' || r.method === 'unavailable') this.answers.delete(key);
      },
      () => this.answers.delete(key),
    );
    return answer;
  }

  close(): Promise<void> {
    this.answers.clear();
    return Promise.resolve();
  }
}
