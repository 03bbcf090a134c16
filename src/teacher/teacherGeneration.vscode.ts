import { scoringFromSettings } from '../scoring/judgePrompt.vscode';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeRetry } from '../llm/modelEndpoint';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds, CustomEditorIds } from '../platform/ids';
import { runWithProgress } from '../platform/progress';
import { type StudioServices } from '../platform/services';
import { readSetting } from '../platform/settings';
import { readManifest, type TeacherRunConfig, teacherRunConfigSchema, teacherOfEnvironment } from './runConfig';
import { pickRunRetrieval } from '../retrieval/retrieval.vscode';
import { type RunEnvironment, sharedRunServices } from '../runs/runEnvironment';
import { studioRunEnvironment } from '../runs/runEnvironment.vscode';
import { formatTeacherSummary, type TeacherRunSummary } from './runSummary';
import { type TeacherRunEvent, type TeacherRunSnapshot } from './teacherRun';
import { fileExists } from '../runs/runFiles';
import { countJsonlRecords } from '../trajectoryFiles/countLines';
import { describeOutputTarget, existingOutputQuestion } from './outputTarget';
import { LiveRunPanel, type LiveRunSession } from '../runs/liveRunPanel.vscode';
import { LiveRunTracker } from '../runs/liveRunTracker';
import { recordSlotOfTask } from '../runs/liveRunRecords';
import { teacherOutcome, teacherQuestionSeeds } from './liveTeacherRun';
import { formatDuration } from '../environment/durationText';

/** What the generation commands resolve with (for scripts and tests). */
export interface TeacherRunOutcome {
  outputFile: string;
  cancelled: boolean;
  snapshot: TeacherRunSnapshot;
  summary: TeacherRunSummary;
}

function firstWorkspaceFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}


function progressText(s: TeacherRunSnapshot): string {
  return `${s.done}/${s.total} · ${s.correct} correct · ${s.failures} failed · ETA ${formatDuration(s.etaMs, '…')} · ${s.tokensPerSecond.toFixed(0)} tok/s`;
}

/** The notification shows counts and ETA rather than the id of the question that just finished. */
async function* withProgressLines(events: AsyncIterable<TeacherRunEvent>): AsyncGenerator<TeacherRunEvent> {
  for await (const event of events) {
    yield event.type === 'question' ? { ...event, message: progressText(event.snapshot), detail: event.message } as TeacherRunEvent : event;
  }
}

/** Records in an existing output file, or undefined when there is none (a new file). */
async function existingRecords(file: string): Promise<number | undefined> {
  return (await fileExists(file)) ? countJsonlRecords(file) : undefined;
}

/**
 * Step 2: the file to write. An existing file is resumed, never replaced, so it is chosen from a list or an
 * open dialog: a save dialog would ask "replace it?" for a file we are about to append to. A new file comes
 * from a save dialog; if that returns an existing file anyway, one question in our words says it is resumed.
 */
