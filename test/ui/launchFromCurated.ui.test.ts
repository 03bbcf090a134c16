import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../e2e/lib.mjs';
import { parseRunRecord, type RunRecord } from '../../src/training/runRecord';
import { RunFiles } from '../../src/training/remoteScripts';
import { METRICS_FILE, parseMetricsChunk } from '../../src/training/metricsLog';
import { type SshdFixture, sshdUnavailableReason, startSshd } from '../unit/training/sshdFixture';
import { killTrainingRun } from './support/liveTrainingRun';
import { openStudio, screenshotDir, type StudioSession, type Theme } from './support/studioSession';

// A person curates a trajectory file, and with it open in the editor runs Launch Training Run: the launch exports
// the accepted trajectories into the run's own folder, trains on them (the test trainer on a real sshd), and the
// run records the data snapshot and the trajectory file it came from. The Lineage view follows file → export →
// run → adapter. Screenshots in the dark, light and high-contrast themes, in one session.

const skip = sshdUnavailableReason();
let sshd: SshdFixture;
let studio: StudioSession;
let remote: string;
let workspaceSource: string;
let run: RunRecord | undefined;
let host: Record<string, unknown>;

const accepted = 3;

function sha256(file: string): string {
  return `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  remote = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-ui-curated-remote-'));
  // the host's "python" runs the stand-in trainer in place of the uploaded train_lora.py (no torch here)
  const python = path.join(remote, 'fake-python');
  fs.writeFileSync(python, `#!/bin/sh\n[ "$1" = "-u" ] && shift\nshift\nexec /usr/bin/python3 -u ${JSON.stringify(path.join(repoRoot, 'test/fixtures/training/fake_trainer.py'))} "$@"\n`, { mode: 0o755 });
  fs.chmodSync(remote, 0o755);
  host = { name: 'gpu-box', host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.clientKey, workFolder: path.join(remote, 'runs'), python };

  // a workspace with a curated file: the first trajectories of the example accepted, the rest unreviewed
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-ui-curated-ws-'));
  fs.mkdirSync(path.join(workspaceSource, 'data'));
  const lines = fs.readFileSync(path.join(repoRoot, 'examples/trajectories/teacher.traj.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  const curated = lines.map((l, i) => {
    const t = JSON.parse(l) as { review: { status: string } };
    if (i < accepted) t.review.status = 'accepted';
    return JSON.stringify(t);
  });
  fs.writeFileSync(path.join(workspaceSource, 'data', 'curated.traj.jsonl'), `${curated.join('\n')}\n`);

});

/** A fresh studio in one theme (switching themes inside a session proved unreliable in code-server), with the host configured. */
async function openCuratedStudio(theme: Theme): Promise<void> {
  studio = await openStudio({
    name: 'launch-from-curated',
    theme,
    workspace: workspaceSource,
    settings: { 'files.autoSave': 'off' },
    // host profiles are machine-scoped (read from the remote machine's settings), with the extension's own known_hosts
    machineSettings: { 'trajectoryStudio.training.hosts': [host], 'trajectoryStudio.training.pollSeconds': 0.5 },
  });
  fs.mkdirSync(storageFolder(), { recursive: true });
  fs.copyFileSync(sshd.knownHosts, path.join(storageFolder(), 'known_hosts'));
}

