import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { hostProfileSchema, type HostProfile } from '../../src/training/hostProfile';
import { type RunRecord } from '../../src/training/runRecord';
import { type SessionPool } from '../../src/training/sessionPool';
import { type SshdFixture, sshdUnavailableReason, startSshd } from '../unit/training/sshdFixture';
import { killTrainingRun, launchLiveTrainingRun } from './support/liveTrainingRun';
import { openStudio, type StudioSession } from './support/studioSession';

// A run of the test trainer on a real sshd, launched from outside VS Code (as if from the CLI or before a
// restart): the studio finds it, re-attaches, shows the live chart, and cancels it from the run view.

const skip = sshdUnavailableReason();
let sshd: SshdFixture;
let studio: StudioSession;
let remote: string;
let profile: HostProfile;
let run: RunRecord;
let pool: SessionPool;

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  remote = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-ui-train-remote-'));
  const host = { name: 'gpu-box', host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.clientKey, workFolder: remote, python: '/usr/bin/python3' };
  profile = hostProfileSchema.parse(host);
  studio = await openStudio({
    name: 'training-run',
    theme: 'dark',
    settings: { 'trajectoryStudio.training.hosts': [host], 'trajectoryStudio.training.pollSeconds': 0.5 },
  });
  const live = await launchLiveTrainingRun(studio, sshd, host, profile, remote, 'ui-live-chart');
  pool = live.pool;
  if (!live.run) throw new Error('the test trainer did not report a launched run');
  run = live.run;
});

after(async () => {
  await studio?.close();
  await pool?.closeAll();
  killTrainingRun(run);
  await sshd?.stop();
  if (remote) fs.rmSync(remote, { recursive: true, force: true });
});

function stepShown(text: string): number {
  const m = /^(\d+)/.exec(text.trim());
  return m ? Number(m[1]) : 0;
}

test('the run view re-attaches to a running run and draws its loss live; Cancel stops it with nothing left', { skip }, async () => {
  try {
    await liveChartAndCancel();
  } catch (err) {
    await studio.screenshot('failure');
    throw err;
  }
});

async function liveChartAndCancel(): Promise<void> {
  await studio.runCommand('Trajectory Studio: Refresh Training Runs');
  await studio.runCommand('Trajectory Studio: Open Training Run');
  await studio.page.locator('.quick-input-list .monaco-list-row', { hasText: run.id }).first().waitFor({ timeout: 15000 });
  await studio.page.keyboard.press('Enter');

  const view = await studio.findWebview('#loss-chart', { timeout: 60000 });
  await view.locator('#state', { hasText: 'running' }).waitFor({ timeout: 30000 });
  const step = view.locator('#stat-step');
  await step.filter({ hasText: /^\d+ \/ 900$/ }).waitFor({ timeout: 30000 });
  const first = stepShown(await step.innerText());
  // the numbers keep moving without reopening the view: wait for the step shown to change, then check it went up
  await step.filter({ hasNotText: new RegExp(`^\\s*${first} /`) }).waitFor({ timeout: 30000 });
  const later = stepShown(await step.innerText());
  assert.ok(later > first, `step went from ${first} to ${later}`);
  assert.match(await view.locator('#stat-loss').innerText(), /^\d+\.\d{4}$/);
  assert.match(await view.locator('#stat-eta').innerText(), /min|s$/);
  const box = await view.locator('#loss-chart').boundingBox();
  assert.ok(box && box.width > 200 && box.height > 150, 'the chart has room to draw');
  await studio.painted(view);
  await studio.screenshot('live-chart');

  await view.locator('#cancel').click();
  await view.locator('#state', { hasText: 'cancelled' }).waitFor({ timeout: 60000 });
  await view.locator('.notice', { hasText: 'no process of it is left' }).waitFor({ timeout: 30000 });
  await view.locator('#resume').waitFor({ timeout: 10000 });
  await studio.screenshot('cancelled');

  // the Training Runs view lists the run with its final state
  await studio.runCommand('Focus on Training Runs View');
  const row = studio.page.locator('.monaco-list-row', { hasText: 'ui-live-chart' });
  await row.filter({ hasText: 'cancelled' }).waitFor({ timeout: 30000 });
  await studio.screenshot('runs-view');

  const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=']).toString();
  const alive = ps.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === String(run.pid) && !f[2]?.startsWith('Z'));
  assert.deepEqual(alive, [], 'no process of the run is left on the host');
}
