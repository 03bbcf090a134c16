import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { repoRoot } from '../../e2e/lib.mjs';
import { defaultProfile } from '../../src/llm/profiles';
import { serveRetrieval, type RetrievalServer } from '../../src/retrieval/retrieveApi';
import { readBenchmarks } from '../../src/eval/benchmarks';
import { evalRunConfigSchema } from '../../src/eval/evalConfig';
import { runEvaluation } from '../../src/eval/evalRun';
import { prepareEvalRun } from '../../src/eval/evalSetup';
import { hostProfileSchema, type HostProfile } from '../../src/training/hostProfile';
import { type RunRecord } from '../../src/training/runRecord';
import { type SessionPool } from '../../src/training/sessionPool';
import { arithmeticAgent, type FakeModelServer, firstAnswering, startFakeModelServer } from '../support/fakeModelServer';
import { answerKeyRetrieval, benchmarkStudent } from '../unit/eval/scriptedStudent';
import { type SshdFixture, sshdUnavailableReason, startSshd } from '../unit/training/sshdFixture';
import { killTrainingRun, launchLiveTrainingRun } from './support/liveTrainingRun';
import { openStudio, type StudioSession } from './support/studioSession';

// An accessibility scan of every webview with axe-core, injected into the page's own frame: the trajectory
// editor (list, detail, reject form), the evaluation dashboard over a finished run, and the training run
// view of a live run on a real sshd. Serious and critical violations fail the test with what and where.
// The dashboard's text fields also get full-speed typing, as the editor's do in trajectoryKeyboard.

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const sshdSkip = sshdUnavailableReason();
let studio: StudioSession;
let workspaceSource: string;
let server: FakeModelServer;
let retrieval: RetrievalServer;
let sshd: SshdFixture | undefined;
let pool: SessionPool | undefined;
let run: RunRecord | undefined;
let remote: string | undefined;

before(async () => {
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'a11y-ui-'));
  const workspace = path.join(workspaceSource, 'examples');
  fs.cpSync(path.join(repoRoot, 'examples'), workspace, { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'test/fixtures/trajectoryEditor/review.traj.jsonl'), path.join(workspace, 'review.traj.jsonl'));
  // One finished greedy run of the scripted student, so the dashboard has tables, charts and questions.
  const benchmarks = await readBenchmarks([path.join(workspace, 'benchmarks/math-mini.json'), path.join(workspace, 'benchmarks/factual-mini.json')]);
  const tasks = benchmarks.flatMap((b) => b.tasks);
  const plan = { wrong: new Set([tasks[tasks.length - 1].id]), flaky: new Set<string>(), allInvalid: new Set<string>(), crash: new Set<string>() };
  retrieval = await serveRetrieval(answerKeyRetrieval(tasks));
  server = await startFakeModelServer({ script: firstAnswering(benchmarkStudent(tasks, plan), arithmeticAgent()), models: ['student'] });
  const config = evalRunConfigSchema.parse({
    runFolder: path.join(workspace, '.trajectory-studio', 'eval-runs', 'greedy'),
    benchmarks: benchmarks.map((b) => b.file),
    student: { model: 'student', baseUrls: [server.baseUrl], scripted: 'test-suite scripted student' },
    mode: { kind: 'greedy' },
    retrieval: { kind: 'http', url: retrieval.url },
    concurrency: 6,
  });
  const prepared = await prepareEvalRun(config, { studentProfile: { ...defaultProfile('student'), baseUrls: [server.baseUrl] } });
  try {
    for await (const e of runEvaluation(config, prepared.deps, new AbortController().signal)) void e;
  } finally {
    await prepared.close();
  }

  let host: Record<string, unknown> | undefined;
  let profile: HostProfile | undefined;
  if (!sshdSkip) {
    sshd = await startSshd();
    remote = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-ui-a11y-remote-'));
    host = { name: 'gpu-box', host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.clientKey, workFolder: remote, python: '/usr/bin/python3' };
    profile = hostProfileSchema.parse(host);
  }
  studio = await openStudio({ name: 'accessibility', theme: 'dark', workspace, settings: { 'files.autoSave': 'off', ...(host ? { 'trajectoryStudio.training.hosts': [host] } : {}) } });
  if (sshd && host && profile && remote) {
    ({ run, pool } = await launchLiveTrainingRun(studio, sshd, host, profile, remote, 'ui-a11y'));
  }
});

