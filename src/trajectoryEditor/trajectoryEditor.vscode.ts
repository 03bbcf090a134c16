import * as vscode from 'vscode';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds, CustomEditorIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { onSettingsChanged } from '../platform/settings';
import { ensureTrusted } from '../platform/trust';
import { type EditorAction } from '../protocol/trajectoryEditor';
import { type WebviewChannel } from '../platform/webviewChannel';
import { type TrajectoryEditorProtocol } from '../protocol/trajectoryEditor';
import { type EpisodeStarter, reexecuteStep } from './reexecution';
import { continueWithTeacher } from './teacherContinuation';
import { loadPromptProfile } from '../agent/promptProfiles';
import { describeRetry, ModelEndpoint } from '../llm/modelEndpoint';
import { studioRunEnvironment } from '../runs/runEnvironment.vscode';
import { type TrajectoryEdit } from './trajectoryEdits';
import { type TrajectoryCustomDocument } from './trajectoryDocument.vscode';
import { EditorScoring } from './editorScoring.vscode';
import { answerSentence } from './verdicts';
import { type StepOperations, type TrajectoryEditorPanel, TrajectoryEditorProvider } from './trajectoryEditorProvider.vscode';
import { ReviewCountDecorations } from './reviewDecorations.vscode';
import { TrajectoryTextFileSystem, trajectoryTextScheme } from './trajectoryTextForm.vscode';
import { stepView } from './trajectoryView';
import { watchTrajectoryFiles } from '../trajectoryFiles/trajectoryFileWatcher.vscode';

/** What the extension-host tests and other features reach through `activate()`'s API. */
export interface TrajectoryEditorApi {
  readonly provider: TrajectoryEditorProvider;
  /** Opens `uri` in the trajectory editor and shows record `slot` (0-based) at step `stepIndex`. */
  openAt(uri: vscode.Uri, slot: number, stepIndex?: number): Promise<void>;
  /** The open document of a file, if a trajectory editor shows it. */
  documentFor(uri: vscode.Uri): TrajectoryCustomDocument | undefined;
  /** Applies an edit as the editor page does: on the undo stack, marking the document dirty. */
  applyEdit(uri: vscode.Uri, slot: number, edit: TrajectoryEdit): Promise<boolean>;
}

