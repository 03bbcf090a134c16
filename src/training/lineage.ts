import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { readEvalManifest, type EvalManifest } from '../eval/evalConfig';
import { readExportManifestIfOurs } from '../trainingExport/exportManifest';
import { type ExportSourceFile, manifestPathFor } from '../trajectory/sftExport';
import { sha256OfFile } from '../runs/durableFile';
import { type RunRecord } from './runRecord';

/**
 * Lineage: which data a model came from and how it scored, followed by hashes. A curated trajectory file is
 * named (with its hash) by the export manifests made from it; an export's data snapshot (`sha256:` of its
 * bytes) is named by the training runs that trained on it; a run's downloaded adapter is named by the
 * evaluation runs that evaluated it (their manifest's adapter path or the adapter's run record).
 * Built from files only, without VS Code, so it is tested under plain node.
 */

export type LineageOpen =
  | { kind: 'file'; path: string }
  | { kind: 'trainingRun'; runId: string }
  | { kind: 'evalRun'; runFolder: string };

export type LineageKind = 'trajectories' | 'export' | 'run' | 'adapter' | 'eval';

export interface LineageNode {
  kind: LineageKind;
  /** Unique within its parent; the path from the root makes a tree id. */
  key: string;
  label: string;
  description: string;
  tooltip: string;
  open: LineageOpen;
  children: LineageNode[];
  /** Something does not add up (a source changed since its export, a manifest unreadable). */
  warning?: string;
}

export interface LineageSources {
  /** Trajectory files in the workspace (absolute paths). */
  trajectoryFiles: readonly string[];
  /** Export manifests found (`<file>.manifest.json`); those of the runs' data files are added. */
  exportManifests: readonly string[];
  runs: readonly RunRecord[];
  /** Folders holding evaluation run folders (`.trajectory-studio/eval-runs`). */
  evalRunRoots: readonly string[];
  /** Relative source names in manifests made by the CLI resolve against these (and the manifest's folder). */
  workspaceFolders?: readonly string[];
}

export interface LineageGraph {
  roots: LineageNode[];
  /** Files that could not be read, with the reason; shown, not hidden. */
  problems: string[];
}

interface ExportInfo {
  manifestFile: string;
  dataFile: string;
  snapshot: string;
  examples: number;
  compatibility: string;
  createdAt: string;
  sourceFiles: ExportSourceFile[];
  /** Source names without a hash (exports made by the CLI). */
  sourceNames: string[];
}

/** `sha256:` hashes of files, remembered by size and modification time so a refresh does not read them again. */
export class FileHashCache {
  private readonly entries = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

  async hash(file: string): Promise<string | undefined> {
    let s;
    try {
      s = await stat(file);
    } catch {
      return undefined;
    }
    const known = this.entries.get(file);
    if (known && known.size === s.size && known.mtimeMs === s.mtimeMs) return known.sha256;
    const sha256 = `sha256:${await sha256OfFile(file)}`;
    this.entries.set(file, { size: s.size, mtimeMs: s.mtimeMs, sha256 });
    return sha256;
  }
}

function short(hash: string): string {
  return `${hash.slice(0, 19)}…`;
}

/** An export manifest's links; undefined when it is missing or another tool's `*.manifest.json` (not ours to judge). */
async function readExport(manifestFile: string): Promise<ExportInfo | undefined> {
  const manifest = await readExportManifestIfOurs(manifestFile);
  if (!manifest) return undefined;
  return {
    manifestFile,
    dataFile: manifestFile.replace(/\.manifest\.json$/, ''),
    snapshot: manifest.snapshot,
    examples: manifest.examples,
    compatibility: manifest.compatibility,
    createdAt: manifest.createdAt,
    sourceFiles: manifest.extra?.sourceFiles ?? [],
    sourceNames: manifest.sources,
  };
}

function runSnapshot(run: RunRecord): string {
  return run.dataSnapshot ?? `sha256:${run.dataSha256}`;
}

/** The adapter folder named by an evaluation (a folder, or a file inside it such as run.json). */
function sameAdapter(evalAdapter: string, adapterFolder: string): boolean {
  const a = path.resolve(evalAdapter);
  const b = path.resolve(adapterFolder);
  return a === b || path.dirname(a) === b;
}

function adapterRunId(manifest: EvalManifest): string | undefined {
  const m = manifest.adapterManifest;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const id = (m as Record<string, unknown>).id;
  return typeof id === 'string' ? id : undefined;
}

async function readEvalRuns(roots: readonly string[], problems: string[]): Promise<{ runFolder: string; manifest: EvalManifest }[]> {
  const found: { runFolder: string; manifest: EvalManifest }[] = [];
  for (const root of roots) {
    let names: string[];
    try {
      names = await readdir(root);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const runFolder = path.join(root, name);
      try {
        const manifest = await readEvalManifest(runFolder);
        if (manifest) found.push({ runFolder, manifest });
      } catch (err) {
        problems.push(`${runFolder}: ${(err as Error).message}`);
      }
    }
  }
  return found;
}

