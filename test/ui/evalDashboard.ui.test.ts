import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../e2e/lib.mjs';
import { defaultProfile } from '../../src/llm/profiles';
import { serveRetrieval, type RetrievalServer } from '../../src/retrieval/retrieveApi';
import { type Benchmark, readBenchmarks } from '../../src/eval/benchmarks';
import { adaptiveSagDefaults } from '../../src/agent/candidateVote';
import { evalRunConfigSchema, type EvalMode } from '../../src/eval/evalConfig';
import { runEvaluation } from '../../src/eval/evalRun';
import { prepareEvalRun } from '../../src/eval/evalSetup';
import { type RunMetrics } from '../../src/eval/metrics';
import { parseTrajectory } from '../../src/trajectory/schema';
import { compareRuns } from '../../src/eval/runComparison';
import { arithmeticAgent, evaluateIntegerExpression, type FakeModelServer, firstAnswering, startFakeModelServer } from '../support/fakeModelServer';
import { answerKeyRetrieval, benchmarkStudent, type StudentPlan } from '../unit/eval/scriptedStudent';
import { runAQuestions, runBQuestions, writeProfileRun } from '../unit/eval/profileRunFixture';
import { openStudio, type StudioSession } from './support/studioSession';

// One code-server session on a copy of the examples workspace with three finished runs of the scripted
// student (greedy, adaptive SAG up to 8, then SAG ×8) over the example benchmarks: the dashboard, the
// drill-down into the editor, the comparisons, and a quick eval of one typed question watched in the editor.

let studio: StudioSession;
let server: FakeModelServer;
let retrieval: RetrievalServer;
let workspaceSource: string;
let benchmarks: Benchmark[];
let plan: StudentPlan;
let greedy: RunMetrics;
let sag: RunMetrics;
let adaptive: RunMetrics;
let longAnswerTask: string;

async function evaluate(runFolder: string, mode: EvalMode): Promise<RunMetrics> {
  const config = evalRunConfigSchema.parse({
    runFolder,
    benchmarks: benchmarks.map((b) => b.file),
    student: { model: 'student', baseUrls: [server.baseUrl], scripted: 'test-suite scripted student' },
    mode,
    retrieval: { kind: 'http', url: retrieval.url },
    concurrency: 6,
  });
  const prepared = await prepareEvalRun(config, { studentProfile: { ...defaultProfile('student'), baseUrls: [server.baseUrl] } });
  let metrics: RunMetrics | undefined;
  try {
    for await (const e of runEvaluation(config, prepared.deps, new AbortController().signal)) if (e.type === 'end') metrics = e.results.metrics;
  } finally {
    await prepared.close();
  }
  assert.ok(metrics);
  return metrics;
}

