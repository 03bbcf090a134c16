import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandIds, ViewIds } from '../platform/ids';
import { registerStudioCommand } from '../platform/commands';
import { type StudioServices } from '../platform/services';
import { stat } from 'node:fs/promises';
import { countJsonlRecords } from './countLines';
import { triageFile } from '../triage/fileTriage';
import { flagTitle } from '../triage/flags';

export const trajectoryFileGlob = '**/*.traj.jsonl';

/** Files up to this size are triaged for the view's counts; bigger ones are left to `trajectory-studio triage`. */
const triageBytesLimit = 100 * 1024 * 1024;

/** What the view knows about a file: its records and, once triaged, the flagged ones by rule. */
interface FileFacts {
  records?: number;
  triage?: { flagged: number; byRule: Map<string, number> } | 'too-big';
}

class TrajectoryFileItem extends vscode.TreeItem {
  constructor(readonly uri: vscode.Uri, facts: FileFacts) {
    super(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.None);
    this.resourceUri = uri;
    const { records, triage } = facts;
    const flagged = triage && triage !== 'too-big' && triage.flagged > 0 ? ` · ${triage.flagged} flagged` : '';
    this.description = records === undefined ? '' : `${records} ${records === 1 ? 'trajectory' : 'trajectories'}${flagged}`;
    const tooltip = new vscode.MarkdownString(vscode.workspace.asRelativePath(uri));
    if (triage === 'too-big') tooltip.appendMarkdown('\n\nToo large to triage here; run `trajectory-studio triage` on it.');
    else if (triage && triage.flagged > 0) {
      tooltip.appendMarkdown(`\n\n**Triage:** ${triage.flagged} flagged`);
      for (const [rule, n] of triage.byRule) tooltip.appendMarkdown(`\n- ${flagTitle(rule)}: ${n}`);
    }
    this.tooltip = tooltip;
    this.contextValue = 'trajectoryFile';
    this.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
  }
}

/** The "Trajectories" view: every trajectory file in the workspace with its record count and triage counts. */
export class TrajectoryFilesProvider implements vscode.TreeDataProvider<TrajectoryFileItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly counts = new Map<string, number>();
  /** Triage results by file, keyed with the size and modification time they were computed for. */
  private readonly triaged = new Map<string, { key: string; result: NonNullable<FileFacts['triage']> }>();
  private readonly triaging = new Set<string>();

  refresh(): void {
    this.counts.clear();
    this.changed.fire();
  }

  /** Triage results when they are current; otherwise starts triage in the background and updates the view after. */
  private async triageOf(uri: vscode.Uri): Promise<FileFacts['triage']> {
    const id = uri.toString();
    const s = await stat(uri.fsPath).catch(() => undefined);
    if (!s) return undefined;
    const key = `${s.size}:${s.mtimeMs}`;
    const known = this.triaged.get(id);
    if (known?.key === key) return known.result;
    if (s.size > triageBytesLimit) return 'too-big';
    if (!this.triaging.has(id)) {
      this.triaging.add(id);
      triageFile(uri.fsPath)
        .then((r) => {
          this.triaged.set(id, { key, result: { flagged: r.flagged, byRule: r.byRule } });
          this.changed.fire();
        })
        .catch(() => undefined)
        .finally(() => this.triaging.delete(id));
    }
    return known?.result;
  }

  getTreeItem(item: TrajectoryFileItem): vscode.TreeItem {
    return item;
  }

  async getChildren(): Promise<TrajectoryFileItem[]> {
    const files = await vscode.workspace.findFiles(trajectoryFileGlob, '**/node_modules/**', 5000);
    files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    return Promise.all(
      files.map(async (uri) => {
        let n = this.counts.get(uri.toString());
        if (n === undefined && uri.scheme === 'file') {
          n = await countJsonlRecords(uri.fsPath).catch(() => undefined);
          if (n !== undefined) this.counts.set(uri.toString(), n);
        }
        const triage = uri.scheme === 'file' ? await this.triageOf(uri) : undefined;
        return new TrajectoryFileItem(uri, { ...(n !== undefined ? { records: n } : {}), ...(triage !== undefined ? { triage } : {}) });
      }),
    );
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerTrajectoryFilesView(services: StudioServices): TrajectoryFilesProvider {
  const { context, log } = services;
  const provider = new TrajectoryFilesProvider();
  const watcher = vscode.workspace.createFileSystemWatcher(trajectoryFileGlob);
  const refresh = () => provider.refresh();
  context.subscriptions.push(
    provider,
    watcher,
    watcher.onDidCreate(refresh),
    watcher.onDidDelete(refresh),
    watcher.onDidChange(refresh),
    vscode.window.registerTreeDataProvider(ViewIds.trajectories, provider),
  );
  registerStudioCommand(context, log, CommandIds.refreshTrajectories, 'Refresh Trajectory Files', refresh);
  return provider;
}