after(async () => {
  await studio?.close();
  killTrainingRun(run);
  await sshd?.stop();
  for (const dir of [remote, workspaceSource]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function storageFolder(): string {
  return path.join(path.dirname(studio.workspace), 'cs-user-data', 'User', 'globalStorage', 'trajectory-studio.trajectory-studio');
}

function recordedRuns(): RunRecord[] {
  const folder = path.join(storageFolder(), 'training-runs');
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((n) => n.endsWith('.json'))
    .map((n) => parseRunRecord(fs.readFileSync(path.join(folder, n), 'utf8'), n));
}

async function screenshot(name: string): Promise<string> {
  const file = path.join(screenshotDir, `launch-from-curated-${name}.png`);
  await studio.page.screenshot({ path: file });
  return file;
}

/** Gives the Lineage view room: the other views collapsed, the side bar wider. */
async function makeRoomForLineage(): Promise<void> {
  await studio.runCommand('Focus on Lineage View');
  await studio.page.locator('.pane-header', { hasText: 'Lineage' }).first().waitFor({ timeout: 15000 });
  for (const title of ['Trajectories', 'Retrieval Indexes']) {
    const header = studio.page.locator('.pane-header', { hasText: title }).first();
    if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
  }
  // the side bar's edge is a sash: dragged wider so the hashes in the descriptions show
  const box = await studio.page.locator('.part.sidebar').boundingBox();
  if (box) {
    const y = box.y + box.height / 2;
    await studio.page.mouse.move(box.x + box.width, y);
    await studio.page.mouse.down();
    await studio.page.mouse.move(box.x + box.width + 240, y, { steps: 8 });
    await studio.page.mouse.up();
  }
}

/** The Lineage view's rows, top to bottom, as `level label` (the tree's own aria levels). */
async function lineageRows(): Promise<string[]> {
  const pane = studio.page.locator('.pane', { has: studio.page.locator('.pane-header', { hasText: 'Lineage' }) });
  const rows = pane.locator('.monaco-list-row');
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out.push(`${(await row.getAttribute('aria-level')) ?? '?'} ${(await row.locator('.label-name').first().innerText()).trim()}`);
  }
  return out;
}

for (const theme of ['dark', 'light', 'high-contrast'] as const) {
  test(`Launch Training Run on the open curated file exports it, records the snapshot and source, and the Lineage view follows it (${theme})`, { skip, timeout: 300_000 }, async () => {
    await openCuratedStudio(theme);
    try {
      await launchAndTrace(theme);
    } catch (err) {
      await screenshot(`failure-${theme}`);
      throw err;
    } finally {
      await studio.close();
      killTrainingRun(run);
    }
  });
}

async function launchAndTrace(theme: Theme): Promise<void> {
  const curatedFile = path.join(studio.workspace, 'data', 'curated.traj.jsonl');
  await studio.openTrajectoryFile('curated.traj.jsonl');
  await studio.runCommand('Trajectory Studio: Launch Training Run…');
  // one host, the open file: only the model is asked, and its title names the file being trained on
  const input = studio.page.locator('.quick-input-widget input');
  await studio.page.locator('.quick-input-widget', { hasText: 'the student model to train on curated.traj.jsonl' }).waitFor({ timeout: 30000 });
  await input.fill('Qwen/Qwen2.5-0.5B-Instruct');
  await studio.page.keyboard.press('Enter');

  const view = await studio.findWebview('#data-snapshot', { timeout: 90000 });
  await view.locator('#state', { hasText: 'succeeded' }).waitFor({ timeout: 60000 });

  // the run record: the snapshot is the hash of the bytes exported into the run's folder and uploaded
  const runs = recordedRuns();
  assert.equal(runs.length, 1, 'one run recorded');
  run = runs[0];
  assert.ok(run);
  const exported = run.dataFile;
  assert.equal(path.dirname(exported), path.join(storageFolder(), 'training-runs', run.id), 'the export went into the run\'s local folder');
  assert.equal(run.dataSnapshot, sha256(exported));
  assert.equal(run.dataSnapshot, `sha256:${run.dataSha256}`);
  assert.equal(sha256(path.join(run.remoteDir, RunFiles.data)), run.dataSnapshot, 'the host trained on the exported bytes');
  assert.deepEqual(run.sourceTrajectories, [{ file: curatedFile, sha256: sha256(curatedFile) }]);
  assert.equal(fs.readFileSync(exported, 'utf8').trim().split('\n').length, accepted, 'only the accepted trajectories were exported');
  const manifest = JSON.parse(fs.readFileSync(`${exported}.manifest.json`, 'utf8')) as { snapshot: string; examples: number };
  assert.equal(manifest.snapshot, run.dataSnapshot);

  // the run view shows the snapshot and where it came from
  assert.match(await view.locator('#data-snapshot').innerText(), new RegExp(`^${run.dataSnapshot}`));
  assert.match(await view.locator('#data-source').innerText(), /curated\.traj\.jsonl · sha256:/);

  await view.locator('#download').click();
  await view.locator('.notice', { hasText: 'Adapter downloaded to' }).waitFor({ timeout: 60000 });
  // Each event the trainer wrote is listed once, although the view's snapshot and the monitor both read them.
  const written = parseMetricsChunk(fs.readFileSync(path.join(run.remoteDir, METRICS_FILE)), 0).events.filter((e) => e.event !== 'step');
  const listed = await view.locator('ul.events li').allInnerTexts();
  assert.equal(listed.length, written.length, `the events list: ${listed.join(' | ')}`);
  assert.equal(new Set(listed).size, listed.length, `no event is listed twice: ${listed.join(' | ')}`);

  await makeRoomForLineage();
  const adapterRow = studio.page.locator('.monaco-list-row', { hasText: `adapter of ${run.id}` });
  await adapterRow.waitFor({ timeout: 30000 });
  assert.deepEqual(await lineageRows(), ['1 curated.traj.jsonl', '2 curated.train.jsonl', `3 ${run.id}`, `4 adapter of ${run.id}`]);
  const exportRow = studio.page.locator('.monaco-list-row', { hasText: 'curated.train.jsonl' });
  assert.match(await exportRow.innerText(), new RegExp(`export · ${run.dataSnapshot.slice(0, 19)}… · ${accepted} examples`));
  await view.locator('#data-snapshot').scrollIntoViewIfNeeded();
  await screenshot(theme);

  // a node opens what it stands for: the trajectory file's row its editor, the run's row its run view
  await studio.page.locator('.monaco-list-row', { hasText: 'curated.traj.jsonl' }).first().click();
  await studio.page.locator('.tab.active', { hasText: 'curated.traj.jsonl' }).waitFor({ timeout: 30000 });
  await studio.page.locator('.monaco-list-row', { hasText: run.id }).first().click();
  await studio.page.locator('.tab.active', { hasText: `Training ${run.id}` }).waitFor({ timeout: 30000 });
}
