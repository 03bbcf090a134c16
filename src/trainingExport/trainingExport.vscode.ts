import * as path from 'node:path';
import * as vscode from 'vscode';
import { userPromptFolders } from '../agent/promptProfiles.vscode';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { readSetting } from '../platform/settings';
import { type Compatibility } from '../trajectory/compatibility';
import { describeLeak, type LeakageQuestion } from '../trajectory/leakageCheck';
import { exportTrainingData, manifestPathFor, type ExportManifest, type SftFormat, writeManifest } from '../trajectory/sftExport';
import { tokenStatistics } from '../trajectory/tokenMask';
import { loadChosenTokenizer } from '../trajectory/tokenizerFolder';
import { type TrajectoryEditorApi } from '../trajectoryEditor/trajectoryEditor.vscode';
import { parseCommandArgs } from '../platform/commandArgs';
import { type ExportForTrainingArgs, exportForTrainingArgsSchema, shippedTokenizer, trainingPreviewArgsSchema } from './exportArgs';
import { checkLeakage, exportedConversations, leakageManifestEntry, readBenchmarkQuestions, readTrajectoryFiles, selectionOfRule, type SelectionRule, trainingPromptsOfProfile } from './trainingExport';
import { TrainingPreviewPanel } from './trainingPreview.vscode';

const exportTitle = 'Export for Training';
const previewTitle = 'Show Training-Text Preview';

/** What the export command returns (tests and other commands read it). */
export interface ExportForTrainingResult {
  out: string;
  manifest: string;
  examples: number;
  trajectoryIds: string[];
  skipped: ExportManifest['skipped'];
  /** Trajectory ids left out because their question leaks into a benchmark. */
  leftOutLeaks: string[];
  /** The notification's text. */
  message: string;
}

function isTrajectoryPath(p: string): boolean {
  return p.endsWith('.jsonl');
}

/** Trajectory file paths from what VS Code passes a command: a Uri (editor title), tree nodes (the Trajectories view), or lists of them. */
function pathsFromInvocation(args: readonly unknown[]): string[] | undefined {
  const out: string[] = [];
  const take = (v: unknown): void => {
    if (v instanceof vscode.Uri) out.push(v.fsPath);
    else if (typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'file' && typeof (v as { path?: unknown }).path === 'string') out.push((v as { path: string }).path);
  };
  // The view passes (clicked node, selected nodes); the selection, when there is one, includes the clicked node.
  const [first, second] = args;
  if (Array.isArray(second) && second.length) second.forEach(take);
  else take(first);
  return out.length ? [...new Set(out)] : undefined;
}

/** The trajectory file of the active tab, if it is one. */
function activeTrajectoryFile(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && uri.scheme === 'file' && isTrajectoryPath(uri.fsPath) ? uri.fsPath : undefined;
}

async function pickTrajectoryFiles(many: boolean): Promise<string[] | undefined> {
  const found = await vscode.workspace.findFiles('**/*.traj.jsonl', '**/node_modules/**', 500);
  if (found.length === 0) {
    const chosen = await vscode.window.showOpenDialog({ canSelectMany: many, filters: { Trajectories: ['jsonl'] }, title: 'Trajectory files' });
    return chosen?.map((u) => u.fsPath);
  }
  const items = found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u }));
  if (many) {
    const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: `${exportTitle}: trajectory files`, ignoreFocusOut: true });
    return picked?.length ? picked.map((p) => p.uri.fsPath) : undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: `${previewTitle}: trajectory file`, ignoreFocusOut: true });
  return picked ? [picked.uri.fsPath] : undefined;
}

interface Pick<T> extends vscode.QuickPickItem {
  value: T;
}

async function pickOne<T>(step: string, items: Pick<T>[]): Promise<T | undefined> {
  return (await vscode.window.showQuickPick(items, { title: `${exportTitle}: ${step}`, ignoreFocusOut: true }))?.value;
}

/** The tokenizer folder chosen last in this window, offered again (after the shipped one) next time. */
let lastTokenizerFolder: string | undefined;

