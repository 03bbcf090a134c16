import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { triageFixtureText } from '../fixtures/triage/triageFixture';
import { openStudio, type StudioSession } from './support/studioSession';

// Triage flags in the trajectory editor, as an annotator meets them: a file of six trajectories, three
// with a planted defect (a factual answer given without web_search, a math answer typed as a literal, a
// step that re-runs the failing code of the one before) and three clean. The review queue, the sort by
// risk, the flags on the right step cards and the question asked before accepting a flagged trajectory.

// Runs in the page; the test's own compile has no DOM library.
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const fileName = 'triage.traj.jsonl';
let studio: StudioSession;
let workspaceSource: string;
let view: FrameLocator;

before(async () => {
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'traj-triage-ui-'));
  // Built from records (checked against the schema and the triage rules) rather than copied, so the file
  // always plants what the rules look for.
  fs.writeFileSync(path.join(workspaceSource, fileName), triageFixtureText());
  studio = await openStudio({ name: 'trajectory-triage', theme: 'dark', workspace: workspaceSource, settings: { 'files.autoSave': 'off', 'trajectoryStudio.review.advanceAfterVerdict': false } });
});
after(async () => {
  await studio?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

async function openFixture(session: StudioSession): Promise<FrameLocator> {
  return session.openTrajectoryFile(fileName);
}

/** The trajectory ids of the list's rows, top to bottom (rows are drawn in list order). */
async function listedIds(): Promise<string[]> {
  const rows = view.locator('.row');
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push(ids[Number(await rows.nth(i).getAttribute('data-slot'))]);
  return out;
}
const ids = ['clean-sum', 'typed-answer', 'clean-eiffel', 'from-memory', 'ignored-error', 'clean-primes'];

async function showing(id: string): Promise<void> {
  await view.locator('.trajectory-header .task-meta', { hasText: ` · ${id} · ` }).waitFor({ timeout: 15000 });
}

/** Presses one of the editor's single-key bindings with the page focused (outside any text field). */
async function pressKey(key: string): Promise<void> {
  await view.locator('.trajectory-header .task-meta').click();
  await studio.page.keyboard.press(key);
}

test('the list marks flagged trajectories with a severity-coloured count that names the rules', async () => {
  view = await openFixture(studio);
  await view.locator('.list-status', { hasText: '6 in file' }).waitFor({ timeout: 30000 });
  await showing('clean-sum');
  const marks = view.locator('.row .flag-mark');
  await marks.first().waitFor();
  assert.equal(await marks.count(), 3, 'the three planted trajectories, and only they, are marked');
  const memoryMark = view.locator('.row[data-slot="3"] .flag-mark');
  assert.equal((await memoryMark.textContent())?.trim(), '1');
  assert.match((await memoryMark.getAttribute('aria-label')) ?? '', /^1 triage flag, risk 3: Answered without searching \(step 2\)$/);
  assert.match((await memoryMark.getAttribute('class')) ?? '', /\bseverity-high\b/, 'a high flag is coloured as an error');
  assert.ok(await view.locator('.row[data-slot="1"] .flag-mark.severity-medium').count(), 'a medium flag is coloured as a warning');
  await studio.screenshot('list');
});

test('the review queue visits the flagged trajectories first, riskiest first, then the rest in list order', async () => {
  // The first row was picked on open, so the queue starts at its front.
  const walk: string[] = [];
  for (const expected of ['from-memory', 'ignored-error', 'typed-answer', 'clean-sum', 'clean-eiffel']) {
    await pressKey('u');
    await showing(expected);
    walk.push(expected);
  }
  assert.deepEqual(walk, ['from-memory', 'ignored-error', 'typed-answer', 'clean-sum', 'clean-eiffel']);
});

test('sort by risk and the flag filter', async () => {
  await view.locator('select[aria-label="Sort"]').selectOption('risk');
  await view.locator('.row').first().filter({ hasText: 'Nineteen Eighty-Four' }).waitFor({ timeout: 10000 });
  assert.deepEqual(await listedIds(), ['from-memory', 'ignored-error', 'typed-answer', 'clean-sum', 'clean-eiffel', 'clean-primes'], 'risk 3, 3, 2, then the clean ones in file order');
  const triageFilter = view.locator('select[aria-label="Triage flags"]');
  const offered = await triageFilter.locator('option').allTextContents();
  assert.deepEqual(offered, ['Flagged or not', 'Any flag', 'No flag', 'Answered without searching (1)', 'Answer typed, not computed (1)', 'Error ignored (1)'], 'the rules in use, in rule order');
  await triageFilter.selectOption('ignored-error');
  await view.locator('.list-status', { hasText: '1 shown' }).waitFor({ timeout: 10000 });
  assert.deepEqual(await listedIds(), ['ignored-error']);
  await triageFilter.selectOption('none');
  await view.locator('.list-status', { hasText: '3 shown' }).waitFor({ timeout: 10000 });
  assert.deepEqual(await listedIds(), ['clean-sum', 'clean-eiffel', 'clean-primes']);
  await triageFilter.selectOption('');
  await view.locator('.list-status', { hasText: '6 shown' }).waitFor({ timeout: 10000 });
  await studio.screenshot('sorted-by-risk');
});

test('a flag sits on the card of the step it points at, with its title, message and evidence as text', async () => {
  await view.locator('.row', { hasText: 'remainder when 2**100' }).click();
  await showing('ignored-error');
  const flagged = view.locator('.step[data-step="1"]');
  const flag = flagged.locator('.flag[data-rule="ignored-error"]');
  await flag.waitFor();
  assert.equal(await flag.locator('.flag-title').textContent(), 'Error ignored');
  assert.match((await flag.locator('.flag-message').textContent()) ?? '', /Ran the code that failed in step 1 again unchanged \(AttributeError\)/);
  assert.equal(await flag.locator('code.flag-evidence').textContent(), 'import sympy');
  assert.match((await flag.getAttribute('aria-label')) ?? '', /^High-severity flag on step 2: Error ignored\. /);
  for (const other of [0, 2, 3]) {
    const card = view.locator(`.step[data-step="${other}"]`);
    assert.equal(await card.locator('.flag').count(), 0, `step ${other + 1} has no flag`);
    assert.doesNotMatch(await card.innerText(), /Error ignored/);
  }
  // The header counts the flags on step cards, so one below the fold is not missed, and links to the card.
  await view.locator('.trajectory-header .flag-summary', { hasText: '1 triage flag on step 2: Error ignored' }).waitFor();
  await view.locator('.trajectory-header .flag-summary button[data-goto-step="1"]').click();
  await view.locator('.step.selected[data-step="1"]').waitFor({ timeout: 10000 });
  await studio.screenshot('flag-on-step');

  await view.locator('.row', { hasText: 'Nineteen Eighty-Four' }).click();
  await showing('from-memory');
  await view.locator('.step[data-step="1"] .flag .flag-title', { hasText: 'Answered without searching' }).waitFor();
  assert.equal(await view.locator('.step[data-step="0"] .flag').count(), 0);
  assert.equal(await view.locator('.step[data-step="1"] code.flag-evidence').textContent(), 'George Orwell');
  await studio.screenshot('no-search-flag');
});

test('accepting a flagged trajectory asks once: Cancel keeps it unreviewed, Accept accepts', async () => {
  const { page } = studio;
  await view.locator('.row', { hasText: '17 * 23' }).click();
  await showing('typed-answer');
  const dialog = page.locator('.monaco-dialog-box');
  await view.locator('vscode-button.accept').click();
  await dialog.waitFor({ timeout: 15000 });
  assert.match(await dialog.innerText(), /1 open flag: Answer typed, not computed\. Accept anyway\?/);
  assert.match(await dialog.innerText(), /Step 2 · Answer typed, not computed: final_answer\("\\\\boxed\{396\}"\) reports a value that no earlier output shows/);
  await studio.screenshot('accept-question');
  await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
  await dialog.waitFor({ state: 'detached', timeout: 10000 });
  // the answer came back to the page (the request finished) and nothing changed
  await view.locator('.review-line .status-unreviewed').waitFor();
  assert.equal(await view.locator('.row.selected .dirty').count(), 0, 'Cancel leaves the record as it was');

  await view.locator('vscode-button.accept').click();
  await dialog.waitFor({ timeout: 15000 });
  await dialog.getByRole('button', { name: 'Accept', exact: true }).click();
  await view.locator('.review-line .status-accepted').waitFor({ timeout: 10000 });
  await view.locator('.row.selected .status-accepted').waitFor({ timeout: 10000 });
  // an accepted trajectory keeps showing its flags: the reviewer decided, the list still says why it was looked at
  await view.locator('.row.selected .flag-mark').waitFor();
});

test('"Accept and Don\'t Ask Again" accepts and turns the question off; the next flagged one is accepted at once', async () => {
  const { page } = studio;
  const dialog = page.locator('.monaco-dialog-box');
  await view.locator('.row', { hasText: 'remainder when 2**100' }).click();
  await showing('ignored-error');
  await pressKey('a');
  await dialog.waitFor({ timeout: 15000 });
  await dialog.getByRole('button', { name: "Accept and Don't Ask Again", exact: true }).click();
  await view.locator('.review-line .status-accepted').waitFor({ timeout: 10000 });
  const userSettings = path.join(path.dirname(studio.workspace), 'cs-user-data', 'User', 'settings.json');
  assert.equal((JSON.parse(fs.readFileSync(userSettings, 'utf8')) as Record<string, unknown>)['trajectoryStudio.triage.confirmAcceptFlagged'], false, 'the answer is kept in the user settings');

  await view.locator('.row', { hasText: 'Nineteen Eighty-Four' }).click();
  await showing('from-memory');
  await view.locator('vscode-button.accept').click();
  await view.locator('.review-line .status-accepted').waitFor({ timeout: 10000 });
  assert.equal(await dialog.count(), 0, 'no question this time');
  await studio.screenshot('accepted');
});

test('flags follow edits: changing a step\'s code flags the later steps stale', async () => {
  await view.locator('.row', { hasText: 'sum of the first 10' }).click();
  await showing('clean-sum');
  assert.equal(await view.locator('.flag').count(), 0);
  await view.locator('.step[data-step="0"] button.action', { hasText: 'Edit' }).click();
  const code = view.locator('textarea.edit-code');
  await code.waitFor();
  await code.fill('total = sum(range(1, 12))\nprint(total)');
  await view.locator('vscode-button.save-edit').click();
  await view.locator('.step[data-step="1"] .flag[data-rule="stale-step"]').waitFor({ timeout: 10000 });
  await view.locator('.row.selected .flag-mark').waitFor({ timeout: 10000 });
  await view.locator('select[aria-label="Triage flags"] option', { hasText: 'Stale step (1)' }).waitFor({ state: 'attached', timeout: 10000 });
  await studio.screenshot('stale-after-edit');
});

test('the flags read well in the light theme', async () => {
  await studio.close();
  studio = await openStudio({ name: 'trajectory-triage', theme: 'light', workspace: workspaceSource, settings: { 'files.autoSave': 'off', 'trajectoryStudio.review.advanceAfterVerdict': false } });
  view = await openFixture(studio);
  await showing('clean-sum');
  const background = await view.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
  const channels = (background.match(/\d+/g) ?? []).slice(0, 3).map(Number);
  assert.ok(channels.length === 3 && channels.reduce((a, b) => a + b, 0) > 600, `the page follows the light theme (${background})`);
  await view.locator('select[aria-label="Sort"]').selectOption('risk');
  await view.locator('.row').first().filter({ hasText: 'Nineteen Eighty-Four' }).waitFor({ timeout: 10000 });
  await view.locator('.row', { hasText: 'remainder when 2**100' }).click();
  await showing('ignored-error');
  await view.locator('.step[data-step="1"] .flag').waitFor();
  await studio.screenshot('flag-on-step');
  await view.locator('vscode-button.accept').click();
  const dialog = studio.page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 15000 });
  await studio.screenshot('accept-question');
  await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
  await dialog.waitFor({ state: 'detached', timeout: 10000 });
});
