import { userPromptFolders } from '../agent/promptProfiles.vscode';
import { parseCommandArgs } from '../platform/commandArgs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerStudioCommand } from '../platform/commands';
import { z } from 'zod';
import { CommandIds, CustomEditorIds, ViewIds } from '../platform/ids';
import { runWithProgress } from '../platform/progress';
import { type StudioServices } from '../platform/services';
import { onSettingsChanged, readSetting, showMissingSetting } from '../platform/settings';
import { type RunRecord, type RunState, finalRunStates, newRunId } from './runRecord';
import { trainingScriptFiles } from './trainingScript';
import { type LaunchEvent, type LaunchSpec, summarizeCheckReport } from './trainingLauncher';
import { type CuratedExportOptions, exportCuratedFile } from './curatedExport';
import { registerLineage } from './lineage.vscode';
import { TrainingRunPanel } from './trainingRunPanel.vscode';
import { cancelRun, downloadAdapter, TrainingService } from './trainingService.vscode';

const stateIcons: Record<RunState, string> = {
  uploading: 'cloud-upload',
  checking: 'checklist',
  queued: 'clock',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  lost: 'question',
};

class TrainingRunItem extends vscode.TreeItem {
  constructor(
    readonly run: RunRecord,
    latest: { step?: number; total?: number | null; loss?: number; problem?: string } | undefined,
  ) {
    // ids are `YYYYMMDD-HHMMSS-name-xxxxxx`: the name is the label, the start time goes in the description
    const parts = /^(\d{8})-(\d{4})\d{2}-(.+)-[0-9a-f]{6}$/.exec(run.id);
    super(parts?.[3] ?? run.id, vscode.TreeItemCollapsibleState.None);
    this.id = run.id;
    const started = parts ? ` · ${parts[1]?.slice(4, 6)}-${parts[1]?.slice(6, 8)} ${parts[2]?.slice(0, 2)}:${parts[2]?.slice(2, 4)}` : '';
    const progress = latest?.step !== undefined ? ` · step ${latest.step}${latest.total ? `/${latest.total}` : ''}${latest.loss !== undefined ? ` · loss ${latest.loss.toFixed(3)}` : ''}` : '';
    this.description = `${run.state}${progress}${latest?.problem ? ' · disconnected' : ''} · ${run.host}${started}`;
    this.iconPath = new vscode.ThemeIcon(latest?.problem ? 'debug-disconnect' : stateIcons[run.state]);
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendText(`${run.id}\n\nHost: ${run.host} (${run.remoteDir})\nModel: ${run.baseModel}\nData: ${run.dataFile}${run.dataSnapshot ? `\nData snapshot: ${run.dataSnapshot}` : ''}${run.sourceTrajectories?.length ? `\nFrom: ${run.sourceTrajectories.map((s) => path.basename(s.file)).join(', ')}` : ''}\nState: ${run.state}${run.exitCode !== null && run.exitCode !== undefined ? ` (exit ${run.exitCode})` : ''}`);
    if (latest?.problem) tooltip.appendText(`\n\nCannot reach the host: ${latest.problem}`);
    if (run.downloadedTo) tooltip.appendText(`\n\nAdapter: ${run.downloadedTo}`);
    this.tooltip = tooltip;
    this.contextValue = `trainingRun.${run.state}`;
    this.command = { command: CommandIds.openTrainingRun, title: 'Open Training Run', arguments: [run.id] };
  }
}

