/**
 * Every command id, view id and setting key the extension uses, in one typed place. A unit test checks
 * this module against package.json's `contributes`, so a typo or a forgotten contribution fails the build.
 * This file imports nothing from `vscode` so that test runs under plain node.
 */
export const CommandIds = {
  openWalkthrough: 'trajectoryStudio.openWalkthrough',
  showLog: 'trajectoryStudio.showLog',
  openSettings: 'trajectoryStudio.openSettings',
  refreshTrajectories: 'trajectoryStudio.refreshTrajectories',
  showEnvironment: 'trajectoryStudio.showEnvironment',
  testEndpointConnection: 'trajectoryStudio.testEndpointConnection',
  setEndpointApiKey: 'trajectoryStudio.setEndpointApiKey',
  editorNextStep: 'trajectoryStudio.editor.nextStep',
  editorPreviousStep: 'trajectoryStudio.editor.previousStep',
  editorNextTrajectory: 'trajectoryStudio.editor.nextTrajectory',
  editorPreviousTrajectory: 'trajectoryStudio.editor.previousTrajectory',
  editorNextUnreviewed: 'trajectoryStudio.editor.nextUnreviewed',
  editorAccept: 'trajectoryStudio.editor.accept',
  editorReject: 'trajectoryStudio.editor.reject',
  editorEditStep: 'trajectoryStudio.editor.editStep',
  editorToggleExcludeStep: 'trajectoryStudio.editor.toggleExcludeStep',
  editorFocusSearch: 'trajectoryStudio.editor.focusSearch',
  editorOpenTextForm: 'trajectoryStudio.editor.openTextForm',
  editorReexecuteStep: 'trajectoryStudio.editor.reexecuteStep',
  editorContinueWithTeacher: 'trajectoryStudio.editor.continueWithTeacher',
  openTrajectoryAt: 'trajectoryStudio.openTrajectoryAt',
  generateTeacherTrajectories: 'trajectoryStudio.generateTeacherTrajectories',
  retryFailedTeacherQuestions: 'trajectoryStudio.retryFailedTeacherQuestions',
  generateFromExampleQuestions: 'trajectoryStudio.generateFromExampleQuestions',
  showLiveRun: 'trajectoryStudio.showLiveRun',
  buildRetrievalIndex: 'trajectoryStudio.buildRetrievalIndex',
  searchRetrievalIndex: 'trajectoryStudio.searchRetrievalIndex',
  deleteRetrievalIndex: 'trajectoryStudio.deleteRetrievalIndex',
  refreshRetrievalIndexes: 'trajectoryStudio.refreshRetrievalIndexes',
  runEvaluation: 'trajectoryStudio.runEvaluation',
  quickEval: 'trajectoryStudio.quickEval',
  openEvalDashboard: 'trajectoryStudio.openEvalDashboard',
  compareEvalRuns: 'trajectoryStudio.compareEvalRuns',
  evaluateAdapter: 'trajectoryStudio.evaluateAdapter',
  launchTraining: 'trajectoryStudio.launchTraining',
  openTrainingRun: 'trajectoryStudio.openTrainingRun',
  cancelTrainingRun: 'trajectoryStudio.cancelTrainingRun',
  resumeTrainingRun: 'trajectoryStudio.resumeTrainingRun',
  downloadAdapter: 'trajectoryStudio.downloadAdapter',
  serveAdapterForEval: 'trajectoryStudio.serveAdapterForEval',
  refreshTrainingRuns: 'trajectoryStudio.refreshTrainingRuns',
  findTrainingRunsOnHost: 'trajectoryStudio.findTrainingRunsOnHost',
  forgetTrainingRun: 'trajectoryStudio.forgetTrainingRun',
  refreshLineage: 'trajectoryStudio.refreshLineage',
  judgeWithRubric: 'trajectoryStudio.judgeWithRubric',
  exportForTraining: 'trajectoryStudio.exportForTraining',
  showTrainingPreview: 'trajectoryStudio.showTrainingPreview',
  importData: 'trajectoryStudio.importData',
} as const;
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

/** Commands that run code, call a model or start a job: disabled in untrusted workspaces. */
export const commandsNeedingTrust: readonly CommandId[] = [
  CommandIds.runEvaluation,
  CommandIds.quickEval,
  CommandIds.evaluateAdapter,
  CommandIds.testEndpointConnection,
  CommandIds.editorReexecuteStep,
  CommandIds.editorContinueWithTeacher,
  CommandIds.generateTeacherTrajectories,
  CommandIds.retryFailedTeacherQuestions,
  CommandIds.generateFromExampleQuestions,
  CommandIds.buildRetrievalIndex,
  CommandIds.launchTraining,
  CommandIds.resumeTrainingRun,
  CommandIds.serveAdapterForEval,
  CommandIds.findTrainingRunsOnHost,
  CommandIds.judgeWithRubric,
];

