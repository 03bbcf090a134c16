import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame, FrameLocator } from 'playwright-core';
import { repoRoot } from '../../e2e/lib.mjs';
import { openStudio, type StudioSession, type Theme } from './support/studioSession';

// Math as a reviewer reads it: LaTeX in the question, thoughts and answers typeset by KaTeX (its CSS and
// fonts loaded under the webview's CSP), "Render math" off showing the source, hostile markup inside and
// outside formulas staying inert, and the step's code field highlighted while it is edited. Screenshots in
// the dark, light and high-contrast themes.

const fixture = path.join(repoRoot, 'test/fixtures/trajectoryEditor/math.traj.jsonl');

// Runs in the page; the test's own compile has no DOM library.
declare const document: { fonts: Iterable<{ family: string; status: string }> & { ready: Promise<unknown> } };

async function openMathStudio(theme: Theme): Promise<{ studio: StudioSession; view: FrameLocator; cleanup: () => Promise<void> }> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `math-ui-${theme}-`));
  fs.copyFileSync(fixture, path.join(workspace, 'math.traj.jsonl'));
  // A second file, to hide the first one's page behind another tab.
  fs.writeFileSync(path.join(workspace, 'other.traj.jsonl'), `${fs.readFileSync(fixture, 'utf8').split('\n')[1]}\n`);
  const studio = await openStudio({ name: 'math-rendering', theme, workspace, settings: { 'files.autoSave': 'off' } });
  const cleanup = async () => {
    await studio.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  };
  try {
    const view = await studio.openTrajectoryFile('math.traj.jsonl');
    return { studio, view, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The editor page's own frame (to evaluate in it), found through VS Code's two nested iframes. */
async function pageFrame(studio: StudioSession): Promise<Frame> {
  for (const outer of await studio.page.locator('iframe.webview.ready').elementHandles()) {
    const inner = await (await outer.contentFrame())?.$('#active-frame');
    const frame = await inner?.contentFrame();
    if (frame && (await frame.$('.list-pane'))) return frame;
  }
  throw new Error('the trajectory editor page was not found');
}

async function selectRow(view: FrameLocator, text: string): Promise<void> {
  await view.locator('.row', { hasText: text }).first().click();
  await view.locator('.trajectory-header .question', { hasText: text }).waitFor({ timeout: 15000 });
}

describe('math rendering (dark)', () => {
  let session: Awaited<ReturnType<typeof openMathStudio>> | undefined;
  after(async () => session?.cleanup());

  test('LaTeX in the question, thought and answers is typeset; prices stay prose', async () => {
    session = await openMathStudio('dark');
    const { studio, view } = session;
    await selectRow(view, 'Compute');
    const question = view.locator('.trajectory-header .question');
    // Inline, display and \( \) math in the question, each a KaTeX formula with MathML for screen readers.
    await question.locator('.katex').first().waitFor({ timeout: 15000 });
    assert.equal(await question.locator('.math').count(), 3);
    assert.equal(await question.locator('.math-display .katex-display').count(), 1);
    assert.equal(await question.locator('.katex math annotation').first().textContent(), 'f(x) = x^2 + 3x');
    // The price sentence is text, with its dollars.
    assert.match((await question.textContent()) ?? '', /A pen costs \$5 and a book \$10\./);
    // Gold and final answers, the final one boxed.
    await view.locator('.gold .katex').waitFor();
    await view.locator('.final .katex .fbox, .final .katex .boxpad').first().waitFor();
    // The thought: display math \[ \], inline $ $, and a broken formula shown as its source with a marker.
    const thought = view.locator('.step .thought').first();
    assert.equal(await thought.locator('.math-display .katex-display').count(), 1);
    const broken = thought.locator('.math-error');
    assert.equal(await broken.count(), 1);
    assert.equal(await broken.textContent(), '$\\frac{1}{$');
    assert.match((await broken.getAttribute('title')) ?? '', /ParseError/);
    // KaTeX's stylesheet and fonts loaded from the extension (the CSP allows them): no fallback font.
    const frame = await pageFrame(studio);
    await frame.evaluate('document.fonts.ready');
    const loaded = await frame.evaluate(() => [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replace(/"/g, '')));
    assert.ok(loaded.includes('KaTeX_Main') && loaded.includes('KaTeX_Math'), `KaTeX fonts loaded: ${loaded.join(', ')}`);
    await studio.screenshot('typeset');
  });

  test('"Render math" off shows the source as the file holds it, also after the page is recreated', async () => {
    const { studio } = session!;
    let view = session!.view;
    const toggle = view.locator('.math-toggle');
    await toggle.click();
    const question = view.locator('.trajectory-header .question');
    await question.filter({ hasText: 'Compute $$\\int_0^1 f(x)\\,dx$$' }).waitFor({ timeout: 10000 });
    assert.equal(await view.locator('.detail .katex').count(), 0);
    assert.match((await view.locator('.step .thought').first().textContent()) ?? '', /\\\[\\int_0\^1 x\^2\\,dx = \\frac\{1\}\{3\}/);
    assert.equal(await view.locator('.final').textContent(), '$\\boxed{\\frac{11}{6}}$');
    await studio.screenshot('raw');
    // Another file's tab hides this page (VS Code tears it down); back on this tab, the choice is kept.
    await studio.openTrajectoryFile('other.traj.jsonl');
    await studio.page.locator('.tabs-container .tab', { hasText: 'math.traj.jsonl' }).click();
    view = await studio.findWebview('.list-status', { hasText: '2 in file', timeout: 60000 });
    session!.view = view;
    await view.locator('.trajectory-header .question', { hasText: 'Compute $$\\int_0^1' }).waitFor({ timeout: 15000 });
    assert.equal(await view.locator('.detail .katex').count(), 0);
    assert.equal(await view.locator('.math-toggle').evaluate((e) => (e as unknown as { checked: boolean }).checked), false);
    // Back on: typeset again.
    await view.locator('.math-toggle').click();
    await view.locator('.trajectory-header .question .katex').first().waitFor({ timeout: 10000 });
  });

  test('hostile markup inside and outside formulas stays inert', async () => {
    const { studio, view } = session!;
    await selectRow(view, 'Hostile math');
    await view.locator('.trajectory-header .question .math').first().waitFor({ timeout: 15000 });
    await view.locator('.step .thought .katex').first().waitFor();
    const frame = await pageFrame(studio);
    const found: unknown = await frame.evaluate(`({
      fired: window.mathXss,
      links: document.querySelectorAll('.detail a').length,
      javascriptUrls: [...document.querySelectorAll('.detail [href], .detail [src], .detail [xlink\\\\:href]')].filter((e) => /javascript:/i.test(e.getAttribute('href') ?? e.getAttribute('src') ?? '')).length,
      images: document.querySelectorAll('.detail img').length,
      scripts: document.querySelectorAll('.detail script').length,
      pwned: document.querySelectorAll('.pwned, #pwned').length,
    })`);
    assert.deepEqual(found, { fired: undefined, links: 0, javascriptUrls: 0, images: 0, scripts: 0, pwned: 0 });
    // A formula that would link or add markup is not typeset: its source shows, marked, so the target can be read.
    const untrusted = view.locator('.trajectory-header .question .math-error');
    assert.equal(await untrusted.count(), 3);
    assert.equal(await untrusted.first().textContent(), '$\\href{javascript:window.mathXss=1}{click me}$');
    assert.match((await untrusted.first().getAttribute('title')) ?? '', /never trusted/);
    // The markup reads as characters, inside a formula and out.
    assert.match((await view.locator('.trajectory-header .question').textContent()) ?? '', /<img src=x onerror="window.mathXss=3"> outside\./);
    assert.match((await view.locator('.step .thought').first().textContent()) ?? '', /<script>window.mathXss=6<\/script>/);
    // (KaTeX sets the spaces of \text as no-break spaces.)
    assert.match((await view.locator('.step .thought .katex-html').first().textContent()) ?? '', /<img\ssrc=x\sonerror=window\.mathXss=5>/);
    await studio.screenshot('hostile');
  });

  test('the code field is highlighted while a step is edited, and follows what is typed', async () => {
    const { studio, view } = session!;
    await selectRow(view, 'Compute');
    await view.locator('.step .action', { hasText: 'Edit' }).first().click();
    const code = view.locator('textarea.edit-code');
    await code.waitFor({ timeout: 10000 });
    const layer = view.locator('.code-editor .code-highlight');
    assert.equal(await layer.getAttribute('aria-hidden'), 'true');
    await layer.locator('.tok-keyword', { hasText: 'from' }).first().waitFor();
    await layer.locator('.tok-comment', { hasText: '# integral of x^2 + 3x on [0, 1]' }).waitFor();
    // The highlighted text is the field's text, so what the eye reads is what is saved.
    assert.equal(((await layer.textContent()) ?? '').replace(/\n$/, ''), await code.inputValue());
    await code.click();
    await code.press('Control+End');
    await code.pressSequentially('\nwhile False: pass  # typed');
    await layer.locator('.tok-keyword', { hasText: 'while' }).waitFor({ timeout: 5000 });
    await layer.locator('.tok-comment', { hasText: '# typed' }).waitFor();
    assert.equal(((await layer.textContent()) ?? '').replace(/\n$/, ''), await code.inputValue());
    await studio.screenshot('code-editing');
    await view.locator('.cancel-edit').click();
    await view.locator('.discard-changes').click();
    await code.waitFor({ state: 'detached', timeout: 10000 });
  });
});

for (const theme of ['light', 'high-contrast'] as const) {
  describe(`math rendering (${theme})`, () => {
    let session: Awaited<ReturnType<typeof openMathStudio>> | undefined;
    after(async () => session?.cleanup());

    test(`typeset math and the code editor read in the ${theme} theme`, async () => {
      session = await openMathStudio(theme);
      const { studio, view } = session;
      await selectRow(view, 'Compute');
      await view.locator('.trajectory-header .question .katex').first().waitFor({ timeout: 15000 });
      await view.locator('.step .thought .math-error').waitFor();
      await studio.screenshot('typeset');
      await view.locator('.step .action', { hasText: 'Edit' }).first().click();
      await view.locator('.code-editor .code-highlight .tok-keyword').first().waitFor({ timeout: 10000 });
      await studio.screenshot('code-editing');
    });
  });
}
