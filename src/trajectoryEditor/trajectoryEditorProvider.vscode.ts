import * as vscode from 'vscode';
import { readSetting, writeSetting } from '../platform/settings';
import { WebviewChannel } from '../platform/webviewChannel';
import { renderWebviewHtml, studioWebviewOptions } from '../platform/webviewHtml';
import { type EditorAction, type EditorState, type EditRequest, type TrajectoryEditorProtocol, trajectoryEditorProtocol } from '../protocol/trajectoryEditor';
import { SameTaskFinder } from './sameTaskFiles.vscode';
import { type JudgeReplacement, TrajectoryCustomDocument } from './trajectoryDocument.vscode';
import { acceptAndStopAsking, acceptAnyway, acceptQuestion, flagRulesInUse } from './trajectoryTriage';

/** The operations on a selected step that need VS Code or the sandbox; provided by the feature's register call. */
export interface StepOperations {
  openTextForm(document: TrajectoryCustomDocument, slot: number): Promise<boolean>;
  reexecute(panel: TrajectoryEditorPanel, slot: number, stepIndex: number): Promise<boolean>;
  continueWithTeacher(panel: TrajectoryEditorPanel, slot: number, stepIndex: number): Promise<boolean>;
  cancelRun(panel: TrajectoryEditorPanel, slot: number): boolean;
  /** Whether re-execution and continuation are available here (trusted workspace, parts installed). */
  canExecute(): boolean;
}

/** Setting that turns off the question asked before a flagged trajectory is accepted. */
const confirmAcceptSetting = 'triage.confirmAcceptFlagged';

/**
 * Asks once before a trajectory with open triage flags is accepted (a modal, so the decision is made
 * before anything changes). True when the edit may go ahead: it is not an accept, the trajectory is
 * clean or already accepted, the user turned the question off, or answered Accept. "Don't ask again"
 * writes the setting in the user's settings; Cancel leaves the status as it was.
 */
async function confirmAccept(document: TrajectoryCustomDocument, slot: number, edit: EditRequest): Promise<boolean> {
  if (edit.kind !== 'setReview' || edit.status !== 'accepted') return true;
  if (!readSetting(confirmAcceptSetting)) return true;
  if (document.readOnly !== undefined || (await document.model.readTrajectory(slot)).review.status === 'accepted') return true;
  const question = acceptQuestion(await document.session.flagsOf(slot));
  if (!question) return true;
  const answer = await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, acceptAnyway, acceptAndStopAsking);
  if (answer === acceptAndStopAsking) await writeSetting(confirmAcceptSetting, false);
  return answer !== undefined;
}