async function pickOutputFile(suggested: string): Promise<string | undefined> {
  const title = 'Teacher generation (2/5): the trajectory file to write';
  const suggestedWords = describeOutputTarget(suggested, await existingRecords(suggested));
  type Choice = vscode.QuickPickItem & { action: 'suggested' | 'new' | 'resume' };
  const items: Choice[] = [
    { ...suggestedWords, action: 'suggested' },
    { label: '$(new-file) New File…', detail: 'Choose a name and folder for a new trajectory file.', action: 'new' },
    { label: '$(folder-opened) Resume Another File…', detail: 'Add to a trajectory file of an earlier run; its answered questions are skipped.', action: 'resume' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  if (!choice) return undefined;
  if (choice.action === 'suggested') return suggested;
  if (choice.action === 'resume') {
    const picked = await vscode.window.showOpenDialog({ title: `${title}: resume`, canSelectMany: false, defaultUri: vscode.Uri.file(path.dirname(suggested)), filters: { Trajectories: ['jsonl'] }, openLabel: 'Resume This File' });
    return picked?.[0]?.fsPath;
  }
  const out = await vscode.window.showSaveDialog({ title: `${title}: a new file`, defaultUri: vscode.Uri.file(suggested), filters: { Trajectories: ['jsonl'] }, saveLabel: 'Write Trajectories Here' });
  if (!out) return undefined;
  const records = await existingRecords(out.fsPath);
  if (records === undefined) return out.fsPath;
  const resume = 'Resume It';
  const answer = await vscode.window.showWarningMessage(existingOutputQuestion(out.fsPath, records), { modal: true }, resume);
  return answer === resume ? out.fsPath : undefined;
}

/** The run settings, asked for step by step (file, output, prefix, retrieval, concurrency, limit). */
async function askForRunConfig(environment: RunEnvironment, defaults: { questionFile?: string; outputFile?: string }): Promise<TeacherRunConfig | undefined> {
  let questionFile = defaults.questionFile;
  if (!questionFile) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Teacher generation (1/5): the question set',
      canSelectMany: false,
      defaultUri: firstWorkspaceFolder(),
      filters: { 'Question sets': ['json', 'jsonl'] },
      openLabel: 'Use These Questions',
    });
    questionFile = picked?.[0]?.fsPath;
    if (!questionFile) return undefined;
  }
  const suggested = defaults.outputFile ?? path.join(path.dirname(questionFile), `${path.basename(questionFile).replace(/\.(questions\.)?jsonl?$/i, '')}.teacher.traj.jsonl`);
  const out = await pickOutputFile(suggested);
  if (!out) return undefined;

  const prefix = await vscode.window.showQuickPick(
    [
      { label: 'With the first-thought prefix', description: 'recommended; needs a vLLM server', value: true },
      { label: 'Without a prefix', description: 'plain agent runs', value: false },
    ],
    { title: 'Teacher generation (3/5): first-thought prefix', ignoreFocusOut: true },
  );
  if (!prefix) return undefined;

  const retrieval = await pickRunRetrieval('Teacher generation (4/5): the index web_search uses', environment.indexRoot);
  if (!retrieval) return undefined;

  const concurrency = await vscode.window.showInputBox({
    title: 'Teacher generation (5/5): questions at once, and optionally how many questions (e.g. "8" or "8, 100")',
    value: '8',
    ignoreFocusOut: true,
    validateInput: (v) => (/^\s*\d+\s*(,\s*\d+\s*)?$/.test(v) && Number(v.split(',')[0]) >= 1 ? undefined : 'a whole number ≥ 1, optionally followed by a comma and a question limit'),
  });
  if (concurrency === undefined) return undefined;
  const [workers, limit] = concurrency.split(',').map((s) => Number(s.trim()));

  return teacherRunConfigSchema.parse({
    questionFile,
    outputFile: out,
    teacher: teacherOfEnvironment(environment),
    firstThoughtPrefix: prefix.value,
    retrieval,
    concurrency: workers,
    ...(limit ? { limit } : {}),
    scoring: scoringFromSettings(),
    compatibility: readSetting('compatibility'),
  });
}

/**
 * Registers teacher generation in VS Code: run over a question set (settings asked step by step), retry
 * the failed questions of a run, and generate from the example questions. Progress shows in a cancellable
 * notification, the status bar and the output channel; the end offers the file in the trajectory editor.
 */
