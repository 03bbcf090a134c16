/**
 * Evaluation-run benchmark: Q questions, each solved in 1 to 5 steps, with SAG ×N against the scripted
 * model server at a fixed latency, through the real run engine, agent loop, sandbox and scorer. Prints the
 * wall time against the ideal (every model call's latency packed perfectly onto `concurrency` slots, no
 * other cost), the efficiency (ideal / actual) and the sandbox time per step.
 *
 *   node --import tsx bench/eval-run/run.ts                                   full size: 500 q, N=8, concurrency 32
 *   EVAL_BENCH_QUESTIONS=64 node --import tsx bench/eval-run/run.ts           reduced size while developing
 *
 * Other knobs: EVAL_BENCH_LATENCY_MS (default 1000), EVAL_BENCH_CONCURRENCY (32), EVAL_BENCH_CANDIDATES (8),
 * EVAL_BENCH_DISTINCT (3): how many different codes the N candidates of a step hold. Identical codes run once
 * per step (see `AgentMode.executeDuplicates`), so this sets how many candidate processes each step runs: 1 is
 * a student that always repeats itself, N the worst case of all-different code. The default, 3 (six copies of
 * one code and two variants), is what a student sampled at temperature 0.4 typically gives.
 * Target (issue): efficiency ≥ 0.85 at concurrency 32.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { defaultProfile } from '../../src/llm/profiles';
import { evalRunConfigSchema } from '../../src/eval/evalConfig';
import { runEvaluation } from '../../src/eval/evalRun';
import { prepareEvalRun } from '../../src/eval/evalSetup';
import { formatMetricsTable } from '../../src/eval/metrics';
import { parseTrajectory } from '../../src/trajectory/schema';
import { Worker } from 'node:worker_threads';
import { answerOf, questionText, stepsOf } from './benchStudent';

const questions = Number(process.env.EVAL_BENCH_QUESTIONS ?? 500);
const latencyMs = Number(process.env.EVAL_BENCH_LATENCY_MS ?? 1000);
const concurrency = Number(process.env.EVAL_BENCH_CONCURRENCY ?? 32);
const candidates = Number(process.env.EVAL_BENCH_CANDIDATES ?? 8);
const distinct = Math.max(1, Math.min(candidates, Number(process.env.EVAL_BENCH_DISTINCT ?? 3)));

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'eval-bench-'));
  // The model server runs in its own thread, as a real one runs in its own process.
  // (tsx's loader does not reach worker threads by itself, so the thread registers it first)
  const workerFile = path.join(__dirname, 'modelServer.worker.ts');
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(workerFile)});`, { eval: true, workerData: { latencyMs, candidates, distinct } });
  const server = await new Promise<{ baseUrl: string; close(): Promise<number> }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { type: string; baseUrl: string }) =>
      resolve({
        baseUrl: m.baseUrl,
        close: () =>
          new Promise<number>((done) => {
            worker.once('message', (c: { maxInFlight: number }) => void worker.terminate().then(() => done(c.maxInFlight)));
            worker.postMessage('close');
          }),
      }),
    );
  });
  let maxInFlight = 0;
  try {
    const file = path.join(dir, 'bench.jsonl');
    const lines: string[] = [];
    let modelCalls = 0;
    let longest = 0;
    for (let i = 0; i < questions; i++) {
      const steps = stepsOf(i);
      modelCalls += steps;
      longest = Math.max(longest, steps);
      lines.push(JSON.stringify({ id: `q${i}`, question: questionText(i), answer: String(answerOf(i)), domain: 'math' }));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const config = evalRunConfigSchema.parse({
      runFolder: path.join(dir, 'run'),
      benchmarks: [file],
      student: { model: 'student', baseUrls: [server.baseUrl], scripted: 'benchmark student' },
      mode: { kind: 'sag', candidates, isolation: 'isolated' },
      concurrency,
    });
    const warmStarted = performance.now();
    const prepared = await prepareEvalRun(config, { studentProfile: { ...defaultProfile('student'), baseUrls: [server.baseUrl] } });
    const warmMs = performance.now() - warmStarted;
    const started = performance.now();
    let lines2: string[] = [];
    let failures = 0;
    try {
      for await (const event of runEvaluation(config, prepared.deps, new AbortController().signal)) {
        if (event.type === 'end') {
          lines2 = formatMetricsTable(event.results.metrics);
          failures = event.snapshot.failures;
        }
      }
    } finally {
      await prepared.close();
    }
    const wallMs = performance.now() - started;
    // Ideal: only the model's latency, spread perfectly over the slots (and never shorter than the longest question).
    const idealMs = Math.max((modelCalls * latencyMs) / concurrency, longest * latencyMs);
    const timing = prepared.sandboxTiming();
    // Where a question's time goes, from the trajectories' own step timings.
    const folder = path.join(config.runFolder, 'trajectories');
    let modelMs = 0;
    let execMs = 0;
    let questionMs = 0;
    let steps = 0;
    for (const name of readdirSync(folder)) {
      for (const line of readFileSync(path.join(folder, name), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const t = parseTrajectory(line);
        const meta = t.meta?.eval as { durationMs?: number } | undefined;
        questionMs += meta?.durationMs ?? 0;
        for (const step of t.steps) {
          steps++;
          modelMs += step.timings?.modelMs ?? 0;
          execMs += step.timings?.execMs ?? 0;
        }
      }
    }
    console.log(`eval-run benchmark: ${questions} questions, ${modelCalls} steps (1–5 per question), SAG ×${candidates} with ${distinct} distinct codes per step, concurrency ${concurrency}, model latency ${latencyMs} ms`);
    console.log('');
    for (const line of lines2) console.log(line);
    console.log('');
    console.log(`set-up before the run    ${(warmMs / 1000).toFixed(1)} s   (${Math.min(concurrency, 32)} Python workers started ahead)`);
    console.log(`wall time                ${(wallMs / 1000).toFixed(1)} s`);
    console.log(`ideal (model time only)  ${(idealMs / 1000).toFixed(1)} s`);
    console.log(`efficiency               ${(idealMs / wallMs).toFixed(3)}   (target ≥ 0.85)`);
    console.log(`sandbox time per step    ${(timing.execMs / Math.max(1, timing.steps)).toFixed(1)} ms   (${distinct} isolated candidate processes per step for ${candidates} candidates; ${timing.steps} steps)`);
    console.log(`model time per step      ${(modelMs / Math.max(1, steps)).toFixed(1)} ms   (latency ${latencyMs} ms)`);
    console.log(`other time per question  ${((questionMs - modelMs - execMs) / questions).toFixed(1)} ms   (waiting for a worker ${(timing.acquireMs / Math.max(1, timing.episodes)).toFixed(1)} ms, stopping it ${(timing.closeMs / Math.max(1, timing.episodes)).toFixed(1)} ms off the question's path; scoring and writing the rest)`);
    maxInFlight = await server.close();
    console.log(`most requests in flight  ${maxInFlight}`);
    console.log(`questions failed         ${failures}`);
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
