import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { readEndpointProfile, secretApiKeys } from '../llm/endpoints.vscode';
import { describeRetry, ModelEndpoint } from '../llm/modelEndpoint';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { showMissingSetting } from '../platform/settings';
import { type RubricResult, type Trajectory } from '../trajectory/schema';
import { type TrajectoryCustomDocument } from '../trajectoryEditor/trajectoryDocument.vscode';
import { type TrajectoryEditorApi } from '../trajectoryEditor/trajectoryEditor.vscode';
import { StoreTrajectorySource } from '../trajectoryEditor/storeSource';
import { loadRubric, type Rubric } from './rubric';
import { applyRubricResults, judgeTrajectoryFile, judgeWithRubric, type RubricFileOutcome, type RubricJudgeOptions } from './rubricJudge';

/** Rubric files the quick pick offers. */
const rubricGlob = '**/*.rubric.json';

/**
 * The command's argument: a file URI (Explorer), a Trajectories view item (it carries `resourceUri`), or,
 * for scripts and tests, `{ file, rubric }` paths that skip the questions. `{ cancel: true }` is what the
 * status bar's stop button sends.
 */
// `z.instanceof` needs a public constructor, which `vscode.Uri` does not have.
const uriSchema = z.custom<vscode.Uri>((value) => value instanceof vscode.Uri, 'expected a file URI');
const commandArgsSchema = z
  .union([
    uriSchema.transform((uri) => ({ file: uri.fsPath })),
    z.looseObject({ resourceUri: uriSchema }).transform((item) => ({ file: item.resourceUri.fsPath })),
    z.strictObject({ file: z.string().min(1).optional(), rubric: z.string().min(1).optional(), cancel: z.literal(true).optional() }),
  ])
  .optional();
type CommandArgs = { file?: string; rubric?: string; cancel?: true };