/** Runs of re-execution in progress, by document and record, so they can be cancelled. */
class RunRegistry {
  private readonly runs = new Map<string, AbortController>();
  key(document: TrajectoryCustomDocument, slot: number): string {
    return `${document.uri.toString()}#${slot}`;
  }
  start(document: TrajectoryCustomDocument, slot: number): AbortController | undefined {
    const key = this.key(document, slot);
    if (this.runs.has(key)) return undefined;
    const abort = new AbortController();
    this.runs.set(key, abort);
    return abort;
  }
  finish(document: TrajectoryCustomDocument, slot: number): void {
    this.runs.delete(this.key(document, slot));
  }
  cancel(document: TrajectoryCustomDocument, slot: number): boolean {
    const abort = this.runs.get(this.key(document, slot));
    abort?.abort();
    return abort !== undefined;
  }
  cancelAll(): void {
    for (const a of this.runs.values()) a.abort();
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Registers the trajectory editor: the custom editor for trajectory files, the `.traj` text form
 * provider, and its commands (the page handles its single-key shortcuts itself: see `editorKeys`).
 */
export function registerTrajectoryEditor(services: StudioServices): TrajectoryEditorApi {
  const { context, log } = services;
  const runs = new RunRegistry();
  const scoring = new EditorScoring(services);

  const operations: StepOperations = {
    canExecute: () => vscode.workspace.isTrusted,
    openTextForm: async (document, slot) => {
      const t = await document.model.readTrajectory(slot);
      const uri = textForms.uriFor(document, slot, t.id);
      const text = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(text, { viewColumn: vscode.ViewColumn.Beside, preview: false });
      return true;
    },
    reexecute: (panel, slot, stepIndex) => startReexecution(panel, slot, stepIndex),
    continueWithTeacher: (panel, slot, stepIndex) => startContinuation(panel, slot, stepIndex),
    cancelRun: (panel, slot) => runs.cancel(panel.document, slot),
  };

  /**
   * Runs the work of a re-execution or continuation in the background; a failure (or a cancel) is logged and
   * told to the page, and the slot is free again at the end.
   */
  function inBackground(panel: TrajectoryEditorPanel, slot: number, signal: AbortSignal, texts: { cancelled: string; failed: string }, work: () => Promise<void>): void {
    const document = panel.document;
    void (async () => {
      try {
        await work();
      } catch (err) {
        const message = signal.aborted ? texts.cancelled : `${texts.failed}: ${describeError(err)}`;
        log.warn(`${document.fileName} #${slot + 1}: ${message}`);
        panel.channel.notify('run', { slot, kind: 'failed', message });
      } finally {
        runs.finish(document, slot);
      }
    })();
  }

  async function startReexecution(panel: TrajectoryEditorPanel, slot: number, stepIndex: number): Promise<boolean> {
    if (!ensureTrusted('Re-executing a step')) return false;
    const document = panel.document;
    const abort = runs.start(document, slot);
    if (!abort) {
      void vscode.window.showInformationMessage(`Trajectory ${slot + 1} is already being re-executed.`);
      return false;
    }
    const channel: WebviewChannel<TrajectoryEditorProtocol> = panel.channel;
    const t = await document.model.readTrajectory(slot);
    channel.notify('run', { slot, kind: 'started', message: `Rebuilding the Python state (steps 1–${stepIndex}) and running step ${stepIndex + 1}…` });
    inBackground(panel, slot, abort.signal, { cancelled: 'Re-execution cancelled.', failed: 'Re-execution failed' }, async () => {
        const updated = await reexecuteStep(
          t,
          stepIndex,
          episodeStarter,
          abort.signal,
          (event) => {
            if (event.kind === 'rebuilding') channel.notify('run', { slot, kind: 'started', message: `Rebuilding state: step ${event.stepIndex + 1} of ${event.of}` });
            if (event.kind === 'running') channel.notify('run', { slot, kind: 'started', message: `Running step ${stepIndex + 1}…` });
          },
        );
        const applied = await document.applyEdit(slot, { kind: 'replace', trajectory: updated, label: `Re-execute step ${stepIndex + 1}` });
        if (applied) provider.recordEdit(document, applied);
        const step = updated.steps[stepIndex];
        channel.notify('run', { slot, kind: 'finished', message: `Step ${stepIndex + 1} re-executed; later steps are marked stale. ${answerSentence(applied?.after ?? updated)}`, step: stepView(step, stepIndex) });
    });
    return true;
  }

  /** Starts a sandbox episode with the user's settings and the trajectory's profile; `web_search` answers from the trajectory's record. */
  const episodeStarter: EpisodeStarter = async (webSearch, signal, compatibility) => {
    const sandbox = await import('../sandbox/index');
    return sandbox.startEpisode({ ...studioRunEnvironment(services).sandbox, webSearch, signal, compatibility, onWarning: (warning) => log.warn(`sandbox: ${warning}`) });
  };

  async function startContinuation(panel: TrajectoryEditorPanel, slot: number, stepIndex: number): Promise<boolean> {
    if (!ensureTrusted('Continuing with the teacher')) return false;
    const document = panel.document;
    const t = await document.model.readTrajectory(slot);
    const kept = t.steps.slice(0, stepIndex + 1);
    const notCurrent = kept.findIndex((s) => s.stale === true || s.observation === undefined);
    if (notCurrent >= 0) {
      void vscode.window.showWarningMessage(`Step ${notCurrent + 1} has no up-to-date observation. Re-execute it first, then let the teacher continue.`);
      return false;
    }
    const abort = runs.start(document, slot);
    if (!abort) {
      void vscode.window.showInformationMessage(`Trajectory ${slot + 1} is already running.`);
      return false;
    }
    const channel = panel.channel;
    const environment = studioRunEnvironment(services);
    const profile = environment.endpoint('teacher');
    channel.notify('run', { slot, kind: 'truncated', stepIndex, message: `The teacher (${profile.model}) continues after step ${stepIndex + 1}…` });
    inBackground(panel, slot, abort.signal, { cancelled: 'Continuation cancelled; the trajectory is unchanged.', failed: 'Continuation failed' }, async () => {
        const endpoint = new ModelEndpoint(profile, { apiKeys: environment.apiKeys, onRetry: (r) => log.warn(`teacher: ${describeRetry(r)}`) });
        const prompt = await loadPromptProfile('teacher', environment.promptFolders);
        const updated = await continueWithTeacher(t, stepIndex, { endpoint, prompt, startEpisode: episodeStarter }, abort.signal, (event) => {
          if (event.kind === 'text') channel.notify('run', { slot, kind: 'text', stepIndex: event.stepIndex, text: event.text, message: `The teacher is writing step ${event.stepIndex + 1}…` });
          else if (event.kind === 'step') channel.notify('run', { slot, kind: 'step', step: event.step, message: `Step ${event.step.index + 1} done; running on…` });
        });
        const applied = await document.applyEdit(slot, { kind: 'replace', trajectory: updated, label: `Continue with the teacher from step ${stepIndex + 1}` });
        if (applied) provider.recordEdit(document, applied);
        channel.notify('run', { slot, kind: 'finished', message: `The teacher finished: ${updated.steps.length} steps. ${answerSentence(applied?.after ?? updated)} The dropped steps are kept in the history; undo restores them.` });
    });
    return true;
  }

  // Every replaced record (re-execution, continuation, text form) is judged again before it becomes an edit.
  const provider = new TrajectoryEditorProvider(context.extensionUri, log, operations, (before, after) => scoring.rejudge(before, after));
  const textForms = new TrajectoryTextFileSystem(provider);
  const decorations = new ReviewCountDecorations(provider, log);
  const trajectoryFiles = watchTrajectoryFiles();
  const editorOptions = { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: false };
  context.subscriptions.push(
    provider,
    textForms,
    vscode.window.registerCustomEditorProvider(CustomEditorIds.trajectoryEditor, provider, editorOptions),
    vscode.window.registerCustomEditorProvider(CustomEditorIds.trajectoryEditorAnyJsonl, provider, editorOptions),
    vscode.workspace.registerFileSystemProvider(trajectoryTextScheme, textForms, { isCaseSensitive: true }),
    decorations,
    trajectoryFiles,
    vscode.window.registerFileDecorationProvider(decorations),
    provider.onDidChangeCounts((uri) => decorations.refresh(uri)),
    trajectoryFiles.onDidChange((uri) => decorations.refresh(uri)),
    trajectoryFiles.onDidCreate((uri) => decorations.refresh(uri)),
    onSettingsChanged(['review.reasonTaxonomy', 'review.advanceAfterVerdict'], () => provider.refreshAll()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => provider.refreshAll()),
    { dispose: () => runs.cancelAll() },
    scoring,
  );

  const actionCommands: [keyof typeof CommandIds, EditorAction, string][] = [
    ['editorNextStep', 'nextStep', 'Next Step'],
    ['editorPreviousStep', 'previousStep', 'Previous Step'],
    ['editorNextTrajectory', 'nextTrajectory', 'Next Trajectory'],
    ['editorPreviousTrajectory', 'previousTrajectory', 'Previous Trajectory'],
    ['editorNextUnreviewed', 'nextUnreviewed', 'Next Unreviewed Trajectory'],
    ['editorAccept', 'accept', 'Accept Trajectory'],
    ['editorReject', 'reject', 'Reject Trajectory'],
    ['editorEditStep', 'editStep', 'Edit Step'],
    ['editorToggleExcludeStep', 'toggleExcludeStep', 'Exclude Step from Training'],
    ['editorFocusSearch', 'focusSearch', 'Search Trajectories'],
  ];
  for (const [id, action, title] of actionCommands) {
    registerStudioCommand(context, log, CommandIds[id], title, () => provider.active?.act(action));
  }

  const selected = (): { panel: TrajectoryEditorPanel; slot: number; stepIndex: number } | undefined => {
    const panel = provider.active;
    if (!panel || panel.selectedSlot === null) {
      void vscode.window.showInformationMessage('Select a trajectory in the trajectory editor first.');
      return undefined;
    }
    return { panel, slot: panel.selectedSlot, stepIndex: panel.selectedStep ?? 0 };
  };
  registerStudioCommand(context, log, CommandIds.editorOpenTextForm, 'Open Trajectory as Text', async () => {
    const s = selected();
    if (s) await operations.openTextForm(s.panel.document, s.slot);
  });
  registerStudioCommand(context, log, CommandIds.editorReexecuteStep, 'Re-execute from This Step', async () => {
    const s = selected();
    if (s) await startReexecution(s.panel, s.slot, s.stepIndex);
  });
  registerStudioCommand(context, log, CommandIds.editorContinueWithTeacher, 'Continue with the Teacher', async () => {
    const s = selected();
    if (s) await operations.continueWithTeacher(s.panel, s.slot, s.stepIndex);
  });

  const openAt = async (uri: vscode.Uri, slot: number, stepIndex?: number): Promise<void> => {
    provider.revealWhenOpen(uri, slot, stepIndex);
    const viewType = uri.path.endsWith('.traj.jsonl') ? CustomEditorIds.trajectoryEditor : CustomEditorIds.trajectoryEditorAnyJsonl;
    await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
  };
  registerStudioCommand(context, log, CommandIds.openTrajectoryAt, 'Open Trajectory in the Editor', async (...args: unknown[]) => {
    const [uri, slot, stepIndex] = args;
    if (!(uri instanceof vscode.Uri) || typeof slot !== 'number') throw new Error('expects a file URI and a record number');
    await openAt(uri, slot, typeof stepIndex === 'number' ? stepIndex : undefined);
  });

  const documentFor = (uri: vscode.Uri) => provider.panelsFor(uri)[0]?.document;
  const applyEdit = async (uri: vscode.Uri, slot: number, edit: TrajectoryEdit): Promise<boolean> => {
    const document = documentFor(uri);
    if (!document) throw new Error(`${uri.fsPath} is not open in the trajectory editor`);
    const applied = await document.applyEdit(slot, edit);
    if (applied) provider.recordEdit(document, applied);
    return applied !== undefined;
  };
  return { provider, openAt, documentFor, applyEdit };
}
