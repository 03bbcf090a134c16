import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, FrameLocator } from 'playwright-core';
import { repoRoot } from '../../e2e/lib.mjs';
import { type FakeModelServer, scriptedAgent, startFakeModelServer } from '../support/fakeModelServer';
import { openStudio, type StudioSession } from './support/studioSession';

// One code-server session walks through the editor as an annotator would, on a fixture file with a math
// trajectory (with an error step), a student run of the same task with SAG candidates, a factual one with
// web_search passages, a record full of hostile markup, filler records and an unparseable line.

const fixture = path.join(repoRoot, 'test/fixtures/trajectoryEditor/review.traj.jsonl');
let studio: StudioSession;
let workspaceSource: string;
let view: FrameLocator;
let teacher: FakeModelServer;

before(async () => {
  // The teacher that continues the Eiffel Tower trajectory: a scripted OpenAI-compatible server over real
  // HTTP, slow enough per request that the streamed steps can be seen arriving.
  teacher = await startFakeModelServer({
    models: ['teacher-model'],
    latencyMs: 1500,
    script: scriptedAgent({
      'In which year was the Eiffel Tower completed?': {
        steps: [
          { thought: 'not used: step 1 is kept', code: 'print(0)' },
          { thought: 'The first passage gives March 1889; I will print the year to be sure.', code: 'year = 1889\nprint(year)' },
          { thought: 'The tower was completed in 1889.', code: 'final_answer(str(year))' },
        ],
      },
    }),
  });
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'traj-editor-ui-'));
  fs.copyFileSync(fixture, path.join(workspaceSource, 'review.traj.jsonl'));
  // Auto-save off, so the test sees the unsaved state the way a desktop user does (the web default saves after a delay).
  studio = await openStudio({
    name: 'trajectory-editor',
    theme: 'dark',
    workspace: workspaceSource,
    // Verdicts stay on the trajectory here, so the test can read the result (trajectoryKeyboard covers moving on).
    settings: { 'files.autoSave': 'off', 'trajectoryStudio.endpoints.teacher.model': 'teacher-model', 'trajectoryStudio.review.advanceAfterVerdict': false },
    machineSettings: { 'trajectoryStudio.endpoints.teacher.baseUrls': [teacher.baseUrl] },
  });
});
after(async () => {
  await studio?.close();
  await teacher?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

async function openFixture(): Promise<FrameLocator> {
  return studio.openTrajectoryFile('review.traj.jsonl');
}

/** The page's own frame (for evaluating in it), found through VS Code's two nested iframes. */
async function pageFrame(): Promise<Frame> {
  const { page } = studio;
  for (const outer of await page.locator('iframe.webview.ready').elementHandles()) {
    const outerFrame = await outer.contentFrame();
    const inner = await outerFrame?.$('#active-frame');
    const frame = await inner?.contentFrame();
    if (frame && (await frame.$('.list-pane'))) return frame;
  }
  throw new Error('the trajectory editor page was not found');
}

async function selectRow(text: string): Promise<void> {
  await view.locator('.row', { hasText: text }).first().click();
  await view.locator('.trajectory-header .question', { hasText: text }).waitFor({ timeout: 15000 });
}

test('opens the file in the trajectory editor with the list, the first trajectory and the key hints', async () => {
  view = await openFixture();
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 30000 });
  // every line is listed, the cut-off one as invalid
  await view.locator('.list-status', { hasText: '29 in file' }).waitFor({ timeout: 30000 });
  await view.locator('.row .status-invalid').first().waitFor();
  assert.ok((await view.locator('.keys-help kbd').count()) >= 8, 'the contributed keybindings are shown');
  assert.equal(await view.locator('.error-box').count(), 1, 'the failing step shows its error distinctly');
  await studio.screenshot('open');
});

test('steps through with the keyboard: j/k move between steps, Shift+J to the next trajectory', async () => {
  const { page } = studio;
  await view.locator('.trajectory-header .task-meta').click();
  await page.keyboard.press('j');
  await view.locator('.step.selected[data-step="1"]').waitFor({ timeout: 10000 });
  await page.keyboard.press('j');
  await view.locator('.step.selected[data-step="2"]').waitFor({ timeout: 10000 });
  await page.keyboard.press('k');
  await view.locator('.step.selected[data-step="1"]').waitFor({ timeout: 10000 });
  await studio.screenshot('step-through');
  await page.keyboard.press('Shift+J');
  await view.locator('.trajectory-header .task-meta', { hasText: 'student-sum-squares' }).waitFor({ timeout: 10000 });
  // the student's SAG step shows its candidates, vote groups and winner
  await view.locator('details.sag summary').first().click();
  await view.locator('table.candidates tr.winner').waitFor();
  assert.equal(await view.locator('table.candidates tbody tr').count(), 5);
  // the last candidate repeats the first one's code: the table says it was executed once for both
  assert.equal((await view.locator('table.candidates tbody tr').nth(4).locator('.same-code').textContent())?.trim(), 'same code and outcome as #0');
  assert.equal(await view.locator('table.candidates tbody tr').nth(4).locator('pre.candidate-code').count(), 0, 'the repeated code is not shown twice');
  await studio.screenshot('sag-candidates');
});

