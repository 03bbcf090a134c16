import * as path from 'node:path';
import { openTrajectoryFile } from '../trajectory/trajectoryFile';
import { type Trajectory } from '../trajectory/schema';
import { type EvalManifest, metricsFile, readEvalManifest } from './evalConfig';
import { BenchmarkAccumulator, combineMetrics, type Disagreement, disagreementOf, questionResult, type QuestionResult, type RunMetrics } from './metrics';
import { writeJsonDurably } from '../runs/durableFile';
import { fileExists } from '../runs/runFiles';
import { FileTriage } from '../triage/fileTriage';

/** A trajectory file's lines that are not valid trajectories, by line number, so nothing is dropped silently. */
export interface UnreadableLine {
  file: string;
  line: number;
  problem: string;
}

export interface RunResults {
  manifest: EvalManifest;
  metrics: RunMetrics;
  unreadable: UnreadableLine[];
  /** Triage of the student's trajectories: how many were flagged, and trajectories per rule (all benchmarks). */
  triage: { flagged: number; byRule: Record<string, number> };
}

/**
 * Reads a run folder's trajectories and computes its metrics. A question recorded twice (a resumed run
 * after a crash between append and bookkeeping) counts once, by its latest record.
 */
export async function computeRunResults(runFolder: string, signal?: AbortSignal): Promise<RunResults> {
  const manifest = await readEvalManifest(runFolder);
  if (!manifest) throw new Error(`${runFolder} is not an evaluation run folder (no manifest.json)`);
  const accumulators: BenchmarkAccumulator[] = [];
  const questions: QuestionResult[] = [];
  const disagreements: Disagreement[] = [];
  const unreadable: UnreadableLine[] = [];
  let pending = 0;
  const triage = { flagged: 0, byRule: {} as Record<string, number> };
  for (const b of manifest.benchmarks) {
    const accumulator = new BenchmarkAccumulator(b.name, b.domain);
    accumulators.push(accumulator);
    const file = path.join(runFolder, b.trajectories);
    const latest = new Map<string, { t: Trajectory; slot: number }>();
    if (await fileExists(file)) {
      const handle = await openTrajectoryFile(file, signal ? { signal } : {});
      try {
        for await (const r of handle.records(signal)) {
          if (!r.ok) {
            unreadable.push({ file: b.trajectories, line: r.line, problem: r.diagnostics.map((d) => d.message).join('; ') });
            continue;
          }
          latest.set(r.trajectory.task.id, { t: r.trajectory, slot: r.index });
        }
      } finally {
        await handle.close();
      }
    }
    // Near duplicates are looked for within a benchmark, where one question's records sit together.
    const fileTriage = new FileTriage();
    for (const { t, slot } of latest.values()) {
      const row = questionResult(t, b.trajectories, slot);
      row.benchmark = b.name;
      accumulator.add(t, row);
      questions.push(row);
      const disagreement = disagreementOf(t, row);
      if (disagreement) disagreements.push(disagreement);
      fileTriage.add(slot, t);
    }
    triage.flagged += fileTriage.flagged;
    for (const [rule, n] of fileTriage.byRule()) triage.byRule[rule] = (triage.byRule[rule] ?? 0) + n;
    pending += Math.max(0, b.questions - latest.size);
  }
  return { manifest, metrics: combineMetrics(accumulators, questions, pending, new Date(), { profile: manifest.config.compatibility, disagreements }), unreadable, triage };
}

/** Recomputes and writes `metrics.json`; returns what was written. */
export async function writeRunMetrics(runFolder: string, signal?: AbortSignal): Promise<RunResults> {
  const results = await computeRunResults(runFolder, signal);
  await writeJsonDurably(metricsFile(runFolder), results.metrics);
  return results;
}

/** Reads one trajectory of a run by its file (relative to the run folder) and slot. */
export async function readRunTrajectory(runFolder: string, file: string, slot: number): Promise<Trajectory> {
  const absolute = path.resolve(runFolder, file);
  if (!absolute.startsWith(path.resolve(runFolder) + path.sep)) throw new Error(`${file} is outside the run folder ${runFolder}`);
  const handle = await openTrajectoryFile(absolute);
  try {
    const r = await handle.read(slot);
    if (!r.ok) throw new Error(`${file}:${r.line}: not a valid trajectory (${r.diagnostics.map((d) => d.message).join('; ')})`);
    return r.trajectory;
  } finally {
    await handle.close();
  }
}
