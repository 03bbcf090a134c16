import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { SandboxPool, startEpisode } from '../../../src/sandbox/index';
import { killAll, liveProcessesWithMarker, waitUntilGone, waitUntilRunning } from './processScan';

function uniqueSleepSeconds(): string {
  // A unique, harmless argument lets the test find exactly the processes it started.
  return `${1000 + Math.floor(Math.random() * 1000)}.${randomUUID().replace(/\D/g, '').slice(0, 9)}`;
}

function spawnSleeper(seconds: string): string {
  return `import subprocess\np = subprocess.Popen(["sleep", "${seconds}"])\n`;
}

void describe('episode lifecycle', () => {
  void it('cancels a running step by AbortSignal, killing the worker and its children', async () => {
    const episode = await startEpisode({ allowedImports: null });
    const marker = uniqueSleepSeconds();
    const stepMarker = uniqueSleepSeconds();
    try {
      await episode.exec(`${spawnSleeper(marker)}kept = 1`);
      assert.equal((await liveProcessesWithMarker(marker)).length, 1);
      const controller = new AbortController();
      // the step starts a sleeper of its own and waits for it: once that sleeper runs, the step is running
      const running = episode.exec(`${spawnSleeper(stepMarker)}p.wait()`, controller.signal);
      const settled = running.then(
        () => 'the step finished',
        (err: Error) => `the step failed: ${err.message}`,
      );
      const inStep = await Promise.race([waitUntilRunning(stepMarker), settled]);
      assert.equal(typeof inStep === 'string' ? inStep : inStep.length, 1, 'the step is running');
      controller.abort(new Error('user pressed stop'));
      const started = Date.now();
      await assert.rejects(running, /user pressed stop/);
      assert.ok(Date.now() - started < 5000);
      assert.deepEqual(await waitUntilGone(marker), []);
      assert.deepEqual(await waitUntilGone(stepMarker), [], 'the step\'s own child is gone too');
      // The episode is usable again, with a fresh state.
      const after = await episode.exec('"kept" in globals()');
      assert.equal(after.lastValue, 'False');
    } finally {
      await episode.close();
      killAll([...(await liveProcessesWithMarker(marker)), ...(await liveProcessesWithMarker(stepMarker))]);
    }
  });

  void it('leaves no process behind when the episode closes, and removes its work folder', async () => {
    const episode = await startEpisode({ allowedImports: null });
    const marker = uniqueSleepSeconds();
    await episode.exec(spawnSleeper(marker));
    await episode.runCandidates(['a = 1', 'a = 2'], 'isolated');
    const folder = episode.workFolderPath;
    assert.ok(folder);
    await episode.close();
    assert.deepEqual(await waitUntilGone(marker), []);
    await assert.rejects(access(folder));
    await assert.rejects(episode.exec('1'), /closed/);
  });

  void it('resets to a fresh state and an empty work folder', async () => {
    const episode = await startEpisode({ allowedImports: null });
    try {
      await episode.exec('x = 41\nopen("note.txt", "w").write("hello")');
      assert.equal((await episode.exec('open("note.txt").read()')).lastValue, 'hello');
      await episode.reset();
      assert.equal((await episode.exec('"x" in globals()')).lastValue, 'False');
      assert.equal((await episode.exec('import os\nos.path.exists("note.txt")')).lastValue, 'False');
    } finally {
      await episode.close();
    }
  });

  void it('hands out pre-started, fresh episodes from the pool and stops idle workers on close', async () => {
    const pool = new SandboxPool({}, 2);
    await pool.warm();
    const started = Date.now();
    const first = await pool.acquire();
    const acquireMs = Date.now() - started;
    const second = await pool.acquire();
    try {
      await first.exec('mine = 1');
      assert.equal((await second.exec('"mine" in globals()')).lastValue, 'False');
      // A warm pool hands over a running worker: no Python start-up on the caller's path.
      assert.ok(acquireMs < 50, `acquire took ${acquireMs} ms`);
    } finally {
      await first.close();
      await second.close();
      await pool.close();
    }
  });
});
