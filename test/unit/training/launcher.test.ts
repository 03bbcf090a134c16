import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, access, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type SshdFixture, sshdUnavailableReason, startSshd } from './sshdFixture';
import { hostProfileSchema, type HostProfile } from '../../../src/training/hostProfile';
import { SessionPool } from '../../../src/training/sessionPool';
import { TrainingLauncher, type LaunchEvent, type FollowEvent } from '../../../src/training/trainingLauncher';
import { RunStore, parseRunRecord, type RunRecord } from '../../../src/training/runRecord';
import { exportCuratedFile } from '../../../src/training/curatedExport';
import { EXPORT_MANIFEST_KIND, manifestPathFor } from '../../../src/trajectory/sftExport';
import { type MetricsEvent } from '../../../src/training/metricsLog';
import { HostKeyRejectedError } from '../../../src/training/sshSession';
import { startServing, stopServing, vllmServeArgv } from '../../../src/training/serveForEval';
import { createServer } from 'node:net';

function freeLocalPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const exec = promisify(execFile);
const fakeTrainer = resolve(__dirname, '../../fixtures/training/fake_trainer.py');
const skip = sshdUnavailableReason();

/** Characters that break naive quoting: spaces, both quotes, $(), backticks, ;, glob, newline-free. */
const hostile = `it's "a" $(touch PWNED) \`id\` ; & | * dir`;

