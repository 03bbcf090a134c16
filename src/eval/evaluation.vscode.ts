import { scoringFromSettings } from '../scoring/judgePrompt.vscode';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type AgentEvent } from '../agent/agentLoop';
import { loadPromptProfile } from '../agent/promptProfiles';
import { readEndpointProfile } from '../llm/endpoints.vscode';
import { describeRetry, ModelEndpoint } from '../llm/modelEndpoint';
import { type EndpointRole } from '../llm/profiles';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds } from '../platform/ids';
import { runWithProgress } from '../platform/progress';
import { type StudioServices } from '../platform/services';
import { readSetting, showMissingSetting } from '../platform/settings';
import { pickRunRetrieval } from '../retrieval/retrieval.vscode';
import { studioRunEnvironment } from '../runs/runEnvironment.vscode';
import { openRetrieval } from '../retrieval/retrievalSetting';
import { type Task, type Trajectory } from '../trajectory/schema';
import { adaptiveSagDefaults } from '../agent/candidateVote';
import { type EvalMode, type EvalRunConfig, evalRunConfigSchema, sagDefaults } from './evalConfig';
import { EvalDashboardPanel, type EvalWorkspace } from './evalDashboard.vscode';
import { type EvalRunEvent, runEvaluation } from './evalRun';
import { agentModeOf, prepareEvalRun } from './evalSetup';
import { studentEpisodeRunner } from './studentAgent';
import { runOneQuestion } from './oneQuestionRun';
import { fileExists } from '../runs/runFiles';
import { LiveRunPanel, type LiveRunSession } from '../runs/liveRunPanel.vscode';
import { LiveRunTracker } from '../runs/liveRunTracker';
import { recordSlotOfTask } from '../runs/liveRunRecords';
import { trajectoryFileName } from './evalConfig';
import { evalOutcome, evalQuestionKey, evalQuestionSeeds, setFailedEvalRecordsAside } from './liveEvalRun';
import { formatDuration } from '../environment/durationText';
import { parseCommandArgs } from '../platform/commandArgs';
import { type QuickEvalArgs, quickEvalArgsSchema, type RunEvaluationArgs, runEvaluationArgsSchema } from './evalCommandArgs';
import { sharedRunServices } from '../runs/runEnvironment';

export { type QuickEvalArgs, type RunEvaluationArgs } from './evalCommandArgs';

function workspaceRoot(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}


const sagMode: EvalMode = { kind: 'sag', candidates: 8, isolation: 'isolated' };

async function pickMode(title: string): Promise<EvalMode | undefined> {
  const items: (vscode.QuickPickItem & { mode: EvalMode })[] = [
    { label: 'SAG, 8 candidates', description: 'temperature 0.4, top_p 0.8, seed 42 — the method\'s setting', mode: sagMode },
    {
      label: 'Adaptive SAG, up to 8 candidates',
      description: `rounds of ${adaptiveSagDefaults.firstRound}, stopping once more candidates could not change the vote or all agree`,
      detail: 'Usually far fewer model tokens than 8 at once; compare it with a fixed run to see the accuracy difference.',
      mode: { kind: 'sag', candidates: 8, isolation: 'isolated', adaptive: { ...adaptiveSagDefaults } },
    },
    { label: 'SAG, 4 candidates', description: 'half the samples per step', mode: { kind: 'sag', candidates: 4, isolation: 'isolated' } },
    { label: 'Greedy', description: 'one action per step, temperature 0', mode: { kind: 'greedy' } },
  ];
  const picked = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  return picked?.mode;
}

async function pickBenchmarkFilesInDialog(title: string, many: boolean): Promise<string[] | undefined> {
  const root = workspaceRoot();
  const examples = root ? path.join(root, 'benchmarks') : undefined;
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectMany: many,
    defaultUri: examples && (await fileExists(examples)) ? vscode.Uri.file(examples) : root ? vscode.Uri.file(root) : undefined,
    filters: { Benchmarks: ['json', 'jsonl'] },
    openLabel: 'Evaluate on These',
  });
  return picked?.length ? picked.map((u) => u.fsPath) : undefined;
}

/**
 * The benchmark files of a run. With `many`, the workspace's benchmark files are offered in a multi-select
 * list first: the web workbench's file dialog (code-server, Codespaces) selects one file only, whatever
 * `canSelectMany` says, so a dialog alone would limit a run to one benchmark there.
 */
