import { readdir } from 'node:fs/promises';
import { undefinedIfMissing } from '../runs/durableFile';
import * as path from 'node:path';
import { type RunView, type TrajectoryPane } from './dashboardViewSchema';
import { type Trajectory } from '../trajectory/schema';
import { effectiveMode, type EvalManifest, readEvalManifest } from './evalConfig';
import { type RunResults } from './runResults';

/**
 * What the dashboard shows, shaped from run results and trajectories (no VS Code here, so it is tested
 * under plain node). Field names match the dashboard protocol's schemas.
 */

/** The mode as the run used it, e.g. `SAG ×8`, `SAG ≤8, adaptive 3+3`, `SAG ×8 (shared state, normalized votes)`. */
export function modeLabel(manifest: EvalManifest): string {
  const m = effectiveMode(manifest.config);
  if (m.kind !== 'sag') return 'greedy';
  const notes = [m.isolation === 'shared' ? 'shared state' : '', m.voteKeys === 'normalized' ? 'normalized votes' : '', manifest.config.compatibility === 'reference' ? 'reference' : ''].filter(Boolean);
  const size = m.adaptive ? `SAG ≤${m.candidates}, adaptive ${m.adaptive.firstRound}+${m.adaptive.roundSize}${m.adaptive.agreement < 1 ? ` (agreement ${m.adaptive.agreement})` : ''}` : `SAG ×${m.candidates}`;
  return notes.length ? `${size} (${notes.join(', ')})` : size;
}

export function runStatus(manifest: EvalManifest, pending: number, running: boolean): string {
  if (running) return 'running';
  const last = manifest.sessions.at(-1);
  if (last?.cancelled) return 'cancelled';
  if (pending > 0 || last?.finishedAt === undefined) return 'not finished';
  return 'finished';
}

export function runLabel(runFolder: string, manifest: EvalManifest): string {
  return `${path.basename(runFolder)} · ${manifest.config.student.model} · ${modeLabel(manifest)}`;
}

/** The run as the dashboard protocol's `RunView` (structurally). */
export function runView(runFolder: string, results: RunResults, running = false): RunView {
  const { manifest, metrics } = results;
  return {
    runFolder,
    label: runLabel(runFolder, manifest),
    mode: modeLabel(manifest),
    model: manifest.config.student.model,
    status: runStatus(manifest, metrics.pending, running),
    ...(manifest.sessions[0] ? { startedAt: manifest.sessions[0].startedAt } : {}),
    wallMs: manifest.sessions.reduce((sum, s) => sum + s.wallMs, 0),
    benchmarks: metrics.benchmarks,
    averageAccuracy: metrics.averageAccuracy,
    profile: metrics.profile,
    averageAccuracyByProfile: metrics.averageAccuracyByProfile,
    withoutBothVerdicts: metrics.withoutBothVerdicts,
    disagreements: metrics.disagreements,
    pooled: metrics.pooled,
    sampled: metrics.sampled,
    chosen: metrics.chosen,
    ...(metrics.voteAgreement !== undefined ? { voteAgreement: metrics.voteAgreement } : {}),
    sampling: metrics.sampling,
    pending: metrics.pending,
    questions: metrics.questions,
    problems: results.unreadable.map((u) => `${u.file}:${u.line}: ${u.problem}`),
    ...(manifest.config.student.adapter ? { adapter: adapterLineage(manifest.config.student.adapter, manifest.adapterManifest) } : {}),
  };
}

/** The data snapshot and training run an adapter's manifest names (a run record or the trainer's manifest). */
export function adapterLineage(adapterPath: string, adapterManifest: unknown): { path: string; dataSnapshot?: string; trainingRun?: string } {
  const m = typeof adapterManifest === 'object' && adapterManifest !== null && !Array.isArray(adapterManifest) ? (adapterManifest as Record<string, unknown>) : {};
  const hex = [m.dataSha256, m.data_sha256].find((v): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v));
  const dataSnapshot = typeof m.dataSnapshot === 'string' ? m.dataSnapshot : hex ? `sha256:${hex}` : undefined;
  // a run record (run.json) has the run's id and its schema version
  const trainingRun = typeof m.id === 'string' && m.schema !== undefined ? m.id : undefined;
  return { path: adapterPath, ...(dataSnapshot ? { dataSnapshot } : {}), ...(trainingRun ? { trainingRun } : {}) };
}

/** Cuts long text for the side-by-side view; the editor shows it whole. */
function clip(text: string, max = 2000): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}

/** A trajectory shortened for the side-by-side view. */
export function trajectoryPane(t: Trajectory, title: string): TrajectoryPane {
  return {
    title,
    ...(t.finalAnswer !== undefined ? { finalAnswer: t.finalAnswer } : {}),
    ...(t.judgement ? { correct: t.judgement.correct, verdict: t.judgement.detail ?? t.judgement.method } : {}),
    steps: t.steps.map((s) => {
      const o = s.observation;
      const step: { thought: string; code: string; observation: string; error?: string; candidates?: number; validCandidates?: number; winner?: number } = {
        thought: clip(s.thought),
        code: clip(s.code),
        observation: clip(o ? (o.text ?? o.printOutput) : '(not executed)'),
      };
      if (o?.error) step.error = `${o.error.type}: ${o.error.message}`;
      if (s.candidates) {
        step.candidates = s.candidates.length;
        step.validCandidates = s.candidates.filter((c) => c.valid).length;
        step.winner = s.winner ?? 0;
      }
      return step;
    }),
  };
}

/**
 * Run folders under `root` (one level deep, newest first by their first session), with a label and a
 * one-line detail. Folders without a readable manifest are skipped: they are not runs.
 */
export async function listRunFolders(root: string): Promise<{ runFolder: string; label: string; detail: string; startedAt: string }[]> {
  const names = await undefinedIfMissing(readdir(root));
  if (!names) return [];
  const runs: { runFolder: string; label: string; detail: string; startedAt: string }[] = [];
  for (const name of names) {
    const runFolder = path.join(root, name);
    let manifest: EvalManifest | undefined;
    try {
      manifest = await readEvalManifest(runFolder);
    } catch {
      manifest = undefined; // a damaged manifest is reported when the run is opened directly
    }
    if (!manifest) continue;
    const startedAt = manifest.sessions[0]?.startedAt ?? '';
    runs.push({ runFolder, label: runLabel(runFolder, manifest), detail: `${manifest.benchmarks.map((b) => b.name).join(', ')} · started ${startedAt || 'never'}`, startedAt });
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
