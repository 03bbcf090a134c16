import type * as vscode from 'vscode';
import { createStudioLog } from './platform/logging';
import { StudioSecrets } from './platform/secrets';
import { type StudioServices } from './platform/services';
import { registerStudioCommands } from './studio/studio.vscode';
import { registerTrajectoryFilesView, type TrajectoryFilesProvider } from './trajectoryFiles/trajectoryFilesView.vscode';
import { describeMissingSetting, type SettingQuery } from './platform/settings';
import { type SettingKey } from './platform/ids';
import { registerTrajectoryLanguage } from './trajectory/trajectoryLanguage.vscode';
import { registerTrajectoryEditor, type TrajectoryEditorApi } from './trajectoryEditor/trajectoryEditor.vscode';
import { registerTeacherGeneration } from './teacher/teacherGeneration.vscode';
import { registerLiveRunView } from './runs/liveRunPanel.vscode';
import { registerEndpointCommands } from './llm/endpoints.vscode';
import { registerRetrieval } from './retrieval/retrieval.vscode';
import { registerSandboxStatus } from './sandbox/sandbox.vscode';
import { studioVersion } from './environment/runtime';
import { registerEvaluation } from './eval/evaluation.vscode';
import { registerTraining } from './training/training.vscode';
import { registerRubricJudge } from './triage/rubricJudge.vscode';
import { registerTrainingExport } from './trainingExport/trainingExport.vscode';
import { registerImportData } from './dataImport/importData.vscode';

/** What `activate()` returns: used by the extension-host tests, and a stable surface for other extensions. */
export interface StudioApi {
  readonly version: string;
  /** The trajectory editor: open a file at a record, reach open documents (extension-host tests). */
  readonly trajectoryEditor: TrajectoryEditorApi;
  /** The Trajectories view's listing (extension-host tests). */
  readonly trajectoryFiles: TrajectoryFilesProvider;
  /** What a missing setting's message says in this window and which Settings tab its button opens. */
  describeMissingSetting(problem: string, query: SettingQuery, keys: readonly SettingKey[]): ReturnType<typeof describeMissingSetting>;
}

/**
 * Wires the services and lets each feature register itself. No logic here, nothing heavy: LanceDB, ssh2,
 * tokenizers and Python load on first use.
 */
export function activate(context: vscode.ExtensionContext): StudioApi {
  const log = createStudioLog();
  context.subscriptions.push(log);
  const services: StudioServices = { context, log, secrets: new StudioSecrets(context.secrets) };

  registerStudioCommands(services);
  const trajectoryFiles = registerTrajectoryFilesView(services);
  registerTrajectoryLanguage(services);
  const trajectoryEditor = registerTrajectoryEditor(services);
  registerLiveRunView(services);
  registerTeacherGeneration(services);
  registerEndpointCommands(services);
  registerRetrieval(services);
  registerEvaluation(services);
  registerTraining(services);
  registerSandboxStatus(services);
  registerRubricJudge(services, trajectoryEditor);
  registerTrainingExport(services, trajectoryEditor);
  registerImportData(services);

  log.info(`Trajectory Studio ${studioVersion} activated`);
  return {
    version: studioVersion,
    trajectoryEditor,
    trajectoryFiles,
    describeMissingSetting: (problem, query, keys) => describeMissingSetting(context.globalStorageUri, problem, query, keys),
  };
}

export function deactivate(): void {
  // Every resource is a tracked Disposable in context.subscriptions; VS Code disposes them.
}
