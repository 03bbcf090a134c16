import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { defaultProfile } from '../../../src/llm/profiles';
import { serveRetrieval, type RetrievalServer } from '../../../src/retrieval/retrieveApi';
import { parseTrajectory, type Task, type Trajectory } from '../../../src/trajectory/schema';
import { type Benchmark, readBenchmarks } from '../../../src/eval/benchmarks';
import { evalRunConfigSchema, type EvalRunConfigInput, readEvalManifest, trajectoryFileName } from '../../../src/eval/evalConfig';
import { type EvalRunEvent, runEvaluation } from '../../../src/eval/evalRun';
import { prepareEvalRun } from '../../../src/eval/evalSetup';
import { formatMetricsTable, type RunMetrics, wilsonInterval } from '../../../src/eval/metrics';
import { compareRuns } from '../../../src/eval/runComparison';
import { allFaultKinds, type FakeModelServer, startFakeModelServer } from '../../support/fakeModelServer';
import { type ProcessGroup, startProcessGroup } from '../../support/processGroup';
import { answerKeyRetrieval, benchmarkStudent, emptyPlan, expectedEpisode, type StudentPlan } from './scriptedStudent';

const repo = path.join(__dirname, '../../..');
const benchmarkFiles = [path.join(repo, 'examples/benchmarks/math-mini.json'), path.join(repo, 'examples/benchmarks/factual-mini.json')];

let dir: string;
let server: FakeModelServer;
let retrieval: RetrievalServer;
let benchmarks: Benchmark[];
let tasks: Task[];
let plan: StudentPlan;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'eval-e2e-'));
  benchmarks = await readBenchmarks(benchmarkFiles);
  tasks = benchmarks.flatMap((b) => b.tasks);
  // Per benchmark: the last question answered wrong, the second flaky; one math question with no valid candidate.
  plan = {
    wrong: new Set(benchmarks.map((b) => b.tasks[b.tasks.length - 1].id)),
    flaky: new Set(benchmarks.map((b) => b.tasks[1].id)),
    allInvalid: new Set([benchmarks[0].tasks[2].id]),
    crash: new Set(),
  };
  server = await startFakeModelServer({ script: benchmarkStudent(tasks, plan), models: ['student'] });
  retrieval = await serveRetrieval(answerKeyRetrieval(tasks));
});

