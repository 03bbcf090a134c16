import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { repoRoot } from '../../e2e/lib.mjs';
import { type FakeModelServer, renderAgentTurn, startFakeModelServer } from '../support/fakeModelServer';
import { openStudio, screenshotDir, type StudioSession } from './support/studioSession';

// One code-server session on a copy of the examples workspace: a teacher generation run of the first five
// example questions against the scripted server, two of them held until the test lets them go and one
// refused by the server. The live view shows each question as it happens; Cancel stops the run; Retry Failed
// runs the failed question again; a question opens in the editor; the view is shown in three themes.

interface Question {
  id: string;
  question: string;
  answer: string;
}

const questions: Question[] = fs
  .readFileSync(path.join(repoRoot, 'examples/questions/mixed.questions.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .slice(0, 5)
  .map((l) => JSON.parse(l) as Question);
const [fast, failing, slowA, slowB, last] = questions;
const benchmarkQuestions = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/benchmarks/math-mini.json'), 'utf8')) as { examples: Question[] }).examples;
const evalFailing = benchmarkQuestions[1];
let refuseEval = true;

let studio: StudioSession;
let server: FakeModelServer;
let refuse = true;
const held = new Set([slowA.id, slowB.id]);
let releaseHeld: () => void = () => undefined;
const heldReleased = new Promise<void>((resolve) => (releaseHeld = resolve));

before(async () => {
  server = await startFakeModelServer({
    models: ['teacher', 'student'],
    // The teacher answers each question with its gold answer in one step; held questions wait for the test,
    // and the failing one gets no answer (a 400, which is not retried: the question fails at once).
    script: async (req) => {
      const q = [...questions, ...benchmarkQuestions].find((x) => req.task.includes(x.question));
      if (!q) return undefined;
      if (q.id === failing.id && refuse) return undefined;
      if (q.id === evalFailing.id && refuseEval) return undefined;
      if (held.has(q.id)) await heldReleased;
      if (req.isFinalAnswerCall) return q.answer;
      return renderAgentTurn({ thought: 'I know this one.', code: `final_answer(${JSON.stringify(q.answer)})` });
    },
  });
  studio = await openStudio({
    name: 'live-run',
    theme: 'dark',
    settings: { 'trajectoryStudio.endpoints.teacher.model': 'teacher', 'trajectoryStudio.endpoints.student.model': 'student', 'files.autoSave': 'off' },
    // Endpoint base URLs are machine-scoped: code-server reads them from the server's Machine settings.
    machineSettings: { 'trajectoryStudio.endpoints.teacher.baseUrls': [server.baseUrl], 'trajectoryStudio.endpoints.student.baseUrls': [server.baseUrl] },
  });
});

after(async () => {
  releaseHeld();
  await studio?.close();
  await server?.close();
});

/** Runs a palette command; once more if the palette did not list it (the first command of a fresh window can race the extension's contributions). */
async function runCommandOnceListed(title: string, session: StudioSession = studio): Promise<void> {
  try {
    await session.runCommand(title);
  } catch {
    await session.page.keyboard.press('Escape');
    await session.runCommand(title);
  }
}

/** Answers step `step` of the run's questions (its title says "(step/5)"): types `text` if given, then Enter. */
async function answerQuickInput(step: number, text?: string, isList = true): Promise<void> {
  await studio.page.locator('.quick-input-widget .quick-input-title', { hasText: `(${step}/5)` }).waitFor({ timeout: 30000 });
  const input = studio.page.locator('.quick-input-widget input');
  if (text !== undefined) {
    await input.fill(text);
    if (isList) await studio.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor({ timeout: 15000 });
  }
  await studio.page.keyboard.press('Enter');
}

function row(view: FrameLocator, q: Question) {
  return view.locator(`tr.question[data-key="${q.id}"]`);
}

async function waitForStatus(view: FrameLocator, q: Question, status: string, timeout = 60000): Promise<void> {
  await view.locator(`tr.question[data-key="${q.id}"][data-status="${status}"]`).waitFor({ timeout });
}

async function themeScreenshot(name: string): Promise<string> {
  const file = path.join(screenshotDir, `live-run-${name}.png`);
  await studio.page.screenshot({ path: file });
  return file;
}

/** Starts Run Evaluation from the palette on the example math benchmark: greedy, no retrieval, run folder `runName`. */
async function startEvaluation(session: StudioSession, runName: string): Promise<void> {
  const page = session.page;
  await runCommandOnceListed('Trajectory Studio: Run Evaluation', session);
  await page.locator('.quick-input-widget .quick-input-title', { hasText: '(1/4)' }).waitFor({ timeout: 30000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'math-mini.json' }).first().click();
  await page.keyboard.press('Enter');
  for (const [step, text] of [
    [2, 'Greedy'],
    [3, 'No retrieval'],
  ] as const) {
    await page.locator('.quick-input-widget .quick-input-title', { hasText: `(${step}/4)` }).waitFor({ timeout: 30000 });
    await page.locator('.quick-input-widget input').fill(text);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
  }
  await page.locator('.quick-input-widget .quick-input-title', { hasText: '(4/4)' }).waitFor({ timeout: 30000 });
  await page.locator('.quick-input-widget input').fill(runName);
  await page.keyboard.press('Enter');
}

test('a teacher run opens the live view: per-question status while running, Cancel, Retry Failed, open in the editor', { timeout: 300_000 }, async () => {
  await runCommandOnceListed('Trajectory Studio: Generate Teacher Trajectories from the Example Questions');
  await answerQuickInput(2); // the suggested output file
  await answerQuickInput(3, 'Without a prefix');
  await answerQuickInput(4, 'No retrieval');
  await answerQuickInput(5, '2, 5', false); // two at a time, the first five questions

  const view = await studio.findWebview('table.questions', { timeout: 90000 });
  // While running: the fast question is accepted, the refused one failed with the server's error, the held
  // ones are at their first step, the fifth waits its turn.
  await waitForStatus(view, fast, 'accepted');
  await waitForStatus(view, failing, 'failed');
  assert.match(await row(view, failing).locator('td.detail').innerText(), /no script answers|400/i, 'the failed question says why');
  assert.match(await view.locator('#errors').innerText(), new RegExp(failing.id), 'the latest errors name the failed question');
  await waitForStatus(view, slowA, 'running');
  await waitForStatus(view, slowB, 'running');
  await view.locator(`tr.question[data-key="${slowA.id}"] td.status`, { hasText: 'step 1' }).waitFor({ timeout: 30000 });
  await waitForStatus(view, last, 'queued');
  assert.equal((await view.locator('#phase').innerText()).trim(), 'running');
  assert.equal(await view.locator('#stat-finished').innerText(), '2 / 5');
  assert.equal(await view.locator('#retry-failed').getAttribute('disabled'), '', 'Retry Failed waits for the end of the run');
  await themeScreenshot('running-dark');

  // Cancel: the held questions stop (cancelled), the fifth stays queued, the run ends as cancelled.
  await view.locator('#cancel').click();
  await view.locator('#phase', { hasText: 'cancelled' }).waitFor({ timeout: 60000 });
  await waitForStatus(view, slowA, 'cancelled');
  await waitForStatus(view, slowB, 'cancelled');
  await waitForStatus(view, last, 'queued');
  await waitForStatus(view, fast, 'accepted');
  assert.equal(await view.locator('#cancel').getAttribute('disabled'), '', 'nothing left to cancel');

  // Retry Failed: the server now answers; the failed question (and the ones never finished) run and are accepted.
  refuse = false;
  held.clear();
  releaseHeld();
  await view.locator('#retry-failed:not([disabled])').click();
  await view.locator('#phase', { hasText: 'finished' }).waitFor({ timeout: 90000 });
  for (const q of [failing, slowA, slowB, last]) await waitForStatus(view, q, 'accepted');
  await waitForStatus(view, fast, 'accepted');
  assert.match(await row(view, fast).innerText(), /earlier run/, 'the question the first run accepted is marked as from the earlier run');
  assert.equal(await view.locator('#stat-failed').innerText(), '0');
  assert.ok((await view.locator('#summary').innerText()).includes('finished'), 'the summary stays in the view');
  await themeScreenshot('finished-dark');

  // A question opens in the trajectory editor.
  await row(view, failing).click();
  await studio.findWebview('.trajectory-header', { hasText: failing.question.slice(0, 40), timeout: 60000 });

  // The view was hidden behind the editor; shown again, it has the whole state.
  await studio.runCommand('Trajectory Studio: Show Live Run View');
  const again = await studio.findWebview('#phase', { hasText: 'finished', timeout: 60000 });
  await waitForStatus(again, failing, 'accepted');
  assert.equal(await again.locator('tr.question').count(), questions.length);
});

test('an evaluation run shows in the same kind of view: correct, failed with the error, and Retry Failed resumes the run', { timeout: 240_000 }, async () => {
  await startEvaluation(studio, 'live-eval');

  const key = (q: Question) => `math-mini/${q.id}`;
  const view = await studio.findWebview(`tr.question[data-key="${key(benchmarkQuestions[0])}"]`, { timeout: 90000 });
  await view.locator('#phase', { hasText: 'finished' }).waitFor({ timeout: 120000 });
  await view.locator(`tr.question[data-key="${key(evalFailing)}"][data-status="failed"]`).waitFor();
  for (const q of benchmarkQuestions.filter((x) => x !== evalFailing)) await view.locator(`tr.question[data-key="${key(q)}"][data-status="correct"]`).waitFor();
  assert.equal(await view.locator('#stat-correct').innerText(), String(benchmarkQuestions.length - 1));

  refuseEval = false;
  await view.locator('#retry-failed:not([disabled])').click();
  await view.locator(`tr.question[data-key="${key(evalFailing)}"][data-status="correct"]`).waitFor({ timeout: 90000 });
  await view.locator('#phase', { hasText: 'finished' }).waitFor({ timeout: 60000 });
  assert.equal(await view.locator('#stat-failed').innerText(), '0');
  await themeScreenshot('evaluation-dark');
});

test('the live view in the light and high-contrast themes', { timeout: 300_000 }, async () => {
  for (const theme of ['light', 'high-contrast'] as const) {
    const session = await openStudio({
      name: `live-run-${theme}`,
      theme,
      settings: { 'trajectoryStudio.endpoints.student.model': 'student', 'files.autoSave': 'off' },
      // In place before the first command: written afterwards, a run could start before VS Code read them.
      machineSettings: { 'trajectoryStudio.endpoints.student.baseUrls': [server.baseUrl] },
    });
    try {
      await startEvaluation(session, `live-eval-${theme}`);
      const view = await session.findWebview('#phase', { hasText: 'finished', timeout: 120000 });
      await view.locator('tr.question[data-status="correct"]').first().waitFor();
      await session.page.screenshot({ path: path.join(screenshotDir, `live-run-evaluation-${theme}.png`) });
    } finally {
      await session.close();
    }
  }
});