/**
 * The tokenizer step: the shipped Qwen2.5 one, or a folder with the student's tokenizer, loaded and checked here
 * so a folder the mask cannot use is refused (with the file and why) before the rest of the dialogs; the step is
 * asked again after a refusal.
 */
async function askTokenizer(): Promise<string | undefined> {
  for (;;) {
    const items: Pick<'shipped' | 'folder' | 'last'>[] = [
      { label: 'Qwen2.5', description: 'shipped with the studio', detail: 'The Qwen2.5 chat template and tokenizer (offline).', value: 'shipped' },
      { label: 'A folder with the student’s tokenizer…', detail: 'tokenizer.json and tokenizer_config.json, as in a Hugging Face model folder; its chat template must be ChatML (<|im_start|>…<|im_end|>).', value: 'folder' },
    ];
    if (lastTokenizerFolder) items.splice(1, 0, { label: 'The student’s tokenizer used last', description: lastTokenizerFolder, value: 'last' });
    const choice = await pickOne('tokenizer for token statistics (4/7)', items);
    if (choice === undefined) return undefined;
    if (choice === 'shipped') return shippedTokenizer;
    let folder = lastTokenizerFolder;
    if (choice === 'folder' || !folder) {
      const chosen = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        title: 'Folder with the student’s tokenizer (tokenizer.json, tokenizer_config.json)',
        openLabel: 'Use Tokenizer',
        ...(lastTokenizerFolder ? { defaultUri: vscode.Uri.file(lastTokenizerFolder) } : {}),
      });
      folder = chosen?.[0]?.fsPath;
      if (!folder) continue;
    }
    try {
      const chosenFolder = folder;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Loading the student’s tokenizer' }, () => loadChosenTokenizer(chosenFolder));
      lastTokenizerFolder = folder;
      return folder;
    } catch (err) {
      void vscode.window.showErrorMessage(`${exportTitle}: cannot use this tokenizer: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The dialogs, in the order a person decides: what to take, how to write it, what to check, where to put it. */
async function askExportArgs(files: string[]): Promise<ExportForTrainingArgs | undefined> {
  const selection = await pickOne<SelectionRule>('which trajectories (1/7)', [
    { label: 'Accepted, and unreviewed ones that pass the filter', description: 'default', detail: 'Unreviewed trajectories the generation filter kept and that have no stale step; your acceptance overrides the filter.', value: 'accepted-and-passing' },
    { label: 'Accepted only', detail: 'Only trajectories a person accepted in the editor.', value: 'accepted' },
  ]);
  if (!selection) return undefined;
  const format = await pickOne<SftFormat>('format (2/7)', [
    { label: 'OpenAI / TRL messages', description: 'openai', detail: 'messages with weight 0|1 on assistant turns', value: 'openai' },
    { label: 'Axolotl', description: 'axolotl', detail: 'messages with a train flag on every turn', value: 'axolotl' },
    { label: 'ShareGPT', description: 'sharegpt', detail: 'LLaMA-Factory; trajectories with excluded steps are left out (it cannot mark them)', value: 'sharegpt' },
  ]);
  if (!format) return undefined;
  const setting = readSetting('compatibility');
  const profiles: Pick<Compatibility>[] = [
    { label: 'Studio', description: setting === 'studio' ? 'from settings' : '', detail: 'Loss on the content and <|im_end|> of each trained reply', value: 'studio' },
    { label: 'Reference (the paper’s)', description: setting === 'reference' ? 'from settings' : '', detail: 'Also the newlines around each trained reply, and the whole fallback conversation', value: 'reference' },
  ];
  const compatibility = await pickOne('compatibility profile (3/7)', setting === 'reference' ? [profiles[1], profiles[0]] : profiles);
  if (!compatibility) return undefined;
  const tokenizer = await askTokenizer();
  if (!tokenizer) return undefined;
  const maxText = await vscode.window.showInputBox({
    title: `${exportTitle}: the trainer's max length in tokens (5/7)`,
    value: '10240',
    ignoreFocusOut: true,
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) > 0 ? undefined : 'a whole number of tokens, more than 0'),
  });
  if (maxText === undefined) return undefined;
  const check = await pickOne<'none' | 'leave-out' | 'report'>('leakage check against benchmarks (6/7)', [
    { label: 'No leakage check', value: 'none' },
    { label: 'Check benchmark files and leave leaking questions out', description: 'recommended', value: 'leave-out' },
    { label: 'Check benchmark files and only report leaks', value: 'report' },
  ]);
  if (!check) return undefined;
  let benchmarks: string[] = [];
  if (check !== 'none') {
    const chosen = await vscode.window.showOpenDialog({ canSelectMany: true, title: 'Benchmark question files', openLabel: 'Check Against', filters: { 'Question sets and trajectories': ['json', 'jsonl', 'csv'] } });
    if (!chosen?.length) return undefined;
    benchmarks = chosen.map((u) => u.fsPath);
  }
  const first = files[0];
  const suggested = path.join(path.dirname(first), `${path.basename(first).replace(/(\.traj)?\.jsonl$/, '')}.${format}.train.jsonl`);
  const out = await vscode.window.showSaveDialog({ title: `${exportTitle}: training file (7/7)`, defaultUri: vscode.Uri.file(suggested), filters: { 'JSON Lines': ['jsonl'] } });
  if (!out) return undefined;
  return parseCommandArgs(exportForTrainingArgsSchema, { files, out: out.fsPath, selection, format, compatibility, tokenizer, maxLength: Number(maxText.trim()), benchmarks, leaveOutLeaks: check === 'leave-out' }, exportTitle);
}