/** The trajectory editor's custom editor view types: default for `*.traj.jsonl`, "Open With…" for any `.jsonl`. */
export const CustomEditorIds = {
  trajectoryEditor: 'trajectoryStudio.trajectoryEditor',
  trajectoryEditorAnyJsonl: 'trajectoryStudio.trajectoryEditor.jsonl',
} as const;

export const ViewIds = {
  container: 'trajectoryStudio',
  trajectories: 'trajectoryStudio.trajectories',
  retrievalIndexes: 'trajectoryStudio.retrievalIndexes',
  trainingRuns: 'trajectoryStudio.trainingRuns',
  lineage: 'trajectoryStudio.lineage',
} as const;

export const WalkthroughId = 'trajectory-studio.trajectory-studio#trajectoryStudio.gettingStarted';

/** Setting keys (under `trajectoryStudio.`) and the TypeScript type of each value. */
export interface SettingTypes {
  'python.interpreter': string;
  'sandbox.isolation': 'auto' | 'bwrap' | 'rlimits' | 'refuse-without-bwrap';
  'sandbox.stepTimeoutSeconds': number;
  'sandbox.memoryLimitMb': number;
  'endpoints.teacher.baseUrls': string[];
  'endpoints.teacher.model': string;
  'endpoints.student.baseUrls': string[];
  'endpoints.student.model': string;
  'endpoints.judge.baseUrls': string[];
  'endpoints.judge.model': string;
  'endpoints.teacher.flavor': 'vllm' | 'openai';
  'endpoints.teacher.concurrency': number;
  'endpoints.teacher.timeoutSeconds': number;
  'endpoints.student.flavor': 'vllm' | 'openai';
  'endpoints.student.concurrency': number;
  'endpoints.student.timeoutSeconds': number;
  'endpoints.judge.flavor': 'vllm' | 'openai';
  'endpoints.judge.concurrency': number;
  'endpoints.judge.timeoutSeconds': number;
  'agent.promptsFolder': string;
  'retrieval.indexFolder': string;
  'training.hosts': TrainingHostSetting[];
  'training.pollSeconds': number;
  'training.cancelGraceSeconds': number;
  'training.adapterFolder': string;
  'review.reasonTaxonomy': string[];
  'review.advanceAfterVerdict': boolean;
  'triage.confirmAcceptFlagged': boolean;
  compatibility: 'studio' | 'reference';
  'scoring.judgePrompt': string;
}
export type SettingKey = keyof SettingTypes;
export const settingsSection = 'trajectoryStudio';

export interface TrainingHostSetting {
  name: string;
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  workFolder?: string;
  activate?: string;
  scheduler?: 'direct' | 'slurm';
  python?: string;
  launcher?: 'python' | 'accelerate' | 'torchrun';
  processesPerNode?: number;
  slurm?: { partition?: string; gpusPerNode?: number; nodes?: number; time?: string; account?: string; extraArgs?: string[] };
}

/** Every setting key, so the package.json test can compare both directions. */
export const settingKeys: readonly SettingKey[] = [
  'python.interpreter',
  'sandbox.isolation',
  'sandbox.stepTimeoutSeconds',
  'sandbox.memoryLimitMb',
  'endpoints.teacher.baseUrls',
  'endpoints.teacher.model',
  'endpoints.student.baseUrls',
  'endpoints.student.model',
  'endpoints.judge.baseUrls',
  'endpoints.judge.model',
  'endpoints.teacher.flavor',
  'endpoints.teacher.concurrency',
  'endpoints.teacher.timeoutSeconds',
  'endpoints.student.flavor',
  'endpoints.student.concurrency',
  'endpoints.student.timeoutSeconds',
  'endpoints.judge.flavor',
  'endpoints.judge.concurrency',
  'endpoints.judge.timeoutSeconds',
  'agent.promptsFolder',
  'retrieval.indexFolder',
  'training.hosts',
  'training.pollSeconds',
  'training.cancelGraceSeconds',
  'training.adapterFolder',
  'review.reasonTaxonomy',
  'review.advanceAfterVerdict',
  'triage.confirmAcceptFlagged',
  'compatibility',
  'scoring.judgePrompt',
];

/**
 * Settings contributed with `"scope": "machine"`: they say where code runs or data goes on this machine, so
 * VS Code reads them from User settings in a local window, from Remote settings in a remote window, and
 * never from workspace settings. A unit test checks this list against package.json.
 */
export const machineScopedSettingKeys: readonly SettingKey[] = [
  'python.interpreter',
  'sandbox.isolation',
  'endpoints.teacher.baseUrls',
  'endpoints.student.baseUrls',
  'endpoints.judge.baseUrls',
  'endpoints.teacher.flavor',
  'endpoints.student.flavor',
  'endpoints.judge.flavor',
  'agent.promptsFolder',
  'retrieval.indexFolder',
  'training.hosts',
  'training.adapterFolder',
  'scoring.judgePrompt',
];

/** SecretStorage keys: API keys per endpoint profile, SSH key passphrases per host profile. */
export type SecretKey = `apiKey.${'teacher' | 'student' | 'judge' | 'embeddings'}` | `sshPassphrase.${string}`;
