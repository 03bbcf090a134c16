import * as path from 'node:path';
import { type LiveQuestionOutcome, type LiveQuestionSeed } from '../runs/liveRunTracker';
import { finishedRecords } from '../runs/liveRunRecords';
import { fileExists } from '../runs/runFiles';
import { setRecordsAside } from '../trajectory/jsonlWriters';
import { readBenchmarks } from './benchmarks';
import { type EvalRunConfig, readEvalManifest, trajectoryFileName } from './evalConfig';
import { selectTasks } from './evalRun';

/** The live view's key of an evaluation question: task ids repeat across benchmarks. */
export function evalQuestionKey(benchmark: string, taskId: string): string {
  return `${benchmark}/${taskId}`;
}

/** An evaluation question's end as the live view shows it. */
export function evalOutcome(result: { correct: boolean; runError?: string }): LiveQuestionOutcome {
  if (result.runError !== undefined) return { status: 'failed', detail: result.runError };
  return result.correct ? { status: 'correct' } : { status: 'wrong' };
}

/** The questions an evaluation run covers, benchmark by benchmark, with what the run folder already holds. */
export async function evalQuestionSeeds(config: EvalRunConfig): Promise<LiveQuestionSeed[]> {
  const benchmarks = await readBenchmarks(config.benchmarks, config.benchmarkDomain ? { domain: config.benchmarkDomain } : {});
  const seeds: LiveQuestionSeed[] = [];
  for (const b of benchmarks) {
    const earlier = await finishedRecords(path.join(config.runFolder, trajectoryFileName(b.name)));
    for (const t of selectTasks(b, config)) {
      const seed: LiveQuestionSeed = { key: evalQuestionKey(b.name, t.id), taskId: t.id, group: b.name, question: t.question };
      const record = earlier.get(t.id);
      if (record) {
        const outcome = evalOutcome({ correct: record.correct ?? false, ...(record.runError !== undefined ? { runError: record.runError } : {}) });
        const detail = outcome.detail ?? (outcome.status === 'wrong' ? record.judgementDetail : undefined);
        seed.earlier = { status: outcome.status, ...(detail !== undefined ? { detail } : {}) };
      }
      seeds.push(seed);
    }
  }
  return seeds;
}

/**
 * Makes a resume of an evaluation run run its failed questions again: a resume skips every question already
 * in the run folder, failed ones included, so their records (those with `meta.eval.runError`) are moved to a
 * side file beside each benchmark's trajectories, and the benchmark file is rewritten without them
 * (atomically). Returns how many were set aside.
 */
export async function setFailedEvalRecordsAside(runFolder: string, nowMs = Date.now()): Promise<number> {
  const manifest = await readEvalManifest(runFolder);
  if (!manifest) throw new Error(`${runFolder} has no evaluation run manifest, so its failed questions cannot be found`);
  let count = 0;
  for (const b of manifest.benchmarks) {
    const file = path.join(runFolder, b.trajectories);
    if (!(await fileExists(file))) continue;
    const { count: setAside } = await setRecordsAside(file, (value) => typeof (value as { meta?: { eval?: { runError?: unknown } } }).meta?.eval?.runError === 'string', nowMs);
    count += setAside;
  }
  return count;
}
