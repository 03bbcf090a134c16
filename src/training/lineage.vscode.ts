import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds, ViewIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { buildLineage, FileHashCache, type LineageKind, type LineageNode } from './lineage';
import { type TrainingService } from './trainingService.vscode';

const icons: Record<LineageKind, string> = {
  trajectories: 'file',
  export: 'package',
  run: 'rocket',
  adapter: 'layers',
  eval: 'graph',
};

/** A node with the keys of its ancestors, so a node reached along two paths has two tree ids. */
interface PlacedNode {
  node: LineageNode;
  id: string;
}

/** A line saying some files could not be read (they are in the log). */
interface ProblemsNode {
  problems: string[];
}

type Item = PlacedNode | ProblemsNode;

/**
 * The Lineage view: trajectory files → exports → training runs → adapters → evaluation runs, rebuilt from the
 * files (export manifests, run records, evaluation manifests) whenever runs change or a manifest or trajectory
 * file is written. Its own view rather than a section of Training Runs, because it starts at the data and ends
 * at the evaluations: most of its nodes are not training runs.
 */
class LineageProvider implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly hashes = new FileHashCache();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly service: TrainingService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(service.onDidChange(() => this.refreshSoon()));
    for (const glob of ['**/*.manifest.json', '**/*.traj.jsonl', '**/.trajectory-studio/eval-runs/*/manifest.json']) {
      const watcher = vscode.workspace.createFileSystemWatcher(glob);
      watcher.onDidCreate(() => this.refreshSoon(), undefined, this.disposables);
      watcher.onDidChange(() => this.refreshSoon(), undefined, this.disposables);
      watcher.onDidDelete(() => this.refreshSoon(), undefined, this.disposables);
      this.disposables.push(watcher);
    }
  }

  /** Several files are written at once (an export and its manifest): one rebuild for the burst. */
  refreshSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emitter.fire();
    }, 300);
  }

  refresh(): void {
    this.emitter.fire();
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if ('problems' in item) {
      const t = new vscode.TreeItem(`${item.problems.length} file(s) could not be read`, vscode.TreeItemCollapsibleState.None);
      t.iconPath = new vscode.ThemeIcon('warning');
      t.tooltip = item.problems.join('\n');
      t.command = { command: CommandIds.showLog, title: 'Show Log' };
      return t;
    }
    const { node, id } = item;
    const t = new vscode.TreeItem(node.label, node.children.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    t.id = id;
    t.description = node.warning ? `${node.description} · changed since` : node.description;
    t.tooltip = node.tooltip;
    t.iconPath = new vscode.ThemeIcon(node.warning ? 'warning' : icons[node.kind]);
    t.contextValue = `lineage.${node.kind}`;
    const open = node.open;
    if (open.kind === 'file') t.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(open.path)] };
    else if (open.kind === 'trainingRun') t.command = { command: CommandIds.openTrainingRun, title: 'Open Training Run', arguments: [open.runId] };
    else t.command = { command: CommandIds.openEvalDashboard, title: 'Open Evaluation Dashboard', arguments: [open.runFolder] };
    return t;
  }

  async getChildren(item?: Item): Promise<Item[]> {
    if (item) return 'problems' in item ? [] : item.node.children.map((node) => ({ node, id: `${item.id}/${node.key}` }));
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const [trajectoryFiles, manifests, { runs, problems: runProblems }] = await Promise.all([
      vscode.workspace.findFiles('**/*.traj.jsonl', '**/{node_modules,.trajectory-studio}/**'),
      vscode.workspace.findFiles('**/*.manifest.json', '**/node_modules/**'),
      this.service.store.list(),
    ]);
    const graph = await buildLineage(
      {
        trajectoryFiles: trajectoryFiles.map((u) => u.fsPath),
        exportManifests: manifests.map((u) => u.fsPath),
        runs,
        evalRunRoots: folders.map((f) => path.join(f, '.trajectory-studio', 'eval-runs')),
        workspaceFolders: folders,
      },
      this.hashes,
    );
    const problems = [...runProblems, ...graph.problems];
    for (const p of problems) this.log.warn(`lineage: ${p}`);
    const roots: Item[] = graph.roots.map((node) => ({ node, id: node.key }));
    return problems.length ? [...roots, { problems }] : roots;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.emitter.dispose();
  }
}

/** Registers the Lineage view and its refresh command. */
export function registerLineage(services: StudioServices, service: TrainingService): void {
  const { context, log } = services;
  const provider = new LineageProvider(service, log);
  context.subscriptions.push(provider, vscode.window.registerTreeDataProvider(ViewIds.lineage, provider));
  registerStudioCommand(context, log, CommandIds.refreshLineage, 'Refresh Lineage', () => provider.refresh());
}