export function registerTeacherGeneration(services: StudioServices): void {
  const { context, log } = services;
  const status = vscode.window.createStatusBarItem('trajectoryStudio.teacherRun', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Trajectory Studio: teacher generation';
  context.subscriptions.push(status);
  let running = false;

  /** Runs generation; resolves with the run's end (undefined when it could not start), without waiting for the user. */
  const runGeneration = async (config: TeacherRunConfig, retryFailed: boolean): Promise<TeacherRunOutcome | undefined> => {
    if (running) {
      void vscode.window.showInformationMessage('A teacher generation run is already in progress.');
      return undefined;
    }
    running = true;
    // The live view: per-question status as it happens, Cancel and Retry Failed; it stays after the run ends.
    const tracker = new LiveRunTracker('teacher', `Teacher: ${path.basename(config.outputFile)}`, config.outputFile);
    const stop = new AbortController();
    const session: LiveRunSession = {
      id: config.outputFile,
      tracker,
      actions: {
        cancel: () => stop.abort(new Error('cancelled in the live run view')),
        retryFailed: () => {
          if (running) return Promise.resolve('A teacher generation run is already in progress.');
          void runGeneration(config, true).then(undefined, (err: unknown) => log.error(`teacher generation: ${err instanceof Error ? err.message : String(err)}`));
          return Promise.resolve('Retrying the failed questions…');
        },
        openQuestion: async (key) => {
          const slot = await recordSlotOfTask(config.outputFile, key);
          if (slot === undefined) return false;
          await vscode.commands.executeCommand(CommandIds.openTrajectoryAt, vscode.Uri.file(config.outputFile), slot);
          return true;
        },
      },
    };
    LiveRunPanel.show(services, session);
    let failure: string | undefined;
    const { prepareTeacherRun } = await import('./teacherRunSetup');
    const { runTeacherGeneration } = await import('./teacherRun');
    const environment = studioRunEnvironment(services);
    let prepared: Awaited<ReturnType<typeof prepareTeacherRun>> | undefined;
    let end: Extract<TeacherRunEvent, { type: 'end' }> | undefined;
    try {
      prepared = await prepareTeacherRun(config, {
        teacherProfile: environment.endpoint('teacher'),
        ...sharedRunServices(environment, (warning) => log.warn(`sandbox: ${warning}`)),
        onRetry: (info) => log.warn(`teacher: ${describeRetry(info)}`),
      });
      const episodes = prepared.deps.runEpisode;
      const deps = {
        ...prepared.deps,
        // Tells the live view which question runs and its step, without changing the episode.
        runEpisode: (input: Parameters<typeof episodes>[0]) => {
          tracker.questionStarted(input.task.id);
          return episodes({
            ...input,
            onEvent: (event) => {
              input.onEvent?.(event);
              if (event.type === 'step-started') tracker.stepStarted(input.task.id, event.step);
            },
          });
        },
      };
      log.info(`teacher generation: ${config.questionFile} → ${config.outputFile} (prefix ${config.firstThoughtPrefix ? 'on' : 'off'}, concurrency ${config.concurrency})`);
      log.info(
        `teacher generation: factual answers ${config.scoring.factual === 'judge' ? `judged by ${config.scoring.judgeModel ?? 'the judge model'}` : 'scored by exact match (no judge endpoint set)'}; ` +
          `the filter follows the ${config.compatibility} profile, both profiles' verdicts are stored`,
      );
      status.text = '$(sync~spin) Teacher: starting…';
      status.command = CommandIds.showLiveRun;
      status.tooltip = 'Show the live view of the run';
      status.show();
      const outcome = await runWithProgress<TeacherRunEvent & { message?: string; fraction?: number }>(
        `Teacher generation: ${path.basename(config.outputFile)}`,
        (signal) => withProgressLines(runTeacherGeneration(config, deps, AbortSignal.any([signal, stop.signal]), { retryFailed })),
        (event) => {
          if (event.type === 'start') {
            tracker.running({ tokensPerSecond: event.snapshot.tokensPerSecond });
            tracker.addNotes([event.message, ...event.notes]);
            // Read now: the run has set aside the failed records it retries, and no question has started.
            void teacherQuestionSeeds(config).then(
              (seeds) => tracker.setQuestions(seeds),
              (err: unknown) => log.warn(`teacher generation: the live view cannot list the questions: ${err instanceof Error ? err.message : String(err)}`),
            );
            for (const note of event.notes) log.info(`teacher generation: ${note}`);
            log.info(`teacher generation: ${event.message}`);
          } else if (event.type === 'question') {
            const figures = { tokensPerSecond: event.snapshot.tokensPerSecond, ...(event.snapshot.etaMs !== undefined ? { etaMs: event.snapshot.etaMs } : {}) };
            // A run error's reason is the error itself.
            tracker.questionFinished(event.taskId, teacherOutcome(event.decision), figures);
            status.text = `$(sync~spin) Teacher ${progressText(event.snapshot)}`;
            const line = `teacher generation: ${'detail' in event ? String(event.detail) : event.message}`;
            if (event.decision.verdict === 'run-error') log.warn(line);
            else log.info(line);
          } else if (event.type === 'end') {
            end = event;
          }
        },
      );
      if (outcome === 'cancelled') log.info('teacher generation: cancelled; run it again to resume');
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      running = false;
      status.hide();
      const ended = end;
      tracker.end({
        cancelled: ended?.cancelled ?? stop.signal.aborted,
        ...(ended ? { summary: ended.message } : {}),
        ...(failure !== undefined ? { failure } : !ended && !stop.signal.aborted ? { failure: 'the run stopped before its end' } : {}),
      });
      await prepared?.close();
    }
    // The output may sit in a folder the file watcher excludes; list it now rather than on the next focus.
    void vscode.commands.executeCommand(CommandIds.refreshTrajectories);
    if (!end) return undefined;
    const finished: Extract<TeacherRunEvent, { type: 'end' }> = end;
    for (const line of formatTeacherSummary(finished.summary)) log.info(`teacher generation: ${line}`);
    const open = 'Open in Trajectory Editor';
    const retry = 'Retry Failed';
    const actions = finished.snapshot.failures ? [open, retry, 'Show Log'] : [open, 'Show Log'];
    const headline = `${finished.cancelled ? 'Teacher generation cancelled' : 'Teacher generation finished'}: ${finished.summary.accepted} of ${finished.summary.total} passed the filter${finished.snapshot.failures ? `, ${finished.snapshot.failures} failed` : ''}.`;
    // The summary stays up until the user answers; the command itself is done.
    void vscode.window
      .showInformationMessage(headline, ...actions)
      .then(async (choice) => {
        if (choice === open) await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(config.outputFile), CustomEditorIds.trajectoryEditor);
        else if (choice === retry) await runGeneration(config, true);
        else if (choice === 'Show Log') log.show();
      })
      .then(undefined, (err: unknown) => log.error(`teacher generation: ${err instanceof Error ? err.message : String(err)}`));
    return { outputFile: config.outputFile, cancelled: finished.cancelled, snapshot: finished.snapshot, summary: finished.summary };
  };

  registerStudioCommand(context, log, CommandIds.generateTeacherTrajectories, 'Generate Teacher Trajectories', async (...args: unknown[]) => {
    // Scripts and tests may pass a run configuration instead of answering the questions.
    let config: TeacherRunConfig | undefined;
    if (args[0] !== undefined && !(args[0] instanceof vscode.Uri)) {
      // Settings the caller leaves out follow the user's: the compatibility profile and the judge when one is set.
      const given = typeof args[0] === 'object' && args[0] !== null ? (args[0] as Record<string, unknown>) : {};
      const parsed = teacherRunConfigSchema.safeParse({ compatibility: readSetting('compatibility'), scoring: scoringFromSettings(), teacher: teacherOfEnvironment(studioRunEnvironment(services)), ...given });
      if (!parsed.success) throw new Error(`invalid run configuration: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      config = parsed.data;
    } else {
      config = await askForRunConfig(studioRunEnvironment(services), args[0] instanceof vscode.Uri ? { questionFile: args[0].fsPath } : {});
    }
    return config ? runGeneration(config, false) : undefined;
  });

  registerStudioCommand(context, log, CommandIds.retryFailedTeacherQuestions, 'Retry Failed Teacher Questions', async (...args: unknown[]) => {
    let file = args[0] instanceof vscode.Uri ? args[0].fsPath : undefined;
    if (!file) {
      const picked = await vscode.window.showOpenDialog({ title: 'The trajectory file of the run to retry', filters: { Trajectories: ['jsonl'] }, defaultUri: firstWorkspaceFolder() });
      file = picked?.[0]?.fsPath;
      if (!file) return;
    }
    const manifest = await readManifest(file);
    if (!manifest) throw new Error(`${file} has no run manifest beside it, so the run's settings are unknown; start a new run with Generate Teacher Trajectories`);
    return runGeneration({ ...manifest.config, outputFile: file }, true);
  });

  registerStudioCommand(context, log, CommandIds.generateFromExampleQuestions, 'Generate from the Example Questions', async () => {
    const folder = firstWorkspaceFolder();
    const candidates = folder ? [path.join(folder.fsPath, 'examples', 'questions', 'mixed.questions.jsonl'), path.join(folder.fsPath, 'questions', 'mixed.questions.jsonl')] : [];
    let questionFile: string | undefined;
    for (const c of candidates) {
      if (await fileExists(c)) {
        questionFile = c;
        break;
      }
    }
    if (!questionFile) {
      throw new Error('the example questions (examples/questions/mixed.questions.jsonl) are not in this workspace; open the example workspace first');
    }
    const examplesRoot = path.dirname(path.dirname(questionFile));
    const config = await askForRunConfig(studioRunEnvironment(services), { questionFile, outputFile: path.join(examplesRoot, 'trajectories', 'my-teacher.traj.jsonl') });
    return config ? runGeneration(config, false) : undefined;
  });
}