class TrainingRunsProvider implements vscode.TreeDataProvider<TrainingRunItem>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly service: TrainingService) {
    this.subscription = service.onDidChange(() => this.emitter.fire());
  }

  getTreeItem(item: TrainingRunItem): vscode.TreeItem {
    return item;
  }

  async getChildren(): Promise<TrainingRunItem[]> {
    const { runs } = await this.service.store.list();
    return runs.map((r) => new TrainingRunItem(r, this.service.latest.get(r.id)));
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

/** A run from a command argument: a tree item, a run id, or (from the palette) a pick. */
async function runFromArgument(service: TrainingService, arg: unknown, title: string, filter: (r: RunRecord) => boolean = () => true): Promise<RunRecord | undefined> {
  if (arg instanceof TrainingRunItem) return (await service.store.get(arg.run.id)) ?? arg.run;
  if (typeof arg === 'string') {
    const run = await service.store.get(arg);
    if (!run) throw new Error(`no training run ${arg}`);
    return run;
  }
  const { runs } = await service.store.list();
  const candidates = runs.filter(filter);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`${title}: no training run to choose from.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    candidates.map((r) => ({ label: r.id, description: `${r.host} · ${r.state}`, detail: r.baseModel, run: r })),
    { title, ignoreFocusOut: true },
  );
  return pick?.run;
}

/**
 * Arguments of `trajectoryStudio.launchTraining`; every one is optional (the command asks for what is missing).
 * `trajectoryFile` is a curated `.traj.jsonl`, exported for training as part of the launch; `dataFile` an already
 * exported chat JSONL (a `.traj.jsonl` given there is treated as a trajectory file).
 */
export const launchTrainingArgsSchema = z
  .strictObject({
    host: z.string().min(1).optional(),
    trajectoryFile: z.string().min(1).optional(),
    dataFile: z.string().min(1).optional(),
    baseModel: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    overrides: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .refine((a) => !(a.trajectoryFile && a.dataFile), { message: 'give either trajectoryFile or dataFile, not both' });
export type LaunchTrainingArgs = z.infer<typeof launchTrainingArgsSchema>;

function isTrajectoryFile(file: string): boolean {
  return file.endsWith('.traj.jsonl');
}

/** The file of the trajectory editor in the active tab, if that is what has focus. */
function activeTrajectoryEditorFile(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && (input.viewType === CustomEditorIds.trajectoryEditor || input.viewType === CustomEditorIds.trajectoryEditorAnyJsonl) && input.uri.scheme === 'file') {
    return isTrajectoryFile(input.uri.fsPath) ? input.uri.fsPath : undefined;
  }
  return undefined;
}

function launchArgsFrom(arg: unknown): LaunchTrainingArgs {
  // from the explorer or an editor title: the file itself
  if (arg instanceof vscode.Uri) return isTrajectoryFile(arg.fsPath) ? { trajectoryFile: arg.fsPath } : { dataFile: arg.fsPath };
  const given = parseCommandArgs(launchTrainingArgsSchema, arg ?? {}, 'Launch Training Run');
  if (given.dataFile && isTrajectoryFile(given.dataFile)) return { ...given, dataFile: undefined, trajectoryFile: given.dataFile };
  return given;
}

/** Registers the Training Runs view, the training commands, and re-attaches to unfinished runs. */
export function registerTraining(services: StudioServices): TrainingService {
  const { context, log } = services;
  const service = new TrainingService(services);
  const provider = new TrainingRunsProvider(service);
  context.subscriptions.push(service, provider, vscode.window.registerTreeDataProvider(ViewIds.trainingRuns, provider));
  context.subscriptions.push(onSettingsChanged(['training.hosts'], () => service.refresh()));
  registerLineage(services, service);

  // re-attach after a restart: follow every run that had not ended, from the offset it had reached
  void service.monitor.attachAll().then(
    (n) => {
      if (n > 0) log.info(`re-attached to ${n} unfinished training run(s)`);
    },
    (err: unknown) => log.error(`re-attaching to training runs failed: ${String(err)}`),
  );

  const open = (run: RunRecord) => TrainingRunPanel.show(services, service, run);

  registerStudioCommand(context, log, CommandIds.launchTraining, 'Launch Training Run', async (arg?: unknown) => {
    const given = launchArgsFrom(arg);
    const profiles = service.profiles();
    if (profiles.length === 0) {
      // A list of objects cannot be edited in the Settings UI, so the button opens settings.json of the tab that counts.
      await showMissingSetting(context.globalStorageUri, 'No training host is configured yet: add one to trajectoryStudio.training.hosts (host, user, work folder, how to activate Python).', 'training.hosts', ['training.hosts'], { json: true });
      return undefined;
    }
    const host =
      given.host ??
      (profiles.length === 1
        ? profiles[0]?.name
        : (await vscode.window.showQuickPick(profiles.map((p) => ({ label: p.name, description: `${p.user ? `${p.user}@` : ''}${p.host}${p.port ? `:${p.port}` : ''} · ${p.scheduler}` })), { title: 'Launch Training Run (1/3): the host', ignoreFocusOut: true }))?.label);
    if (!host) return undefined;
    const profile = service.profile(host);
    // the data: a curated trajectory file (exported as part of the launch) or an exported chat JSONL
    let source: { trajectoryFile: string } | { dataFile: string } | undefined = given.trajectoryFile
      ? { trajectoryFile: given.trajectoryFile }
      : given.dataFile
        ? { dataFile: given.dataFile }
        : undefined;
    if (!source) {
      const open = activeTrajectoryEditorFile();
      if (open) source = { trajectoryFile: open };
    }
    if (!source) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Launch Training Run (2/3): a curated trajectory file (.traj.jsonl, its accepted trajectories are exported) or an exported chat JSONL',
        canSelectMany: false,
        filters: { 'Trajectories or chat JSONL': ['jsonl'] },
        openLabel: 'Train on This File',
      });
      const file = picked?.[0]?.fsPath;
      if (!file) return undefined;
      source = isTrajectoryFile(file) ? { trajectoryFile: file } : { dataFile: file };
    }
    const chosen = 'trajectoryFile' in source ? source.trajectoryFile : source.dataFile;
    const lastModel = context.globalState.get<string>('trajectoryStudio.training.lastBaseModel') ?? 'Qwen/Qwen2.5-1.5B-Instruct';
    const baseModel =
      given.baseModel ??
      (await vscode.window.showInputBox({
        title: `Launch Training Run (3/3): the student model to train on ${path.basename(chosen)}`,
        prompt: 'A Hugging Face model id or a model folder on the host. LoRA r=64, alpha=128, lr 2e-4, 2 epochs, effective batch 8, bf16, max length 10,240.',
        value: lastModel,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'a model is needed'),
      }));
    if (!baseModel) return undefined;
    await context.globalState.update('trajectoryStudio.training.lastBaseModel', baseModel);
    const name = given.name ?? path.basename(chosen).replace(/(\.traj)?\.jsonl$/, '');
    const spec = { profile, name, baseModel: baseModel.trim(), scriptFiles: trainingScriptFiles(context.extensionUri.fsPath), ...(given.overrides ? { overrides: given.overrides } : {}) };
    const compatibility = readSetting('compatibility');
    let launched: RunRecord | undefined;
    const result = await runWithProgress<{ message?: string; fraction?: number; event: LaunchEvent }>(
      `Training on ${profile.name}`,
      (signal) => {
        if ('dataFile' in source) return mapLaunch(service.launcher.launch({ ...spec, dataFile: source.dataFile }, signal));
        const id = newRunId(name);
        const dataFile = path.join(service.store.localFolder(id), `${name}.train.jsonl`);
        return mapLaunch(launchFromCurated(service, { ...spec, id, dataFile }, { trajectoryFile: source.trajectoryFile, outPath: dataFile, compatibility, promptFolders: userPromptFolders(), signal }, signal));
      },
      ({ event }) => {
        if (event.kind === 'check') {
          log.info(`pre-flight check on ${profile.name}: ${JSON.stringify(event.report)}`);
          const { summary, warnings } = summarizeCheckReport(event.report);
          log.info(`check passed: ${summary}`);
          if (warnings.length) void vscode.window.showWarningMessage(`Training on ${profile.name}: ${warnings.join('; ')}`);
        }
        if (event.kind === 'progress') log.info(`launch: ${event.message}`);
        if (event.kind === 'launched') launched = event.run;
      },
    );
    if (result === 'cancelled' || !launched) return undefined;
    service.monitor.watch(launched);
    service.refresh();
    open(launched);
    return launched.id;
  });

  registerStudioCommand(context, log, CommandIds.openTrainingRun, 'Open Training Run', async (arg?: unknown) => {
    const run = await runFromArgument(service, arg, 'Open Training Run');
    if (run) open(run);
  });

  registerStudioCommand(context, log, CommandIds.cancelTrainingRun, 'Cancel Training Run', async (arg?: unknown) => {
    const run = await runFromArgument(service, arg, 'Cancel Training Run', (r) => !finalRunStates.includes(r.state));
    if (!run) return undefined;
    const message = await cancelRun(service, run);
    void vscode.window.showInformationMessage(message);
    return message;
  });

  registerStudioCommand(context, log, CommandIds.resumeTrainingRun, 'Resume Training Run', async (arg?: unknown) => {
    const run = await runFromArgument(service, arg, 'Resume Training Run', (r) => ['cancelled', 'failed', 'lost'].includes(r.state));
    if (!run) return undefined;
    const resumed = await service.launcher.resume(run);
    service.monitor.watch(resumed);
    service.refresh();
    open(resumed);
    return resumed.id;
  });

  registerStudioCommand(context, log, CommandIds.downloadAdapter, 'Download Adapter', async (arg?: unknown) => {
    const run = await runFromArgument(service, arg, 'Download Adapter', (r) => r.state === 'succeeded');
    if (!run) return undefined;
    const folder = await downloadAdapter(service, run);
    const reveal = 'Reveal';
    void vscode.window.showInformationMessage(`Adapter of ${run.id} downloaded to ${folder}`, reveal).then((c) => {
      if (c) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(folder));
    });
    return folder;
  });

  registerStudioCommand(context, log, CommandIds.serveAdapterForEval, 'Serve Adapter for Eval', async (arg?: unknown) => {
    const run = await runFromArgument(service, arg, 'Serve Adapter for Eval', (r) => r.state === 'succeeded');
    if (!run) return undefined;
    open(run);
    return run.id;
  });

  registerStudioCommand(context, log, CommandIds.refreshTrainingRuns, 'Refresh Training Runs', async () => {
    await service.monitor.attachAll();
    service.refresh();
  });

  registerStudioCommand(context, log, CommandIds.findTrainingRunsOnHost, 'Find Training Runs on Host', async () => {
    const profiles = service.profiles();
    const pick = await vscode.window.showQuickPick(profiles.map((p) => p.name), { title: 'Find Training Runs on Host: which host', ignoreFocusOut: true });
    if (!pick) return 0;
    const { runs, problems } = await service.launcher.discoverRemoteRuns(service.profile(pick));
    for (const p of problems) log.warn(p);
    let added = 0;
    for (const r of runs) {
      if (await service.store.get(r.id)) continue;
      // a run recorded elsewhere is re-read from the start of its metrics on this machine
      await service.store.save({ ...r, host: pick, metricsOffset: 0 });
      service.monitor.watch({ ...r, host: pick });
      added += 1;
    }
    service.refresh();
    void vscode.window.showInformationMessage(`${pick}: ${runs.length} run(s) found, ${added} new in the list.`);
    return added;
  });

  registerStudioCommand(context, log, CommandIds.forgetTrainingRun, 'Remove Training Run from List', async (arg?: unknown) => {
    const run = await runFromArgument(service, arg, 'Remove Training Run from List', (r) => finalRunStates.includes(r.state));
    if (!run) return;
    await service.store.remove(run.id);
    service.refresh();
  });

  return service;
}

/** Exports a curated trajectory file into the run's local folder, then launches on the export. */
async function* launchFromCurated(service: TrainingService, spec: LaunchSpec, exportOptions: CuratedExportOptions, signal: AbortSignal): AsyncGenerator<LaunchEvent> {
  yield { kind: 'progress', message: `Exporting the accepted trajectories of ${path.basename(exportOptions.trajectoryFile)} (${exportOptions.compatibility} profile)` };
  const { manifest } = await exportCuratedFile(exportOptions);
  yield { kind: 'progress', message: `Exported ${manifest.examples} examples, snapshot ${manifest.snapshot.slice(0, 19)}…; ${manifest.skipped.length} left out` };
  signal.throwIfAborted();
  yield* service.launcher.launch(spec, signal);
}

async function* mapLaunch(events: AsyncIterable<LaunchEvent>): AsyncGenerator<{ message?: string; fraction?: number; event: LaunchEvent }> {
  for await (const event of events) {
    if (event.kind === 'progress') yield { message: event.message, fraction: event.fraction, event };
    else if (event.kind === 'check') yield { message: 'Environment and data check passed', event };
    else yield { message: `Started ${event.run.id}`, fraction: 1, event };
  }
}
