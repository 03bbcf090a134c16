import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, FrameLocator } from 'playwright-core';
import { repoRoot } from '../../e2e/lib.mjs';
import { openStudio, type StudioSession } from './support/studioSession';

// The trajectory editor at the widths annotators meet: a wide window, a laptop beside the text form, a
// small window. And compare across files: a teacher file in the workspace and an evaluation run (a run
// folder with a manifest and a trajectories/ file) holding the student's run of the same task.

const fixtureLines = fs.readFileSync(path.join(repoRoot, 'test/fixtures/trajectoryEditor/review.traj.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
/** The fixture's second record is the student's run of the first record's task (math-sum-squares). */
const studentLine = fixtureLines[1];
let studio: StudioSession;
let workspaceSource: string;
let view: FrameLocator;

before(async () => {
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'traj-layout-ui-'));
  fs.writeFileSync(path.join(workspaceSource, 'teacher.traj.jsonl'), fixtureLines.filter((l) => l !== studentLine).join('\n') + '\n');
  const run = path.join(workspaceSource, '.trajectory-studio', 'eval-runs', 'student-run');
  fs.mkdirSync(path.join(run, 'trajectories'), { recursive: true });
  fs.writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ kind: 'eval-run', manifestVersion: 1 }));
  fs.writeFileSync(path.join(run, 'trajectories', 'math-mini.traj.jsonl'), `${studentLine}\n`);
  studio = await openStudio({ name: 'trajectory-layout', theme: 'dark', workspace: workspaceSource, settings: { 'files.autoSave': 'off' } });
});
after(async () => {
  await studio?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

async function openTeacherFile(): Promise<FrameLocator> {
  return studio.openTrajectoryFile('teacher.traj.jsonl');
}

/** The page's own frame (for measuring in it), found through VS Code's two nested iframes. */
async function pageFrame(): Promise<Frame> {
  for (const outer of await studio.page.locator('iframe.webview.ready').elementHandles()) {
    const outerFrame = await outer.contentFrame();
    const inner = await outerFrame?.$('#active-frame');
    const frame = await inner?.contentFrame();
    if (frame && (await frame.$('.list-pane'))) return frame;
  }
  throw new Error('the trajectory editor page was not found');
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

interface LayoutFacts {
  pageWidth: number;
  stacked: boolean;
  list: Box;
  listViewport: Box;
  detail: Box;
  detailSide: Box;
  footer: Box | null;
  /** Every step button and its card, to check the buttons stay inside. */
  stepButtons: { button: Box; card: Box }[];
  /** Every review button (Accept, Reject…, Compare…, Open as text) and the detail pane's content box. */
  reviewButtons: Box[];
  detailContent: Box;
  splitter: { now: string | null; orientation: string | null };
}

/** Measures the page in its own frame: boxes in the page's CSS pixels. */
async function measure(): Promise<LayoutFacts> {
  const frame = await pageFrame();
  const facts: unknown = await frame.evaluate(`(() => {
    const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
    const detail = document.querySelector('.detail');
    const style = getComputedStyle(detail);
    const d = detail.getBoundingClientRect();
    const footer = document.querySelector('.keys-help');
    const splitter = document.querySelector('.splitter');
    return {
      pageWidth: document.documentElement.clientWidth,
      stacked: getComputedStyle(document.querySelector('.layout')).gridTemplateColumns.trim().split(/\\s+/).length === 1,
      list: box(document.querySelector('.list-side')),
      listViewport: box(document.querySelector('.list-viewport')),
      detail: box(detail),
      detailSide: box(document.querySelector('.detail-side')),
      footer: footer && getComputedStyle(footer).display !== 'none' ? box(footer) : null,
      stepButtons: [...document.querySelectorAll('.step .step-actions button')].map((b) => ({ button: box(b), card: box(b.closest('.step')) })),
      reviewButtons: [...document.querySelectorAll('.review-actions vscode-button')].map(box),
      detailContent: { left: d.left + parseFloat(style.paddingLeft), right: d.right - parseFloat(style.paddingRight), top: d.top, bottom: d.bottom, width: d.width, height: d.height },
      splitter: { now: splitter?.getAttribute('aria-valuenow') ?? null, orientation: splitter?.getAttribute('aria-orientation') ?? null },
    };
  })()`);
  return facts as LayoutFacts;
}

/** Nothing of the trajectory clips: the detail pane is wide enough to read, buttons stay in their boxes. */
function assertNothingClips(f: LayoutFacts, minDetailWidth: number): void {
  assert.ok(f.detail.width >= minDetailWidth, `the detail pane is ${f.detail.width}px wide (at least ${minDetailWidth}px expected)`);
  assert.ok(f.detail.right <= f.pageWidth + 0.5, 'the detail pane ends inside the page');
  assert.ok(f.stepButtons.length > 0, 'step buttons are shown');
  for (const { button, card } of f.stepButtons) {
    assert.ok(button.left >= card.left - 0.5 && button.right <= card.right + 0.5, `a step button (${button.left}–${button.right}) runs past its card (${card.left}–${card.right})`);
  }
  for (const b of f.reviewButtons) assert.ok(b.right <= f.detailContent.right + 0.5, `a review button ends at ${b.right}, past the pane's content edge ${f.detailContent.right}`);
  // the list keeps to its own area (stacked: above the detail pane; side by side: left of it), with a row or more in view
  const listEnd = f.stacked ? f.listViewport.bottom : f.listViewport.right;
  const detailStart = f.stacked ? f.detailSide.top : f.detailSide.left;
  assert.ok(listEnd <= detailStart + 0.5, `the list (ending at ${listEnd}) runs into the detail pane (starting at ${detailStart})`);
  assert.ok(f.listViewport.height >= 2 * 56, `the list shows ${f.listViewport.height}px of rows`);
  if (f.footer) assert.ok(f.footer.height <= 0.25 * f.detailSide.height + 1, `the key hints take ${f.footer.height}px of a ${f.detailSide.height}px pane`);
}

/**
 * Waits until `condition` (an expression) holds in the page, checking once per animation frame. Runs as
 * one evaluation: the page's CSP forbids the string evaluation Playwright's own polling would need.
 */
async function untilInPage(condition: string, what: string, timeoutMs = 15000): Promise<void> {
  await (
    await pageFrame()
  ).evaluate(`new Promise((resolve, reject) => {
    const start = performance.now();
    const tick = () => {
      if (${condition}) resolve(true);
      else if (performance.now() - start > ${timeoutMs}) reject(new Error(${JSON.stringify(`timed out waiting for ${what}`)}));
      else requestAnimationFrame(tick);
    };
    tick();
  })`);
}

async function atWidth(width: number): Promise<LayoutFacts> {
  await studio.page.setViewportSize({ width, height: 900 });
  // The layout has settled when the detail pane's width is the same over five animation frames.
  await untilInPage(
    `(() => { const w = document.querySelector('.detail').getBoundingClientRect().width; const same = window.__lastDetailWidth === w; window.__stableFrames = same ? (window.__stableFrames ?? 0) + 1 : 0; window.__lastDetailWidth = w; return window.__stableFrames >= 5; })()`,
    'the layout to settle',
  );
  return measure();
}

test('at 1440 px the list and the trajectory sit side by side with the key hints below', async () => {
  view = await openTeacherFile();
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 30000 });
  const f = await atWidth(1440);
  assert.equal(f.stacked, false);
  assert.equal(f.splitter.orientation, 'vertical');
  assertNothingClips(f, 600);
  assert.ok(f.footer, 'the key hints are shown at full width');
  await studio.screenshot('1440');
});

test('the splitter resizes the list by dragging and by the arrow keys, and keeps its place', async () => {
  const { page } = studio;
  const before = await measure();
  const handle = view.locator('.splitter');
  const box = await handle.boundingBox();
  assert.ok(box, 'the splitter is visible');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + 150, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const dragged = await measure();
  assert.ok(Math.abs(dragged.list.width - before.list.width - 150) < 12, `the list grew by ${dragged.list.width - before.list.width}px for a 150px drag`);
  assert.ok(Number(dragged.splitter.now) > Number(before.splitter.now), 'aria-valuenow follows the drag');
  await handle.focus();
  await page.keyboard.press('ArrowLeft');
  await view.locator(`.splitter[aria-valuenow="${Math.round(Number(dragged.splitter.now) - 2)}"]`).waitFor({ timeout: 5000 });
  await page.keyboard.press('Home');
  await view.locator('.splitter[aria-valuenow="18"]').waitFor({ timeout: 5000 });
  // back to roughly where the drag left it, for the screenshots that follow
  for (let i = 0; i < 4; i++) await page.keyboard.press('Shift+ArrowRight');
  await view.locator('.splitter[aria-valuenow="58"]').waitFor({ timeout: 5000 });
  await studio.screenshot('1440-dragged');
  await page.keyboard.press('End');
  await view.locator('.splitter[aria-valuenow="70"]').waitFor({ timeout: 5000 });
  await handle.dblclick();
  await view.locator('.splitter[aria-valuenow="32"]').waitFor({ timeout: 5000 });
  // left one step off the default, to see it come back when the page is recreated (last test)
  await page.keyboard.press('ArrowRight');
  await view.locator('.splitter[aria-valuenow="34"]').waitFor({ timeout: 5000 });
  // marks this page, so the last test can tell it was recreated rather than kept
  await (await pageFrame()).evaluate('window.__layoutPageMark = true');
});

test('at 800 px the list goes above the trajectory, the key hints fold away, nothing clips', async () => {
  const f = await atWidth(800);
  assert.equal(f.stacked, true, 'the layout is stacked');
  assert.equal(f.splitter.orientation, 'horizontal');
  assertNothingClips(f, 300);
  assert.equal(f.footer, null, 'the key hints are folded');
  assert.ok(f.detail.height >= 250, `the detail pane is ${f.detail.height}px tall`);
  // the hints open on demand, without taking over the pane
  await view.locator('.keys-toggle').click();
  await view.locator('.keys-help kbd').first().waitFor({ state: 'visible' });
  assertNothingClips(await measure(), 300);
  await studio.screenshot('800-keys-open');
  await view.locator('.keys-toggle').click();
  await view.locator('.keys-help').waitFor({ state: 'hidden' });
  await studio.screenshot('800');
});

test('at 640 px the trajectory is still readable and its buttons stay inside their cards', async () => {
  const f = await atWidth(640);
  assert.equal(f.stacked, true);
  assertNothingClips(f, 200);
  await view.locator('.step[data-step="1"]').scrollIntoViewIfNeeded();
  await studio.screenshot('640');
  // The filters fold behind their toggle, and open without any select running past the list's edge.
  await view.locator('.filters').waitFor({ state: 'hidden' });
  await view.locator('.filters-toggle', { hasText: 'Filters' }).click();
  await view.locator('.filters-toggle[aria-expanded="true"]', { hasText: 'Hide filters' }).waitFor();
  // (a string: the test files have no DOM types)
  const past = await (await pageFrame()).evaluate<number>(
    `(() => { const side = document.querySelector('.list-side'); const edge = side.getBoundingClientRect().right; return [...side.querySelectorAll('.filters select')].filter((s) => s.getBoundingClientRect().right > edge + 1).length; })()`,
  );
  assert.equal(past, 0, 'no filter runs past the edge of the list');
  await studio.screenshot('640-filters-open');
  await view.locator('.filters-toggle').click();
  await view.locator('.filters').waitFor({ state: 'hidden' });
  await atWidth(1440);
});

test("compares the teacher's trajectory with the student's from an evaluation run", async () => {
  await view.locator('.row', { hasText: 'sum of the squares' }).first().click();
  await view.locator('.trajectory-header .task-meta', { hasText: 'teacher-sum-squares' }).waitFor({ timeout: 15000 });
  await view.locator('vscode-button.compare').click();
  await view.locator('.compare-picker').waitFor();
  // the search over the workspace's other files ends with what it found and where it looked
  const outcome = view.locator('.compare-progress, .compare-none', { hasText: /searched this file|No other/ });
  await outcome.waitFor({ timeout: 30000 });
  assert.equal(await outcome.innerText(), '1 run of this task (searched this file and 1 other trajectory file)');
  const option = view.locator('.compare-select option', { hasText: 'student-sum-squares' });
  assert.equal(await option.count(), 1, 'the eval run holds the student run of the same task');
  assert.match((await option.textContent()) ?? '', /eval run student-run · math-mini\.traj\.jsonl #1/);
  await view.locator('.compare-select').selectOption({ label: (await option.textContent()) ?? '' });
  await studio.screenshot('compare-picker');
  await view.locator('vscode-button.compare-go').click();
  await view.locator('.compare-view').waitFor({ timeout: 15000 });
  const toolbar = await view.locator('.compare-toolbar').innerText();
  assert.match(toolbar, /Comparing #1 with eval run student-run · math-mini\.traj\.jsonl #1: 3 of 3 steps differ/);
  assert.match(await view.locator('.compare-side').nth(1).innerText(), /student-sum-squares/);
  assert.ok((await view.locator('.compare-view .differs').count()) > 0, 'differences are highlighted');
  await studio.screenshot('compare-across-files');
  // in a narrow editor the two columns share the pane without running past it
  await atWidth(640);
  await studio.screenshot('compare-across-files-640');
  // what sticks out past the pane's right edge, if anything (by class, for the failure message)
  const overflowing: unknown = await (await pageFrame()).evaluate(`(() => {
    const d = document.querySelector('.detail');
    const edge = d.getBoundingClientRect().right - parseFloat(getComputedStyle(d).paddingRight) + 0.5;
    return { overflow: d.scrollWidth - d.clientWidth, past: [...d.querySelectorAll('*')].filter((e) => e.checkVisibility() && e.getBoundingClientRect().right > edge).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right - edge)).slice(0, 15) };
  })()`);
  assert.deepEqual(overflowing, { overflow: 0, past: [] }, 'the compare view fits the pane\'s width');
  assert.equal(await view.locator('.compare-close').isVisible(), true);
  await atWidth(1440);
  await view.locator('.compare-close').click();
  await view.locator('.trajectory-header').waitFor();
});

test("a SAG step's candidates side by side: one column each, the winner's group first", async () => {
  const { page } = studio;
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('math-mini.traj.jsonl');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'math-mini.traj.jsonl' }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  // the eval run's file (read-only) holds only the student's run
  view = await studio.findWebview('.list-status', { hasText: '1 in file', timeout: 60000 });
  await view.locator('.trajectory-header .task-meta', { hasText: 'student-sum-squares' }).waitFor({ timeout: 30000 });
  await view.locator('details.sag summary').first().click();
  await view.locator('button.candidates-layout').click();
  const columns = view.locator('.candidate-columns .candidate-column');
  await columns.first().waitFor();
  assert.equal(await columns.count(), 5, 'one column per candidate');
  assert.equal(await view.locator('table.candidates').isVisible(), false, 'the table makes way for the columns');
  assert.equal(await columns.first().getAttribute('data-candidate'), '0', 'the winner comes first');
  await columns.first().locator('.badge', { hasText: 'winner' }).waitFor();
  assert.match(await columns.first().locator('.candidate-group').innerText(), /group 1 \(\d+ votes?\)/);
  await view.locator('.candidate-column[data-candidate="4"] .same-code', { hasText: 'same code and outcome as #0' }).waitFor();
  await view.locator('details.sag').scrollIntoViewIfNeeded();
  await studio.screenshot('sag-side-by-side');
  await view.locator('button.candidates-layout', { hasText: 'As a table' }).click();
  await view.locator('table.candidates').waitFor({ state: 'visible' });
});

test('the teacher file\'s page, recreated after its tab was hidden, keeps the list width set with the splitter', async () => {
  await studio.page.locator('.tabs-container .tab', { hasText: 'teacher.traj.jsonl' }).click();
  view = await studio.findWebview('.list-status', { hasText: '28 in file', timeout: 60000 });
  await view.locator('.splitter[aria-valuenow="34"]').waitFor({ timeout: 15000 });
  assert.equal(await (await pageFrame()).evaluate('window.__layoutPageMark'), undefined, 'the page was recreated, not kept');
});

test('beside the text form (a half-width editor) the step buttons and header buttons stay inside', async () => {
  await view.locator('.row', { hasText: 'sum of the squares' }).first().click();
  await view.locator('.trajectory-header .task-meta', { hasText: 'teacher-sum-squares' }).waitFor({ timeout: 15000 });
  const wide = await measure();
  await view.locator('vscode-button.open-text').click();
  // the text form opens in a second editor group beside the trajectory editor
  await studio.page.locator('.editor-group-container').nth(1).locator('.monaco-editor').waitFor({ timeout: 30000 });
  view = await studio.findWebview('.list-status', { hasText: '28 in file', timeout: 30000 });
  await untilInPage(`document.documentElement.clientWidth < ${wide.pageWidth * 0.75}`, 'the editor to narrow beside the text form');
  const f = await atWidth(1440);
  assertNothingClips(f, 300);
  await studio.screenshot('beside-text-form');
});