void describe('training launcher against a real sshd', { skip }, () => {
  let sshd: SshdFixture;
  let local: string;
  let remoteRoot: string;
  let profile: HostProfile;
  let dataFile: string;
  const pools: SessionPool[] = [];
  const launchedPids: number[] = [];
  /** The run the first test trains to completion; later tests serve its adapter. */
  let finished: RunRecord | undefined;

  function launcherFor(store: RunStore, knownHosts = sshd.knownHosts, confirmNewHost?: () => Promise<boolean>) {
    const pool = new SessionPool({
      knownHosts: { files: [knownHosts], trustStore: join(local, 'studio_known_hosts'), confirmNewHost },
      env: {},
      home: local,
    });
    pools.push(pool);
    return new TrainingLauncher({ store, connect: (p) => pool.get(p), profile: () => profile });
  }

  async function launch(launcher: TrainingLauncher, overrides: Record<string, string | number | boolean>, baseModel = 'tiny/model', data = dataFile): Promise<{ run: RunRecord; events: LaunchEvent[] }> {
    const events: LaunchEvent[] = [];
    for await (const e of launcher.launch({ profile, name: 'test run', baseModel, dataFile: data, scriptFiles: [fakeTrainer], overrides })) events.push(e);
    const last = events.at(-1);
    assert.equal(last?.kind, 'launched');
    const pid = (last).run.pid;
    if (pid) launchedPids.push(pid);
    return { run: (last).run, events };
  }

  /**
   * Polls the run's metrics from `offset` until `found` picks an event, for at most `timeoutMs`; on a timeout
   * it fails with the metrics read and the run's log, so a trainer that never got there says why.
   */
  async function waitForMetric(launcher: TrainingLauncher, run: RunRecord, what: string, found: (events: MetricsEvent[]) => MetricsEvent | undefined, offset = 0, timeoutMs = 30_000): Promise<MetricsEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { events } = await launcher.readMetrics(run, offset);
      const hit = found(events);
      if (hit) return hit;
      if (Date.now() > deadline) {
        assert.fail(`no ${what} within ${timeoutMs} ms; metrics: ${JSON.stringify(events)}\nlog:\n${await launcher.logTail(run).catch((err: Error) => err.message)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }


  before(async () => {
    sshd = await startSshd();
    local = await mkdtemp(join(tmpdir(), 'ts-train-local-'));
    remoteRoot = await mkdtemp(join(tmpdir(), 'ts-train-remote-'));
    dataFile = join(local, `data ${hostile}.jsonl`);
    const lines = [0, 1, 2].map((i) => JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}`, weight: 1 }] }));
    await writeFile(dataFile, `${lines.join('\n')}\n`);
    profile = hostProfileSchema.parse({
      name: 'local sshd',
      host: '127.0.0.1',
      port: sshd.port,
      user: sshd.user,
      identityFile: sshd.clientKey,
      workFolder: join(remoteRoot, hostile),
      python: '/usr/bin/python3',
    });
  });

  after(async () => {
    for (const p of pools) await p.closeAll();
    // no run of this suite may outlive it: each run's process group, by the PID it recorded
    for (const pid of launchedPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sshd?.stop();
    await rm(local, { recursive: true, force: true });
    await rm(remoteRoot, { recursive: true, force: true });
  });

  void test('launch uploads, checks, streams metrics; a new launcher re-attaches from the saved offset; the adapter downloads', async () => {
    const store = new RunStore(join(local, 'runs-a'));
    const first = launcherFor(store);
    const { run, events } = await launch(first, { 'max-steps': 30, 'step-seconds': 0.05 }, hostile);
    const check = events.find((e) => e.kind === 'check');
    assert.deepEqual((check as { report: { examples: number } }).report.examples, 3, 'the --check report counts the uploaded examples');
    assert.ok(events.some((e) => e.kind === 'progress' && e.message.startsWith('Uploading')));
    assert.equal(run.state, 'running');
    assert.ok(run.pid);

    // follow until a few steps have arrived, then drop the launcher as a VS Code restart would
    const seen: MetricsEvent[] = [];
    const controller = new AbortController();
    await assert.rejects(async () => {
      for await (const e of first.follow(run, { signal: controller.signal, intervalMs: 100 })) {
        if (e.kind === 'metrics') seen.push(...e.chunk.events);
        if (seen.filter((m) => m.event === 'step').length >= 3) controller.abort(new Error('restart'));
      }
    }, /restart/);
    const saved = await store.get(run.id);
    assert.ok(saved && saved.metricsOffset > 0, 'the byte offset reached is recorded locally');

    const second = launcherFor(store);
    const rest: FollowEvent[] = [];
    for await (const e of second.follow(saved, { intervalMs: 100 })) rest.push(e);
    const later = rest.flatMap((e) => (e.kind === 'metrics' ? e.chunk.events : []));
    const steps = [...seen, ...later].filter((m) => m.event === 'step').map((m) => m.step);
    assert.deepEqual(steps, Array.from({ length: 30 }, (_, i) => i + 1), 'every step exactly once across the restart');
    assert.equal(later.at(-1)?.event, 'done');
    const finalState = rest.filter((e) => e.kind === 'state').at(-1);
    assert.equal(finalState?.kind === 'state' && finalState.status.state, 'succeeded');
    assert.equal((await store.get(run.id))?.state, 'succeeded');

    const adapterDir = await second.download(saved, join(local, 'adapters'));
    const manifest = JSON.parse(await readFile(join(adapterDir, 'manifest.json'), 'utf8')) as { base_model: string; data_sha256: string };
    assert.equal(manifest.base_model, hostile, 'the hostile base-model name reached the trainer unchanged');
    assert.equal(manifest.data_sha256, run.dataSha256);
    const weights = await readFile(join(adapterDir, 'adapter_model.safetensors'));
    assert.equal(weights.length, 256 * 64);
    assert.equal((await store.get(run.id))?.downloadedTo, adapterDir);
    // the run record beside the weights is what an evaluation of the adapter records as its manifest
    const { readAdapterManifest } = await import('../../../src/eval/evalSetup');
    const adapterManifest = await readAdapterManifest(adapterDir);
    assert.equal(adapterManifest?.id, run.id);
    assert.equal(adapterManifest?.dataSha256, run.dataSha256);

    // nothing in the hostile strings was executed by a shell
    for (const dir of [local, remoteRoot, process.cwd(), join(remoteRoot, hostile)]) {
      await assert.rejects(access(join(dir, 'PWNED')), 'no $(touch PWNED) ran');
    }
    // the run is also recorded on the host
    const found = await second.discoverRemoteRuns(profile);
    assert.ok(found.runs.some((r) => r.id === run.id));
    finished = (await store.get(run.id)) ?? undefined;
  });

  void test('data exported with a manifest links the run to its snapshot and source trajectories; data changed since its export is not linked', async () => {
    const launcher = launcherFor(new RunStore(join(local, 'runs-snapshot')));
    const source = join(local, 'curated.traj.jsonl');
    const lines = (await readFile(resolve(__dirname, '../../../examples/trajectories/teacher.traj.jsonl'), 'utf8')).split('\n').filter((l) => l.trim());
    await writeFile(source, `${lines.map((l, i) => (i < 2 ? l.replace('"status":"unreviewed"', '"status":"accepted"') : l)).join('\n')}\n`);
    const exported = join(local, 'snapshot', 'curated.train.jsonl');
    const { manifest, source: recorded } = await exportCuratedFile({ trajectoryFile: source, outPath: exported, compatibility: 'studio' });
    assert.equal(manifest.examples, 2);

    const linked = await launch(launcher, { 'max-steps': 2 }, 'tiny/model', exported);
    assert.equal(linked.run.dataSnapshot, manifest.snapshot);
    assert.equal(linked.run.dataSnapshot, `sha256:${linked.run.dataSha256}`);
    assert.equal(linked.run.exportManifest, `${exported}.manifest.json`);
    assert.deepEqual(linked.run.sourceTrajectories, [recorded]);
    const onHost = parseRunRecord(await readFile(join(linked.run.remoteDir, 'run.json'), 'utf8'), 'run.json on the host');
    assert.equal(onHost.dataSnapshot, manifest.snapshot, 'the host\'s record names the snapshot too');

    await writeFile(exported, `${(await readFile(exported, 'utf8')).trim().split('\n')[0]}\n`);
    const unlinked = await launch(launcher, { 'max-steps': 2 }, 'tiny/model', exported);
    assert.equal(unlinked.run.dataSnapshot, undefined);
    assert.ok(unlinked.events.some((e) => e.kind === 'progress' && /curated\.train\.jsonl changed since its export/.test(e.message)));
  });

  void test('serve for eval starts vLLM with the adapter on the host and forwards a local port to it', async (t) => {
    if (!finished) return t.skip('needs the finished run of the first test');
    const pool = new SessionPool({ knownHosts: { files: [sshd.knownHosts], trustStore: join(local, 'studio_known_hosts') }, env: {}, home: local });
    pools.push(pool);
    const session = await pool.get(profile);
    const remotePort = await freeLocalPort();
    const options = { moduleName: 'student-lora', remotePort, localPort: 0, vllm: resolve(__dirname, '../../fixtures/training/fake_vllm.py') };
    const argv = vllmServeArgv(finished, options);
    for (const expected of ['--enable-lora', '--max-lora-rank', '64', '--lora-modules', `student-lora=${finished.remoteDir}/adapter`]) assert.ok(argv.includes(expected), expected);
    const { localPort, pid } = await startServing(session, finished, profile, options);
    try {
      let models: { data: { id: string; root?: string }[] } | undefined;
      for (let i = 0; i < 100 && !models; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${localPort}/v1/models`, { signal: AbortSignal.timeout(2000) });
          models = (await res.json()) as typeof models;
        } catch {
          // not listening yet: the forward refuses or times out
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(models, 'the served model answered through the forward');
      assert.deepEqual(models.data.map((m) => m.id), [hostile, 'student-lora']);
      assert.equal(models.data[1]?.root, `${finished.remoteDir}/adapter`);
    } finally {
      await stopServing(session, finished);
    }
    for (let i = 0; i < 50; i++) {
      const { stdout } = await exec('ps', ['-eo', 'pid=,stat=']);
      if (!stdout.split('\n').some((l) => l.trim().split(/\s+/)[0] === String(pid) && !l.includes('Z'))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the vLLM stand-in is still running after stopServing');
  });

  void test('cancel stops the trainer and its child, saves a checkpoint, leaves no live process; resume continues from it', async () => {
    const store = new RunStore(join(local, 'runs-b'));
    const launcher = launcherFor(store);
    const { run } = await launch(launcher, { 'max-steps': 400, 'step-seconds': 0.05, 'spawn-child': true, 'checkpoint-every': 1000 });
    // cancel once the trainer has taken a few steps
    await waitForMetric(launcher, run, 'third step', (events) => events.filter((e) => e.event === 'step')[2]);
    const result = await launcher.cancel(run, { graceMs: 10_000, pollMs: 100 });
    assert.equal(result.state, 'cancelled');
    assert.equal(result.killed, false, 'the trainer stopped on TERM within the grace period');
    assert.equal(result.leftover, 0);
    // verified independently of the launcher: no process of the session or group is alive
    const { stdout } = await exec('ps', ['-eo', 'pid=,pgid=,sid=,stat=']);
    const survivors = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => (f[1] === String(run.pid) || f[2] === String(run.pid)) && !f[3]?.startsWith('Z'));
    assert.deepEqual(survivors, []);
    const status = await launcher.status(run);
    assert.equal(status.state, 'cancelled');
    assert.equal(status.exitCode, 143, 'the runner recorded the trainer exit code after its clean stop');
    const all = await launcher.readMetrics(run, 0);
    const cancelled = all.events.find((e) => e.event === 'cancelled');
    assert.ok(cancelled && cancelled.event === 'cancelled' && cancelled.checkpoint, 'a checkpoint was saved on SIGTERM');
    const stoppedAt = cancelled.step ?? 0;

    const resumed = await launcher.resume({ ...run, state: 'cancelled' });
    if (resumed.pid) launchedPids.push(resumed.pid);
    assert.equal(resumed.resumes, 1);
    assert.ok(resumed.trainerArgs.includes('--resume'));
    const start = await waitForMetric(launcher, resumed, 'start event of the resumed trainer', (events) => events.find((e) => e.event === 'start'), all.nextOffset);
    assert.equal(start.event === 'start' && start.resumed_from_step, stoppedAt);
    const again = await launcher.cancel(resumed, { graceMs: 10_000, pollMs: 100 });
    assert.equal(again.leftover, 0);
  });

  void test('a trainer that ignores TERM is killed after the grace period and nothing is left', async () => {
    const store = new RunStore(join(local, 'runs-c'));
    const launcher = launcherFor(store);
    const { run } = await launch(launcher, { 'max-steps': 1000, 'step-seconds': 0.05, 'ignore-term': true });
    // a step means the trainer is past installing its TERM handler (which ignores TERM), so the KILL is needed
    await waitForMetric(launcher, run, 'first step', (events) => events.find((e) => e.event === 'step'));
    const result = await launcher.cancel(run, { graceMs: 600, pollMs: 100 });
    assert.equal(result.killed, true);
    assert.equal(result.leftover, 0);
    assert.equal(result.state, 'cancelled');
  });

  void test('a failing trainer ends as failed with its exit code and error event', async () => {
    const store = new RunStore(join(local, 'runs-d'));
    const launcher = launcherFor(store);
    const { run } = await launch(launcher, { 'max-steps': 10, 'step-seconds': 0.02, 'fail-at-step': 4 });
    const events: FollowEvent[] = [];
    for await (const e of launcher.follow(run, { intervalMs: 100 })) events.push(e);
    const state = events.filter((e) => e.kind === 'state').at(-1);
    assert.ok(state?.kind === 'state');
    assert.equal(state.status.state, 'failed');
    assert.equal(state.status.exitCode, 3);
    assert.ok(events.some((e) => e.kind === 'metrics' && e.chunk.events.some((m) => m.event === 'error')));
    assert.match(await launcher.logTail(run), /failing at step 4/);
  });

  void test('a host key that differs from known_hosts is refused, before any command runs', async () => {
    const wrong = join(local, 'wrong_known_hosts');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(local, 'other')]);
    const otherKey = (await readFile(join(local, 'other.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    await writeFile(wrong, `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
    const store = new RunStore(join(local, 'runs-e'));
    let asked = false;
    const launcher = launcherFor(store, wrong, () => {
      asked = true;
      return Promise.resolve(true);
    });
    await assert.rejects(launch(launcher, {}), (err: Error) => err instanceof HostKeyRejectedError && /MISMATCH/.test(err.message));
    assert.equal(asked, false, 'a changed key is never offered for trust-on-first-use');
    assert.deepEqual((await readdir(remoteRoot)).filter((n) => n.includes('runs-e')), []);
  });

  void test('an unknown host is refused without a prompt, and trusted on first use after one', async () => {
    const empty = join(local, 'empty_known_hosts');
    await writeFile(empty, '');
    const refused = launcherFor(new RunStore(join(local, 'runs-f')), empty);
    await assert.rejects(launch(refused, {}), /not in known_hosts/);
    const prompts: number[] = [];
    const accepting = launcherFor(new RunStore(join(local, 'runs-g')), empty, () => {
      prompts.push(1);
      return Promise.resolve(true);
    });
    const { run } = await launch(accepting, { 'max-steps': 2, 'step-seconds': 0.01 });
    assert.equal(prompts.length, 1);
    const stored = await readFile(join(local, 'studio_known_hosts'), 'utf8');
    assert.ok(stored.includes(sshd.hostPublicKey), 'the accepted key is remembered');
    for await (const _ of accepting.follow(run, { intervalMs: 100 })) {
      // run to completion
    }
  });
});

void test('data whose export manifest is broken is refused before anything reaches the host, naming the manifest and the field', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'launch-manifest-'));
  try {
    const data = join(folder, 'data.jsonl');
    await writeFile(data, '{"messages": []}\n');
    // Ours by its kind, but with a profile no trainer knows: which loss mask to train cannot be decided.
    await writeFile(manifestPathFor(data), JSON.stringify({ kind: EXPORT_MANIFEST_KIND, compatibility: 'paper' }));
    const host = hostProfileSchema.parse({ name: 'h', host: 'example.invalid', user: 'u', workFolder: '~/runs', python: 'python3' });
    let connected = false;
    const launcher = new TrainingLauncher({
      store: new RunStore(join(folder, 'runs')),
      connect: () => {
        connected = true;
        return Promise.reject(new Error('the host must not be contacted'));
      },
      profile: () => host,
    });
    const events: LaunchEvent[] = [];
    const launching = (async () => {
      for await (const e of launcher.launch({ profile: host, name: 'r', baseModel: 'tiny/model', dataFile: data, scriptFiles: [fakeTrainer] })) events.push(e);
    })();
    await assert.rejects(launching, (err: Error) => err.message.includes(manifestPathFor(data)) && err.message.includes('$.compatibility') && /export the data again/.test(err.message));
    assert.equal(connected, false);
    assert.deepEqual(events, []);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
