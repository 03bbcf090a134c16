import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../e2e/lib.mjs';
import { openStudio, type StudioSession } from './support/studioSession';

// The editor's screens in the light theme (the dark run in trajectoryEditor.ui.test.ts drives the flows):
// the same fixture, looked at for contrast and legibility with theme colours only.

// Runs in the page; the test's own compile has no DOM library.
declare function getComputedStyle(element: unknown): { backgroundColor: string };

let studio: StudioSession;
let workspaceSource: string;

before(async () => {
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'traj-editor-light-'));
  fs.copyFileSync(path.join(repoRoot, 'test/fixtures/trajectoryEditor/review.traj.jsonl'), path.join(workspaceSource, 'review.traj.jsonl'));
  studio = await openStudio({ name: 'trajectory-editor', theme: 'light', workspace: workspaceSource, settings: { 'files.autoSave': 'off' } });
});
after(async () => {
  await studio?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

test('the editor screens render with the light theme colours', async () => {
  const view = await studio.openTrajectoryFile('review.traj.jsonl');
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 30000 });
  // theme colours reach the page: the body background is light
  const background = await view.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
  const channels = (background.match(/\d+/g) ?? []).slice(0, 3).map(Number);
  assert.ok(channels.length === 3 && channels.reduce((a, b) => a + b, 0) > 600, `the page background follows the light theme (${background})`);
  await studio.screenshot('open');

  await view.locator('.row', { hasText: 'Eiffel Tower' }).first().click();
  await view.locator('details.web-search summary').first().click();
  await view.locator('vscode-button.reject').click();
  await view.locator('vscode-checkbox[data-tag="unnecessary-retrieval"]').click();
  await studio.screenshot('reject-form');

  await view.locator('.row', { hasText: 'sum of the squares' }).nth(1).click();
  await view.locator('details.sag summary').first().click();
  await studio.screenshot('sag-candidates');

  await view.locator('.row', { hasText: 'sum of the squares' }).first().click();
  // wait until the page shows that trajectory, or its re-render would replace the picker opened below
  await view.locator('.trajectory-header .task-meta', { hasText: 'teacher-sum-squares' }).waitFor();
  await view.locator('vscode-button.compare').click();
  await view.locator('.compare-picker').waitFor();
  await view.locator('vscode-button.compare-go').click();
  await view.locator('.compare-view').waitFor();
  await studio.screenshot('compare');
  await view.locator('.compare-close').click();

  await view.locator('.row', { hasText: 'Is <b>this</b> bold?' }).first().click();
  await view.locator('.thought', { hasText: '<img src=x' }).waitFor();
  await studio.screenshot('hostile-markup');
});
