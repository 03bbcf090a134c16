import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * The shape of the Trajectories view, decided without VS Code: curated trajectory files first, then the
 * evaluation runs, each holding its own `trajectories/*.traj.jsonl`. Run internals never sit beside curated
 * files, and two files with the same name are told apart by their folders.
 */

/** A trajectory file found in the workspace. */
export interface FoundTrajectoryFile {
  /** Absolute path. */
  path: string;
  /** Path relative to its workspace folder (forward slashes), for labels and tooltips. */
  relativePath: string;
}

export interface TrajectoryFileNode {
  kind: 'file';
  path: string;
  relativePath: string;
  label: string;
  /** The folder that tells this file apart from another file of the same name; undefined when the name is unique. */
  folder?: string;
}

/** What the view shows about an evaluation run, from its manifest. */
export interface EvalRunFacts {
  /** The student's model or adapter name. */
  model?: string;
  /** When the run was last started (ISO time), when the manifest records it. */
  startedAt?: string;
}

export interface EvalRunNode {
  kind: 'evalRun';
  /** Absolute path of the run folder (the one with manifest.json). */
  folder: string;
  relativeFolder: string;
  label: string;
  /** Parent folders, when two runs share a folder name. */
  parent?: string;
  facts: EvalRunFacts;
  files: TrajectoryFileNode[];
}

export interface TrajectoryTree {
  files: TrajectoryFileNode[];
  runs: EvalRunNode[];
}

/**
 * The run folder an evaluation writes `file` into (`<run>/trajectories/<benchmark>.traj.jsonl`), or undefined
 * when the file is not in that place. Whether the folder really is a run is decided by its manifest (`readRun`).
 */
export function candidateRunFolder(file: string): string | undefined {
  const folder = path.dirname(file);
  return path.basename(folder) === 'trajectories' ? path.dirname(folder) : undefined;
}

/**
 * Reads a run folder's manifest structurally (kind `eval-run`), so the view does not depend on the evaluation
 * module's schema; undefined when there is no such manifest.
 */
export async function readEvalRunFacts(runFolder: string): Promise<EvalRunFacts | undefined> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(path.join(runFolder, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof manifest !== 'object' || manifest === null) return undefined;
  const m = manifest as { kind?: unknown; config?: { student?: { model?: unknown; adapter?: unknown } }; sessions?: { startedAt?: unknown }[] };
  if (m.kind !== 'eval-run') return undefined;
  const facts: EvalRunFacts = {};
  const model = m.config?.student?.model;
  if (typeof model === 'string') facts.model = model;
  const last = Array.isArray(m.sessions) ? m.sessions[m.sessions.length - 1] : undefined;
  if (typeof last?.startedAt === 'string') facts.startedAt = last.startedAt;
  return facts;
}

function byPath<T extends { relativePath?: string; relativeFolder?: string }>(a: T, b: T): number {
  return (a.relativePath ?? a.relativeFolder ?? '').localeCompare(b.relativePath ?? b.relativeFolder ?? '');
}

/** Gives each node whose label is shared with another its distinguishing folder (its relative parent). */
function labelDuplicates<T extends { label: string }>(nodes: T[], folderOf: (node: T) => string, set: (node: T, folder: string) => void): void {
  const seen = new Map<string, number>();
  for (const n of nodes) seen.set(n.label, (seen.get(n.label) ?? 0) + 1);
  for (const n of nodes) if ((seen.get(n.label) ?? 0) > 1) set(n, folderOf(n) || '.');
}

/**
 * Builds the view's tree. `runs` maps each run folder (absolute path) that has an evaluation manifest to its
 * facts; files in `<run>/trajectories/` of those folders go under their run, every other file is curated.
 */
export function buildTrajectoryTree(files: readonly FoundTrajectoryFile[], runs: ReadonlyMap<string, EvalRunFacts>, relativeFolderOf: (absolute: string) => string): TrajectoryTree {
  const curated: TrajectoryFileNode[] = [];
  const byRun = new Map<string, EvalRunNode>();
  for (const f of files) {
    const node: TrajectoryFileNode = { kind: 'file', path: f.path, relativePath: f.relativePath, label: path.basename(f.path) };
    const runFolder = candidateRunFolder(f.path);
    const facts = runFolder !== undefined ? runs.get(runFolder) : undefined;
    if (runFolder === undefined || facts === undefined) {
      curated.push(node);
      continue;
    }
    let run = byRun.get(runFolder);
    if (!run) {
      run = { kind: 'evalRun', folder: runFolder, relativeFolder: relativeFolderOf(runFolder), label: path.basename(runFolder), facts, files: [] };
      byRun.set(runFolder, run);
    }
    run.files.push(node);
  }
  curated.sort(byPath);
  labelDuplicates(curated, (n) => path.posix.dirname(n.relativePath), (n, folder) => (n.folder = folder));
  const runNodes = [...byRun.values()].sort(byPath);
  for (const run of runNodes) run.files.sort(byPath);
  labelDuplicates(runNodes, (r) => path.posix.dirname(r.relativeFolder), (r, folder) => (r.parent = folder));
  return { files: curated, runs: runNodes };
}

/** `24 trajectories · 3 unreviewed · 2 flagged`, leaving out what is not known yet or zero (`counting…` before anything). */
export function describeFileCounts(c: { records?: number; unreviewed?: number; flagged?: number; invalid?: number }): string {
  if (c.records === undefined) return 'counting…';
  const parts = [`${c.records} ${c.records === 1 ? 'trajectory' : 'trajectories'}`];
  if (c.unreviewed) parts.push(`${c.unreviewed} unreviewed`);
  if (c.flagged) parts.push(`${c.flagged} flagged`);
  if (c.invalid) parts.push(`${c.invalid} invalid ${c.invalid === 1 ? 'line' : 'lines'}`);
  return parts.join(' · ');
}