after(async () => {
  await server.close();
  await retrieval.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(folder: string, extra: Partial<EvalRunConfigInput> = {}) {
  return evalRunConfigSchema.parse({
    runFolder: path.join(dir, folder),
    benchmarks: benchmarkFiles,
    student: { model: 'student', baseUrls: [server.baseUrl], flavor: 'vllm', scripted: 'test-suite scripted student' },
    retrieval: { kind: 'http', url: retrieval.url },
    concurrency: 6,
    ...extra,
  });
}

async function run(cfg: ReturnType<typeof config>, signal = new AbortController().signal, sandbox: { allowedImports?: null } = {}): Promise<EvalRunEvent[]> {
  const prepared = await prepareEvalRun(cfg, { studentProfile: { ...defaultProfile('student'), baseUrls: [server.baseUrl], maxAttempts: 10 }, sandbox });
  const events: EvalRunEvent[] = [];
  try {
    for await (const e of runEvaluation(cfg, prepared.deps, signal)) events.push(e);
  } finally {
    await prepared.close();
  }
  return events;
}

function readTrajectories(runFolder: string, benchmark: string): Trajectory[] {
  const file = path.join(runFolder, trajectoryFileName(benchmark));
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => parseTrajectory(l));
}

function endOf(events: EvalRunEvent[]): Extract<EvalRunEvent, { type: 'end' }> {
  const end = events.at(-1);
  assert.ok(end?.type === 'end', 'the run ends with an end event');
  return end;
}

/** Expected per-benchmark numbers, derived from the plan. */
function expectedBenchmark(b: Benchmark, n: number) {
  let correct = 0;
  let sampled = 0;
  let sampledParse = 0;
  let sampledExec = 0;
  let chosenParse = 0;
  let chosenExec = 0;
  let steps = 0;
  let agreement = 0;
  let sagSteps = 0;
  for (const t of b.tasks) {
    const e = expectedEpisode(t, plan, n);
    if (e.correct) correct++;
    for (const s of e.steps) {
      steps++;
      sampled += s.candidates;
      sampledParse += s.parseErrors;
      sampledExec += s.execErrors;
      if (s.chosenError === 'parse') chosenParse++;
      if (s.chosenError === 'exec') chosenExec++;
      if (s.agreement !== undefined) {
        sagSteps++;
        agreement += s.chosenError ? 0 : s.agreement;
      }
    }
  }
  return { correct, sampled, sampledParse, sampledExec, chosenParse, chosenExec, steps, agreement: sagSteps ? agreement / sagSteps : undefined };
}

let sagMetrics: RunMetrics;

void test('SAG over the example benchmarks: every candidate recorded with validity and vote key, the vote, error rates before and after the vote, the table', async () => {
  const cfg = config('sag', { mode: { kind: 'sag', candidates: 8 } });
  const events = await run(cfg);
  const end = endOf(events);
  assert.equal(end.cancelled, false);
  const metrics = end.results.metrics;
  sagMetrics = metrics;

  for (const b of benchmarks) {
    const trajectories = readTrajectories(cfg.runFolder, b.name);
    assert.deepEqual(trajectories.map((t) => t.task.id).sort(), b.tasks.map((t) => t.id).sort(), `${b.name}: every question exactly once`);
    for (const t of trajectories) {
      const expected = expectedEpisode(b.tasks.find((x) => x.id === t.task.id)!, plan, 8);
      assert.equal(t.steps.length, expected.steps.length, `${t.task.id}: steps`);
      assert.equal(t.origin.kind, 'student');
      assert.deepEqual(t.origin.sag, { candidates: 8, isolation: 'isolated' });
      assert.equal(t.origin.sampling?.temperature, 0.4);
      assert.equal(t.origin.sampling?.topP, 0.8);
      assert.equal(t.origin.sampling?.seed, 42);
      t.steps.forEach((step, i) => {
        const e = expected.steps[i];
        assert.equal(step.candidates?.length, 8, `${t.task.id} step ${i + 1}: all candidates recorded`);
        const invalid = step.candidates.filter((c) => !c.valid);
        assert.equal(invalid.filter((c) => c.error?.kind === 'parse').length, e.parseErrors, `${t.task.id} step ${i + 1}: parse errors`);
        assert.equal(invalid.filter((c) => c.error?.kind === 'execution').length, e.execErrors, `${t.task.id} step ${i + 1}: execution errors`);
        const firstValid = step.candidates.findIndex((c) => c.valid);
        // The valid candidates agree, so the vote goes to the first of them; with none valid, to candidate 0.
        assert.equal(step.winner, firstValid < 0 ? 0 : firstValid, `${t.task.id} step ${i + 1}: winner`);
        assert.equal(step.code, step.candidates[step.winner].code, 'the step holds the winner');
        if (firstValid >= 0) {
          const group = step.voteGroups!.find((g) => g.members.includes(step.winner!))!;
          assert.deepEqual(group.members, step.candidates.flatMap((c, k) => (c.valid ? [k] : [])));
          assert.equal(group.voteKey, step.candidates[firstValid].printOutput);
        }
      });
    }
    const m = metrics.benchmarks.find((x) => x.name === b.name)!;
    const e = expectedBenchmark(b, 8);
    assert.equal(m.questions, b.tasks.length);
    assert.equal(m.correct, e.correct, `${b.name}: correct`);
    assert.equal(m.accuracy, e.correct / b.tasks.length);
    assert.deepEqual(m.interval, wilsonInterval(e.correct, b.tasks.length));
    assert.equal(m.sampled.actions, e.sampled);
    assert.equal(m.sampled.parseErrors, e.sampledParse);
    assert.equal(m.sampled.execErrors, e.sampledExec);
    assert.equal(m.chosen.actions, e.steps);
    assert.equal(m.chosen.parseErrors, e.chosenParse);
    assert.equal(m.chosen.execErrors, e.chosenExec);
    assert.ok(m.chosen.parseRate < m.sampled.parseRate, 'SAG lowers the parse-error rate of executed actions');
    assert.ok(Math.abs((m.voteAgreement ?? -1) - (e.agreement ?? 0)) < 1e-9, `${b.name}: vote agreement`);
    assert.equal(m.meanSteps, e.steps / b.tasks.length);
  }
  const factual = metrics.benchmarks.find((x) => x.domain === 'factual')!;
  assert.equal(factual.meanRetrievalCalls, 1, 'one web_search per factual question');
  assert.ok(metrics.benchmarks.every((b) => b.completionTokens > 0 && b.meanWallMs > 0));
  assert.equal(metrics.averageAccuracy, (metrics.benchmarks[0].accuracy + metrics.benchmarks[1].accuracy) / 2);

  const table = formatMetricsTable(metrics);
  for (const b of metrics.benchmarks) assert.ok(table.some((line) => line.startsWith(b.name) && line.includes((100 * b.accuracy).toFixed(1))), `${b.name} row in the table`);
  assert.ok(table.some((line) => line.startsWith('average') && line.includes((100 * metrics.averageAccuracy).toFixed(1))));

  const manifest = await readEvalManifest(cfg.runFolder);
  assert.equal(manifest?.benchmarks.length, 2);
  assert.equal(manifest?.promptProfile.name, 'student');
  assert.match(manifest?.promptProfile.hash ?? '', /^[0-9a-f]{16}$/);
  assert.ok(manifest?.environment.sandbox);
  assert.ok(existsSync(path.join(cfg.runFolder, 'metrics.json')));
});

void test('greedy against SAG: greedy executes the malformed first choices, and the comparison lists the flaky questions as fixed by SAG', async () => {
  const cfg = config('greedy', { mode: { kind: 'greedy' } });
  const metrics = endOf(await run(cfg)).results.metrics;
  for (const b of benchmarks) {
    const m = metrics.benchmarks.find((x) => x.name === b.name)!;
    const e = expectedBenchmark(b, 1);
    assert.equal(m.correct, e.correct, `${b.name}: greedy correct`);
    assert.equal(m.chosen.parseErrors, e.chosenParse);
    assert.equal(m.voteAgreement, undefined);
  }
  const comparison = compareRuns(metrics, sagMetrics);
  const expectedFixed = tasks.filter((t) => plan.flaky.has(t.id) && !plan.wrong.has(t.id)).map((t) => t.id).sort();
  assert.deepEqual(comparison.fixed.map((f) => f.taskId).sort(), expectedFixed);
  assert.deepEqual(comparison.broken, []);
  assert.equal(comparison.paired, tasks.length);
  for (const d of comparison.benchmarks) assert.ok((d.accuracyDelta ?? 0) > 0, `${d.name}: SAG is ahead`);
});

void test('with a fifth of the requests failing in every injected way, the run gives the same verdicts, each question once', async () => {
  server.setFaults({ rate: 0.2, kinds: allFaultKinds, seed: 11, retryAfterMs: 20, slowFirstByteMs: 50 });
  try {
    const cfg = config('faults', { mode: { kind: 'sag', candidates: 8 } });
    const metrics = endOf(await run(cfg)).results.metrics;
    assert.ok(server.requests.some((r) => r.fault !== undefined), 'faults were injected');
    assert.deepEqual(
      metrics.questions.map((q) => `${q.benchmark}/${q.taskId}:${q.correct}`).sort(),
      sagMetrics.questions.map((q) => `${q.benchmark}/${q.taskId}:${q.correct}`).sort(),
    );
    for (const b of benchmarks) assert.equal(readTrajectories(cfg.runFolder, b.name).length, b.tasks.length);
  } finally {
    server.setFaults(undefined);
  }
});

void test('a question whose sandbox crashes is scored wrong with the reason, and the run goes on', async () => {
  const crashed = benchmarks[0].tasks[0];
  const crashPlan: StudentPlan = { ...emptyPlan, crash: new Set([crashed.id]) };
  server.setScript(benchmarkStudent(tasks, crashPlan));
  try {
    const cfg = config('crash', { mode: { kind: 'sag', candidates: 4 }, benchmarks: [benchmarkFiles[0]], limit: 4 });
    const metrics = endOf(await run(cfg, undefined, { allowedImports: null })).results.metrics;
    const row = metrics.questions.find((q) => q.taskId === crashed.id)!;
    assert.equal(row.correct, false);
    assert.match(row.runError ?? '', /sandbox crashed at step 1/);
    assert.equal(metrics.benchmarks[0].runErrors, 1);
    const others = metrics.questions.filter((q) => q.taskId !== crashed.id);
    assert.equal(others.length, 3);
    assert.ok(others.every((q) => q.correct), 'the questions after the crash are answered');
    const t = readTrajectories(cfg.runFolder, benchmarks[0].name).find((x) => x.task.id === crashed.id)!;
    assert.equal(t.judgement?.method, 'run-error');

    // Greedy: the crash takes the episode's own worker (the state is lost); the same verdict.
    const greedyCfg = config('crash-greedy', { mode: { kind: 'greedy' }, benchmarks: [benchmarkFiles[0]], limit: 2 });
    const greedyMetrics = endOf(await run(greedyCfg, undefined, { allowedImports: null })).results.metrics;
    const greedyRow = greedyMetrics.questions.find((q) => q.taskId === crashed.id)!;
    assert.equal(greedyRow.correct, false);
    assert.match(greedyRow.runError ?? '', /sandbox crashed at step 1/);
    const greedyTrajectory = readTrajectories(greedyCfg.runFolder, benchmarks[0].name).find((x) => x.task.id === crashed.id)!;
    assert.equal(greedyTrajectory.steps[0].observation?.error?.stateLost, true);
    assert.equal(greedyMetrics.questions.filter((q) => q.correct).length, 1, 'the other question is answered');
  } finally {
    server.setScript(benchmarkStudent(tasks, plan));
  }
});

void test('cancelling stops the run with what is done; running it again finishes the rest', async () => {
  server.setLatency(30);
  try {
    const cfg = config('cancelled', { mode: { kind: 'sag', candidates: 2 }, concurrency: 2 });
    const controller = new AbortController();
    const prepared = await prepareEvalRun(cfg, { studentProfile: { ...defaultProfile('student'), baseUrls: [server.baseUrl] } });
    let end: Extract<EvalRunEvent, { type: 'end' }> | undefined;
    try {
      for await (const e of runEvaluation(cfg, prepared.deps, controller.signal)) {
        if (e.type === 'question' && e.snapshot.done >= 3) controller.abort();
        if (e.type === 'end') end = e;
      }
    } finally {
      await prepared.close();
    }
    assert.equal(end?.cancelled, true);
    const doneFirst = end.snapshot.done;
    assert.ok(doneFirst < tasks.length);
    assert.equal(end.results.metrics.pending, tasks.length - doneFirst);
    const second = endOf(await run(cfg));
    assert.equal(second.snapshot.doneThisRun, tasks.length - doneFirst);
    assert.equal(second.results.metrics.pending, 0);
    const manifest = await readEvalManifest(cfg.runFolder);
    assert.deepEqual(manifest?.sessions.map((s) => s.cancelled), [true, false]);
  } finally {
    server.setLatency(0);
  }
});

void test('the CLI killed with SIGKILL mid-run resumes: every question exactly once, no damaged line', async () => {
  const runFolder = path.join(dir, 'killed');
  server.setLatency(40);
  const cli = path.join(repo, 'src/cli/main.ts');
  const argv = ['--import', 'tsx', cli, 'eval', '--benchmarks', benchmarkFiles.join(','), '--out', runFolder, '--student-url', server.baseUrl, '--model', 'student', '--retrieval-url', retrieval.url, '--sag', '4', '--concurrency', '2'];
  const records = (): string[] => {
    const folder = path.join(runFolder, 'trajectories');
    if (!existsSync(folder)) return [];
    return readdirSync(folder).filter((f) => f.endsWith('.traj.jsonl')).flatMap((f) => readFileSync(path.join(folder, f), 'utf8').split('\n').filter((l) => l.trim() !== ''));
  };
  const first = startProcessGroup(process.execPath, argv, { cwd: repo });
  let second: ProcessGroup | undefined;
  try {
    await first.waitUntil(() => records().length >= 5, 'five records written by the first run');
    await first.kill(); // the whole group: the CLI, its sandbox workers and the sympy helper
    const before = records().length;
    assert.ok(before < tasks.length, 'the run was cut short');

    second = startProcessGroup(process.execPath, argv, { cwd: repo });
    const { code } = await second.ended();
    const stdout = second.stdout();
    assert.equal(code, 0, second.output());
    const all = records();
    for (const line of all) assert.doesNotThrow(() => parseTrajectory(line), 'every line is a whole trajectory');
    assert.deepEqual(all.map((l) => parseTrajectory(l).task.id).sort(), tasks.map((t) => t.id).sort(), 'every question exactly once');
    for (const b of benchmarks) assert.match(stdout, new RegExp(`^${b.name}\\s+${b.tasks.length}\\s`, 'm'), `${b.name} row printed`);
    const manifest = await readEvalManifest(runFolder);
    assert.equal(manifest?.sessions.length, 2);
    assert.equal(manifest?.sessions[0].finishedAt, undefined, 'the killed session never finished');
    assert.equal(manifest?.sessions[1].attempted, tasks.length - before);
  } finally {
    await first.kill();
    await second?.kill();
    server.setLatency(0);
  }
});
