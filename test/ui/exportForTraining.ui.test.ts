import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../e2e/lib.mjs';
import { openStudio, type StudioSession, type Theme } from './support/studioSession';

// Export for Training… as a user runs it, from the trajectory editor through every dialog, with a benchmark
// file that holds one of the training questions (a planted leak) and the leak left out; then the
// training-text preview from the notification, shown in each theme (one session: the theme is switched).

// Runs in the page; the test's own compile has no DOM library.
declare function getComputedStyle(element: unknown): { backgroundColor: string };

interface Record {
  id: string;
  task: { id: string; question: string };
  steps: { excludeFromTraining?: boolean }[];
}

let studio: StudioSession;
let source: string;
const records = fs
  .readFileSync(path.join(repoRoot, 'examples/trajectories/teacher.traj.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Record);
// The first trajectory has its first step excluded from training; the third one's question is planted in the benchmark.
records[0].steps[0].excludeFromTraining = true;
const leaked = records[2];

before(async () => {
  source = fs.mkdtempSync(path.join(os.tmpdir(), 'export-ui-'));
  fs.writeFileSync(path.join(source, 'teacher.traj.jsonl'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  fs.writeFileSync(
    path.join(source, 'bench.jsonl'),
    `${[{ id: 'bench-1', question: 'What is the capital of the moon?', answer: 'none' }, { id: 'bench-planted', question: leaked.task.question, answer: '11\\sqrt{2}' }].map((q) => JSON.stringify(q)).join('\n')}\n`,
  );
  studio = await openStudio({ name: 'export-for-training', theme: 'dark', workspace: source, settings: { 'files.autoSave': 'off' } });
});
after(async () => {
  await studio?.close();
  fs.rmSync(source, { recursive: true, force: true });
});

/** Answers a quick pick whose title contains `titleText` with the row that has `row` (default: the first). */
async function pick(titleText: string, row?: string): Promise<void> {
  const widget = studio.page.locator('.quick-input-widget', { hasText: titleText });
  await widget.waitFor({ timeout: 15000 });
  if (row) await widget.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().click();
  else await studio.page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10000 });
}

test('Export for Training… leaves the planted leak out, says so, and the preview shows trained and excluded tokens', async () => {
  const { page, workspace } = studio;
  await studio.openTrajectoryFile('teacher.traj.jsonl');
  await studio.runCommand('Trajectory Studio: Export for Training…');
  await pick('which trajectories');
  await pick('format');
  await pick('compatibility profile');
  await pick('tokenizer');
  const maxLength = page.locator('.quick-input-widget', { hasText: "max length in tokens" });
  await maxLength.waitFor({ timeout: 15000 });
  assert.equal(await maxLength.locator('input').first().inputValue(), '10240');
  await page.keyboard.press('Enter');
  await pick('leakage check', 'leave leaking questions out');
  await studio.answerFileDialog('Benchmark question files', { file: path.join(workspace, 'bench.jsonl') });
  const out = await studio.answerFileDialog('training file (7/7)', { suggestedEnd: '.jsonl' });
  assert.equal(out, path.join(workspace, 'teacher.openai.train.jsonl'), 'the save dialog suggests a file beside the trajectories');

  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'because the question leaks into a benchmark' });
  await toast.waitFor({ timeout: 60000 }).catch(async (err: unknown) => {
    await studio.screenshot('failed-export');
    const shown = await page.locator('.notifications-toasts .notification-toast').allTextContents();
    throw new Error(`no export notification; the notifications say: ${JSON.stringify(shown)}`, { cause: err });
  });
  assert.match((await toast.textContent()) ?? '', /Left out 3 trajectories, 1 of them because the question leaks into a benchmark/);
  await studio.screenshot('notification');

  // The file on disk lacks the leaked question; the manifest names it and why.
  const exported = fs.readFileSync(out, 'utf8');
  assert.ok(!exported.includes(JSON.stringify(leaked.task.question).slice(1, -1)), 'the leaked question is not in the export');
  assert.ok(exported.includes(JSON.stringify(records[0].task.question).slice(1, -1)), 'other questions are');
  const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as { trajectoryIds: string[]; skipped: { id: string; reason: string }[]; extra: { leakage: { leftOut: string[] } } };
  assert.ok(!manifest.trajectoryIds.includes(leaked.id));
  assert.match(manifest.skipped.find((s) => s.id === leaked.id)?.reason ?? '', /leaks into the benchmark: exact duplicate of bench\.jsonl question bench-planted/);
  assert.deepEqual(manifest.extra.leakage.leftOut, [leaked.id]);

  await toast.locator('.monaco-button', { hasText: 'Open Training-Text Preview' }).click();
  const view = await studio.findWebview('.turn', { timeout: 60000 });
  // Tokens that carry loss are marked; the excluded first step is labelled and carries none.
  assert.ok((await view.locator('.turn-reply .tok.trained').count()) > 10, 'trained tokens are highlighted');
  const excluded = view.locator('.turn.excluded');
  assert.equal(await excluded.count(), 1);
  assert.match((await excluded.textContent()) ?? '', /step 1.*excluded from training/s);
  assert.equal(await excluded.locator('.tok.trained').count(), 0);
  assert.equal(await view.locator('.turn-system .tok.trained').count(), 0, 'the system prompt carries no loss');
  assert.match((await view.locator('table.token-stats').textContent()) ?? '', /Examples\s*\d+/);

  // Switching the profile recounts: the reference profile also trains the newlines around each reply.
  const trainedStudio = await view.locator('.tok.trained').count();
  await view.locator('#profile-reference').check();
  await view.locator('.mask', { hasText: 'Loss mask (reference)' }).waitFor({ timeout: 30000 });
  assert.ok((await view.locator('.tok.trained').count()) > trainedStudio, 'the reference profile trains more tokens');
  await view.locator('#profile-studio').check();
  await view.locator('.mask', { hasText: 'Loss mask (studio)' }).waitFor({ timeout: 30000 });

  // The part that matters in the screenshot: the excluded step and the trained reply after it.
  await excluded.evaluate((e) => (e as { scrollIntoView(o: unknown): void }).scrollIntoView({ block: 'start' }));
  await studio.screenshot('preview');
});

// The preview alone in the other themes (a session each, so only the preview: open the file, run the command).
for (const theme of ['light', 'high-contrast'] as Theme[]) {
  test(`the training-text preview in the ${theme} theme marks trained tokens and the excluded step`, async () => {
    const session = await openStudio({ name: 'export-for-training', theme, workspace: source, settings: { 'files.autoSave': 'off' } });
    try {
      await session.openTrajectoryFile('teacher.traj.jsonl');
      await session.runCommand('Trajectory Studio: Show Training-Text Preview');
      const view = await session.findWebview('.turn.excluded', { timeout: 60000 });
      assert.ok((await view.locator('.turn-reply .tok.trained').count()) > 10);
      const background = await view.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
      const sum = (background.match(/\d+/g) ?? []).slice(0, 3).map(Number).reduce((a, b) => a + b, 0);
      assert.ok(theme === 'light' ? sum > 600 : sum < 100, `the page follows the ${theme} theme (${background})`);
      await view.locator('.turn.excluded').evaluate((e) => (e as { scrollIntoView(o: unknown): void }).scrollIntoView({ block: 'start' }));
      await session.screenshot('preview');
    } finally {
      await session.close();
    }
  });
}
