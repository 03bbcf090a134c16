import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandIds, ViewIds } from '../platform/ids';
import { registerStudioCommand } from '../platform/commands';
import { type StudioServices } from '../platform/services';
import { countJsonlRecords } from './countLines';
import { triageFile } from '../triage/fileTriage';
import { flagTitle } from '../triage/flags';
import {
  buildTrajectoryTree,
  candidateRunFolder,
  describeFileCounts,
  type EvalRunFacts,
  type EvalRunNode,
  readEvalRunFacts,
  type TrajectoryFileNode,
  type TrajectoryTree,
} from './trajectoryFileTree';
import { trajectoryFileGlob, watchTrajectoryFiles } from './trajectoryFileWatcher.vscode';


/** Files up to this size are triaged (and their review states counted) for the view; bigger ones only have their lines counted. */
const triageBytesLimit = 100 * 1024 * 1024;

/**
 * Set once the first listing is done: the view's welcome text ("No trajectory files … yet") waits for it,
 * so it never flashes while the workspace is still being searched.
 */
const listedContextKey = 'trajectoryStudio.trajectoriesListed';

/** What the view knows about a file, for the size and modification time it was read at. */
interface FileFacts {
  key: string;
  records?: number;
  /** Review states; left out for evaluation runs' files, which are read-only results. */
  unreviewed?: number;
  accepted?: number;
  rejected?: number;
  invalid?: number;
  triage?: { flagged: number; byRule: Map<string, number> } | 'too-big';
}

/** The "Evaluation Runs" group: runs sit under it so their files never mix with curated ones. */
interface EvalRunsGroup {
  kind: 'evalRuns';
  runs: EvalRunNode[];
}

export type TrajectoryViewNode = TrajectoryFileNode | EvalRunNode | EvalRunsGroup;

function fileItem(node: TrajectoryFileNode, facts: FileFacts | undefined, inRun: boolean): vscode.TreeItem {
  const uri = vscode.Uri.file(node.path);
  const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
  item.resourceUri = uri;
  const triage = facts?.triage;
  const counts = describeFileCounts({
    ...(facts?.records !== undefined ? { records: facts.records } : {}),
    ...(!inRun && facts?.unreviewed !== undefined ? { unreviewed: facts.unreviewed } : {}),
    ...(triage && triage !== 'too-big' ? { flagged: triage.flagged } : {}),
    ...(facts?.invalid ? { invalid: facts.invalid } : {}),
  });
  // a duplicated name is told apart by its folder, before the counts
  item.description = node.folder ? `${node.folder} · ${counts}` : counts;
  const tooltip = new vscode.MarkdownString();
  tooltip.appendText(node.relativePath);
  if (facts && facts.unreviewed !== undefined && !inRun) tooltip.appendMarkdown(`\n\n**Review:** ${facts.unreviewed} unreviewed · ${facts.accepted ?? 0} accepted · ${facts.rejected ?? 0} rejected`);
  if (inRun) tooltip.appendMarkdown('\n\nResults of an evaluation run: opens read-only.');
  if (triage === 'too-big') tooltip.appendMarkdown('\n\nToo large to triage here; run `trajectory-studio triage` on it.');
  else if (triage && triage.flagged > 0) {
    tooltip.appendMarkdown(`\n\n**Triage:** ${triage.flagged} flagged`);
    for (const [rule, n] of triage.byRule) tooltip.appendMarkdown(`\n- ${flagTitle(rule)}: ${n}`);
  }
  item.tooltip = tooltip;
  item.contextValue = inRun ? 'evalRunTrajectoryFile' : 'trajectoryFile';
  item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
  return item;
}

function runItem(run: EvalRunNode): vscode.TreeItem {
  const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `evalRun:${run.folder}`;
  item.iconPath = new vscode.ThemeIcon('beaker');
  const facts: EvalRunFacts = run.facts;
  const parts = [run.parent, facts.model, facts.startedAt ? facts.startedAt.slice(0, 16).replace('T', ' ') : undefined, `${run.files.length} ${run.files.length === 1 ? 'file' : 'files'}`];
  item.description = parts.filter(Boolean).join(' · ');
  item.tooltip = `Evaluation run in ${run.relativeFolder}: its trajectories are the run's results and open read-only.`;
  item.contextValue = 'evalRun';
  return item;
}