function summarize(manifest: ExportManifest, args: ExportForTrainingArgs, compatibility: Compatibility, leftOutLeaks: number, leaks: number): string {
  const parts = [`Exported ${manifest.examples} examples (${args.format}, ${compatibility} profile) to ${path.basename(args.out)}.`];
  const leakNote = leftOutLeaks ? `, ${leftOutLeaks} of them because the question leaks into a benchmark` : '';
  if (manifest.skipped.length) parts.push(`Left out ${manifest.skipped.length} trajectories${leakNote} (reasons in the manifest).`);
  if (!leftOutLeaks && leaks) parts.push(`${leaks} questions leak into a benchmark and were kept.`);
  return parts.join(' ');
}

async function runExport(services: StudioServices, args: ExportForTrainingArgs, token: vscode.CancellationToken | undefined): Promise<ExportForTrainingResult> {
  const abort = new AbortController();
  const cancel = token?.onCancellationRequested(() => abort.abort());
  try {
    const signal = abort.signal;
    const compatibility = args.compatibility ?? readSetting('compatibility');
    const selection = selectionOfRule(args.selection);
    const { prompt, fallbackPrompt } = await trainingPromptsOfProfile(args.promptProfile, userPromptFolders());
    // Loaded before anything is written: a tokenizer folder that cannot be used stops the export.
    const tokenizer = await loadChosenTokenizer(args.tokenizer);
    const read = await readTrajectoryFiles(args.files, signal);
    for (const p of read.problems) services.log.warn(`${exportTitle}: skipped an invalid record: ${p}`);
    const questions: LeakageQuestion[] = [];
    for (const b of args.benchmarks) {
      const bench = await readBenchmarkQuestions(b, signal);
      for (const p of bench.problems) services.log.warn(`${exportTitle}: benchmark ${p}`);
      questions.push(...bench.questions);
    }
    const leakage = args.benchmarks.length ? checkLeakage(read.trajectories, selection, questions, { leaveOut: args.leaveOutLeaks }) : undefined;
    for (const m of leakage?.matches ?? []) services.log.info(`${exportTitle}: trajectory ${m.trainingId} leaks: ${describeLeak(m)}`);
    const manifest = await exportTrainingData(read.trajectories, args.out, {
      format: args.format,
      prompt,
      compatibility,
      fallbackPrompt,
      ...selection,
      ...(leakage ? { withhold: leakage.withhold } : {}),
      sources: args.files.map((f) => vscode.workspace.asRelativePath(f)),
      signal,
    });
    const stats = tokenStatistics(tokenizer.tokenizer, exportedConversations(read.trajectories, manifest, { prompt, fallbackPrompt, compatibility, format: args.format }), args.maxLength, signal, compatibility);
    const extra: Record<string, unknown> = {
      selection: args.selection,
      tokenizer: tokenizer.record,
      tokens: stats,
      invalidRecords: read.problems,
    };
    if (leakage) extra.leakage = leakageManifestEntry(args.benchmarks, leakage, args.leaveOutLeaks);
    await writeManifest(args.out, { ...manifest, extra });
    const leftOutLeaks = args.leaveOutLeaks && leakage ? [...leakage.withhold.keys()] : [];
    const message = summarize(manifest, args, compatibility, leftOutLeaks.length, leakage?.matches.length ?? 0);
    return { out: args.out, manifest: manifestPathFor(args.out), examples: manifest.examples, trajectoryIds: manifest.trajectoryIds, skipped: manifest.skipped, leftOutLeaks, message };
  } finally {
    cancel?.dispose();
  }
}

