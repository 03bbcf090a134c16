import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { countReviewStatuses, describeReviewCounts, type ReviewCounts } from './reviewCounts';
import { type TrajectoryEditorProvider } from './trajectoryEditorProvider.vscode';

/** Files up to this size are counted in the background; bigger ones only once the editor has indexed them. */
const countFilesUpToBytes = 32 * 1024 * 1024;

/**
 * Review counts on trajectory files, wherever VS Code shows them by URI (the Trajectories view, the
 * explorer): a tooltip with every count. Counts come from
 * the open editor's index when the file is open (unsaved reviews included), else from reading the file.
 */
export class ReviewCountDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri | vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.changeEmitter.event;
  private readonly cache = new Map<string, { size: number; mtimeMs: number; counts: ReviewCounts }>();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly provider: TrajectoryEditorProvider,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    if (uri.scheme !== 'file' || !uri.path.endsWith('.traj.jsonl')) return undefined;
    const counts = await this.countsOf(uri);
    if (!counts) return undefined;
    // No badge: a bare number beside a file reads as a problem count (the explorer's errors look the same).
    // The counts are words in the tooltip here, and in the Trajectories view's description.
    return new vscode.FileDecoration(undefined, describeReviewCounts(counts));
  }

  private async countsOf(uri: vscode.Uri): Promise<ReviewCounts | undefined> {
    const open = this.provider.panelsFor(uri)[0]?.document.session.listIndex;
    if (open?.complete) return open.countsByStatus();
    let s;
    try {
      s = await stat(uri.fsPath);
    } catch {
      return undefined;
    }
    const cached = this.cache.get(uri.fsPath);
    if (cached && cached.size === s.size && cached.mtimeMs === s.mtimeMs) return cached.counts;
    if (s.size > countFilesUpToBytes) return undefined;
    try {
      const counts = await countReviewStatuses(uri.fsPath);
      this.cache.set(uri.fsPath, { size: s.size, mtimeMs: s.mtimeMs, counts });
      return counts;
    } catch (err) {
      this.log.debug(`review counts of ${uri.fsPath}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Asks VS Code to fetch the decoration of `uri` again, at most a few times a second. */
  refresh(uri: vscode.Uri): void {
    const key = uri.toString();
    if (this.pending.has(key)) return;
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        this.changeEmitter.fire(uri);
      }, 300),
    );
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.changeEmitter.dispose();
  }
}