async function pickBenchmarks(title: string, many: boolean): Promise<string[] | undefined> {
  if (!many) return pickBenchmarkFilesInDialog(title, false);
  const found = (await vscode.workspace.findFiles('**/benchmarks/**/*.{json,jsonl}', '**/node_modules/**', 500)).filter((u) => u.scheme === 'file');
  if (found.length === 0) return pickBenchmarkFilesInDialog(title, true);
  found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const browse = { label: '$(folder-opened) Other files…', description: 'choose benchmark files in a file dialog', file: undefined };
  const items: (vscode.QuickPickItem & { file: string | undefined })[] = [
    ...found.map((u) => ({ label: path.basename(u.fsPath), description: path.dirname(vscode.workspace.asRelativePath(u)), file: u.fsPath })),
    browse,
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${title}: the benchmark files (one or more)`, canPickMany: true, ignoreFocusOut: true });
  if (!picked?.length) return undefined;
  const files = picked.flatMap((p) => (p.file ? [p.file] : []));
  if (picked.includes(browse)) {
    const more = await pickBenchmarkFilesInDialog(title, true);
    if (!more && files.length === 0) return undefined;
    for (const f of more ?? []) if (!files.includes(f)) files.push(f);
  }
  return files.length ? files : undefined;
}

async function pickProfile(title: string): Promise<EndpointRole | undefined> {
  const roles: EndpointRole[] = ['student', 'teacher'];
  const picked = await vscode.window.showQuickPick(
    roles.map((role) => {
      const p = readEndpointProfile(role);
      return { label: role, description: p.model, detail: p.baseUrls.join(', ') || 'no base URL set', role };
    }),
    { title, placeHolder: 'Which endpoint plays the agent?', ignoreFocusOut: true },
  );
  return picked?.role;
}

/** Registers the evaluation commands and the dashboard. */
export function registerEvaluation(services: StudioServices): void {
  const { context, log } = services;
  const running = new Set<string>();
  const workspace: EvalWorkspace = {
    runsRoot: () => {
      const root = workspaceRoot();
      return root ? path.join(root, '.trajectory-studio', 'eval-runs') : undefined;
    },
    isRunning: (runFolder) => running.has(runFolder),
  };

  const requireBaseUrl = async (role: EndpointRole, baseUrls: string[]): Promise<boolean> => {
    if (baseUrls.length) return true;
    await showMissingSetting(context.globalStorageUri, `The ${role} endpoint has no base URL.`, `endpoints.${role}`, [`endpoints.${role}.baseUrls`]);
    return false;
  };

  /** Runs an evaluation in a cancellable notification; resolves with the run folder when it ended. */
  const startRun = async (config: EvalRunConfig, role: EndpointRole, title: string): Promise<string | undefined> => {
    if (running.has(config.runFolder)) {
      void vscode.window.showInformationMessage(`${config.runFolder} is already being evaluated.`);
      return undefined;
    }
    running.add(config.runFolder);
    let end: Extract<EvalRunEvent, { type: 'end' }> | undefined;
    // The live view: per-question status as it happens, Cancel and Retry Failed; it stays after the run ends.
    const tracker = new LiveRunTracker('evaluation', `Evaluation: ${path.basename(config.runFolder)}`, config.runFolder);
    const stop = new AbortController();
    const benchmarkOfKey = new Map<string, { benchmark: string; taskId: string }>();
    const session: LiveRunSession = {
      id: config.runFolder,
      tracker,
      actions: {
        cancel: () => stop.abort(new Error('cancelled in the live run view')),
        retryFailed: async () => {
          if (running.has(config.runFolder)) return `${config.runFolder} is already being evaluated.`;
          const count = await setFailedEvalRecordsAside(config.runFolder);
          if (count === 0) return 'No failed questions to run again.';
          void startRun(config, role, title).then(undefined, (err: unknown) => log.error(`evaluation: ${err instanceof Error ? err.message : String(err)}`));
          return `Running ${count} failed question(s) again; their old records were set aside beside the benchmark's trajectories.`;
        },
        openQuestion: async (key) => {
          const q = benchmarkOfKey.get(key);
          if (!q) return false;
          const file = path.join(config.runFolder, trajectoryFileName(q.benchmark));
          const slot = await recordSlotOfTask(file, q.taskId);
          if (slot === undefined) return false;
          await vscode.commands.executeCommand(CommandIds.openTrajectoryAt, vscode.Uri.file(file), slot);
          return true;
        },
      },
    };
    const remember = (benchmark: string, taskId: string): string => {
      const key = evalQuestionKey(benchmark, taskId);
      benchmarkOfKey.set(key, { benchmark, taskId });
      return key;
    };
    LiveRunPanel.show(services, session);
    let failure: string | undefined;
    try {
      const environment = studioRunEnvironment(services);
      const prepared = await prepareEvalRun(config, {
        studentProfile: environment.endpoint(role),
        ...sharedRunServices(environment, (m) => log.warn(`sandbox: ${m}`)),
        onRetry: (info) => log.warn(`evaluation: ${describeRetry(info)}`),
      });
      const onAgentEvent = prepared.deps.onAgentEvent;
      const deps = {
        ...prepared.deps,
        // Tells the live view which question runs and its step (a question runs from its first step on).
        onAgentEvent: (question: { benchmark: string; taskId: string }, event: AgentEvent) => {
          onAgentEvent?.(question, event);
          if (event.type === 'step-started') tracker.stepStarted(remember(question.benchmark, question.taskId), event.step, question.taskId);
        },
      };
      try {
        await runWithProgress(
          title,
          (signal) => progressLines(runEvaluation(config, deps, AbortSignal.any([signal, stop.signal]))),
          (event) => {
            if (event.type === 'start') {
              tracker.running({ tokensPerSecond: event.snapshot.tokensPerSecond });
              tracker.addNotes([event.message, ...event.notes]);
              void evalQuestionSeeds(config).then(
                (seeds) => {
                  for (const seed of seeds) if (seed.group !== undefined) remember(seed.group, seed.taskId);
                  tracker.setQuestions(seeds);
                },
                (err: unknown) => log.warn(`evaluation: the live view cannot list the questions: ${err instanceof Error ? err.message : String(err)}`),
              );
              log.info(
                `evaluation: factual answers ${config.scoring.factual === 'judge' ? `judged by ${config.scoring.judgeModel ?? 'the judge model'}` : 'scored by exact match'}; ` +
                  `the headline accuracy counts the ${config.compatibility} profile, both profiles' verdicts are stored`,
              );
              for (const note of event.notes) log.info(`evaluation: ${note}`);
            }
            if (event.type === 'question') {
              const figures = { tokensPerSecond: event.snapshot.tokensPerSecond, ...(event.snapshot.etaMs !== undefined ? { etaMs: event.snapshot.etaMs } : {}) };
              tracker.questionFinished(remember(event.benchmark, event.taskId), evalOutcome(event), figures, event.taskId);
              log.info(`evaluation: ${event.detail}`);
              EvalDashboardPanel.notifyProgress(config.runFolder, event.snapshot.done, event.snapshot.total);
            }
            if (event.type === 'end') end = event;
          },
        );
      } finally {
        await prepared.close();
      }
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      running.delete(config.runFolder);
      const ended = end;
      tracker.end({
        cancelled: ended?.cancelled ?? stop.signal.aborted,
        ...(ended ? { summary: ended.message } : {}),
        ...(failure !== undefined ? { failure } : !ended && !stop.signal.aborted ? { failure: 'the run stopped before its end' } : {}),
      });
    }
    EvalDashboardPanel.notifyProgress(config.runFolder, end?.snapshot.done ?? 0, end?.snapshot.total ?? 0);
    // Run folders often sit under a watcher-excluded folder (.trajectory-studio), so no file event announces them.
    void vscode.commands.executeCommand(CommandIds.refreshTrajectories);
    if (end) {
      const m = end.results.metrics;
      const scores = m.benchmarks.map((b) => `${b.name} ${(100 * b.accuracy).toFixed(1)}%`).join(', ');
      const other = m.profile === 'studio' ? 'reference' : 'studio';
      const otherText = `${other === 'reference' ? "paper's scoring" : 'corrected scoring'} ${(100 * m.averageAccuracyByProfile[other]).toFixed(1)}%`;
      void vscode.window
        .showInformationMessage(
          `Evaluation ${end.cancelled ? 'cancelled' : 'finished'}: average ${(100 * m.averageAccuracy).toFixed(1)}% under the ${m.profile} profile (${scores}); ${otherText}, ${m.disagreements.length} question(s) scored differently.`,
          'Open Dashboard',
        )
        .then((choice) => {
          if (choice) EvalDashboardPanel.show(services, workspace, { runFolder: config.runFolder });
        });
    }
    return config.runFolder;
  };

  const buildConfig = async (args: RunEvaluationArgs, step: (n: number) => string): Promise<{ config: EvalRunConfig; role: EndpointRole } | undefined> => {
    const role = args.profile ?? 'student';
    const environment = studioRunEnvironment(services);
    const profile = environment.endpoint(role);
    const baseUrls = args.baseUrls ?? profile.baseUrls;
    if (!(await requireBaseUrl(role, baseUrls))) return undefined;
    const benchmarks = args.benchmarks ?? (await pickBenchmarks(step(1), true));
    if (!benchmarks) return undefined;
    const mode = args.mode ?? (await pickMode(step(2)));
    if (!mode) return undefined;
    const retrieval = args.retrieval ?? (await pickRunRetrieval(step(3), environment.indexRoot));
    if (!retrieval) return undefined;
    const root = workspace.runsRoot();
    let runFolder = args.runFolder;
    if (!runFolder) {
      if (!root) throw new Error('open a workspace folder first: evaluation runs are kept in it (.trajectory-studio/eval-runs)');
      const name = await vscode.window.showInputBox({
        title: step(4),
        prompt: 'Name of the run folder (under .trajectory-studio/eval-runs); an existing run of that name is resumed',
        value: `${timestamp()}-${mode.kind === 'sag' ? `sag${mode.adaptive ? '-adaptive' : ''}${mode.candidates}` : 'greedy'}`,
        ignoreFocusOut: true,
        validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : 'letters, digits, ".", "_" and "-" only'),
      });
      if (!name) return undefined;
      runFolder = path.join(root, name);
    }
    const { expandBenchmarkFiles } = await import('./benchmarks');
    const config = evalRunConfigSchema.parse({
      runFolder,
      benchmarks: await expandBenchmarkFiles(benchmarks),
      student: { profile: role, model: args.model ?? profile.model, baseUrls, flavor: profile.flavor, ...(args.adapter ? { adapter: args.adapter } : {}) },
      mode,
      retrieval,
      sandboxIsolation: environment.sandbox.isolation ?? 'auto',
      ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
      ...(args.limit !== undefined ? { limit: args.limit } : {}),
      ...(args.sample !== undefined ? { sample: args.sample } : {}),
      scoring: scoringFromSettings(args.judge),
      compatibility: args.compatibility ?? readSetting('compatibility'),
    });
    return { config, role };
  };

  registerStudioCommand(context, log, CommandIds.runEvaluation, 'Run Evaluation', async (arg?: unknown) => {
    const args = parseCommandArgs(runEvaluationArgsSchema, arg ?? {}, 'Run Evaluation');
    const built = await buildConfig(args, (n) => `Run Evaluation (${n}/4)`);
    if (!built) return undefined;
    return startRun(built.config, built.role, 'Evaluating the student');
  });

  registerStudioCommand(context, log, CommandIds.openEvalDashboard, 'Open Evaluation Dashboard', (arg?: unknown) => {
    const runFolder = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : undefined;
    EvalDashboardPanel.show(services, workspace, runFolder ? { runFolder } : {});
  });

  registerStudioCommand(context, log, CommandIds.compareEvalRuns, 'Compare Evaluation Runs', async (a?: unknown, b?: unknown) => {
    if (typeof a === 'string' && typeof b === 'string') {
      EvalDashboardPanel.show(services, workspace, { compare: { a, b } });
      return;
    }
    const root = workspace.runsRoot();
    const { listRunFolders } = await import('./dashboardViews');
    const runs = root ? await listRunFolders(root) : [];
    if (runs.length < 2) {
      void vscode.window.showInformationMessage('Comparing needs two evaluation runs in this workspace (.trajectory-studio/eval-runs).');
      return;
    }
    const items = runs.map((r) => ({ label: r.label, detail: r.detail, runFolder: r.runFolder }));
    const first = await vscode.window.showQuickPick(items, { title: 'Compare Evaluation Runs (1/2): run A (the baseline)', ignoreFocusOut: true });
    if (!first) return;
    const second = await vscode.window.showQuickPick(items.filter((i) => i !== first), { title: 'Compare Evaluation Runs (2/2): run B', ignoreFocusOut: true });
    if (!second) return;
    EvalDashboardPanel.show(services, workspace, { compare: { a: first.runFolder, b: second.runFolder } });
  });

  registerStudioCommand(context, log, CommandIds.evaluateAdapter, 'Evaluate Adapter', async (arg?: unknown) => {
    const given = parseCommandArgs(runEvaluationArgsSchema, arg ?? {}, 'Evaluate Adapter');
    let adapter = given.adapter;
    if (!adapter) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Evaluate Adapter (1/3): the downloaded adapter folder of a finished training run',
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Evaluate This Adapter',
      });
      adapter = picked?.[0]?.fsPath;
      if (!adapter) return undefined;
    }
    const profile = readEndpointProfile('student');
    const baseUrl =
      given.baseUrls?.[0] ??
      (await vscode.window.showInputBox({
        title: 'Evaluate Adapter (2/3): the endpoint that serves it',
        prompt: 'Base URL of the vLLM server started by "Serve for Eval" on the training host (forwarded to this machine)',
        value: profile.baseUrls[0] ?? 'http://127.0.0.1:8001/v1',
        ignoreFocusOut: true,
      }));
    if (!baseUrl) return undefined;
    const model =
      given.model ??
      (await vscode.window.showInputBox({
        title: 'Evaluate Adapter (3/3): the LoRA module name it is served under',
        value: path.basename(adapter).replace(/[^A-Za-z0-9._-]+/g, '-'),
        ignoreFocusOut: true,
      }));
    if (!model) return undefined;
    const built = await buildConfig({ ...given, adapter, baseUrls: [baseUrl], model }, (n) => `Evaluate Adapter: run settings (${n}/4)`);
    if (!built) return undefined;
    return startRun(built.config, built.role, `Evaluating adapter ${model}`);
  });

  registerStudioCommand(context, log, CommandIds.quickEval, 'Quick Eval', async (arg?: unknown) => {
    const args = parseCommandArgs(quickEvalArgsSchema, arg ?? {}, 'Quick Eval');
    const role = args.profile ?? (await pickProfile('Quick Eval (1/3): the endpoint'));
    if (!role) return undefined;
    const profile = readEndpointProfile(role);
    if (!(await requireBaseUrl(role, profile.baseUrls))) return undefined;
    let kind: 'question' | 'benchmark' | undefined = args.question !== undefined ? 'question' : undefined;
    if (!kind) {
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'Type a question', description: 'watch the agent solve it step by step in the editor', choice: 'question' as const },
          { label: 'Sample a benchmark', description: 'a few questions of a benchmark file, scored', choice: 'benchmark' as const },
        ],
        { title: 'Quick Eval (2/3): what to evaluate', ignoreFocusOut: true },
      );
      kind = picked?.choice;
    }
    if (kind === 'question') return quickQuestion(role, args);
    if (kind !== 'benchmark') return undefined;
    const benchmark = await pickBenchmarks('Quick Eval (3/3): the benchmark file', false);
    if (!benchmark) return undefined;
    const size = await vscode.window.showInputBox({
      title: 'Quick Eval: how many questions (a seeded random sample)',
      value: '10',
      ignoreFocusOut: true,
      validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) ? undefined : 'a whole number ≥ 1'),
    });
    if (!size) return undefined;
    const built = await buildConfig(
      { profile: role, benchmarks: benchmark, mode: args.mode ?? sagMode, retrieval: args.retrieval ?? { kind: 'none' }, sample: Number(size.trim()), runFolder: workspace.runsRoot() ? path.join(workspace.runsRoot()!, `quick-${timestamp()}`) : undefined },
      (n) => `Quick Eval (${n}/4)`,
    );
    if (!built) return undefined;
    return startRun(built.config, built.role, 'Quick eval');
  });

  /** One typed question: the trajectory file is rewritten after every step, so the editor shows it growing. */
  const quickQuestion = async (role: EndpointRole, args: QuickEvalArgs): Promise<string | undefined> => {
    const question =
      args.question ??
      (await vscode.window.showInputBox({ title: 'Quick Eval (3/3): the question', prompt: 'The agent answers it with Python and web_search', ignoreFocusOut: true }));
    if (!question?.trim()) return undefined;
    const root = workspaceRoot();
    if (!root) throw new Error('open a workspace folder first: the live trajectory is written into it (.trajectory-studio/quick-eval)');
    const file = path.join(root, '.trajectory-studio', 'quick-eval', `${timestamp()}.traj.jsonl`);
    const environment = studioRunEnvironment(services);
    const profile = environment.endpoint(role);
    const mode = args.mode ?? sagMode;
    const retrieval = await openRetrieval(args.retrieval ?? { kind: 'none' }, environment);
    const prompt = await loadPromptProfile(role === 'teacher' ? 'teacher' : 'student', environment.promptFolders);
    const endpoint = new ModelEndpoint(profile, { apiKeys: environment.apiKeys });
    const sampling = mode.kind === 'sag' ? { temperature: sagDefaults.temperature, topP: sagDefaults.topP, seed: sagDefaults.seed, maxTokens: sagDefaults.maxTokens } : { temperature: 0, topP: 1, seed: sagDefaults.seed, maxTokens: sagDefaults.maxTokens };
    const agent = studentEpisodeRunner({
      endpoint,
      prompt,
      mode: agentModeOf({ mode }),
      ...(retrieval ? { retrieval } : {}),
      maxSteps: 5,
      sampling,
      sandbox: { ...environment.sandbox, onWarning: (m) => log.warn(`sandbox: ${m}`) },
      warmEpisodes: 1,
    });
    const task: Task = { id: `quick-${timestamp()}`, question: question.trim(), domain: args.domain ?? 'math', source: 'quick eval' };
    const reveal = (step: number): Thenable<unknown> => vscode.commands.executeCommand(CommandIds.openTrajectoryAt, vscode.Uri.file(file), 0, step);
    let result: Trajectory | undefined;
    await runWithProgress(`Quick eval: ${task.question.slice(0, 60)}`, async function* (signal) {
      const run = runOneQuestion({ task, runEpisode: agent.runEpisode, origin: { kind: role === 'teacher' ? 'teacher' : 'student', model: profile.model, endpoint: profile.name }, liveFile: file, signal });
      try {
        for (let next = await run.next(); ; next = await run.next()) {
          if (next.done) {
            result = next.value;
            return;
          }
          const event = next.value;
          if (event.type === 'step-started') yield { message: `step ${event.step + 1}: waiting for the model…` };
          if (event.type === 'vote') yield { message: `step ${event.step + 1}: ${event.candidates.filter((c) => c.valid).length}/${event.candidates.length} candidates valid` };
          if (event.type === 'step-finished') yield { message: `step ${event.step + 1} done` };
          if (event.type !== 'live-file-written' || event.final) continue;
          // The editor opens on the trajectory before its first step and reloads the file when it changes on
          // disk; revealing the new step keeps it in view.
          if (event.steps === 0) await reveal(0);
          else {
            const step = event.steps - 1;
            void Promise.resolve(reveal(step)).then(undefined, (err: unknown) => log.warn(`quick eval: could not show step ${step + 1}: ${err instanceof Error ? err.message : String(err)}`));
          }
        }
      } finally {
        // Reached early only when showing the run failed: stop the question, which settles the live file.
        await run.return(undefined);
      }
    }).finally(() => agent.close());
    if (!result) return undefined;
    const answer = result.finalAnswer ?? '(no answer)';
    void vscode.window.showInformationMessage(`Quick eval: the ${role} answered "${answer}" in ${result.steps.length} step(s).`, 'Open in Editor').then((choice) => {
      if (choice) void vscode.commands.executeCommand(CommandIds.openTrajectoryAt, vscode.Uri.file(file), 0, Math.max(0, result!.steps.length - 1));
    });
    return file;
  };
}

/** The notification shows counts and ETA; the question's own line goes to the log. */
async function* progressLines(events: AsyncIterable<EvalRunEvent>): AsyncGenerator<EvalRunEvent & { detail?: string }> {
  for await (const event of events) {
    if (event.type !== 'question') {
      yield event;
      continue;
    }
    const s = event.snapshot;
    yield { ...event, message: `${s.done}/${s.total} · ${s.correct} correct · ${s.failures} failed · ETA ${formatDuration(s.etaMs, '…')}`, detail: event.message };
  }
}
