import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { openStudio, type StudioSession } from './support/studioSession';

let studio: StudioSession;
before(async () => {
  // A host list in User settings: VS Code ignores it in this remote window (code-server), as on Remote-SSH.
  studio = await openStudio({ name: 'trajectories-view', theme: 'dark', settings: { 'trajectoryStudio.training.hosts': [{ name: 'gpu', host: 'gpu.example.org' }] } });
  // The student endpoint (for Run Evaluation below) is a machine setting: in this remote window it belongs in
  // the machine's settings, written now so it is long read when that test runs.
  studio.writeMachineSettings({ 'trajectoryStudio.endpoints.student.baseUrls': ['http://127.0.0.1:9/v1'] });
});
after(async () => {
  await studio?.close();
});

test('the Trajectories view groups an evaluation run, tells duplicates apart by folder and counts in words', async () => {
  const { page, workspace } = studio;
  await page.locator('.activitybar .action-item a[aria-label^="Trajectory Studio"]').click();
  const rows = page.locator('.sidebar .monaco-list-row');
  await rows.filter({ hasText: 'teacher.traj.jsonl' }).first().waitFor({ timeout: 30000 });

  // written by another program while the view is open: a run folder and a second file of the same name
  const example = path.join(workspace, 'trajectories', 'teacher.traj.jsonl');
  const run = path.join(workspace, 'runs', 'sag8-run');
  fs.mkdirSync(path.join(run, 'trajectories'), { recursive: true });
  fs.writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ kind: 'eval-run', manifestVersion: 1, config: { student: { model: 'student' } }, sessions: [{ startedAt: '2026-12-04T10:00:00.000Z' }] }));
  fs.copyFileSync(example, path.join(run, 'trajectories', 'math-mini.traj.jsonl'));
  fs.mkdirSync(path.join(workspace, 'old'));
  fs.copyFileSync(example, path.join(workspace, 'old', 'teacher.traj.jsonl'));

  const group = rows.filter({ hasText: 'Evaluation Runs' });
  await group.waitFor({ timeout: 30000 });
  await rows.filter({ hasText: /teacher\.traj\.jsonl\s*old · 24 trajectories · 24 unreviewed/ }).waitFor({ timeout: 30000 });
  await rows.filter({ hasText: /teacher\.traj\.jsonl\s*trajectories · 24 trajectories · 24 unreviewed/ }).waitFor({ timeout: 30000 });
  // run files are not listed beside curated ones until their run is opened
  assert.equal(await rows.filter({ hasText: 'math-mini.traj.jsonl' }).count(), 0);
  await group.click();
  const runRow = rows.filter({ hasText: 'sag8-run' });
  await runRow.waitFor({ timeout: 10000 });
  assert.match((await runRow.textContent()) ?? '', /student · 2026-12-04 10:00 · 1 file/);
  await runRow.click();
  await rows.filter({ hasText: /math-mini\.traj\.jsonl\s*24 trajectories/ }).waitFor({ timeout: 30000 });
  // no bare number beside a file: review counts are words, not a badge that reads like a problem count
  const badges = page.locator('.sidebar .monaco-list-row .label-description ~ *, .sidebar .monaco-list-row .monaco-decoration-itemBadge');
  assert.equal(await badges.filter({ hasText: /^\d+$/ }).count(), 0);
  const shot = await studio.screenshot('grouped');

  // A refresh keeps the list on screen: the sidebar is watched through a whole relist (a new file showing up
  // says it ran), and neither the welcome text ("No trajectory files … yet") nor an empty list may appear.
  // (Strings: the test files have no DOM types.)
  await page.evaluate(`(() => {
    const sidebar = document.querySelector('.sidebar');
    window.__flashed = [];
    const check = () => {
      const text = sidebar.innerText;
      if (text.includes('No trajectory files')) window.__flashed.push('the welcome text');
      if (!text.includes('teacher.traj.jsonl')) window.__flashed.push('an empty list');
    };
    window.__flashObserver = new MutationObserver(check);
    window.__flashObserver.observe(sidebar, { subtree: true, childList: true, characterData: true });
  })()`);
  fs.copyFileSync(example, path.join(workspace, 'fresh.traj.jsonl'));
  await studio.runCommand('Trajectory Studio: Refresh Trajectory Files');
  await rows.filter({ hasText: 'fresh.traj.jsonl' }).waitFor({ timeout: 30000 });
  const flashed = await page.evaluate<string[]>(`(() => { window.__flashObserver.disconnect(); return [...new Set(window.__flashed)]; })()`);
  assert.deepEqual(flashed, [], `a refresh showed ${flashed.join(' and ')}`);
  assert.ok(fs.statSync(shot).size > 10_000);
});