async function pickRubricFile(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(rubricGlob, '**/node_modules/**', 500);
  files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const browse = { label: '$(folder-opened) Choose a File…', detail: 'A rubric JSON file anywhere on disk', file: undefined };
  const items = [...files.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(path.dirname(uri.fsPath)), file: uri.fsPath })), browse];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Judge Trajectories with Rubric',
    placeHolder: files.length ? 'Which rubric?' : `No ${rubricGlob} file in this workspace; choose one on disk`,
  });
  if (!picked) return undefined;
  if (picked.file) return picked.file;
  const chosen = await vscode.window.showOpenDialog({ title: 'Rubric file', filters: { 'Rubric (JSON)': ['json'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
  return chosen?.[0]?.fsPath;
}

async function pickTrajectoryFile(editor: TrajectoryEditorApi): Promise<string | undefined> {
  const active = editor.provider.active?.document.uri;
  if (active) return active.fsPath;
  const chosen = await vscode.window.showOpenDialog({ title: 'Trajectory file to judge', filters: { Trajectories: ['jsonl'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
  return chosen?.[0]?.fsPath;
}

/** The valid records of an open document as the user sees them (unsaved edits included), with their slots. */
async function documentRecords(document: TrajectoryCustomDocument): Promise<{ slots: number[]; trajectories: Trajectory[]; invalid: number }> {
  const slots: number[] = [];
  const trajectories: Trajectory[] = [];
  for (let slot = 0; slot < document.model.slotCount; slot++) {
    const content = await document.model.read(slot);
    if (!content.valid) continue;
    slots.push(slot);
    trajectories.push(content.trajectory);
  }
  return { slots, trajectories, invalid: document.model.slotCount - slots.length };
}

/**
 * A file open in the trajectory editor is judged as the user sees it and the results go in as edits (on
 * the undo stack, saved with the file), so they never race the editor's own save. Records edited while the
 * judge ran keep their new content and get no result.
 */
async function judgeOpenDocument(document: TrajectoryCustomDocument, editor: TrajectoryEditorApi, rubric: Rubric, options: RubricJudgeOptions): Promise<RubricFileOutcome> {
  if (!(document.model.fileSource instanceof StoreTrajectorySource)) {
    throw new Error(`${document.fileName} is still being read by the trajectory editor; judge it once the whole file is listed`);
  }
  const read = await documentRecords(document);
  const outcome = await judgeWithRubric(read.trajectories, rubric, options);
  const results = outcome.changed.map((i) => outcome.judged[i].review.rubric).filter((r): r is RubricResult => r !== undefined);
  const now = await documentRecords(document);
  const applied = applyRubricResults(now.trajectories, results);
  for (const k of applied.changed) {
    await editor.applyEdit(document.uri, now.slots[k], { kind: 'replace', trajectory: applied.trajectories[k], label: `Rubric judge (${rubric.name})` });
  }
  return { ...outcome, written: applied.changed.length, invalidLines: now.invalid };
}

function summaryOf(outcome: RubricFileOutcome, fileName: string, inEditor: boolean): string {
  const parts = [`${outcome.changed.length - outcome.errors} judged`];
  if (outcome.cacheHits) parts.push(`${outcome.cacheHits} already judged`);
  if (outcome.errors) parts.push(`${outcome.errors} judge error${outcome.errors === 1 ? '' : 's'} (flagged rubric:judge-error; run again to retry)`);
  if (outcome.notJudged) parts.push(`${outcome.notJudged} not judged (${outcome.stoppedBy ?? 'cancelled'})`);
  if (outcome.changed.length > outcome.written) parts.push(`${outcome.changed.length - outcome.written} changed while being judged, so left without a result`);
  const where = inEditor ? 'Save the file to keep the results.' : `Results written to ${fileName}.`;
  return `Rubric judge ${outcome.stoppedBy ? 'stopped' : outcome.cancelled ? 'cancelled' : 'finished'} on ${fileName}: ${parts.join(', ')}.${outcome.written ? ` ${where}` : ''}`;
}

/**
 * Registers "Judge Trajectories with Rubric…": a judge model checks every trajectory of a file against a
 * rubric file's criteria; findings are stored in each record's `review.rubric` and show as triage flags.
 * Progress shows in the status bar, with a stop button beside it.
 */
export function registerRubricJudge(services: StudioServices, editor: TrajectoryEditorApi): void {
  const { context, log, secrets } = services;
  let running: { fileName: string; abort: AbortController } | undefined;
  // Window progress has no cancel button of its own, so a status bar button sends the cancel.
  const stop = vscode.window.createStatusBarItem('trajectoryStudio.rubricJudge', vscode.StatusBarAlignment.Left, 49);
  stop.name = 'Trajectory Studio: rubric judge';
  stop.text = '$(debug-stop)';
  stop.tooltip = 'Cancel the rubric judge (finished results are kept)';
  stop.command = { title: 'Cancel the Rubric Judge', command: CommandIds.judgeWithRubric, arguments: [{ cancel: true }] };
  context.subscriptions.push(stop, { dispose: () => running?.abort.abort(new Error('the extension is shutting down')) });

  registerStudioCommand(context, log, CommandIds.judgeWithRubric, 'Judge Trajectories with Rubric', async (...args: unknown[]) => {
    const parsed = commandArgsSchema.safeParse(args[0]);
    if (!parsed.success) throw new Error(`invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    const given: CommandArgs = parsed.data ?? {};
    if (given.cancel) {
      running?.abort.abort(new Error('cancelled by the user'));
      return undefined;
    }
    if (running) {
      const current = running;
      const choice = await vscode.window.showInformationMessage(`The rubric judge is already running on ${current.fileName}.`, 'Cancel It');
      if (choice) current.abort.abort(new Error('cancelled by the user'));
      return undefined;
    }

    const file = given.file ?? (await pickTrajectoryFile(editor));
    if (!file) return undefined;
    const fileName = path.basename(file);
    const rubricFile = given.rubric ?? (await pickRubricFile());
    if (!rubricFile) return undefined;
    // A RubricError's message says file:line and the JSON path of each problem.
    const rubric = await loadRubric(rubricFile);

    const profile = readEndpointProfile('judge');
    if (profile.baseUrls.length === 0) {
      await showMissingSetting(context.globalStorageUri, 'The judge endpoint has no base URL, so there is no model to judge with.', 'endpoints.judge', ['endpoints.judge.baseUrls']);
      return undefined;
    }
    const uri = vscode.Uri.file(file);
    const document = editor.documentFor(uri);
    if (document?.readOnly) throw new Error(`${fileName} cannot be changed: ${document.readOnly}`);
    // A text editor's unsaved changes would be overwritten by our write, or would overwrite the results.
    if (vscode.workspace.textDocuments.some((d) => d.uri.fsPath === uri.fsPath && d.isDirty)) {
      throw new Error(`${fileName} has unsaved changes in a text editor; save or revert them, then judge again`);
    }

    const endpoint = new ModelEndpoint(profile, {
      apiKeys: secretApiKeys(secrets),
      onRetry: (r) => log.warn(`rubric judge: ${describeRetry(r)}`),
    });
    const abort = new AbortController();
    running = { fileName, abort };
    stop.show();
    log.info(`rubric judge: ${fileName} with rubric "${rubric.name}" (${rubric.source}), model ${profile.model}`);
    try {
      const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Rubric judge: ${fileName}` }, (progress) => {
        const options: RubricJudgeOptions = {
          judge: endpoint,
          model: profile.model,
          concurrency: profile.concurrency,
          signal: abort.signal,
          onProgress: (done, total) => progress.report({ message: `${done}/${total}` }),
        };
        return document ? judgeOpenDocument(document, editor, rubric, options) : judgeTrajectoryFile(file, rubric, options);
      });
      const summary = summaryOf(outcome, fileName, document !== undefined);
      log.info(`rubric judge: ${summary}`);
      if (outcome.stoppedBy) {
        void vscode.window.showErrorMessage(summary, 'Test Connection', 'Show Log').then(async (choice) => {
          if (choice === 'Test Connection') await vscode.commands.executeCommand(CommandIds.testEndpointConnection, 'judge');
          else if (choice) log.show();
        });
      } else if (outcome.errors) void vscode.window.showWarningMessage(summary, 'Show Log').then((choice) => choice && log.show());
      else void vscode.window.showInformationMessage(summary);
      return outcome;
    } finally {
      running = undefined;
      stop.hide();
    }
  });
}