/** One editor tab showing a document: its webview, its channel, and what the page has selected. */
export class TrajectoryEditorPanel implements vscode.Disposable {
  readonly channel: WebviewChannel<TrajectoryEditorProtocol>;
  selectedSlot: number | null = null;
  selectedStep: number | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly document: TrajectoryCustomDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly provider: TrajectoryEditorProvider,
    operations: StepOperations,
    log: vscode.LogOutputChannel,
  ) {
    const session = document.session;
    const sameTaskFinder = new SameTaskFinder(document.uri);
    this.channel = new WebviewChannel(
      panel.webview,
      trajectoryEditorProtocol,
      {
        rows: ({ query, offset, limit }) => session.rows(query, offset, limit),
        positionOf: ({ query, slot }) => session.positionOf(query, slot),
        findByPrefix: ({ query, from, prefix }) => session.findByPrefix(query, from, prefix),
        open: ({ slot }) => session.open(slot),
        fullText: ({ slot, stepIndex, field }) => session.fullText(slot, stepIndex, field),
        edit: async ({ slot, edit }) => {
          if (!(await confirmAccept(document, slot, edit))) return { changed: false };
          const applied = await document.applyEdit(slot, edit);
          if (applied) provider.recordEdit(document, applied);
          return { changed: applied !== undefined };
        },
        nextUnreviewed: ({ query, after, fromQueueStart }) => session.nextUnreviewed(query, after, fromQueueStart),
        sameTask: ({ slot }) => session.sameTask(slot),
        compare: ({ left, right }) => session.compare(left, right),
        sameTaskInFiles: async ({ slot }) => {
          const t = await document.model.readTrajectory(slot);
          return sameTaskFinder.search({ taskId: t.task.id, question: t.task.question });
        },
        compareAcross: async ({ left, ref }) => {
          const other = await sameTaskFinder.read(ref);
          return { ...(await session.compareWithOther(left, other.trajectory, other.record)), rightSource: other.source };
        },
        openTextForm: async ({ slot }) => ({ opened: await operations.openTextForm(document, slot) }),
        reexecute: async ({ slot, stepIndex }) => ({ started: await operations.reexecute(this, slot, stepIndex) }),
        continueWithTeacher: async ({ slot, stepIndex }) => ({ started: await operations.continueWithTeacher(this, slot, stepIndex) }),
        cancelRun: ({ slot }) => ({ cancelled: operations.cancelRun(this, slot) }),
      },
      {
        selection: ({ slot, stepIndex }) => {
          this.selectedSlot = slot;
          this.selectedStep = stepIndex;
        },
      },
      (message) => log.warn(`trajectory editor (${document.fileName}): ${message}`),
    );
    this.channel.onReady(() => this.channel.notify('state', provider.stateOf(document)));
    this.disposables.push(
      this.channel,
      document.onDidChangeState(() => this.channel.notify('state', provider.stateOf(document))),
      document.onDidChangeRecords((slots) => this.channel.notify('changed', { slots })),
      panel.onDidChangeViewState(() => {
        if (panel.active) provider.setActive(this);
      }),
    );
  }

  /** Sends a command's action to the page (the page handles its single keys itself). */
  act(action: EditorAction): void {
    this.channel.notify('action', { action });
  }

  reveal(slot: number, stepIndex?: number): void {
    this.channel.notify('reveal', stepIndex === undefined ? { slot } : { slot, stepIndex });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The custom editor provider for trajectory files. VS Code owns the undo stack, dirty state, save,
 * revert and hot exit; each is forwarded to the document, whose model holds the edits.
 */
export class TrajectoryEditorProvider implements vscode.CustomEditorProvider<TrajectoryCustomDocument> {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<TrajectoryCustomDocument>>();
  readonly onDidChangeCustomDocument = this.changeEmitter.event;
  private readonly panels = new Set<TrajectoryEditorPanel>();
  private readonly countsEmitter = new vscode.EventEmitter<vscode.Uri>();
  /** Fires when the review counts of an open file may have changed (edits, undo, the index growing). */
  readonly onDidChangeCounts = this.countsEmitter.event;
  private activePanel: TrajectoryEditorPanel | undefined;
  /** Reveals asked for before the editor's page was up (openTrajectoryAt). */
  private readonly pendingReveals = new Map<string, { slot: number; stepIndex?: number }>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly operations: StepOperations,
    private readonly judgeReplacement?: JudgeReplacement,
  ) {}

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext, _cancellation?: vscode.CancellationToken): Promise<TrajectoryCustomDocument> {
    return TrajectoryCustomDocument.open(uri, openContext.backupId, this.log, this.judgeReplacement);
  }

  resolveCustomEditor(document: TrajectoryCustomDocument, webviewPanel: vscode.WebviewPanel): void {
    webviewPanel.webview.options = studioWebviewOptions(this.extensionUri);
    const panel = new TrajectoryEditorPanel(document, webviewPanel, this, this.operations, this.log);
    this.panels.add(panel);
    if (webviewPanel.active) this.activePanel = panel;
    webviewPanel.webview.html = renderWebviewHtml({
      webview: webviewPanel.webview,
      extensionUri: this.extensionUri,
      bundle: 'trajectoryEditor',
      title: document.fileName,
      initialState: { fileName: document.fileName },
    });
    const pending = this.pendingReveals.get(document.uri.toString());
    if (pending) {
      this.pendingReveals.delete(document.uri.toString());
      panel.reveal(pending.slot, pending.stepIndex);
    }
    const countsChanged = [
      document.onDidChangeRecords(() => this.countsEmitter.fire(document.uri)),
      document.onDidChangeState(() => this.countsEmitter.fire(document.uri)),
    ];
    webviewPanel.onDidDispose(() => {
      for (const d of countsChanged) d.dispose();
      this.countsEmitter.fire(document.uri);
      this.panels.delete(panel);
      if (this.activePanel === panel) this.activePanel = undefined;
      panel.dispose();
    });
  }

  /** Puts an applied edit on VS Code's undo stack (which also marks the document dirty). */
  recordEdit(document: TrajectoryCustomDocument, applied: Parameters<TrajectoryCustomDocument['model']['undo']>[0]): void {
    this.log.debug(`${document.fileName}: ${applied.label} (record ${applied.slot + 1})`);
    this.changeEmitter.fire({
      document,
      label: applied.label,
      undo: () => {
        this.log.debug(`${document.fileName}: undo ${applied.label} (record ${applied.slot + 1})`);
        document.model.undo(applied);
      },
      redo: () => {
        this.log.debug(`${document.fileName}: redo ${applied.label} (record ${applied.slot + 1})`);
        document.model.redo(applied);
      },
    });
  }

  stateOf(document: TrajectoryCustomDocument): EditorState {
    const index = document.session.listIndex;
    const taxonomy = readSetting('review.reasonTaxonomy');
    const state: EditorState = {
      fileName: document.fileName,
      slotCount: document.model.slotCount,
      scanned: index.scanned,
      complete: index.complete,
      readOnly: document.readOnly !== undefined,
      canExecute: this.operations.canExecute(),
      reasonTaxonomy: [...new Set([...taxonomy, ...index.tagsInUse()])],
      counts: index.countsByStatus(),
      filterCounts: index.countsByFilter(),
      tagsInUse: index.tagsInUse(),
      flagRules: flagRulesInUse(index.flagCounts()),
      advanceAfterVerdict: readSetting('review.advanceAfterVerdict'),
    };
    if (document.banner) state.banner = document.banner;
    return state;
  }

  setActive(panel: TrajectoryEditorPanel): void {
    this.activePanel = panel;
  }

  /** The editor tab the user is working in, if a trajectory editor is active. */
  get active(): TrajectoryEditorPanel | undefined {
    return this.activePanel?.panel.active ? this.activePanel : [...this.panels].find((p) => p.panel.active);
  }

  /** Open editor tabs for a file. */
  panelsFor(uri: vscode.Uri): TrajectoryEditorPanel[] {
    return [...this.panels].filter((p) => p.document.uri.toString() === uri.toString());
  }

  /** Shows record `slot` (and step) of a file once its editor is open. */
  revealWhenOpen(uri: vscode.Uri, slot: number, stepIndex?: number): void {
    const open = this.panelsFor(uri);
    if (open.length) for (const p of open) p.reveal(slot, stepIndex);
    else this.pendingReveals.set(uri.toString(), stepIndex === undefined ? { slot } : { slot, stepIndex });
  }

  async saveCustomDocument(document: TrajectoryCustomDocument, cancellation: vscode.CancellationToken): Promise<void> {
    await document.save(cancellation);
  }

  async saveCustomDocumentAs(document: TrajectoryCustomDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Promise<void> {
    await document.saveAs(destination, cancellation);
  }

  async revertCustomDocument(document: TrajectoryCustomDocument): Promise<void> {
    await document.reload();
  }

  backupCustomDocument(document: TrajectoryCustomDocument, context: vscode.CustomDocumentBackupContext, _cancellation?: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  /** Re-sends the state to every page (e.g. the reason taxonomy setting changed). */
  refreshAll(): void {
    for (const p of this.panels) p.channel.notify('state', this.stateOf(p.document));
  }

  dispose(): void {
    this.changeEmitter.dispose();
    this.countsEmitter.dispose();
  }
}