before(async () => {
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-ui-'));
  const workspace = path.join(workspaceSource, 'examples');
  fs.cpSync(path.join(repoRoot, 'examples'), workspace, { recursive: true });
  benchmarks = await readBenchmarks([path.join(workspace, 'benchmarks/math-mini.json'), path.join(workspace, 'benchmarks/factual-mini.json')]);
  plan = {
    wrong: new Set(benchmarks.map((b) => b.tasks[b.tasks.length - 1].id)),
    flaky: new Set(benchmarks.map((b) => b.tasks[1].id)),
    allInvalid: new Set([benchmarks[0].tasks[2].id]),
    crash: new Set(),
  };
  const tasks = benchmarks.flatMap((b) => b.tasks);
  retrieval = await serveRetrieval(answerKeyRetrieval(tasks));
  server = await startFakeModelServer({ script: firstAnswering(benchmarkStudent(tasks, plan), arithmeticAgent()), models: ['student'] });
  const runs = path.join(workspace, '.trajectory-studio', 'eval-runs');
  greedy = await evaluate(path.join(runs, 'greedy'), { kind: 'greedy' });
  // A wrong answer that runs on for thousands of characters, as a looping student writes them.
  const longWrong = greedy.questions.find((q) => !q.correct)!;
  const greedyFile = path.join(runs, 'greedy', longWrong.file);
  const lines = fs.readFileSync(greedyFile, 'utf8').split('\n');
  const record = JSON.parse(lines[longWrong.slot]) as { finalAnswer?: string };
  record.finalAnswer = `${'the answer is unclear because '.repeat(100)}end`;
  lines[longWrong.slot] = JSON.stringify(record);
  fs.writeFileSync(greedyFile, lines.join('\n'));
  longAnswerTask = longWrong.taskId;
  adaptive = await evaluate(path.join(runs, 'sag8-adaptive'), { kind: 'sag', candidates: 8, isolation: 'isolated', adaptive: adaptiveSagDefaults });
  sag = await evaluate(path.join(runs, 'sag8'), { kind: 'sag', candidates: 8, isolation: 'isolated' });
  studio = await openStudio({
    name: 'eval-dashboard',
    theme: 'dark',
    workspace,
    settings: {
      'trajectoryStudio.endpoints.student.baseUrls': [server.baseUrl],
      'trajectoryStudio.endpoints.student.model': 'student',
      'files.autoSave': 'off',
    },
    // Endpoint settings are machine-scoped: code-server reads them from the server's Machine settings, not the
    // browser's User settings.
    machineSettings: { 'trajectoryStudio.endpoints.student.baseUrls': [server.baseUrl] },
  });
});

