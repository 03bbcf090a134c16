import * as vscode from 'vscode';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { WebviewChannel } from '../platform/webviewChannel';
import { renderWebviewHtml, studioWebviewOptions } from '../platform/webviewHtml';
import { type LiveRunProtocol, liveRunProtocol } from '../protocol/liveRun';
import { type LiveRunTracker } from './liveRunTracker';

export const liveRunViewType = 'trajectoryStudio.liveRun';

/** What the view's buttons do for one run; the glue of each kind of run supplies them. */
export interface LiveRunActions {
  /** Stops the run (questions in flight are not written and stay pending). */
  cancel(): void;
  /** Starts a run of the same output that runs the failed questions again; says what happened. */
  retryFailed(): Promise<string>;
  /** Opens a question's trajectory in the editor; false when it is not in the output (yet). */
  openQuestion(key: string): Promise<boolean>;
}

/** One run as the view shows it. Runs of the same output (`id`: file or run folder) share one view. */
export interface LiveRunSession {
  id: string;
  tracker: LiveRunTracker;
  actions: LiveRunActions;
}

/** State goes to the page at most this often while a run is busy (the last change is always sent). */
const postIntervalMs = 150;

/**
 * The live view of a teacher generation or evaluation run. The page gets the run's whole state on every
 * change and whenever it (re)starts, so hiding, reloading or opening the view late loses nothing; it stays
 * after the run ends with the summary, and a retry of the same output shows in the same view.
 */
export class LiveRunPanel {
  private static readonly open = new Map<string, LiveRunPanel>();
  private static latest: LiveRunSession | undefined;
  private readonly channel: WebviewChannel<LiveRunProtocol>;
  private readonly disposables: vscode.Disposable[] = [];
  private unsubscribe: () => void = () => undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPost = 0;

  /** Shows a run in its view (created when none is open for its output), without taking the focus. */
  static show(services: StudioServices, session: LiveRunSession): void {
    LiveRunPanel.latest = session;
    const existing = LiveRunPanel.open.get(session.id);
    if (existing) {
      existing.attach(session);
      existing.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      liveRunViewType,
      session.tracker.title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: true },
      studioWebviewOptions(services.context.extensionUri),
    );
    LiveRunPanel.open.set(session.id, new LiveRunPanel(panel, services, session));
  }

  /** Shows the newest run's view again (the status bar item and the command); false when no run was started. */
  static showLatest(services: StudioServices): boolean {
    if (!LiveRunPanel.latest) return false;
    LiveRunPanel.show(services, LiveRunPanel.latest);
    return true;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    services: StudioServices,
    private session: LiveRunSession,
  ) {
    panel.iconPath = new vscode.ThemeIcon('pulse');
    this.channel = new WebviewChannel(
      panel.webview,
      liveRunProtocol,
      {
        snapshot: () => this.session.tracker.state(),
        cancel: () => {
          if (this.session.tracker.ended) return { message: 'The run has already ended.' };
          this.session.actions.cancel();
          this.session.tracker.cancelling();
          return { message: 'Cancelling: questions in flight stop and stay queued for the next run.' };
        },
        retryFailed: async () => {
          if (!this.session.tracker.ended) throw new Error('the run is still going; cancel it or wait for its end first');
          return { message: await this.session.actions.retryFailed() };
        },
        openQuestion: async ({ key }) => ({ opened: await this.session.actions.openQuestion(key) }),
      },
      {},
      (m) => services.log.warn(`live run view: ${m}`),
    );
    // A page that (re)starts gets the current state at once.
    this.channel.onReady(() => this.post());
    this.disposables.push(this.channel);
    panel.webview.html = renderWebviewHtml({
      webview: panel.webview,
      extensionUri: services.context.extensionUri,
      bundle: 'liveRun',
      title: session.tracker.title,
      initialState: { state: session.tracker.state() },
    });
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    this.attach(session);
  }

  private attach(session: LiveRunSession): void {
    this.unsubscribe();
    this.session = session;
    this.panel.title = session.tracker.title;
    this.unsubscribe = session.tracker.onChange(() => this.schedule());
    this.post();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastPost + postIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.post();
    }, wait);
  }

  private post(): void {
    this.lastPost = Date.now();
    this.channel.notify('state', this.session.tracker.state());
  }

  private dispose(): void {
    if (LiveRunPanel.open.get(this.session.id) === this) LiveRunPanel.open.delete(this.session.id);
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Registers the command that shows the newest run's live view (also the status bar items' command). */
export function registerLiveRunView(services: StudioServices): void {
  registerStudioCommand(services.context, services.log, CommandIds.showLiveRun, 'Show Live Run View', () => {
    if (!LiveRunPanel.showLatest(services)) void vscode.window.showInformationMessage('No teacher generation or evaluation run has been started in this window yet.');
  });
}