/**
 * The "Trajectories" view: curated trajectory files with their counts, then the evaluation runs, each with its
 * own files. It keeps showing the last listing while it lists again, counts in the background (one file at a
 * time, cached by size and modification time), and lists again when files change, also outside VS Code.
 */
export class TrajectoryFilesProvider implements vscode.TreeDataProvider<TrajectoryViewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TrajectoryViewNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private tree: TrajectoryTree | undefined;
  private listing: Promise<TrajectoryTree> | undefined;
  private relistRequested = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private redrawTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly facts = new Map<string, FileFacts>();
  private readonly toAnalyse: { node: TrajectoryFileNode; inRun: boolean }[] = [];
  private analysing = false;
  private readonly abort = new AbortController();
  /** The view showing this listing; whether it is on screen is read by the extension-host tests. */
  view: vscode.TreeView<TrajectoryViewNode> | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Lists again soon; bursts of file events (a file being written) become one listing. */
  refresh(delayMs = 300): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.relist();
    }, delayMs);
  }

  /** The current listing (after the first one has finished); for tests and commands. */
  async listed(): Promise<TrajectoryTree> {
    return this.tree ?? (await this.relist());
  }

  /** Lists the workspace's trajectory files; the old tree stays on screen until the new one is ready. */
  relist(): Promise<TrajectoryTree> {
    if (this.listing) {
      // one listing at a time; a request during one runs once more after it
      this.relistRequested = true;
      return this.listing;
    }
    this.listing = this.list()
      .then((tree) => {
        this.tree = tree;
        void vscode.commands.executeCommand('setContext', listedContextKey, true);
        this.changed.fire(undefined);
        this.queueAnalysis(tree);
        return tree;
      })
      .finally(() => {
        this.listing = undefined;
        if (this.relistRequested) {
          this.relistRequested = false;
          void this.relist();
        }
      });
    return this.listing;
  }

  private async list(): Promise<TrajectoryTree> {
    const uris = (await vscode.workspace.findFiles(trajectoryFileGlob, '**/node_modules/**', 5000)).filter((u) => u.scheme === 'file');
    const files = uris.map((uri) => ({ path: uri.fsPath, relativePath: vscode.workspace.asRelativePath(uri) }));
    const runFolders = [...new Set(files.map((f) => candidateRunFolder(f.path)).filter((f): f is string => f !== undefined))];
    const runs = new Map<string, EvalRunFacts>();
    await Promise.all(
      runFolders.map(async (folder) => {
        const facts = await readEvalRunFacts(folder);
        if (facts) runs.set(folder, facts);
      }),
    );
    return buildTrajectoryTree(files, runs, (folder) => vscode.workspace.asRelativePath(folder));
  }

  private queueAnalysis(tree: TrajectoryTree): void {
    this.toAnalyse.length = 0;
    for (const node of tree.files) this.toAnalyse.push({ node, inRun: false });
    for (const run of tree.runs) for (const node of run.files) this.toAnalyse.push({ node, inRun: true });
    void this.analyseQueued();
  }

  /** Reads the queued files one at a time (two cores may be all there is), updating the view after each. */
  private async analyseQueued(): Promise<void> {
    if (this.analysing) return;
    this.analysing = true;
    try {
      for (let next = this.toAnalyse.shift(); next && !this.abort.signal.aborted; next = this.toAnalyse.shift()) {
        const updated = await this.analyse(next.node, next.inRun).catch((err: unknown) => {
          this.log.debug(`Trajectories view: reading ${next?.node.path}: ${err instanceof Error ? err.message : String(err)}`);
          return false;
        });
        if (updated) this.countsChanged();
      }
    } finally {
      this.analysing = false;
    }
  }

  /** Shows new counts at most twice a second: a folder of many small files would otherwise redraw the view per file. */
  private countsChanged(): void {
    if (this.redrawTimer) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      this.changed.fire(undefined);
    }, 500);
  }

  /** Counts records, review states and triage flags of one file unless known for its size and time; true when changed. */
  private async analyse(node: TrajectoryFileNode, inRun: boolean): Promise<boolean> {
    const s = await stat(node.path).catch(() => undefined);
    if (!s) return false;
    const key = `${s.size}:${s.mtimeMs}`;
    if (this.facts.get(node.path)?.key === key) return false;
    const signal = this.abort.signal;
    if (s.size > triageBytesLimit) {
      const records = await countJsonlRecords(node.path, signal);
      this.facts.set(node.path, { key, records, triage: 'too-big' });
      return true;
    }
    const review = { unreviewed: 0, accepted: 0, rejected: 0 };
    const r = await triageFile(node.path, { signal, onRecord: (_record, trajectory) => review[trajectory.review.status]++ });
    this.facts.set(node.path, { key, records: r.records, ...(inRun ? {} : review), invalid: r.records - r.valid, triage: { flagged: r.flagged, byRule: r.byRule } });
    return true;
  }

  getTreeItem(node: TrajectoryViewNode): vscode.TreeItem {
    if (node.kind === 'evalRuns') {
      const item = new vscode.TreeItem('Evaluation Runs', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = 'evalRuns';
      item.iconPath = new vscode.ThemeIcon('graph');
      item.description = `${node.runs.length} ${node.runs.length === 1 ? 'run' : 'runs'}`;
      item.tooltip = 'Evaluation runs in this workspace; each holds the trajectories it measured (read-only).';
      return item;
    }
    if (node.kind === 'evalRun') return runItem(node);
    return fileItem(node, this.facts.get(node.path), this.isRunFile(node));
  }

  /** Whether the last listing has a file inside `folder` (a deleted folder then takes them away). */
  hasFilesUnder(folder: string): boolean {
    const prefix = folder.endsWith(path.sep) ? folder : folder + path.sep;
    const tree = this.tree;
    return tree !== undefined && (tree.files.some((f) => f.path.startsWith(prefix)) || tree.runs.some((r) => r.folder === folder || r.folder.startsWith(prefix) || prefix.startsWith(r.folder + path.sep)));
  }

  private isRunFile(node: TrajectoryFileNode): boolean {
    return this.tree?.runs.some((r) => r.files.includes(node)) ?? false;
  }

  async getChildren(node?: TrajectoryViewNode): Promise<TrajectoryViewNode[]> {
    if (!node) {
      const tree = this.tree ?? (await this.relist());
      return [...tree.files, ...(tree.runs.length ? [{ kind: 'evalRuns', runs: tree.runs } as EvalRunsGroup] : [])];
    }
    if (node.kind === 'evalRuns') return node.runs;
    if (node.kind === 'evalRun') return node.files;
    return [];
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.redrawTimer) clearTimeout(this.redrawTimer);
    this.abort.abort();
    this.changed.dispose();
  }
}