test('hosts in User settings of a remote window: the message says where they are and opens the Remote settings', async () => {
  const { page } = studio;
  await studio.runCommand('Trajectory Studio: Launch Training Run');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'No training host is configured yet' });
  await toast.filter({ hasText: 'Move it to Remote settings.' }).waitFor({ timeout: 15000 });
  const text = (await toast.textContent()) ?? '';
  assert.match(text, /trajectoryStudio\.training\.hosts is set in User settings \(.*User\/settings\.json\), but VS Code ignores it there in this remote window/);
  assert.match(text, /Move it to Remote settings\./);
  await studio.screenshot('hosts-in-user-settings');
  await toast.getByRole('button', { name: 'Open Remote Settings' }).click();
  // the Remote settings.json opens at the hosts (code-server keeps it under <user data>/Machine), not the User one
  await page.getByText(/cs-user-data\/Machine$/).first().waitFor({ timeout: 15000 });
  await studio.screenshot('remote-settings-opened');
  // leave the suggestion list, then the editor, so the next test starts from the workbench
  for (let i = 0; i < 3; i++) await page.keyboard.press('Escape');
  await studio.runCommand('View: Close All Editors');
  await page.getByText(/cs-user-data\/Machine$/).first().waitFor({ state: 'hidden', timeout: 10000 });
});

test('the generation wizard offers an existing output file as "Resume" and asks nothing about overwriting it', async () => {
  const { page, workspace } = studio;
  fs.copyFileSync(path.join(workspace, 'trajectories', 'teacher.traj.jsonl'), path.join(workspace, 'trajectories', 'my-teacher.traj.jsonl'));
  await studio.runCommand('Trajectory Studio: Generate Teacher Trajectories from the Example Questions');
  const resume = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Resume my-teacher.traj.jsonl' });
  await resume.waitFor({ timeout: 15000 });
  assert.match((await resume.textContent()) ?? '', /24 trajectories; answered questions are skipped, nothing is replaced/);
  await studio.screenshot('generation-resume');
  await page.keyboard.press('Enter');
  // straight on to the next step: no dialog about replacing the file
  await page.locator('.quick-input-widget', { hasText: '(3/5)' }).waitFor({ timeout: 15000 });
  assert.equal(await page.locator('.monaco-dialog-box', { hasText: /replace|overwrite|already exists/i }).count(), 0);
  await page.keyboard.press('Escape');
});

test('Run Evaluation offers the workspace\'s benchmark files in a list where several can be picked', async () => {
  const { page } = studio;
  await studio.runCommand('Trajectory Studio: Run Evaluation');
  const widget = page.locator('.quick-input-widget', { hasText: 'the benchmark files (one or more)' });
  await widget.waitFor({ timeout: 15000 });
  const rows = widget.locator('.quick-input-list .monaco-list-row');
  await rows.filter({ hasText: 'math-mini.json' }).waitFor();
  await rows.filter({ hasText: 'factual-mini.json' }).waitFor();
  // a multi-select list: every row has a checkbox
  assert.ok((await widget.locator('.quick-input-list input[type="checkbox"], .quick-input-list .monaco-checkbox, .quick-input-list .quick-input-list-checkbox').count()) >= 2);
  await rows.filter({ hasText: 'math-mini.json' }).click();
  await rows.filter({ hasText: 'factual-mini.json' }).click();
  await widget.getByText('2 Selected').waitFor({ timeout: 5000 });
  await studio.screenshot('benchmarks-picked');
  await page.keyboard.press('Escape');
});