after(async () => {
  await studio?.close();
  await server?.close();
  await retrieval?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

test('the dashboard shows the newest run: per-benchmark table with the scores, two charts and the question list', async () => {
  await studio.runCommand('Trajectory Studio: Open Evaluation Dashboard');
  const view = await studio.findWebview('table.benchmarks', { timeout: 60000 });
  for (const b of sag.benchmarks) {
    const row = view.locator('table.benchmarks tbody tr', { hasText: b.name });
    await row.waitFor({ timeout: 15000 });
    assert.ok((await row.innerText()).includes(pct(b.accuracy)), `${b.name} accuracy`);
  }
  assert.ok((await view.locator('table.benchmarks tr.average').innerText()).includes(pct(sag.averageAccuracy)));
  assert.equal(await view.locator('.chart canvas').count(), 2, 'accuracy and error-rate charts');
  const rows = view.locator('tr.question');
  assert.equal(await rows.count(), sag.questions.length);
  // The filter narrows the list to the wrong answers.
  await view.locator('select[aria-label="Verdict"]').selectOption('wrong');
  assert.equal(await rows.count(), sag.questions.filter((q) => !q.correct).length);
  await view.locator('select[aria-label="Verdict"]').selectOption('');
  assert.equal(await rows.count(), sag.questions.length, 'clearing the filter shows every question again');
  await studio.painted(view);
  await studio.screenshot('dashboard');
});

test('clicking a question opens its trajectory in the editor at the first failing step, with the SAG candidates', async () => {
  const view = await studio.findWebview('table.benchmarks');
  const failing = benchmarks[0].tasks[2];
  const row = sag.questions.find((q) => q.taskId === failing.id)!;
  assert.ok(row.hasFailingStep);
  await view.locator(`tr.question[data-task="${failing.id}"]`).click();
  const editor = await studio.findWebview('.trajectory-header .task-meta', { hasText: ` · task ${failing.id} · `, timeout: 60000 });
  const selected = editor.locator(`.step.selected[data-step="${row.focusStep}"]`);
  await selected.waitFor({ timeout: 15000 });
  assert.ok((await selected.locator('.badge.error').count()) > 0, 'the selected step is the failing one');
  const sagBlock = selected.locator('details.sag');
  assert.match(await sagBlock.locator('summary').innerText(), /8 SAG candidates/);
  await sagBlock.locator('summary').click();
  await sagBlock.locator('table tr.invalid').first().waitFor({ timeout: 5000 });
  await studio.painted(editor);
  await studio.screenshot('drill-down');
});

test('comparing greedy with SAG: per-benchmark deltas, the flipped questions, and two trajectories side by side', async () => {
  const comparison = compareRuns(greedy, sag);
  assert.ok(comparison.fixed.length > 0);
  await studio.runCommand('Trajectory Studio: Compare Evaluation Runs…');
  const input = studio.page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('greedy');
  await studio.page.locator('.quick-input-list .monaco-list-row', { hasText: 'greedy' }).first().waitFor();
  await studio.page.keyboard.press('Enter');
  await input.fill('sag8');
  await studio.page.locator('.quick-input-list .monaco-list-row', { hasText: 'sag8' }).first().waitFor();
  await studio.page.keyboard.press('Enter');
  const view = await studio.findWebview('table.comparison', { timeout: 30000 });
  for (const d of comparison.benchmarks) {
    const text = await view.locator('table.comparison tbody tr', { hasText: d.name }).innerText();
    assert.ok(text.includes(`+${(100 * (d.accuracyDelta ?? 0)).toFixed(1)}`), `${d.name} delta in "${text}"`);
  }
  const fixedItems = view.locator('.flipped').first().locator('li');
  assert.equal(await fixedItems.count(), comparison.fixed.length);
  await fixedItems.first().click();
  await view.locator('.panes .pane').nth(1).waitFor({ timeout: 15000 });
  assert.equal(await view.locator('.panes .pane').count(), 2);
  await studio.painted(view);
  await studio.screenshot('compare');
});

test('adaptive SAG against fixed SAG: the comparison shows the tokens saved and the accuracy difference with its interval', async () => {
  const comparison = compareRuns(sag, adaptive);
  assert.ok((comparison.sampling.tokenSaving ?? 0) > 0, 'the scripted student agrees often enough for adaptive SAG to save');
  const view = await studio.findWebview('.toolbar select[aria-label="Run"]');
  await view.locator('select[aria-label="Run"]').selectOption({ label: (await view.locator('select[aria-label="Run"] option', { hasText: 'sag8 ·' }).innerText()).trim() });
  await view.locator('select[aria-label="Compare with another run"]').selectOption({ label: (await view.locator('select[aria-label="Compare with another run"] option', { hasText: 'sag8-adaptive' }).innerText()).trim() });
  // The page showed another comparison before: wait for this one's legend.
  await view.locator('.legend-ab', { hasText: 'sag8-adaptive' }).waitFor({ timeout: 15000 });
  const cards = view.locator('.cards .card');
  const tokenText = await cards.filter({ hasText: 'Tokens generated per question' }).innerText();
  assert.ok(tokenText.includes(`${comparison.sampling.a.tokensPerQuestion.toFixed(0)} → ${comparison.sampling.b.tokensPerQuestion.toFixed(0)}`), tokenText);
  assert.ok(tokenText.includes(`${(100 * (comparison.sampling.tokenSaving ?? 0)).toFixed(1)}% fewer`), tokenText);
  const accuracy = await cards.filter({ hasText: 'Accuracy B − A' }).innerText();
  const d = comparison.pairedDelta!;
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  assert.ok(accuracy.includes(`95% CI ${signed(d.interval.low)} … ${signed(d.interval.high)} points on ${d.questions} paired questions`), accuracy);
  await studio.screenshot('compare-adaptive');
});

test('an adaptive step in the editor shows its rounds, their seeds and why drawing stopped', async () => {
  const view = await studio.findWebview('.toolbar select[aria-label="Run"]');
  await view.locator('select[aria-label="Compare with another run"]').selectOption('');
  await view.locator('select[aria-label="Run"]').selectOption({ label: (await view.locator('select[aria-label="Run"] option', { hasText: 'sag8-adaptive' }).innerText()).trim() });
  await view.locator('h1', { hasText: 'sag8-adaptive' }).waitFor({ timeout: 15000 });
  const sampled = view.locator('.cards .card', { hasText: 'Sampled per question' });
  const questions = adaptive.questions.length;
  const perQuestion = adaptive.benchmarks.reduce((n, b) => n + b.candidates, 0) / questions;
  assert.ok((await sampled.innerText()).includes(`${perQuestion.toFixed(perQuestion < 10 ? 1 : 0)} actions`));
  const row = adaptive.questions.find((q) => q.correct && q.steps > 1)!;
  await view.locator(`tr.question[data-task="${row.taskId}"]`).click();
  // Found by its task id: the question's LaTeX is typeset, so its text is not the file's.
  const editor = await studio.findWebview('.trajectory-header .task-meta', { hasText: ` · task ${row.taskId} · `, timeout: 60000 });
  const file = path.join(studio.workspace, '.trajectory-studio', 'eval-runs', 'sag8-adaptive', row.file);
  const trajectory = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => parseTrajectory(l))[row.slot];
  const step = trajectory.steps[0];
  assert.ok(step.sagRounds && step.sagStop, 'the run recorded rounds');
  await editor.locator('.step[data-step="0"]').click();
  const sagBlock = editor.locator('.step[data-step="0"] details.sag');
  const summary = await sagBlock.locator('summary').innerText();
  assert.ok(summary.includes(`${step.candidates?.length} of at most 8 SAG candidates in ${step.sagRounds.length} round`), summary);
  await sagBlock.locator('summary').click();
  const rounds = sagBlock.locator('tr.round');
  await rounds.first().waitFor({ timeout: 5000 });
  assert.equal(await rounds.count(), step.sagRounds.length);
  for (const [i, r] of step.sagRounds.entries()) {
    const text = await rounds.nth(i).innerText();
    assert.ok(text.includes(`Round ${i + 1} · ${r.candidates} candidate`) && text.includes(`seed ${r.seed}`), text);
  }
  await studio.screenshot('adaptive-rounds');
});

test('a very long answer stays inside the question list: three lines in its column, the whole text on hover', async () => {
  // The editor opened by the last test is in front: bring the dashboard back.
  await studio.runCommand('Trajectory Studio: Open Evaluation Dashboard');
  const view = await studio.findWebview('.toolbar select[aria-label="Run"]', { timeout: 30000 });
  await view.locator('select[aria-label="Compare with another run"]').selectOption('');
  await view.locator('select[aria-label="Run"]').selectOption({ label: (await view.locator('select[aria-label="Run"] option', { hasText: 'greedy ·' }).innerText()).trim() });
  // Every run has this task: wait for the greedy run's row, the one with the long answer in its tooltip.
  const row = view.locator(`tr.question[data-task="${longAnswerTask}"]`, { has: view.locator('td.answer[title$="end"]') });
  await row.waitFor({ timeout: 15000 });
  const cell = row.locator('td.answer').first();
  assert.ok((await cell.getAttribute('title'))?.startsWith('the answer is unclear because'), 'the whole answer is in the tooltip');
  const table = await view.locator('table.question-list').boundingBox();
  const section = await view.locator('section.questions').boundingBox();
  assert.ok(table && section && table.width <= section.width + 1, `the table (${table?.width} px) fits its section (${section?.width} px)`);
  // A one-line answer (the gold beside it) gives the line height.
  const oneLine = await row.locator('td.answer').nth(1).locator('.clamp').boundingBox();
  const box = await cell.locator('.clamp').boundingBox();
  assert.ok(oneLine && box && box.height <= 3 * oneLine.height + 2, `the answer shows at most three lines (${box?.height} px, one line ${oneLine?.height} px)`);
  await row.scrollIntoViewIfNeeded();
  await studio.screenshot('long-answer');
});

test('Quick Eval of one typed question from the palette: the agent\'s steps appear in the editor and the answer in a notification', async () => {
  const question = 'What is 17 * 3 + 4?';
  await studio.runCommand('Trajectory Studio: Quick Eval…');
  const input = studio.page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await studio.page.locator('.quick-input-list .monaco-list-row', { hasText: 'student' }).first().waitFor();
  await input.fill('student');
  await studio.page.keyboard.press('Enter');
  await studio.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Type a question' }).first().waitFor();
  await input.fill('Type a question');
  await studio.page.keyboard.press('Enter');
  await studio.page.locator('.quick-input-widget', { hasText: 'the question' }).waitFor();
  await input.fill(question);
  await studio.page.keyboard.press('Enter');
  const expected = String(evaluateIntegerExpression('17 * 3 + 4'));
  const editor = await studio.findWebview('.trajectory-header .question', { hasText: question, timeout: 60000 });
  const notification = studio.page.locator('.notification-toast', { hasText: `answered "${expected}"` });
  try {
    await notification.waitFor({ timeout: 60000 });
  } catch (err) {
    await studio.screenshot('quick-eval-failed');
    throw err;
  }
  // The live file was rewritten after each step; the editor shows the finished trajectory's steps.
  await editor.locator('.step', { hasText: 'final_answer' }).first().waitFor({ timeout: 30000 });
  await studio.painted(editor);
  await studio.screenshot('quick-eval');
});

test('a run whose two scorings differ: both accuracies per benchmark, this run\'s profile marked, and the questions that differ, each openable', async () => {
  // Written now, so the earlier tests' run lists and palette filters never see them. Run A counts the studio
  // profile; by hand from the fixture: math-mini reference 2/4 = 50.0%, studio 3/4 = 75.0%; factual-mini
  // reference 2/3 = 66.7%, studio 1/3 = 33.3%; averages 58.3% and 54.2%; m2 and f1 scored differently.
  const runs = path.join(studio.workspace, '.trajectory-studio', 'eval-runs');
  await writeProfileRun(path.join(runs, 'scorings-a'), 'studio', runAQuestions);
  await writeProfileRun(path.join(runs, 'scorings-b'), 'reference', runBQuestions);
  // The editor of the last test is in front: showing the dashboard again restarts its page, which lists the runs anew.
  await studio.runCommand('Trajectory Studio: Open Evaluation Dashboard');
  const view = await studio.findWebview('.toolbar select[aria-label="Run"]', { timeout: 30000 });
  await view.locator('select[aria-label="Run"] option', { hasText: 'scorings-a' }).waitFor({ state: 'attached', timeout: 15000 });
  await view.locator('select[aria-label="Compare with another run"]').selectOption('');
  await view.locator('select[aria-label="Run"]').selectOption({ label: (await view.locator('select[aria-label="Run"] option', { hasText: 'scorings-a' }).innerText()).trim() });
  await view.locator('h1', { hasText: 'scorings-a' }).waitFor({ timeout: 15000 });

  const headers = await view.locator('table.benchmarks thead th').allInnerTexts();
  const reference = headers.findIndex((h) => h.includes("Paper's scoring (reference)"));
  const studioColumn = headers.findIndex((h) => h.includes('Corrected (studio)'));
  assert.ok(reference > 0 && studioColumn > 0, `both scorings are columns: ${headers.join(' | ')}`);
  assert.match(headers[studioColumn], /this run/, 'the run\'s own profile is marked');
  assert.doesNotMatch(headers[reference], /this run/);
  const cellsOf = async (name: string): Promise<string[]> => view.locator('table.benchmarks tbody tr', { hasText: name }).first().locator('td').allInnerTexts();
  const mathCells = await cellsOf('math-mini');
  assert.deepEqual([mathCells[reference], mathCells[studioColumn]], ['50.0%', '75.0%']);
  const factualCells = await cellsOf('factual-mini');
  assert.deepEqual([factualCells[reference], factualCells[studioColumn]], ['66.7%', '33.3%']);
  const averageCells = await view.locator('table.benchmarks tr.average td').allInnerTexts();
  assert.deepEqual([averageCells[reference], averageCells[studioColumn]], ['58.3%', '54.2%']);
  assert.match(await view.locator('.table-note').first().innerText(), /1 record\(s\) hold one verdict only/);
  assert.match(await view.locator('.cards .card', { hasText: "Paper's scoring (reference)" }).innerText(), /58\.3%/);

  const section = view.locator('section.disagreements');
  assert.equal(await section.locator('h2').innerText(), 'Scored differently by the two profiles (2)');
  const rows = section.locator('tr.disagreement');
  assert.equal(await rows.count(), 2);
  const m2 = await rows.filter({ hasText: 'm2' }).innerText();
  for (const text of ['How large is a right angle?', '90^\\circ', 'wrong', 'gold-as-written', 'correct', 'normalized-equal']) assert.ok(m2.includes(text), `"${text}" in the m2 row: ${m2}`);
  const f1 = await rows.filter({ hasText: 'f1' }).innerText();
  for (const text of ['Lovelace', 'Ada Lovelace', 'judge-yes', 'not-exact']) assert.ok(f1.includes(text), `"${text}" in the f1 row: ${f1}`);
  // In the question list, the rows the scorings disagree on say so.
  const markedRows = view.locator('section.questions tr.question', { has: view.locator('.badge.differ') });
  const marked: (string | null)[] = [];
  for (let i = 0; i < (await markedRows.count()); i++) marked.push(await markedRows.nth(i).getAttribute('data-task'));
  assert.deepEqual(marked, ['m2', 'f1']);
  await section.scrollIntoViewIfNeeded();
  await studio.painted(view); // the scrolled page painted
  await studio.screenshot('both-scores');
  await view.locator('h1').scrollIntoViewIfNeeded();
  await studio.screenshot('both-scores-table');

  await rows.filter({ hasText: 'm2' }).click();
  await studio.findWebview('.trajectory-header .question', { hasText: 'How large is a right angle?', timeout: 60000 });
  await studio.screenshot('both-scores-drill-down');
});

test('comparing runs made under different profiles: each scoring side by side for A and B', async () => {
  await studio.runCommand('Trajectory Studio: Open Evaluation Dashboard');
  const view = await studio.findWebview('.toolbar select[aria-label="Run"]', { timeout: 30000 });
  await view.locator('select[aria-label="Run"]').selectOption({ label: (await view.locator('select[aria-label="Run"] option', { hasText: 'scorings-a' }).innerText()).trim() });
  await view.locator('select[aria-label="Compare with another run"]').selectOption({ label: (await view.locator('select[aria-label="Compare with another run"] option', { hasText: 'scorings-b' }).innerText()).trim() });
  const section = view.locator('section.profile-comparison');
  await section.waitFor({ timeout: 15000 });
  const groups = await section.locator('th.group').allInnerTexts();
  assert.ok(groups[0].includes("Paper's scoring (reference)") && groups[0].includes('B counts this'), groups[0]);
  assert.ok(groups[1].includes('Corrected (studio)') && groups[1].includes('A counts this'), groups[1]);
  // Reference A 50.0 → B 75.0, studio A 75.0 → B 100.0 on math-mini (m3 right in B).
  assert.deepEqual((await section.locator('tbody tr', { hasText: 'math-mini' }).locator('td').allInnerTexts()).slice(1), ['50.0%', '75.0%', '+25.0', '75.0%', '100.0%', '+25.0']);
  assert.match(await section.locator('.table-note').innerText(), /A counts the studio profile and B the reference profile/);
  await section.scrollIntoViewIfNeeded();
  await studio.painted(view); // the scrolled page painted
  await studio.screenshot('compare-scorings');
});