export function registerTrajectoryFilesView(services: StudioServices): TrajectoryFilesProvider {
  const { context, log } = services;
  const provider = new TrajectoryFilesProvider(log);
  const watcher = watchTrajectoryFiles();
  // VS Code folds the events of files created together with their folder (mkdir -p, a copied folder, a new
  // evaluation run) into one event for the folder, which the glob above never matches; so new folders, and
  // deleted folders that held listed files, also make the view list again.
  const folders = vscode.workspace.createFileSystemWatcher('**/*', false, true, false);
  const refresh = () => provider.refresh();
  const view = vscode.window.createTreeView(ViewIds.trajectories, { treeDataProvider: provider });
  provider.view = view;
  context.subscriptions.push(
    provider,
    watcher,
    folders,
    watcher.onDidCreate(refresh),
    watcher.onDidDelete(refresh),
    watcher.onDidChange(refresh),
    folders.onDidCreate((uri) => {
      if (uri.scheme !== 'file' || uri.path.endsWith('.traj.jsonl')) return;
      void stat(uri.fsPath).then(
        (s) => {
          if (s.isDirectory()) refresh();
        },
        () => undefined,
      );
    }),
    folders.onDidDelete((uri) => {
      if (uri.scheme === 'file' && !uri.path.endsWith('.traj.jsonl') && provider.hasFilesUnder(uri.fsPath)) refresh();
    }),
    // Some setups deliver no watcher events for files written by other programs (network and container file
    // systems, excluded folders); coming back to the window lists again, which costs little when nothing changed.
    vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) provider.refresh();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(refresh),
    view,
  );
  registerStudioCommand(context, log, CommandIds.refreshTrajectories, 'Refresh Trajectory Files', async () => {
    await provider.relist();
  });
  return provider;
}
