// A child process started in its own process group, for tests that kill a run midway: its output is kept so a
// failing test can show it, waits stop when it exits early, and the whole group is killed at the end.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** The last this many characters of the output are kept. */
const keptOutput = 64 * 1024;

export interface ProcessGroup {
  readonly child: ChildProcess;
  /** What the process printed so far (stdout and stderr interleaved, the last 64 KiB). */
  output(): string;
  /** Its standard output alone (the last 64 KiB). */
  stdout(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Polls `condition` every `intervalMs` until it holds; throws, with the process's output, if the process exits
   * first or `timeoutMs` passes.
   */
  waitUntil(condition: () => boolean, what: string, timeoutMs?: number, intervalMs?: number): Promise<void>;
  /** Waits for the process to exit by itself; after `timeoutMs` kills the group and throws with its output. */
  ended(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the whole group (the process and everything it started) and waits for the process to exit. */
  kill(): Promise<void>;
}

export function startProcessGroup(command: string, args: readonly string[], options: Omit<SpawnOptions, 'detached' | 'stdio'> = {}): ProcessGroup {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-keptOutput);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString('utf8')).slice(-keptOutput);
    keep(chunk);
  });
  child.stderr?.on('data', keep);
  let done: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve((done = { code, signal })));
    child.once('error', (err) => {
      keep(Buffer.from(`\n[spawn error] ${err.message}\n`));
      resolve((done = { code: null, signal: null }));
    });
  });
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    async waitUntil(condition, what, timeoutMs = 60_000, intervalMs = 20) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (done) throw new Error(`the process exited (${done.signal ?? done.code}) before ${what}; its output:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; the process's output:\n${output}`);
        await sleep(intervalMs);
      }
    },
    async ended(timeoutMs = 120_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (result !== 'timeout') return result;
      await this.kill();
      throw new Error(`the process did not finish within ${timeoutMs} ms; its output:\n${output}`);
    },
    async kill() {
      if (!done && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is already gone
        }
      }
      await exited;
    },
  };
}
