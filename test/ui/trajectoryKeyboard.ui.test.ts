import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, FrameLocator } from 'playwright-core';
import { repoRoot } from '../../e2e/lib.mjs';
import { openStudio, type StudioSession } from './support/studioSession';

// The editor's keyboard model, driven as a fast typist and a keyboard-only annotator would: text typed at
// full speed (no delay between key events) and through an IME composition lands only in the field it was
// typed into, never firing a single-key shortcut; and ten trajectories are reviewed without the mouse,
// through a list that a screen reader sees as a listbox.

const source = path.join(repoRoot, 'test/fixtures/trajectoryEditor/review.traj.jsonl');
let studio: StudioSession;
let workspaceSource: string;
let view: FrameLocator;

/** Ten unreviewed trajectories: a three-step one first (for j/k and editing), then nine one-step ones. */
function tenTrajectories(): string {
  const records = fs
    .readFileSync(source, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { id: string; task: { id: string; question: string }; review: { status: string; reasonTags: string[] } }];
      } catch {
        return [];
      }
    });
  const teacher = records.find((r) => r.id === 'teacher-sum-squares')!;
  const filler = records.find((r) => r.id === 'filler-1')!;
  // Questions with distinct first words, some starting with letters that are no shortcut (for type-ahead).
  const questions = ['What is 2 times 3?', 'How many legs has a spider?', 'Name the largest planet.', 'Name the smallest prime.', 'What is 5 times 6?', 'Give 7 times 8.', 'What is 8 times 9?', 'Spell nine.', 'What is 10 times 11?'];
  const out = [{ ...teacher, id: 'kb-0' }];
  questions.forEach((question, i) => out.push({ ...filler, id: `kb-${i + 1}`, task: { ...filler.task, id: `kb-task-${i + 1}`, question } }));
  return `${out.map((r) => JSON.stringify({ ...r, review: { status: 'unreviewed', reasonTags: [] } })).join('\n')}\n`;
}