after(async () => {
  await studio?.close();
  await pool?.closeAll();
  killTrainingRun(run);
  await sshd?.stop();
  await server?.close();
  await retrieval?.close();
  if (remote) fs.rmSync(remote, { recursive: true, force: true });
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

/** The page frame (inside VS Code's two nested iframes) that holds `selector`. */
async function pageFrame(page: Page, selector: string): Promise<Frame> {
  for (const outer of await page.locator('iframe.webview.ready').elementHandles()) {
    const inner = await (await outer.contentFrame())?.$('#active-frame');
    const frame = await inner?.contentFrame();
    if (frame && (await frame.$(selector))) return frame;
  }
  throw new Error(`no webview page holds ${selector}`);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Runs axe-core in the frame; returns the serious and critical violations, one readable line each. */
async function scan(frame: Frame): Promise<string[]> {
  await frame.evaluate(axeSource);
  // A string, evaluated in the page: the test's own types have no DOM.
  const violations = await frame.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`.replace(/\s+/g, ' ')).join(' | ')}`);
}

test('the trajectory editor has no serious or critical accessibility violations (list, detail, reject form)', async () => {
  const { page } = studio;
  const view = await studio.openTrajectoryFile('review.traj.jsonl');
  await view.locator('.trajectory-header .question', { hasText: 'sum of the squares' }).waitFor({ timeout: 30000 });
  const frame = await pageFrame(page, '.list-pane');
  assert.deepEqual(await scan(frame), []);
  // The reject form, and a trajectory with search passages, SAG candidates and triage flags.
  await view.locator('.row', { hasText: 'Eiffel Tower' }).first().click();
  await view.locator('.trajectory-header .question', { hasText: 'Eiffel Tower' }).waitFor({ timeout: 15000 });
  await view.locator('vscode-button.reject').click();
  await view.locator('.reject-form').waitFor();
  assert.deepEqual(await scan(frame), []);
  await studio.screenshot('editor');
  await page.keyboard.press('Escape');
  await view.locator('.reject-form').waitFor({ state: 'detached', timeout: 5000 });
  await view.locator('.row', { hasText: 'student-sum-squares' }).or(view.locator('.row').nth(1)).first().click();
  await view.locator('details.sag summary').first().click();
  await view.locator('table.candidates').waitFor({ timeout: 10000 });
  assert.deepEqual(await scan(frame), []);
});

test('the evaluation dashboard has no serious or critical violations, and its text field takes full-speed typing', async () => {
  const { page } = studio;
  await studio.runCommand('Trajectory Studio: Open Evaluation Dashboard');
  const view = await studio.findWebview('table.benchmarks', { timeout: 60000 });
  await view.locator('tr.question').first().waitFor({ timeout: 15000 });
  const frame = await pageFrame(page, 'table.benchmarks');
  assert.deepEqual(await scan(frame), []);
  const rows = await view.locator('tr.question').count();
  const search = view.locator('vscode-textfield.search');
  await search.click();
  const typed = 'rather jaunty text: a/b, JKRC ux e';
  await page.keyboard.type(typed);
  assert.equal(await search.evaluate((e) => (e as unknown as { value: string }).value), typed);
  await page.keyboard.insertText(' かな');
  assert.equal(await search.evaluate((e) => (e as unknown as { value: string }).value), `${typed} かな`);
  await view.locator('tr.question').first().waitFor({ state: 'detached', timeout: 10000 });
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await view.locator('tr.question').nth(rows - 1).waitFor({ timeout: 10000 });
  assert.equal(await view.locator('tr.question').count(), rows, 'clearing the search shows every question again');
  await studio.screenshot('dashboard');
});

test('the training run view has no serious or critical violations', { skip: sshdSkip }, async () => {
  assert.ok(run, 'the test run was launched');
  const { page } = studio;
  await studio.runCommand('Trajectory Studio: Refresh Training Runs');
  await studio.runCommand('Trajectory Studio: Open Training Run');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: run.id }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  const view = await studio.findWebview('#loss-chart', { timeout: 60000 });
  await view.locator('#state', { hasText: 'running' }).waitFor({ timeout: 30000 });
  await view.locator('#stat-step').filter({ hasText: /^\d+ \/ 900$/ }).waitFor({ timeout: 30000 });
  const frame = await pageFrame(page, '#loss-chart');
  assert.deepEqual(await scan(frame), []);
  await studio.screenshot('training-run');
});