test('rejects a trajectory with a reason tag and a note', async () => {
  await selectRow('Eiffel Tower');
  await view.locator('details.web-search summary').first().click();
  await view.locator('.passage-title', { hasText: 'Gustave Eiffel' }).waitFor();
  await view.locator('vscode-button.reject').click();
  await view.locator('.reject-form').waitFor();
  await view.locator('vscode-checkbox[data-tag="unnecessary-retrieval"]').click();
  await view.locator('.reject-note textarea').fill('The answer was known without searching.');
  await studio.screenshot('reject-form');
  await view.locator('vscode-button.confirm-reject').click();
  await view.locator('.review-line .status-rejected').waitFor({ timeout: 10000 });
  await view.locator('.review-line .tag', { hasText: 'unnecessary-retrieval' }).waitFor();
  await view.locator('.review-line .note', { hasText: 'known without searching' }).waitFor();
  await view.locator('.row.selected .status-rejected').waitFor();
  // the editor holds the change unsaved: the window title marks it and the list row shows a dot
  await view.locator('.row.selected .dirty').waitFor({ timeout: 10000 });
  await studio.page.waitForFunction('document.title.startsWith("●")', undefined, { timeout: 10000 });
});

test('compares the teacher and the student run of the same task side by side', async () => {
  await selectRow('sum of the squares');
  await view.locator('.trajectory-header .task-meta', { hasText: 'teacher-sum-squares' }).waitFor();
  await view.locator('vscode-button.compare').click();
  await view.locator('.compare-picker').waitFor();
  await view.locator('vscode-button.compare-go').click();
  await view.locator('.compare-view').waitFor();
  const text = await view.locator('.compare-toolbar').innerText();
  assert.match(text, /3 of 3 steps differ/);
  assert.ok((await view.locator('.compare-view .differs').count()) > 0, 'differences are highlighted');
  await studio.screenshot('compare');
  await view.locator('.compare-close').click();
});

test('edits code in place and re-executes it: the new observation appears and later steps turn stale', async () => {
  await selectRow('sum of the squares');
  const first = view.locator('.step[data-step="0"]');
  await first.locator('button.action', { hasText: 'Edit' }).click();
  const code = view.locator('textarea.edit-code');
  await code.waitFor();
  await code.fill('total = 0\nfor i in range(1, 11):\n    total += i * i\nprint(total)');
  await view.locator('vscode-button.save-edit').click();
  await view.locator('.step[data-step="2"] .badge.stale').waitFor({ timeout: 10000 });
  await view.locator('.step[data-step="0"] .code', { hasText: 'range(1, 11)' }).waitFor();
  await view.locator('.step[data-step="0"] button.action', { hasText: 'Re-execute' }).click();
  await view.locator('.step[data-step="0"] .observation-pair').waitFor({ timeout: 90000 });
  const newObservation = view.locator('.step[data-step="0"] .observation-pair .observation').nth(1);
  await newObservation.locator('.print-output', { hasText: '385' }).waitFor();
  const oldObservation = view.locator('.step[data-step="0"] .observation-pair .observation').nth(0);
  assert.match(await oldObservation.innerText(), /285/, 'the old observation is shown beside the new one');
  assert.equal(await view.locator('.step[data-step="0"] .badge.stale').count(), 0, 'the re-run step is no longer stale');
  assert.equal(await view.locator('.step[data-step="1"] .badge.stale').count(), 1);
  assert.equal(await view.locator('.step[data-step="2"] .badge.stale').count(), 1);
  await studio.screenshot('reexecuted');
});

test('continues with the teacher from step 1: later steps are dropped and the new ones stream in', async () => {
  await selectRow('Eiffel Tower');
  const steps = view.locator('.steps > .step');
  assert.equal(await steps.count(), 2);
  await view.locator('.step[data-step="0"] button.action', { hasText: 'Continue' }).click();
  // the old step 2 leaves at once; the teacher's step 2 arrives while step 3 is still being written
  await view.locator('.run-bar', { hasText: 'continues after step 1' }).waitFor({ timeout: 15000 });
  await view.locator('.step.streamed', { hasText: 'print the year to be sure' }).waitFor({ timeout: 60000 });
  await studio.screenshot('continue-streaming');
  await view.locator('.run-bar', { hasText: 'The teacher finished' }).waitFor({ timeout: 60000 });
  await view.locator('.step[data-step="2"] .thought', { hasText: 'completed in 1889' }).waitFor({ timeout: 15000 });
  assert.equal(await steps.count(), 3);
  await view.locator('.step[data-step="1"] .print-output', { hasText: '1889' }).waitFor();
  await view.locator('.trajectory-header .final', { hasText: '1889' }).waitFor();
  assert.ok(teacher.chatRequests().length >= 2, 'the teacher was asked over HTTP');
  await studio.screenshot('continued');
});

test('hostile markup in a trajectory shows as text and runs nothing', async () => {
  await view.locator('.row', { hasText: 'Is <b>this</b> bold?' }).first().click();
  await view.locator('.thought', { hasText: '<img src=x onerror="window.__xssFired=1">' }).waitFor({ timeout: 15000 });
  await view.locator('.thought', { hasText: '<script>window.__xssFired=2</script>' }).waitFor();
  await view.locator('.final', { hasText: '<svg onload=' }).waitFor();
  const frame = await pageFrame();
  // Evaluated in the page: did any handler run, did any element come from the file's markup?
  const found: unknown = await frame.evaluate(`({
    fired: window.__xssFired,
    images: document.querySelectorAll('.detail img, .list-pane img').length,
    scripts: document.querySelectorAll('.detail script, .list-pane script').length,
    svgs: document.querySelectorAll('.detail svg').length,
    bold: document.querySelectorAll('.detail b, .list-pane b').length,
  })`);
  assert.deepEqual(found, { fired: undefined, images: 0, scripts: 0, svgs: 0, bold: 0 });
  await studio.screenshot('hostile-markup');
});
