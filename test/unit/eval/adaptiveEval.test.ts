import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { adaptiveSagDefaults } from '../../../src/agent/candidateVote';
import { evalRunConfigSchema, readEvalManifest, trajectoryFileName } from '../../../src/eval/evalConfig';
import { agentModeOf } from '../../../src/eval/evalSetup';
import { type RunMetrics } from '../../../src/eval/metrics';
import { compareRuns } from '../../../src/eval/runComparison';
import { computeRunResults } from '../../../src/eval/runResults';
import { parseTrajectory, type Trajectory } from '../../../src/trajectory/schema';
import { type CapturedCliIo, captureCliIo } from '../../support/cliIo';
import { type FakeModelServer, startFakeModelServer } from '../../support/fakeModelServer';
import { agreementProfiles, samplingAnswer, samplingQuestion, samplingStudent } from '../../support/samplingStudent';

const questions = 12;
let dir: string;
let benchmark: string;
let server: FakeModelServer;

function captureIo(signal?: AbortSignal): CapturedCliIo {
  return captureCliIo({ env: { TRAJECTORY_STUDIO_STUDENT_BASE_URLS: server.baseUrl, TRAJECTORY_STUDIO_STUDENT_MODEL: 'student' }, cwd: dir, signal });
}

async function evalCli(folder: string, flags: string[], signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(signal);
  const code = await runCli(['eval', '--benchmarks', benchmark, '--out', folder, '--concurrency', '3', '--scripted-student', 'sampling student', ...flags], io);
  return { code, out: io.out, err: io.err };
}

function trajectories(folder: string): Map<string, Trajectory> {
  const file = path.join(dir, folder, trajectoryFileName('sampling'));
  const byTask = new Map<string, Trajectory>();
  for (const line of readFileSync(file, 'utf8').split('\n')) if (line.trim()) byTask.set(parseTrajectory(line).task.id, parseTrajectory(line));
  return byTask;
}

/** What a question's sampling decided, without timings and ids. */
function decisions(t: Trajectory): unknown {
  return {
    answer: t.finalAnswer,
    steps: t.steps.map((s) => ({ texts: s.candidates?.map((c) => c.text), winner: s.winner, rounds: s.sagRounds?.map((r) => [r.candidates, r.seed]), stop: s.sagStop })),
  };
}

async function metricsOf(folder: string): Promise<RunMetrics> {
  return (await computeRunResults(path.join(dir, folder))).metrics;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'adaptive-eval-'));
  benchmark = path.join(dir, 'sampling.jsonl');
  const lines = Array.from({ length: questions }, (_v, i) => JSON.stringify({ id: `q${i}`, question: samplingQuestion(i + 1), answer: String(samplingAnswer(i + 1)), domain: 'math' }));
  writeFileSync(benchmark, `${lines.join('\n')}\n`);
  server = await startFakeModelServer({ script: samplingStudent(agreementProfiles['mostly-split']), models: ['student'] });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

