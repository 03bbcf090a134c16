import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../e2e/lib.mjs';
import { openStudio, type StudioSession } from './support/studioSession';

interface Contributes {
  views: Record<string, { id: string; name: string }[]>;
  viewsWelcome: { view: string; contents: string }[];
  commands: { command: string; title: string; category?: string }[];
}
const contributes = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { contributes: Contributes }).contributes;

let studio: StudioSession;
before(async () => {
  studio = await openStudio({ name: 'studio', theme: 'dark' });
});
after(async () => {
  await studio?.close();
});

test('the studio\'s activity-bar entry opens its views, with the example trajectories counted and an empty view\'s welcome text', async () => {
  const { page, workspace } = studio;
  const activityItem = page.locator('.activitybar .action-item a[aria-label^="Trajectory Studio"]');
  await activityItem.waitFor({ timeout: 30000 });
  await activityItem.click();
  const sidebar = page.locator('.sidebar');
  await sidebar.locator('.composite.title', { hasText: /Trajectory Studio/i }).waitFor({ timeout: 30000 });

  // every view of the container has its header
  for (const view of contributes.views.trajectoryStudio) {
    await sidebar.locator('.pane-header', { hasText: view.name }).first().waitFor({ timeout: 30000 });
  }

  // the Trajectories view lists the workspace's file with its record count in words (counted in the background)
  const example = path.join(workspace, 'trajectories', 'teacher.traj.jsonl');
  const records = fs.readFileSync(example, 'utf8').split('\n').filter((l) => l.trim()).length;
  const row = sidebar.locator('.monaco-list-row', { hasText: path.basename(example) });
  await row.filter({ hasText: new RegExp(`(?<!\\d)${records} trajectories\\b`) }).waitFor({ timeout: 30000 });

  // Training Runs has none yet, so it shows its welcome text and the button to launch one
  const trainingRuns = contributes.views.trajectoryStudio.find((v) => v.id === 'trajectoryStudio.trainingRuns')!;
  const welcome = contributes.viewsWelcome.find((w) => w.view === trainingRuns.id)!.contents.split('\n')[0];
  const trainingPane = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: trainingRuns.name }) });
  await trainingPane.locator('.welcome-view-content', { hasText: welcome.slice(0, 40) }).waitFor({ timeout: 30000 });
  await trainingPane.getByRole('button', { name: 'Launch Training Run' }).waitFor({ timeout: 10000 });
  await studio.screenshot('activity-bar');
});

test('the command palette lists the studio commands under their category', async () => {
  const { page } = studio;
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>Trajectory Studio: ');
  const rows = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Trajectory Studio:' });
  await rows.first().waitFor({ timeout: 15000 });
  // each row is one of the studio's commands, named "Trajectory Studio: <title>" as package.json declares it, or
  // the "Focus on … View" command VS Code adds for each of its views
  const declared = new Set([
    ...contributes.commands.map((c) => `${c.category}: ${c.title}`),
    ...contributes.views.trajectoryStudio.map((v) => `Trajectory Studio: Focus on ${v.name} View`),
  ]);
  const labels = (await rows.locator('.label-name').allInnerTexts()).map((l) => l.trim());
  assert.ok(labels.length >= 3, `several studio commands are listed: ${JSON.stringify(labels)}`);
  assert.deepEqual(labels.filter((l) => !declared.has(l)), [], 'every listed row is a declared studio command');
  await studio.screenshot('command-palette');
  await page.keyboard.press('Escape');
});
