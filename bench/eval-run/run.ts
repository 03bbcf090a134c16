/**
 * Evaluation-run benchmark: Q questions, each solved in 1 to 5 steps, with SAG against the scripted model
 * server at a fixed latency, through the real run engine, agent loop, sandbox and scorer — once with the
 * method's fixed N candidates per step and once with adaptive SAG (rounds that stop when the vote is decided),
 * in one process against one server, so the two are measured on the same machine at the same time.
 *
 * For each mode it prints the model tokens, actions and model calls per question, the wall time against the
 * ideal (every model call's latency packed perfectly onto `concurrency` slots), the efficiency (ideal /
 * actual), the sandbox time per step and the accuracy with its 95 % interval; then adaptive's saving and the
 * accuracy difference on the paired questions with its interval.
 *
 *   node --import tsx bench/eval-run/run.ts                                   full size: 500 q, N=8, concurrency 32
 *   EVAL_BENCH_QUESTIONS=64 node --import tsx bench/eval-run/run.ts           reduced size while developing
 *
 * Knobs: EVAL_BENCH_LATENCY_MS (default 1000), EVAL_BENCH_CONCURRENCY (32), EVAL_BENCH_CANDIDATES (8),
 * EVAL_BENCH_MODES (fixed,adaptive), EVAL_BENCH_AGREEMENT: how often the student's candidates agree
 * (test/support/samplingStudent.ts): `always` (one code), `default` (about 3 distinct codes among 8 that
 * print the same: a student sampled at temperature 0.4), `some-split` (15 % of candidates take one of 2
 * wrong steps), `mostly-split` (40 % take one of 3). Identical codes run once per step.
 * Targets (issues): efficiency ≥ 0.85 at concurrency 32 (fixed); adaptive generates ≥ 40 % fewer tokens at
 * the default agreement, with its accuracy inside the fixed run's 95 % interval.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { adaptiveSagDefaults } from '../../src/agent/candidateVote';
import { defaultProfile } from '../../src/llm/profiles';
import { evalRunConfigSchema } from '../../src/eval/evalConfig';
import { runEvaluation } from '../../src/eval/evalRun';
import { prepareEvalRun } from '../../src/eval/evalSetup';
import { formatMetricsTable, type RunMetrics } from '../../src/eval/metrics';
import { compareRuns } from '../../src/eval/runComparison';
import { parseTrajectory } from '../../src/trajectory/schema';
import { agreementProfiles, type AgreementProfileName, samplingAnswer, samplingQuestion, stepsOf } from '../../test/support/samplingStudent';

const questions = Number(process.env.EVAL_BENCH_QUESTIONS ?? 500);
const latencyMs = Number(process.env.EVAL_BENCH_LATENCY_MS ?? 1000);
const concurrency = Number(process.env.EVAL_BENCH_CONCURRENCY ?? 32);
const candidates = Number(process.env.EVAL_BENCH_CANDIDATES ?? 8);
const modes = (process.env.EVAL_BENCH_MODES ?? 'fixed,adaptive').split(',').map((m) => m.trim());
const agreement = (process.env.EVAL_BENCH_AGREEMENT ?? 'default') as AgreementProfileName;
if (!(agreement in agreementProfiles)) throw new Error(`EVAL_BENCH_AGREEMENT must be one of ${Object.keys(agreementProfiles).join(', ')}`);
for (const m of modes) if (m !== 'fixed' && m !== 'adaptive') throw new Error(`EVAL_BENCH_MODES lists fixed and/or adaptive, got "${m}"`);

interface ModeResult {
  mode: string;
  metrics: RunMetrics;
  wallMs: number;
  idealMs: number;
  failures: number;
  lines: string[];
}

async function startServer(): Promise<{ baseUrl: string; close(): Promise<number>; worker: Worker }> {
  // The model server runs in its own thread, as a real one runs in its own process.
  // (tsx's loader does not reach worker threads by itself, so the thread registers it first)
  const workerFile = path.join(__dirname, 'modelServer.worker.ts');
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(workerFile)});`, { eval: true, workerData: { latencyMs, agreement } });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { type: string; baseUrl: string }) =>
      resolve({
        baseUrl: m.baseUrl,
        worker,
        close: () =>
          new Promise<number>((done) => {
            worker.once('message', (c: { maxInFlight: number }) => void worker.terminate().then(() => done(c.maxInFlight)));
            worker.postMessage('close');
          }),
      }),
    );
  });
}

async function runMode(mode: string, dir: string, file: string, baseUrl: string): Promise<ModeResult> {
  const config = evalRunConfigSchema.parse({
    runFolder: path.join(dir, mode),
    benchmarks: [file],
    student: { model: 'student', baseUrls: [baseUrl], scripted: 'benchmark student' },
    mode: { kind: 'sag', candidates, isolation: 'isolated', ...(mode === 'adaptive' ? { adaptive: adaptiveSagDefaults } : {}) },
    concurrency,
  });
  const warmStarted = performance.now();
  const prepared = await prepareEvalRun(config, { studentProfile: { ...defaultProfile('student'), baseUrls: [baseUrl] } });
  const warmMs = performance.now() - warmStarted;
  const started = performance.now();
  let metrics: RunMetrics | undefined;
  let failures = 0;
  try {
    for await (const event of runEvaluation(config, prepared.deps, new AbortController().signal)) {
      if (event.type === 'end') {
        metrics = event.results.metrics;
        failures = event.snapshot.failures;
      }
    }
  } finally {
    await prepared.close();
  }
  const wallMs = performance.now() - started;
  if (!metrics) throw new Error(`the ${mode} run did not end`);
  // Where a question's time goes, from the trajectories' own step timings.
  const folder = path.join(config.runFolder, 'trajectories');
  let modelMs = 0;
  let execMs = 0;
  let questionMs = 0;
  let steps = 0;
  let modelCalls = 0;
  let longest = 0;
  for (const name of readdirSync(folder)) {
    for (const line of readFileSync(path.join(folder, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const t = parseTrajectory(line);
      const meta = t.meta?.eval as { durationMs?: number } | undefined;
      questionMs += meta?.durationMs ?? 0;
      let calls = 0;
      for (const step of t.steps) {
        steps++;
        calls += step.sagRounds?.length ?? 1;
        modelMs += step.timings?.modelMs ?? 0;
        execMs += step.timings?.execMs ?? 0;
      }
      modelCalls += calls;
      longest = Math.max(longest, calls);
    }
  }
  // Ideal: only the model's latency, spread perfectly over the slots (and never shorter than the longest question).
  const idealMs = Math.max((modelCalls * latencyMs) / concurrency, longest * latencyMs);
  const timing = prepared.sandboxTiming();
  const lines = [
    `── ${mode === 'fixed' ? `fixed SAG ×${candidates}` : `adaptive SAG ≤${candidates} (rounds of ${adaptiveSagDefaults.firstRound}, then ${adaptiveSagDefaults.roundSize}; agreement ${adaptiveSagDefaults.agreement})`} ──`,
    ...formatMetricsTable(metrics),
    `set-up before the run    ${(warmMs / 1000).toFixed(1)} s   (${Math.min(concurrency, 32)} Python workers started ahead)`,
    `wall time                ${(wallMs / 1000).toFixed(1)} s`,
    `ideal (model time only)  ${(idealMs / 1000).toFixed(1)} s   (${modelCalls} model calls for ${steps} steps)`,
    `efficiency               ${(idealMs / wallMs).toFixed(3)}${mode === 'fixed' ? '   (target ≥ 0.85)' : ''}`,
    `sandbox time per step    ${(timing.execMs / Math.max(1, timing.steps)).toFixed(1)} ms`,
    `model time per step      ${(modelMs / Math.max(1, steps)).toFixed(1)} ms   (latency ${latencyMs} ms per call)`,
    `other time per question  ${((questionMs - modelMs - execMs) / questions).toFixed(1)} ms   (waiting for a worker ${(timing.acquireMs / Math.max(1, timing.episodes)).toFixed(1)} ms, stopping it ${(timing.closeMs / Math.max(1, timing.episodes)).toFixed(1)} ms off the question's path; scoring and writing the rest)`,
    `questions failed         ${failures}`,
  ];
  return { mode, metrics, wallMs, idealMs, failures, lines };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'eval-bench-'));
  const server = await startServer();
  try {
    const file = path.join(dir, 'bench.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < questions; i++) lines.push(JSON.stringify({ id: `q${i}`, question: samplingQuestion(i), answer: String(samplingAnswer(i)), domain: 'math' }));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const totalSteps = Array.from({ length: questions }, (_v, i) => stepsOf(i)).reduce((a, b) => a + b, 0);
    console.log(`eval-run benchmark: ${questions} questions, ${totalSteps} steps (1–5 per question), up to ${candidates} candidates per step, concurrency ${concurrency}, model latency ${latencyMs} ms`);
    console.log(`student agreement: ${agreement} (${agreementProfiles[agreement].description})`);
    const results: ModeResult[] = [];
    for (const mode of modes) {
      const result = await runMode(mode, dir, file, server.baseUrl);
      results.push(result);
      console.log('');
      for (const line of result.lines) console.log(line);
    }
    console.log('');
    console.log('mode        tokens/q  actions/q  model calls/q  wall s  accuracy (95% CI)');
    for (const r of results) {
      const b = r.metrics.benchmarks[0];
      console.log(
        `${r.mode.padEnd(10)}  ${b.meanCompletionTokens.toFixed(0).padStart(8)}  ${b.meanCandidates.toFixed(2).padStart(9)}  ${b.meanModelCalls.toFixed(2).padStart(13)}  ${(r.wallMs / 1000).toFixed(1).padStart(6)}  ${pct(b.accuracy)} % (${pct(b.interval.low)}–${pct(b.interval.high)})`,
      );
    }
    const fixed = results.find((r) => r.mode === 'fixed');
    const adaptive = results.find((r) => r.mode === 'adaptive');
    if (fixed && adaptive) {
      const c = compareRuns(fixed.metrics, adaptive.metrics);
      const fb = fixed.metrics.benchmarks[0];
      const ab = adaptive.metrics.benchmarks[0];
      const within = ab.accuracy >= fb.interval.low && ab.accuracy <= fb.interval.high;
      console.log('');
      console.log(`adaptive token saving    ${pct(c.sampling.tokenSaving ?? 0)} %   (target ≥ 40 % at the default agreement)`);
      console.log(`adaptive action saving   ${pct(c.sampling.candidateSaving ?? 0)} %`);
      console.log(`wall time ratio          ${(adaptive.wallMs / fixed.wallMs).toFixed(2)}   (adaptive / fixed; later rounds wait for the model again)`);
      if (c.pairedDelta) console.log(`accuracy difference      ${pct(c.pairedDelta.delta)} points, paired 95% CI ${pct(c.pairedDelta.interval.low)} … ${pct(c.pairedDelta.interval.high)}`);
      console.log(`accuracy within fixed CI ${within ? 'yes' : 'NO'}   (adaptive ${pct(ab.accuracy)} % against fixed ${pct(fb.interval.low)}–${pct(fb.interval.high)} %)`);
    }
    console.log(`most requests in flight  ${await server.close()}`);
  } finally {
    await server.worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
