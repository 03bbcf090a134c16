import * as vscode from 'vscode';
import { CommandIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { WebviewChannel } from '../platform/webviewChannel';
import { renderWebviewHtml, studioWebviewOptions } from '../platform/webviewHtml';
import { type RunSnapshot, type TrainingRunProtocol, trainingRunProtocol } from '../protocol/trainingRun';
import { eventsFrom } from './metricsLog';
import { type MonitorUpdate } from './runMonitor';
import { type RunRecord, finalRunStates } from './runRecord';
import { foldMetrics, type RunViewData, runSummary } from './runView';
import { type TrainingService, cancelRun, downloadAdapter, serveRun } from './trainingService.vscode';

export const trainingRunViewType = 'trajectoryStudio.trainingRun';

/**
 * The view of one training run: live loss / learning-rate chart, throughput, ETA, GPU inventory, log
 * tail, and cancel / resume / download / serve. It reads the whole metrics history when it opens and then
 * shows what the background monitor receives, so closing and reopening it loses nothing.
 */
export class TrainingRunPanel {
  private static readonly open = new Map<string, TrainingRunPanel>();
  private readonly channel: WebviewChannel<TrainingRunProtocol>;
  private readonly disposables: vscode.Disposable[] = [];
  private connectionProblem: string | undefined;
  /** The metrics file's byte offset before which the page has every event (from its last snapshot and the updates since). */
  private shownOffset = 0;
  /** Set while a snapshot is read: the monitor's updates wait there to be folded into it. */
  private heldUpdates: MonitorUpdate[] | undefined;

  static show(services: StudioServices, service: TrainingService, run: RunRecord): void {
    const existing = TrainingRunPanel.open.get(run.id);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(trainingRunViewType, `Training ${run.id}`, vscode.ViewColumn.Active, studioWebviewOptions(services.context.extensionUri));
    TrainingRunPanel.open.set(run.id, new TrainingRunPanel(panel, services, service, run.id));
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly services: StudioServices,
    private readonly service: TrainingService,
    private readonly runId: string,
  ) {
    panel.iconPath = new vscode.ThemeIcon('graph-line');
    this.channel = new WebviewChannel(
      panel.webview,
      trainingRunProtocol,
      {
        snapshot: () => this.snapshot(),
        refreshLog: async () => ({ log: await this.service.launcher.logTail(await this.run()) }),
        cancel: async () => {
          const message = await cancelRun(this.service, await this.run());
          // The monitor stops watching a cancelled run, so its last status may never arrive: show the
          // recorded final state now.
          this.pushRunState(await this.run());
          return { message };
        },
        resume: async () => {
          const resumed = await this.service.launcher.resume(await this.run());
          this.service.monitor.watch(resumed);
          this.service.refresh();
          return { message: `Resumed from the latest checkpoint (resume ${resumed.resumes}).` };
        },
        download: async () => ({ folder: await downloadAdapter(this.service, await this.run()) }),
        serve: async ({ moduleName, remotePort, localPort, start }) => serveRun(this.service, await this.run(), { moduleName, remotePort, localPort }, start),
        evaluate: async ({ baseUrl, model }) => {
          const run = await this.run();
          await vscode.commands.executeCommand(CommandIds.evaluateAdapter, { adapter: run.downloadedTo ?? `${run.host}:${run.remoteDir}/adapter`, baseUrls: [baseUrl], model });
          return { started: true };
        },
      },
      {},
      (m) => services.log.warn(`training run view: ${m}`),
    );
    const unsubscribe = service.monitor.onUpdate((u) => this.onUpdate(u));
    this.disposables.push({ dispose: unsubscribe }, this.channel);
    panel.webview.html = renderWebviewHtml({ webview: panel.webview, extensionUri: services.context.extensionUri, bundle: 'trainingRun', title: `Training ${runId}`, initialState: { runId } });
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  private async run(): Promise<RunRecord> {
    const run = await this.service.store.get(this.runId);
    if (!run) throw new Error(`training run ${this.runId} is no longer recorded`);
    return run;
  }

  /**
   * The page's whole view of the run. The monitor's updates that arrive while it is read are held and folded
   * in (from where the read stopped), so the page sees each event once: an update sent beside the snapshot
   * would either repeat events the snapshot holds or be replaced by it.
   */
  private async snapshot(): Promise<RunSnapshot> {
    const held: MonitorUpdate[] = [];
    this.heldUpdates = held;
    const data = foldMetrics([]);
    let log = '';
    // the whole history, in chunks, from the start of the file
    let offset = 0;
    try {
      const run = await this.run();
      for (;;) {
        const chunk = await this.service.launcher.readMetrics(run, offset);
        foldMetrics(chunk.events, data);
        for (const p of chunk.problems) data.events.push(`warning: ${p}`);
        const moved = chunk.nextOffset !== offset;
        offset = chunk.nextOffset;
        // Up to the end of the file as it was when read; the monitor's updates bring what the trainer writes next.
        if (!moved || chunk.atEnd) break;
      }
      log = await this.service.launcher.logTail(run);
      this.connectionProblem = undefined;
    } catch (err) {
      this.connectionProblem = err instanceof Error ? err.message : String(err);
    } finally {
      this.heldUpdates = undefined;
    }
    this.shownOffset = offset;
    for (const update of held) this.foldUpdate(update, data);
    // Read again: a state change held above is in the record by now.
    const run = await this.run();
    if (!finalRunStates.includes(run.state)) this.service.monitor.watch(run);
    return { run: runSummary(run, this.connectionProblem), points: data.points, totalSteps: data.totalSteps, worldSize: data.worldSize, gpus: data.gpus, events: data.events, log };
  }

  /** Tells the page the run's state without new metrics (the chart and counters stay as they are). */
  private pushRunState(run: RunRecord): void {
    this.channel.notify('update', { run: runSummary(run, this.connectionProblem), points: [], events: [], totalSteps: null, worldSize: null });
  }

  /** Adds what an update brings that the page has not seen (events after {@link shownOffset}) to `data`. */
  private foldUpdate(update: MonitorUpdate, data: RunViewData): void {
    this.connectionProblem = update.connectionProblem;
    if (!update.metrics) {
      foldMetrics(update.events, data);
      return;
    }
    foldMetrics(eventsFrom({ events: update.events, eventOffsets: update.metrics.eventOffsets }, this.shownOffset), data);
    // A chunk the page already holds in full brings no new warnings either.
    if (update.metrics.nextOffset > this.shownOffset) for (const p of update.problems) data.events.push(`warning: ${p}`);
    this.shownOffset = Math.max(this.shownOffset, update.metrics.nextOffset);
  }

  private onUpdate(update: MonitorUpdate): void {
    if (update.run.id !== this.runId) return;
    if (this.heldUpdates) {
      this.heldUpdates.push(update);
      return;
    }
    const data = foldMetrics([]);
    this.foldUpdate(update, data);
    const run = update.status ? { ...update.run, state: update.status.state, exitCode: update.status.exitCode } : update.run;
    this.channel.notify('update', {
      run: runSummary(run, this.connectionProblem),
      points: data.points,
      events: data.events,
      totalSteps: data.totalSteps,
      worldSize: data.worldSize,
      ...(data.gpus.length ? { gpus: data.gpus } : {}),
    });
    if (update.status && finalRunStates.includes(update.status.state)) {
      void this.service.launcher.logTail(run).then(
        (log) => this.channel.notify('log', { log }),
        () => undefined,
      );
    }
  }

  private dispose(): void {
    TrainingRunPanel.open.delete(this.runId);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