/** Builds the lineage tree: trajectory files → exports → training runs → adapters → evaluation runs. */
export async function buildLineage(sources: LineageSources, hashes = new FileHashCache()): Promise<LineageGraph> {
  const problems: string[] = [];
  const manifestFiles = new Set(sources.exportManifests.map((f) => path.resolve(f)));
  for (const run of sources.runs) {
    manifestFiles.add(path.resolve(run.exportManifest ?? manifestPathFor(run.dataFile)));
  }
  const exports: ExportInfo[] = [];
  for (const file of [...manifestFiles].sort()) {
    try {
      const found = await readExport(file);
      if (found) exports.push(found);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const evalRuns = await readEvalRuns(sources.evalRunRoots, problems);

  const evalNode = (e: { runFolder: string; manifest: EvalManifest }): LineageNode => ({
    kind: 'eval',
    key: `eval:${e.runFolder}`,
    label: path.basename(e.runFolder),
    description: `evaluation · ${e.manifest.benchmarks.map((b) => b.name).join(', ')}`,
    tooltip: `Evaluation run ${e.runFolder}\nStudent: ${e.manifest.config.student.model}${e.manifest.config.student.adapter ? `\nAdapter: ${e.manifest.config.student.adapter}` : ''}`,
    open: { kind: 'evalRun', runFolder: e.runFolder },
    children: [],
  });

  const runNode = (run: RunRecord): LineageNode => {
    const children: LineageNode[] = [];
    if (run.downloadedTo) {
      const adapter = run.downloadedTo;
      const evals = evalRuns.filter((e) => (e.manifest.config.student.adapter !== undefined && sameAdapter(e.manifest.config.student.adapter, adapter)) || adapterRunId(e.manifest) === run.id);
      children.push({
        kind: 'adapter',
        key: `adapter:${adapter}`,
        label: `adapter of ${run.id}`,
        description: adapter,
        tooltip: `Adapter downloaded to ${adapter}\nTrained on ${runSnapshot(run)}`,
        open: { kind: 'file', path: path.join(adapter, 'run.json') },
        children: evals.map(evalNode),
      });
    }
    return {
      kind: 'run',
      key: `run:${run.id}`,
      label: run.id,
      description: `training run · ${run.state} · ${run.host}`,
      tooltip: `Training run ${run.id} on ${run.host}\nBase model: ${run.baseModel}\nData snapshot: ${runSnapshot(run)}`,
      open: { kind: 'trainingRun', runId: run.id },
      children,
    };
  };

  const linkedRuns = new Set<string>();
  const exportNode = (x: ExportInfo, warning?: string): LineageNode => {
    const runs = sources.runs.filter((r) => runSnapshot(r) === x.snapshot);
    for (const r of runs) linkedRuns.add(r.id);
    return {
      kind: 'export',
      key: `export:${x.manifestFile}`,
      label: path.basename(x.dataFile),
      description: `export · ${short(x.snapshot)} · ${x.examples} examples`,
      tooltip: `Export ${x.dataFile}\nData snapshot: ${x.snapshot}\nProfile: ${x.compatibility}\nCreated: ${x.createdAt}${warning ? `\n\n${warning}` : ''}`,
      open: { kind: 'file', path: x.manifestFile },
      children: runs.map(runNode),
      ...(warning ? { warning } : {}),
    };
  };

  // trajectory files: by the path an export recorded, then checked against the hash it recorded
  const roots: LineageNode[] = [];
  const exportsWithSource = new Set<string>();
  for (const file of [...sources.trajectoryFiles].map((f) => path.resolve(f)).sort()) {
    const children: LineageNode[] = [];
    let current: string | undefined;
    for (const x of exports) {
      const recorded = x.sourceFiles.find((s) => path.resolve(s.file) === file);
      const named = recorded ? undefined : x.sourceNames.find((n) => [path.dirname(x.manifestFile), ...(sources.workspaceFolders ?? [])].some((base) => path.resolve(base, n) === file));
      if (!recorded && named === undefined) continue;
      exportsWithSource.add(x.manifestFile);
      let warning: string | undefined;
      if (recorded) {
        current ??= await hashes.hash(file);
        if (current !== recorded.sha256) warning = `${path.basename(file)} changed since this export (exported from ${short(recorded.sha256)}, now ${current ? short(current) : 'unreadable'})`;
      }
      children.push(exportNode(x, warning));
    }
    if (children.length === 0) continue;
    current ??= await hashes.hash(file);
    roots.push({
      kind: 'trajectories',
      key: `trajectories:${file}`,
      label: path.basename(file),
      description: `trajectories${current ? ` · ${short(current)}` : ''}`,
      tooltip: `${file}${current ? `\n${current}` : ''}`,
      open: { kind: 'file', path: file },
      children,
    });
  }
  // exports whose source is not in the workspace, then runs whose data has no export manifest
  for (const x of exports) if (!exportsWithSource.has(x.manifestFile)) roots.push(exportNode(x));
  for (const run of sources.runs) if (!linkedRuns.has(run.id)) roots.push(runNode(run));
  return { roots, problems };
}
