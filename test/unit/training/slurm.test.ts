import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type SshdFixture, sshdUnavailableReason, startSshd } from './sshdFixture';
import { hostProfileSchema, type HostProfile } from '../../../src/training/hostProfile';
import { SessionPool } from '../../../src/training/sessionPool';
import { TrainingLauncher, type FollowEvent, type LaunchEvent } from '../../../src/training/trainingLauncher';
import { RunStore, type RunRecord } from '../../../src/training/runRecord';

const exec = promisify(execFile);
const fixtures = resolve(__dirname, '../../fixtures/training');

// The Slurm path end to end, with stand-ins for sbatch, squeue, sacct, scancel and scontrol put on the
// remote PATH by sshd (they run the batch script at once on this machine and track it by session).
void describe('training on a Slurm host (stand-in Slurm commands)', { skip: sshdUnavailableReason() }, () => {
  let sshd: SshdFixture;
  let local: string;
  let remote: string;
  let state: string;
  let profile: HostProfile;
  let pool: SessionPool;
  let launcher: TrainingLauncher;
  let store: RunStore;

  async function launch(overrides: Record<string, string | number | boolean>): Promise<RunRecord> {
    let run: RunRecord | undefined;
    const events: LaunchEvent[] = [];
    for await (const e of launcher.launch({ profile, name: 'slurm', baseModel: 'm', dataFile: join(local, 'data.jsonl'), scriptFiles: [join(fixtures, 'fake_trainer.py')], overrides })) {
      events.push(e);
      if (e.kind === 'launched') run = e.run;
    }
    assert.ok(run);
    return run;
  }

  before(async () => {
    state = await mkdtemp(join(tmpdir(), 'ts-fake-slurm-'));
    sshd = await startSshd({ extraConfig: [`SetEnv PATH=${join(fixtures, 'fake_slurm')}:/usr/local/bin:/usr/bin:/bin FAKE_SLURM_STATE=${state}`] });
    local = await mkdtemp(join(tmpdir(), 'ts-slurm-local-'));
    remote = await mkdtemp(join(tmpdir(), 'ts-slurm-remote-'));
    await writeFile(join(local, 'data.jsonl'), `${JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] })}\n`);
    profile = hostProfileSchema.parse({
      name: 'cluster',
      host: '127.0.0.1',
      port: sshd.port,
      user: sshd.user,
      identityFile: sshd.clientKey,
      workFolder: remote,
      python: '/usr/bin/python3',
      scheduler: 'slurm',
      slurm: { partition: 'a100', gpusPerNode: 4, time: '01:00:00' },
    });
    pool = new SessionPool({ knownHosts: { files: [sshd.knownHosts], trustStore: join(local, 'kh') }, env: {}, home: local });
    store = new RunStore(join(local, 'runs'));
    launcher = new TrainingLauncher({ store, connect: (p) => pool.get(p), profile: () => profile });
  });

  after(async () => {
    await pool?.closeAll();
    await sshd?.stop();
    for (const d of [local, remote, state]) if (d) await rm(d, { recursive: true, force: true });
  });

  void test('sbatch submits the runner with the profile\'s directives; the job is followed to completion', async () => {
    const run = await launch({ 'max-steps': 6, 'step-seconds': 0.02 });
    assert.equal(run.scheduler, 'slurm');
    assert.match(run.jobId ?? '', /^\d+$/);
    const runner = await readFile(join(run.remoteDir, 'run.sh'), 'utf8');
    for (const d of ['#SBATCH --partition=a100', '#SBATCH --gpus-per-node=4', '#SBATCH --time=01:00:00', `#SBATCH --output=${run.remoteDir}/stdout.log`]) assert.ok(runner.includes(d), d);
    const events: FollowEvent[] = [];
    for await (const e of launcher.follow(run, { intervalMs: 100 })) events.push(e);
    const last = events.filter((e) => e.kind === 'state').at(-1);
    assert.ok(last?.kind === 'state');
    assert.equal(last.status.state, 'succeeded');
    assert.equal(last.status.slurmState, 'COMPLETED');
    const steps = events.flatMap((e) => (e.kind === 'metrics' ? e.chunk.events : [])).filter((m) => m.event === 'step');
    assert.equal(steps.length, 6);
  });

  void test('scancel stops the job, the trainer checkpoints, and nothing of the job is left', async () => {
    const run = await launch({ 'max-steps': 1000, 'step-seconds': 0.05, 'spawn-child': true });
    let steps = 0;
    for (let i = 0; i < 100 && steps < 2; i++) {
      steps = (await launcher.readMetrics(run, 0)).events.filter((e) => e.event === 'step').length;
      if (steps < 2) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(steps >= 2, `the job trained a few steps before the cancel (${steps}); its log:\n${await launcher.logTail(run).catch((err: Error) => err.message)}`);
    assert.equal((await launcher.status(run)).state, 'running');
    const result = await launcher.cancel(run, { graceMs: 10_000, pollMs: 100 });
    assert.equal(result.state, 'cancelled');
    assert.equal(result.killed, false);
    const pgid = (await readFile(join(state, `${run.jobId}.pgid`), 'utf8')).trim();
    const { stdout } = await exec('ps', ['-eo', 'pid=,pgid=,sid=,stat=']);
    const alive = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => (f[1] === pgid || f[2] === pgid) && !f[3]?.startsWith('Z'));
    assert.deepEqual(alive, []);
    const metrics = await launcher.readMetrics(run, 0);
    assert.equal(metrics.events.at(-1)?.event, 'cancelled');
  });
});