before(async () => {
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'traj-keyboard-ui-'));
  fs.writeFileSync(path.join(workspaceSource, 'ten.traj.jsonl'), tenTrajectories());
  studio = await openStudio({
    name: 'trajectory-keyboard',
    theme: 'dark',
    workspace: workspaceSource,
    // No question before accepting a flagged trajectory: this test is about keys, not triage.
    settings: { 'files.autoSave': 'off', 'trajectoryStudio.triage.confirmAcceptFlagged': false },
  });
  view = await studio.openTrajectoryFile('ten.traj.jsonl');
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 30000 });
  await view.locator('.list-status', { hasText: '10 unreviewed' }).waitFor({ timeout: 30000 });
});
after(async () => {
  await studio?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

/** The page's own frame, for evaluating in it (VS Code nests it in two iframes). */
async function pageFrame(): Promise<Frame> {
  for (const outer of await studio.page.locator('iframe.webview.ready').elementHandles()) {
    const inner = await (await outer.contentFrame())?.$('#active-frame');
    const frame = await inner?.contentFrame();
    if (frame && (await frame.$('.list-pane'))) return frame;
  }
  throw new Error('the trajectory editor page was not found');
}

/** What must not change while someone types: review statuses, the selection, the document. */
async function snapshot(): Promise<{ status: string; selected: string | null; question: string; dirty: boolean; forms: number }> {
  return {
    status: (await view.locator('.list-status').innerText()).replace(/\d+ shown · /, ''),
    selected: await view.locator('.row.selected').getAttribute('data-slot'),
    question: await view.locator('.trajectory-header .question').innerText(),
    dirty: (await studio.page.title()).startsWith('●') || (await view.locator('.row .dirty').count()) > 0,
    forms: await view.locator('.reject-form, .compare-picker').count(),
  };
}

/** The focused element inside the page, looked for through shadow roots (vscode-elements). */
async function focusedTag(): Promise<string> {
  const frame = await pageFrame();
  // Evaluated in the page (a string: the test's own types have no DOM).
  const tag: unknown = await frame.evaluate(`(() => {
    let node = document.activeElement;
    while (node && node.shadowRoot && node.shadowRoot.activeElement) node = node.shadowRoot.activeElement;
    return node ? node.tagName.toLowerCase() + (node.className ? '.' + String(node.className).split(' ')[0] : '') : '';
  })()`);
  return String(tag);
}

// Every letter of the editor's shortcuts (j k u a r e x t / and Shift+J K R C) in one string.
const hostile = 'rather jaunty text: a/b, JKRC ux e';

test('e opens the edit and the next keys, typed at full speed, land in the thought; Tab to the code keeps every character', async () => {
  const { page } = studio;
  const before = await snapshot();
  await view.locator('.trajectory-header .task-meta').click();
  await page.keyboard.press('e');
  await page.keyboard.type(hostile);
  await page.keyboard.press('Tab');
  await page.keyboard.type('answer = 42 # ajkrux/');
  const thought = await view.locator('textarea.edit-thought').inputValue();
  const code = await view.locator('textarea.edit-code').inputValue();
  assert.ok(thought.endsWith(`loop.${hostile}`), `the thought ends with what was typed, every character: ${JSON.stringify(thought)}`);
  assert.ok(code.includes('answer = 42 # ajkrux/'), `the code holds what was typed: ${JSON.stringify(code)}`);
  assert.equal(await view.locator('.reject-form').count(), 0, 'r typed into the thought opened no reject form');
  await studio.screenshot('typed-into-edit');
  // Escape asks before it drops the edit; "Keep editing" has focus, so a stray Enter keeps it.
  await page.keyboard.press('Escape');
  await view.locator('.discard-prompt', { hasText: 'Discard your changes to step 1?' }).waitFor({ timeout: 5000 });
  assert.equal(await focusedTag(), 'button.action');
  await studio.screenshot('discard-prompt');
  await page.keyboard.press('Enter');
  await view.locator('.discard-prompt').waitFor({ state: 'detached', timeout: 5000 });
  assert.ok((await view.locator('textarea.edit-code').inputValue()).includes('answer = 42'), 'keep editing kept the text');
  await page.keyboard.press('Escape');
  await view.locator('.discard-prompt').waitFor({ timeout: 5000 });
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await view.locator('.step.editing').waitFor({ state: 'detached', timeout: 5000 });
  assert.deepEqual(await snapshot(), before, 'nothing changed: status, selection, document');
});

test('the search box takes text at full speed; Escape clears it, a second Escape leaves it for the list', async () => {
  const { page } = studio;
  const before = await snapshot();
  await page.keyboard.press('/');
  await page.keyboard.type(hostile);
  const search = view.locator('vscode-textfield.search');
  assert.equal(await search.evaluate((e) => (e as unknown as { value: string }).value), hostile);
  await view.locator('.list-status', { hasText: /^0 shown/ }).waitFor({ timeout: 10000 });
  await studio.screenshot('typed-into-search');
  await page.keyboard.press('Escape');
  await view.locator('.list-status', { hasText: /^10 shown/ }).waitFor({ timeout: 10000 });
  assert.equal(await search.evaluate((e) => (e as unknown as { value: string }).value), '');
  await page.keyboard.press('Escape');
  assert.equal(await focusedTag(), 'div.list-viewport', 'the second Escape moved focus to the list');
  assert.deepEqual(await snapshot(), before);
});

test('the reject note takes text at full speed and Escape asks before discarding it', async () => {
  const { page } = studio;
  const before = await snapshot();
  await view.locator('.list-viewport').focus();
  await page.keyboard.press('r');
  await view.locator('.reject-form').waitFor({ timeout: 5000 });
  // r puts focus on the first reason at once, not on the list
  assert.equal(await focusedTag(), 'input.checkbox', 'the first reason checkbox has focus');
  await view.locator('.reject-note textarea').click();
  await page.keyboard.type(hostile);
  await page.keyboard.insertText(' inserted ajk');
  assert.equal(await view.locator('.reject-note textarea').inputValue(), `${hostile} inserted ajk`);
  await page.keyboard.press('Escape');
  await view.locator('.discard-prompt', { hasText: 'the rejection' }).waitFor({ timeout: 5000 });
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await view.locator('.reject-form').waitFor({ state: 'detached', timeout: 5000 });
  assert.deepEqual(await snapshot(), before);
});

test('typing into the filters fires no shortcut', async () => {
  const { page } = studio;
  const before = await snapshot();
  const filters: [string, string][] = [['Review status', ''], ['Verdict', ''], ['Domain', ''], ['Sort', 'file']];
  for (const [label] of filters) {
    await view.locator(`select[aria-label="${label}"]`).focus();
    await page.keyboard.type('ajrexu');
    await page.keyboard.press('Escape');
    assert.equal(await focusedTag(), 'div.list-viewport', `Escape in ${label} leaves it for the list`);
  }
  // Typing into a select picks options (so the list may filter); put them back, then compare.
  for (const [label, value] of filters) await view.locator(`select[aria-label="${label}"]`).selectOption(value);
  await view.locator('.row.selected').waitFor({ timeout: 10000 });
  assert.deepEqual(await snapshot(), before);
});

test('an IME composition (CDP) goes into the field and fires nothing; a composing key on the list is ignored', async () => {
  const { page } = studio;
  const before = await snapshot();
  await page.keyboard.press('/');
  assert.match(await focusedTag(), /^input/, 'the search field has focus');
  const cdp = await studio.context.newCDPSession(page);
  // Typing "kana" with a Japanese IME: the composition grows, then commits as one string.
  for (const text of ['k', 'か', 'かn', 'かな']) await cdp.send('Input.imeSetComposition', { text, selectionStart: text.length, selectionEnd: text.length });
  await cdp.send('Input.insertText', { text: 'かな' });
  const search = view.locator('vscode-textfield.search');
  assert.equal(await search.evaluate((e) => (e as unknown as { value: string }).value), 'かな');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  // A key the IME is still processing (isComposing, keyCode 229) reaches the page while the list has focus.
  const frame = await pageFrame();
  await frame.evaluate(`(() => {
    const list = document.querySelector('.list-viewport');
    list.dispatchEvent(new CompositionEvent('compositionstart', { bubbles: true, composed: true }));
    for (const key of ['a', 'r', 'e', 'j']) list.dispatchEvent(new KeyboardEvent('keydown', { key, keyCode: 229, isComposing: true, bubbles: true, composed: true, cancelable: true }));
    list.dispatchEvent(new CompositionEvent('compositionend', { data: 'あれ', bubbles: true, composed: true }));
  })()`);
  await cdp.detach();
  assert.deepEqual(await snapshot(), before);
  assert.equal(await view.locator('.step.selected').getAttribute('data-step'), '0', 'j while composing moved no step');
});

test('keyboard-only review of ten trajectories through a listbox with an active descendant', async () => {
  const { page } = studio;
  const listbox = view.locator('[role="listbox"]');
  await listbox.focus();
  assert.equal(await listbox.count(), 1);
  assert.equal(await listbox.getAttribute('tabindex'), '0', 'the list is one tab stop');
  assert.equal(await view.locator('[role="option"][tabindex]').count(), 0, 'the rows are not tab stops');
  const activeOption = async () => {
    const id = await listbox.getAttribute('aria-activedescendant');
    assert.ok(id, 'the listbox names its active option');
    const option = view.locator(`#${id}`);
    assert.equal(await option.getAttribute('role'), 'option');
    assert.equal(await option.getAttribute('aria-selected'), 'true');
    // Its accessible name is its content: the question, then the meta line and the status and verdict badges.
    return (await option.innerText()).replace(/\s+/g, ' ');
  };
  assert.match(await activeOption(), /^What is the sum of the squares.* 3 steps .*unreviewed/);

  // Arrows, End, Home and type-ahead move the selection; the detail follows.
  await page.keyboard.press('ArrowDown');
  await view.locator('.trajectory-header .question', { hasText: 'What is 2 times 3?' }).waitFor({ timeout: 10000 });
  await page.keyboard.press('End');
  await view.locator('.trajectory-header .question', { hasText: 'What is 10 times 11?' }).waitFor({ timeout: 10000 });
  await page.keyboard.press('Home');
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 10000 });
  await page.keyboard.type('nam');
  await view.locator('.trajectory-header .question', { hasText: 'Name the largest planet.' }).waitFor({ timeout: 10000 });
  assert.match(await activeOption(), /^Name the largest planet\./);
  await page.keyboard.press('Home');
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 10000 });

  // Enter goes to the detail, where j/k walk the steps.
  await page.keyboard.press('Enter');
  assert.equal(await focusedTag(), 'main.detail');
  await page.keyboard.press('j');
  await view.locator('.step.selected[data-step="1"]').waitFor({ timeout: 5000 });

  // Edit step 2 by keyboard and apply with Ctrl+Enter.
  await page.keyboard.press('e');
  await page.keyboard.type('Checked by keyboard.');
  await page.keyboard.press('Control+Enter');
  await view.locator('.step[data-step="1"] .thought', { hasText: 'Checked by keyboard.' }).waitFor({ timeout: 10000 });

  // Accept moves on to the next unreviewed trajectory; seven more accepts, then two rejects by keyboard.
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const question = await view.locator('.trajectory-header .question').innerText();
    seen.add(question);
    await page.keyboard.press('a');
    await view.locator('.list-status', { hasText: new RegExp(`\\b${9 - i} unreviewed.*\\b${i + 1} accepted`) }).waitFor({ timeout: 10000 });
    await view.locator('.trajectory-header .question').filter({ hasNotText: question }).waitFor({ timeout: 10000 });
    await view.locator('.trajectory-header .review-line .status-unreviewed').waitFor({ timeout: 10000 });
  }
  for (let i = 0; i < 2; i++) {
    const question = await view.locator('.trajectory-header .question').innerText();
    seen.add(question);
    await page.keyboard.press('r');
    await view.locator('.reject-form').waitFor({ timeout: 5000 });
    // focus is on the first reason: Space ticks it, Ctrl+Enter rejects
    await page.keyboard.press('Space');
    if (i === 0) await studio.screenshot('reject-by-keyboard');
    await page.keyboard.press('Control+Enter');
    await view.locator('.list-status', { hasText: new RegExp(`\\b${1 - i} unreviewed.*\\b8 accepted.*\\b${i + 1} rejected`) }).waitFor({ timeout: 10000 });
    if (i === 0) {
      // Reject moves on too (the counts change first, then the next trajectory opens).
      await view.locator('.trajectory-header .question').filter({ hasNotText: question }).waitFor({ timeout: 10000 });
      await view.locator('.trajectory-header .review-line .status-unreviewed').waitFor({ timeout: 10000 });
    }
  }
  assert.equal(seen.size, 10, 'ten different trajectories were reviewed');
  assert.equal(await view.locator('.row .status-unreviewed').count(), 0);
  // Screen readers hear the new status in each row's name.
  await listbox.focus();
  await page.keyboard.press('Home');
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 10000 });
  assert.match(await activeOption(), /^What is the sum of the squares.* accepted/);
  await studio.screenshot('reviewed-by-keyboard');
});