void describe('adaptive SAG in evaluation runs', () => {
  void it('samples fewer actions than the fixed run, and report and compare show the cost and the accuracy difference', async () => {
    assert.equal((await evalCli('fixed', [])).code, 0);
    const adaptive = await evalCli('adaptive', ['--adaptive']);
    assert.equal(adaptive.code, 0, adaptive.err);
    const fixedMetrics = await metricsOf('fixed');
    const adaptiveMetrics = await metricsOf('adaptive');

    // The metrics count what the trajectories hold.
    for (const [folder, metrics] of [['fixed', fixedMetrics], ['adaptive', adaptiveMetrics]] as const) {
      const all = [...trajectories(folder).values()];
      const drawn = all.reduce((n, t) => n + t.steps.reduce((m, s) => m + (s.candidates?.length ?? 1), 0), 0);
      const tokens = all.reduce((n, t) => n + t.steps.reduce((m, s) => m + (s.tokens?.completion ?? 0), 0), 0);
      assert.equal(metrics.benchmarks[0].candidates, drawn, `${folder}: candidates counted`);
      assert.equal(metrics.benchmarks[0].completionTokens, tokens, `${folder}: tokens counted`);
      for (const q of metrics.questions) {
        const t = all.find((x) => x.id === q.id)!;
        assert.equal(q.candidates, t.steps.reduce((m, s) => m + (s.candidates?.length ?? 1), 0));
        assert.equal(q.modelCalls, t.steps.reduce((m, s) => m + (s.sagRounds?.length ?? 1), 0));
      }
    }
    assert.ok(adaptiveMetrics.benchmarks[0].candidates < fixedMetrics.benchmarks[0].candidates, 'adaptive draws fewer candidates');
    for (const t of trajectories('adaptive').values()) {
      for (const s of t.steps) {
        assert.ok((s.candidates?.length ?? 0) <= 8, 'never more than the budget');
        assert.equal(s.candidates?.length, s.sagRounds?.reduce((n, r) => n + r.candidates, 0), 'the rounds account for every candidate');
      }
    }

    const comparison = compareRuns(fixedMetrics, adaptiveMetrics);
    assert.ok((comparison.sampling.tokenSaving ?? 0) > 0);
    assert.ok(comparison.pairedDelta && comparison.pairedDelta.interval.low <= comparison.pairedDelta.delta && comparison.pairedDelta.delta <= comparison.pairedDelta.interval.high);

    const io = captureIo();
    assert.equal(await runCli(['eval', 'compare', 'fixed', 'adaptive'], io), 0);
    const saving = (100 * (comparison.sampling.tokenSaving ?? 0)).toFixed(1);
    assert.ok(io.out.includes(`generates ${saving} % fewer tokens than A`), io.out);
    assert.match(io.out, /accuracy B − A on 12 paired questions: [+-]\d+\.\d points, 95% CI/);

    const report = captureIo();
    assert.equal(await runCli(['eval', 'report', 'adaptive'], report), 0);
    const [header, , row] = report.out.split('\n');
    const cells = row.trim().split(/\s{2,}/);
    const column = (name: string): string => cells[header.trim().split(/\s{2,}/).indexOf(name)];
    assert.equal(column('cand./q'), adaptiveMetrics.benchmarks[0].meanCandidates.toFixed(1));
    assert.equal(column('tokens/q'), adaptiveMetrics.benchmarks[0].meanCompletionTokens.toFixed(0));
  });

  void it('draws the same candidates when a cancelled run is resumed', async () => {
    const controller = new AbortController();
    let seen = 0;
    const io = captureIo(controller.signal);
    const stdout = io.stdout.bind(io);
    io.stdout = (t: string) => {
      stdout(t);
      // Cancel once a few questions are in the run folder.
      if (/\bq\d+\b/.test(t) && ++seen === 4) controller.abort();
    };
    const first = await runCli(['eval', '--benchmarks', benchmark, '--out', 'resumed', '--concurrency', '3', '--adaptive', '--json'], io);
    assert.equal(first, 130, 'the first run was cancelled');
    assert.ok(trajectories('resumed').size < questions);
    assert.equal((await evalCli('resumed', ['--adaptive'])).code, 0);
    const resumed = trajectories('resumed');
    const whole = trajectories('adaptive');
    assert.equal(resumed.size, questions);
    for (const [task, t] of whole) assert.deepEqual(decisions(resumed.get(task)!), decisions(t), `${task} drew the same candidates`);
  });

  void it('the reference compatibility samples every candidate at once and says that it ignores the adaptive setting', async () => {
    const start = server.chatRequests().length;
    const run = await evalCli('reference', ['--adaptive', '--vote-keys', 'normalized', '--compat', 'reference']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /note: the reference compatibility samples all SAG candidates of a step at once: the adaptive setting is ignored/);
    assert.match(run.out, /note: the reference compatibility votes on exact print output: normalised vote keys are ignored/);
    assert.ok(server.chatRequests().slice(start).filter((r) => r.stop).every((r) => r.n === 8 && r.seed === 42), 'every step: one request for all 8');
    for (const t of trajectories('reference').values()) {
      assert.equal(t.origin.sag?.adaptive, undefined);
      assert.ok(t.steps.every((s) => s.candidates?.length === 8 && s.sagRounds === undefined));
    }
    const manifest = await readEvalManifest(path.join(dir, 'reference'));
    assert.equal(manifest?.config.compatibility, 'reference');
    assert.deepEqual(manifest?.config.mode, { kind: 'sag', candidates: 8, isolation: 'isolated', adaptive: adaptiveSagDefaults, voteKeys: 'normalized' }, 'the settings asked for are kept');
    const config = evalRunConfigSchema.parse({ ...manifest.config });
    assert.deepEqual(agentModeOf(config), { kind: 'sag', candidates: 8, isolation: 'isolated' });
  });

  void it('refuses adaptive flags that do not fit', async () => {
    for (const [flags, message] of [
      [['--greedy', '--adaptive'], /--adaptive applies to SAG/],
      [['--first-round', '2'], /--first-round applies to --adaptive/],
      [['--adaptive', '--first-round', '1'], /--first-round: /],
      [['--adaptive', '--agreement', '0.5'], /--agreement: /],
      [['--vote-keys', 'fuzzy'], /--vote-keys must be exact or normalized/],
      [['--compat', 'paper'], /--compat must be studio or reference/],
    ] as const) {
      const run = await evalCli('refused', [...flags]);
      assert.equal(run.code, 2, flags.join(' '));
      assert.match(run.err, message);
    }
  });
});