/** Registers **Export for Training…** and **Show Training-Text Preview**. Neither runs code, so both work in untrusted workspaces. */
export function registerTrainingExport(services: StudioServices, editor: TrajectoryEditorApi): void {
  const { context, log } = services;

  const showPreview = (args: unknown): Promise<unknown> => {
    const parsed = parseCommandArgs(trainingPreviewArgsSchema, args, previewTitle);
    return TrainingPreviewPanel.show(services, editor, { ...parsed, compatibility: parsed.compatibility ?? readSetting('compatibility') });
  };

  registerStudioCommand(context, log, CommandIds.exportForTraining, exportTitle, async (...raw: unknown[]) => {
    const [first] = raw;
    let args: ExportForTrainingArgs;
    const fromUi = pathsFromInvocation(raw);
    if (first !== undefined && !fromUi && !(first instanceof vscode.Uri)) {
      args = parseCommandArgs(exportForTrainingArgsSchema, first, exportTitle);
    } else {
      const files = fromUi ?? (activeTrajectoryFile() ? [activeTrajectoryFile() as string] : await pickTrajectoryFiles(true));
      if (!files?.length) return undefined;
      const asked = await askExportArgs(files);
      if (!asked) return undefined;
      args = asked;
    }
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `${exportTitle}…`, cancellable: true }, (_progress, token) => runExport(services, args, token));
    log.info(`${exportTitle}: ${result.message} Manifest: ${result.manifest}`);
    const previewChoice = 'Open Training-Text Preview';
    const launchChoice = 'Launch Training with this export';
    void vscode.window.showInformationMessage(result.message, previewChoice, launchChoice).then(async (choice) => {
      try {
        if (choice === previewChoice) await showPreview({ file: args.files[0], selection: args.selection, format: args.format, maxLength: args.maxLength, promptProfile: args.promptProfile, tokenizer: args.tokenizer, ...(args.compatibility ? { compatibility: args.compatibility } : {}) });
        if (choice === launchChoice) await vscode.commands.executeCommand(CommandIds.launchTraining, { dataFile: args.out });
      } catch (err) {
        void vscode.window.showErrorMessage(`${choice ?? exportTitle} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    return result;
  });

  registerStudioCommand(context, log, CommandIds.showTrainingPreview, previewTitle, async (...raw: unknown[]) => {
    const [first] = raw;
    if (first !== undefined && !pathsFromInvocation(raw)) return showPreview(first);
    const file = pathsFromInvocation(raw)?.[0] ?? editor.provider.active?.document.uri.fsPath ?? activeTrajectoryFile() ?? (await pickTrajectoryFiles(false))?.[0];
    if (!file) return undefined;
    const active = editor.provider.active;
    const slot = active && active.document.uri.fsPath === file && active.selectedSlot !== null ? active.selectedSlot : undefined;
    return showPreview({ file, ...(slot !== undefined ? { slot } : {}) });
  });
}
