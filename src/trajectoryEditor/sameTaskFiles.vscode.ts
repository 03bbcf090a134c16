import * as path from 'node:path';
import * as vscode from 'vscode';
import { type Trajectory } from '../trajectory/schema';
import { openTrajectoryFile } from '../trajectory/trajectoryFile';
import { readOnlyReason } from './readOnlyFiles';
import { findSameTaskInFiles, type SearchedFile, type SameTaskMatch } from './sameTaskSearch';

/** The most trajectory files one compare search looks at; a workspace with more lists the nearest first. */
const maxFiles = 500;

/**
 * The workspace's trajectory files other than `exclude`, labelled as the picker shows them: an evaluation
 * run's file by its run folder ("eval run 2026-01-05 · math.traj.jsonl"), the others by relative path.
 * Curated files come first, eval runs after, so a teacher file is found before the budget runs out.
 */
async function workspaceTrajectoryFiles(exclude: vscode.Uri): Promise<SearchedFile[]> {
  const uris = await vscode.workspace.findFiles('**/*.traj.jsonl', '**/node_modules/**', maxFiles);
  const curated: SearchedFile[] = [];
  const runs: SearchedFile[] = [];
  for (const uri of uris) {
    if (uri.scheme !== 'file' || uri.toString() === exclude.toString()) continue;
    const file = uri.fsPath;
    if (await readOnlyReason(file)) runs.push({ path: file, label: `eval run ${path.basename(path.dirname(path.dirname(file)))} · ${path.basename(file)}` });
    else curated.push({ path: file, label: vscode.workspace.asRelativePath(uri) });
  }
  const byLabel = (a: SearchedFile, b: SearchedFile) => a.label.localeCompare(b.label);
  return [...curated.sort(byLabel), ...runs.sort(byLabel)];
}

/**
 * Cross-file compare for one editor tab: searches with progress in the window's status bar, and remembers
 * what it offered so a compare request can only name a file and record the host itself found.
 */
export class SameTaskFinder {
  private offered = new Map<string, SameTaskMatch>();

  constructor(private readonly documentUri: vscode.Uri) {}

  async search(target: { taskId: string; question: string }): Promise<{ matches: { ref: string; label: string }[]; filesSearched: number; unfinished: string[] }> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Finding trajectories of the same task' }, async (progress) => {
      const files = await workspaceTrajectoryFiles(this.documentUri);
      const result = await findSameTaskInFiles(files, target, { onProgress: (done, total) => progress.report({ message: `${done} of ${total} files` }) });
      this.offered = new Map(result.matches.map((m, i) => [String(i), m]));
      return { matches: result.matches.map((m, i) => ({ ref: String(i), label: m.label })), filesSearched: files.length, unfinished: result.unfinished };
    });
  }

  /** Reads one offered record (a single record: the file is indexed in a streaming pass, never loaded). */
  async read(ref: string): Promise<{ trajectory: Trajectory; record: number; source: string }> {
    const match = this.offered.get(ref);
    if (!match) throw new Error('That trajectory is no longer offered; search again with Compare….');
    const file = await openTrajectoryFile(match.path);
    try {
      return { trajectory: await file.readTrajectory(match.record), record: match.record, source: `${match.fileLabel} #${match.record + 1}` };
    } finally {
      await file.close();
    }
  }
}
