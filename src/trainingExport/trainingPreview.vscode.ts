import * as path from 'node:path';
import * as vscode from 'vscode';
import { userPromptFolders } from '../agent/promptProfiles.vscode';
import { type StudioServices } from '../platform/services';
import { WebviewChannel } from '../platform/webviewChannel';
import { renderWebviewHtml, studioWebviewOptions } from '../platform/webviewHtml';
import { type PreviewData, type TrainingPreviewProtocol, trainingPreviewProtocol } from '../protocol/trainingPreview';
import { type Compatibility } from '../trajectory/compatibility';
import { type Trajectory } from '../trajectory/schema';
import { loadChosenTokenizer, shippedTokenizer } from '../trajectory/tokenizerFolder';
import { openTrajectoryFile } from '../trajectory/trajectoryFile';
import { describeLossMask } from '../trajectory/trainingProfile';
import { type TrajectoryEditorApi } from '../trajectoryEditor/trajectoryEditor.vscode';
import { type TrainingPreviewArgs } from './exportArgs';
import { selectionOfRule, trainingPromptsOfProfile } from './trainingExport';
import { exportTokenStatistics, previewTrajectory } from './trainingPreview';

/** The preview's arguments with the profile and tokenizer decided. */
type PanelArgs = TrainingPreviewArgs & { compatibility: Compatibility; tokenizer: string };

export const trainingPreviewViewType = 'trajectoryStudio.trainingPreview';

/** The trajectories of a file by record number: the trajectory editor's (unsaved edits included) when it has the file open. */
async function trajectoriesOf(file: string, editor: TrajectoryEditorApi): Promise<{ slot: number; trajectory: Trajectory }[]> {
  const document = editor.documentFor(vscode.Uri.file(file));
  const out: { slot: number; trajectory: Trajectory }[] = [];
  if (document) {
    for (let slot = 0; slot < document.model.slotCount; slot++) {
      try {
        out.push({ slot, trajectory: await document.model.readTrajectory(slot) });
      } catch {
        // An invalid line is not a trajectory; the editor shows its problem, the preview skips it.
      }
    }
    return out;
  }
  const f = await openTrajectoryFile(file);
  try {
    for await (const r of f.records()) if (r.ok) out.push({ slot: r.index, trajectory: r.trajectory });
  } finally {
    await f.close();
  }
  return out;
}

/**
 * The training-text preview beside the editor: one trajectory's training examples token by token with the
 * tokens that carry loss marked, and token statistics over everything an export of the file would take. One
 * panel; running the command again shows the new file or trajectory in it.
 */
export class TrainingPreviewPanel {
  private static current: TrainingPreviewPanel | undefined;
  private readonly channel: WebviewChannel<TrainingPreviewProtocol>;
  private readonly disposables: vscode.Disposable[] = [];

  static async show(services: StudioServices, editor: TrajectoryEditorApi, given: TrainingPreviewArgs & { compatibility: Compatibility }): Promise<PreviewData> {
    // Without a tokenizer, the open panel keeps its own (an export's, when the export opened it).
    const args: PanelArgs = { ...given, tokenizer: given.tokenizer ?? TrainingPreviewPanel.current?.args.tokenizer ?? shippedTokenizer };
    if (TrainingPreviewPanel.current) {
      const current = TrainingPreviewPanel.current;
      current.args = args;
      const data = await current.compute(args.slot ?? 0, null);
      current.channel.notify('show', data);
      current.panel.reveal(vscode.ViewColumn.Beside, true);
      return data;
    }
    const panel = vscode.window.createWebviewPanel(trainingPreviewViewType, 'Training-Text Preview', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, studioWebviewOptions(services.context.extensionUri));
    const created = new TrainingPreviewPanel(panel, services, editor, args);
    TrainingPreviewPanel.current = created;
    return created.compute(args.slot ?? null, null);
  }

  private slot = 0;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly services: StudioServices,
    private readonly editor: TrajectoryEditorApi,
    private args: PanelArgs,
  ) {
    panel.iconPath = new vscode.ThemeIcon('symbol-key');
    this.channel = new WebviewChannel(panel.webview, trainingPreviewProtocol, { load: ({ slot, compatibility }) => this.compute(slot, compatibility) }, {}, (m) => services.log.warn(`training-text preview: ${m}`));
    this.disposables.push(this.channel);
    panel.webview.html = renderWebviewHtml({ webview: panel.webview, extensionUri: services.context.extensionUri, bundle: 'trainingPreview', title: 'Training-Text Preview', initialState: { slot: args.slot ?? null } });
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  private async compute(slot: number | null, compatibility: Compatibility | null): Promise<PreviewData> {
    if (compatibility) this.args = { ...this.args, compatibility };
    if (slot !== null) this.slot = slot;
    const { file, format, maxLength, promptProfile } = this.args;
    const profile = this.args.compatibility;
    const selection = selectionOfRule(this.args.selection);
    const [records, prompts, loaded] = await Promise.all([trajectoriesOf(file, this.editor), trainingPromptsOfProfile(promptProfile, userPromptFolders()), loadChosenTokenizer(this.args.tokenizer)]);
    const { tokenizer } = loaded;
    if (records.length === 0) throw new Error(`${file}: no valid trajectory to preview`);
    const chosen = records.find((r) => r.slot === this.slot) ?? records[0];
    this.slot = chosen.slot;
    const preview = previewTrajectory(tokenizer, chosen.trajectory, { prompts, compatibility: profile, selection });
    const statistics = exportTokenStatistics(
      tokenizer,
      records.map((r) => r.trajectory),
      { prompts, compatibility: profile, selection, format, maxLength },
    );
    this.panel.title = `Training Text: ${path.basename(file)}`;
    return {
      file: path.basename(file),
      choices: records.map((r) => ({ slot: r.slot, label: `${r.slot + 1}. ${r.trajectory.task.question.replace(/\s+/g, ' ').slice(0, 80)}` })),
      slot: chosen.slot,
      trajectoryId: preview.trajectoryId,
      question: preview.question,
      compatibility: profile,
      lossMask: describeLossMask(profile),
      tokenizer: loaded.description,
      ...(preview.exclusion !== undefined ? { exclusion: preview.exclusion } : {}),
      examples: preview.examples,
      statistics,
    };
  }

  private dispose(): void {
    if (TrainingPreviewPanel.current === this) TrainingPreviewPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
  }
}
