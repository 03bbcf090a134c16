import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type IsolationMode, type SandboxEpisode, startEpisode } from '../../../src/sandbox/index';
import { probeBubblewrap } from '../../../src/sandbox/isolation';
import { killAll, liveProcessesWithMarker, waitUntilGone, waitUntilRunning } from './processScan';
import { sandboxTestUser, type SandboxTestUser } from './unprivilegedUser';

/**
 * Hostile model code in both isolation modes, run as an unprivileged user. Each case must end within its
 * limit with an observation the model can read, and the host must be unaffected. The assertions also pin
 * down what each mode does NOT protect: the rlimits-only mode's gaps are documented behaviour, not bugs.
 */

const CPU_SECONDS = 1;
const WALL_SECONDS = 2;
const GRACE_SECONDS = 1;
const MEMORY_MB = 512;
const ROOMY_SECONDS = 30;
/** Slack for a loaded 2-core machine on top of each limit. */
const SLACK_MS = 2500;
// Debian's python3 is readable by every user (a per-user interpreter under /root would not be).
const PYTHON = process.env.TRAJECTORY_STUDIO_TEST_PYTHON ?? '/usr/bin/python3';

function py(value: string): string {
  return JSON.stringify(value);
}

for (const mode of ['bwrap', 'rlimits'] as const satisfies readonly IsolationMode[]) {
  void describe(`adversarial code in ${mode} mode`, () => {
    let user: SandboxTestUser;
    /** Set when this machine cannot run the suite; every case then skips with this visible reason. */
    let skipReason: string | undefined;
    let episode: SandboxEpisode;
    /** Generous time limits, for cases about output volume rather than time (this machine may be busy). */
    let roomy: SandboxEpisode;
    let outside: string;
    let canary: string;
    let canaryText: string;
    let listener: net.Server;
    let port: number;
    const listenerSecret = `host-secret-${randomUUID()}`;
    const apiKey = `sk-canary-${randomUUID()}`;
    let rssBefore: number;

    before(async () => {
      rssBefore = process.memoryUsage().rss;
      const found = await sandboxTestUser(PYTHON);
      if (typeof found === 'string') {
        skipReason = `no unprivileged user: ${found}`;
        return;
      }
      user = found;
      if (mode === 'bwrap') {
        const probe = await probeBubblewrap(user.runAs);
        if (!probe.available) {
          skipReason = `bubblewrap cannot run here: ${probe.reason ?? 'unknown'}`;
          return;
        }
      }
      // A private key of the user running the episode, where a real one would be.
      canaryText = `canary-key-${randomUUID()}`;
      canary = path.join(user.home, '.ssh', `id_canary_${process.pid}`);
      await mkdir(path.dirname(canary), { recursive: true, mode: 0o700 });
      await writeFile(canary, canaryText, { mode: 0o600 });
      if (user.runAs) {
        await chown(path.dirname(canary), user.runAs.uid, user.runAs.gid);
        await chown(canary, user.runAs.uid, user.runAs.gid);
      }
      // A folder outside the work folder that the user may write to.
      outside = await mkdtemp(path.join(os.tmpdir(), 'ts-adversarial-outside-'));
      await chmod(outside, 0o777);
      listener = net.createServer((socket) => socket.end(listenerSecret));
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      port = (listener.address() as net.AddressInfo).port;
      process.env.OPENAI_API_KEY = apiKey;
      episode = await startAsTestUser({
        stepCpuSeconds: CPU_SECONDS,
        wallClockSeconds: WALL_SECONDS,
        killGraceSeconds: GRACE_SECONDS,
        memoryLimitMb: MEMORY_MB,
        allowedImports: null, // the suite tests the isolation, not the import policy
      });
      assert.equal(episode.isolation, mode);
      roomy = await startAsTestUser({
        stepCpuSeconds: ROOMY_SECONDS,
        wallClockSeconds: ROOMY_SECONDS,
        memoryLimitMb: MEMORY_MB,
        allowedImports: null,
      });
    });

    after(async () => {
      if (skipReason) return;
      delete process.env.OPENAI_API_KEY;
      await episode?.close();
      await roomy?.close();
      await new Promise((resolve) => listener?.close(resolve));
      await rm(outside, { recursive: true, force: true });
      await rm(canary, { force: true });
      await rm(path.dirname(user.workerScript), { recursive: true, force: true });
      // The host survived everything above without taking on the sandbox's memory.
      assert.ok(process.memoryUsage().rss - rssBefore < 300 * 1024 * 1024, 'host memory grew by more than 300 MB');
    });

    /** An episode of this mode's isolation, run as the test user with the worker copy it can read. */
    function startAsTestUser(options: Parameters<typeof startEpisode>[0]): Promise<SandboxEpisode> {
      return startEpisode({ interpreter: PYTHON, isolation: mode, workerScript: user.workerScript, ...(user.runAs ? { runAs: user.runAs } : {}), ...options });
    }

    /** A case that skips, visibly, when the suite cannot run on this machine. */
    function adversarialCase(name: string, body: () => Promise<void>): void {
      void it(name, async (t) => {
        if (skipReason) {
          t.skip(skipReason);
          return;
        }
        await body();
      });
    }

    async function timed(code: string, limitMs: number, target: SandboxEpisode = episode) {
      const started = Date.now();
      const outcome = await target.exec(code);
      const took = Date.now() - started;
      assert.ok(took < limitMs, `took ${took} ms, limit ${limitMs} ms`);
      return outcome;
    }

    adversarialCase('interrupts an infinite Python loop at the CPU budget and keeps the state', async () => {
      await episode.exec('survivor = "kept"');
      const outcome = await timed('while True:\n    pass', WALL_SECONDS * 1000 + SLACK_MS);
      assert.equal(outcome.error?.kind, 'timeout');
      assert.equal(outcome.error?.type, 'StepTimeout');
      assert.equal((await episode.exec('survivor')).lastValue, 'kept');
    });

    adversarialCase('kills a loop stuck in C at the wall clock, says the state is lost, and recovers', async () => {
      await episode.exec('doomed = 1');
      const outcome = await timed('sum(range(10**13))', (WALL_SECONDS + GRACE_SECONDS) * 1000 + SLACK_MS);
      assert.equal(outcome.error?.kind, 'killed');
      assert.equal(outcome.error?.stateLost, true);
      assert.equal((await episode.exec('"doomed" in globals()')).lastValue, 'False');
    });

    adversarialCase('turns a memory bomb into MemoryError and can free the memory afterwards', async () => {
      const outcome = await timed('hoard = []\nwhile True:\n    hoard.append(" " * 10**6)', ROOMY_SECONDS * 1000, roomy);
      assert.equal(outcome.error?.type, 'MemoryError');
      const freed = await roomy.exec('del hoard\nimport gc\ngc.collect()\n"x" * 10**7 == "x" * 10**7');
      assert.equal(freed.lastValue, 'True');
    });

    adversarialCase('caps a fork bomb, and the forked copies never answer in the worker\'s place', async () => {
      const code = [
        'import os',
        'refused = None',
        'try:',
        '    while True:',
        '        os.fork()',
        'except OSError as error:',
        '    refused = type(error).__name__',
        'print("refused:", refused)',
      ].join('\n');
      const outcome = await timed(code, (WALL_SECONDS + GRACE_SECONDS) * 1000 + SLACK_MS);
      assert.equal(outcome.error, undefined);
      assert.match(outcome.printOutput, /^refused: (BlockingIOError|OSError)\n$/);
      assert.equal((await episode.exec('6 * 7')).lastValue, String(6 * 7));
    });

    adversarialCase('caps huge prints and counts what was printed', async () => {
      const size = 50_000_000;
      const outcome = await timed(`print("x" * ${size})`, ROOMY_SECONDS * 1000, roomy);
      assert.equal(outcome.error, undefined);
      assert.equal(outcome.printedChars, size + 1);
      assert.ok(outcome.printOutput.length < 200_000);
      const lines = 10 ** 6;
      const many = await timed(`for i in range(${lines}):\n    print(i)`, ROOMY_SECONDS * 1000, roomy);
      assert.equal(many.error, undefined);
      let expected = 0;
      for (let i = 0; i < lines; i++) expected += String(i).length + 1;
      assert.equal(many.printedChars, expected);
      assert.ok(many.printOutput.startsWith('0\n1\n2\n'));
      assert.ok(many.printOutput.endsWith(`${lines - 1}\n`));
    });

    adversarialCase('keeps the protocol intact when code writes to fd 1 and 2 directly, with the output capped', async () => {
      const outcome = await timed('import os\nos.write(1, b"y" * 20_000_000)\nos.write(2, b"direct-to-stderr\\n")\n"after"', ROOMY_SECONDS * 1000, roomy);
      assert.equal(outcome.lastValue, 'after');
      assert.ok(outcome.printOutput.length < 100_000);
      assert.ok(outcome.printOutput.startsWith('yyyy'));
      assert.ok(outcome.printOutput.endsWith('direct-to-stderr\n'));
      assert.equal((await roomy.exec('"clean"')).lastValue, 'clean');
    });

    adversarialCase(mode === 'bwrap' ? 'hides ~/.ssh and /etc/passwd' : 'does NOT hide ~/.ssh or /etc/passwd (documented gap)', async () => {
      const key = await episode.exec(`open(${py(canary)}).read()`);
      const passwd = await episode.exec('open("/etc/passwd").read()[:200]');
      if (mode === 'bwrap') {
        assert.equal(key.error?.type, 'FileNotFoundError');
        assert.equal(passwd.error?.type, 'FileNotFoundError');
      } else {
        assert.equal(key.lastValue, canaryText);
        assert.match(passwd.lastValue, /^root:/);
      }
    });

    adversarialCase(mode === 'bwrap' ? 'refuses writes outside the work folder' : 'does NOT stop writes outside the work folder (documented gap)', async () => {
      const target = path.join(outside, 'pwned.txt');
      const outcome = await episode.exec(`open(${py(target)}, "w").write("pwned")`);
      const inside = await episode.exec('open("inside.txt", "w").write("fine")\nopen("inside.txt").read()');
      assert.equal(inside.lastValue, 'fine');
      if (mode === 'bwrap') {
        assert.equal(outcome.error?.type, 'FileNotFoundError');
        await assert.rejects(access(target));
      } else {
        assert.equal(outcome.error, undefined);
        assert.equal(await readFile(target, 'utf8'), 'pwned');
      }
    });

    adversarialCase(mode === 'bwrap' ? 'has no network: a listener on 127.0.0.1 is unreachable' : 'does NOT block the network (documented gap)', async () => {
      const outcome = await timed(`import socket\nconnection = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\nconnection.recv(200).decode()`, 5000);
      if (mode === 'bwrap') {
        assert.equal(outcome.error?.type, 'ConnectionRefusedError');
      } else {
        assert.equal(outcome.lastValue, listenerSecret);
      }
    });

    adversarialCase('does not pass the host\'s environment (API keys) into the sandbox', async () => {
      const outcome = await episode.exec('import os\nsorted(k for k in os.environ if "KEY" in k or "TOKEN" in k), os.environ.get("OPENAI_API_KEY")');
      assert.equal(outcome.lastValue, '([], None)');
      assert.ok(!outcome.printOutput.includes(apiKey));
    });

    adversarialCase('survives a ctypes crash: the step reports it, the state is lost, the next step works', async () => {
      await episode.exec('before_crash = 1');
      const outcome = await timed('import ctypes\nctypes.string_at(0)', 5000);
      assert.equal(outcome.error?.kind, 'crash');
      assert.equal(outcome.error?.stateLost, true);
      assert.match(outcome.error?.message ?? '', /SIGSEGV|SIGBUS|status/);
      assert.equal((await episode.exec('"before_crash" in globals()')).lastValue, 'False');
    });

    adversarialCase('gives SAG candidates beyond the process limit a clear error and keeps the episode going', async () => {
      const limit = 10;
      const crowded = await startAsTestUser({
        processLimit: limit,
      });
      try {
        const codes = Array.from({ length: limit + 6 }, (_, i) => `v = ${i}\nv`);
        const results = await crowded.runCandidates(codes, 'isolated');
        const refused = results.filter((r) => r.outcome.error?.type === 'ProcessLimit');
        const ran = results.filter((r) => !r.outcome.error);
        // Without bubblewrap the limit is a margin above the user's live processes at start-up, which
        // earlier cases may still inflate while their processes wind down; only bwrap's limit is exact.
        if (mode === 'bwrap') assert.ok(refused.length > 0, 'some candidates hit the limit');
        assert.ok(ran.length > 0, 'the others ran');
        assert.equal(refused.length + ran.length, codes.length);
        const winner = results.findIndex((r) => !r.outcome.error);
        await crowded.adoptCandidate(winner);
        assert.equal((await crowded.exec('v')).lastValue, String(winner));
      } finally {
        await crowded.close();
      }
    });

    adversarialCase(mode === 'bwrap' ? 'kills a setsid child with the episode' : 'lets a setsid child outlive the episode (documented gap)', async () => {
      const marker = `${2000 + Math.floor(Math.random() * 1000)}.${Date.now()}`;
      const escapee = await startAsTestUser({
        allowedImports: null,
      });
      try {
        await escapee.exec(`import subprocess\nsubprocess.Popen(["setsid", "sleep", ${py(marker)}])`);
        assert.equal((await waitUntilRunning(marker)).length, 1, 'the setsid child started');
        await escapee.close();
        const left = await waitUntilGone(marker, mode === 'bwrap' ? 5000 : 300);
        if (mode === 'bwrap') assert.deepEqual(left, []);
        else assert.equal(left.length, 1);
      } finally {
        await escapee.close();
        killAll(await liveProcessesWithMarker(marker));
      }
    });
  });
}
