import { readdir, readFile } from 'node:fs/promises';

/**
 * Live (non-zombie) processes whose command line contains `marker`, found through /proc so that processes
 * inside a PID namespace are seen too. Tests give each spawned process a unique marker argument.
 */
export async function liveProcessesWithMarker(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`)).toString('utf8').replaceAll('\0', ' ');
      if (!cmdline.includes(marker)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z') found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Polls until a live process carries `marker` (a process the code under test starts), for at most `timeoutMs`. */
export async function waitUntilRunning(marker: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let live = await liveProcessesWithMarker(marker);
  while (!live.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    live = await liveProcessesWithMarker(marker);
  }
  return live;
}

/** Polls until no live process carries `marker` (the kernel needs a moment to finish a SIGKILL). */
export async function waitUntilGone(marker: string, timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let live = await liveProcessesWithMarker(marker);
  while (live.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    live = await liveProcessesWithMarker(marker);
  }
  return live;
}

/** Kills leftovers a test found (a documented gap must not leak into the next test). */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
