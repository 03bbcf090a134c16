import { runJudgePrompt } from '../scoring/scoringSettings';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { type AgentMode } from '../agent/agentLoop';
import { loadPromptProfile, promptProfileHash } from '../agent/promptProfiles';
import { describeRuntime, studioVersion } from '../environment/runtime';
import { ModelEndpoint, type RetryInfo } from '../llm/modelEndpoint';
import { type ApiKeyProvider, type EndpointProfile } from '../llm/profiles';
import { openRetrieval } from '../retrieval/retrievalSetting';
import { type EpisodeOptions } from '../sandbox';
import { SympyChecker } from '../scoring/sympyChecker';
import { effectiveMode, effectiveSampling, type EvalRunConfig } from './evalConfig';
import { type EvalRunDependencies } from './evalRun';
import { type SandboxTiming, studentEpisodeRunner } from './studentAgent';

/** Where an evaluation gets its servers and Python from: the VS Code settings, or the CLI's flags and environment. */
export interface EvalRunServices {
  /** The student endpoint profile; the config's model, base URLs and flavor override it. */
  studentProfile: EndpointProfile;
  /** The judge profile, needed when factual answers are judged by a model. */
  judgeProfile?: EndpointProfile;
  apiKeys?: ApiKeyProvider;
  /** Sandbox options (interpreter, limits); the config's isolation setting overrides `isolation`. */
  sandbox?: EpisodeOptions;
  promptFolders?: string[];
  /** The key of the embeddings server a vector or hybrid index search needs. */
  embeddingsApiKey?: () => Promise<string | undefined>;
  onRetry?: (info: RetryInfo) => void;
  /** Stream model text into agent events (live views). */
  streamText?: boolean;
}

export interface PreparedEvalRun {
  deps: EvalRunDependencies;
  student: ModelEndpoint;
  /** Sandbox time spent so far (for reports and the benchmark). */
  sandboxTiming(): SandboxTiming;
  close(): Promise<void>;
}

export class EvalConfigError extends Error {
  override readonly name = 'EvalConfigError';
}

/**
 * The manifest of a trained adapter, read from the adapter's folder or file: a training run record
 * (`run.json`), else the trainer's `manifest.json`, else the PEFT `adapter_config.json`. Undefined when none is there.
 */
export async function readAdapterManifest(adapter: string): Promise<Record<string, unknown> | undefined> {
  let candidates: string[];
  try {
    // run.json: the run record a download writes beside the weights; manifest.json: the trainer's (data_sha256)
    candidates = (await stat(adapter)).isDirectory() ? [path.join(adapter, 'run.json'), path.join(adapter, 'manifest.json'), path.join(adapter, 'adapter_config.json')] : [adapter];
  } catch {
    return undefined;
  }
  for (const file of candidates) {
    try {
      const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { file, ...(value as Record<string, unknown>) };
    } catch {
      // not there or not JSON: try the next one
    }
  }
  return undefined;
}

/** The agent loop's mode for a run's settings (the compatibility decides what of the mode applies). */
export function agentModeOf(config: Pick<EvalRunConfig, 'mode'> & Partial<Pick<EvalRunConfig, 'compatibility'>>): AgentMode {
  const mode = effectiveMode({ mode: config.mode, compatibility: config.compatibility ?? 'studio' });
  if (mode.kind !== 'sag') return { kind: 'greedy' };
  const { candidates, isolation, executeDuplicates, adaptive, voteKeys } = mode;
  return {
    kind: 'sag',
    candidates,
    isolation,
    ...(executeDuplicates === true ? { executeDuplicates } : {}),
    ...(adaptive ? { adaptive: { ...adaptive } } : {}),
    ...(voteKeys === 'normalized' ? { voteKeys } : {}),
  };
}

/**
 * Builds what an evaluation needs from its config: the student endpoint (every sampling parameter sent
 * explicitly, METHOD §7), the agent with its sandbox and retrieval, the scorer, and the manifest facts.
 */
export async function prepareEvalRun(config: EvalRunConfig, services: EvalRunServices): Promise<PreparedEvalRun> {
  const sampling = effectiveSampling(config);
  const profile: EndpointProfile = {
    ...services.studentProfile,
    model: config.student.model,
    ...(config.student.baseUrls.length ? { baseUrls: config.student.baseUrls } : {}),
    flavor: config.student.flavor,
    // Each question holds at most one request at a time; the run's concurrency is the request limit.
    concurrency: Math.max(services.studentProfile.concurrency, config.concurrency),
  };
  if (config.scoring.factual === 'judge' && (!services.judgeProfile || services.judgeProfile.baseUrls.length === 0)) {
    throw new EvalConfigError('factual answers are to be judged by the judge model, but no judge endpoint is configured (set its base URL, or score with exact match)');
  }
  const student = new ModelEndpoint(profile, { apiKeys: services.apiKeys, onRetry: services.onRetry });
  const judge = config.scoring.factual === 'judge' && services.judgeProfile ? new ModelEndpoint(services.judgeProfile, { apiKeys: services.apiKeys, onRetry: services.onRetry }) : undefined;
  const judgePrompt = await runJudgePrompt(config.scoring, config.compatibility);
  const prompt = await loadPromptProfile(config.promptProfile, services.promptFolders ?? []);
  const retrieval = await openRetrieval(config.retrieval, services);
  const symbolic = new SympyChecker({ python: services.sandbox?.interpreter || undefined });
  const agent = studentEpisodeRunner({
    endpoint: student,
    prompt,
    mode: agentModeOf(config),
    retrieval,
    maxSteps: config.maxSteps,
    sampling: { temperature: sampling.temperature, topP: sampling.topP, seed: sampling.seed, maxTokens: sampling.maxTokens },
    sandbox: { ...services.sandbox, isolation: config.sandboxIsolation },
    compatibility: config.compatibility,
    // One pre-started worker per question slot, so no question waits for Python to start (bounded: idle workers hold memory).
    warmEpisodes: Math.min(config.concurrency, 32),
    ...(services.streamText ? { streamText: true } : {}),
    symbolic,
  });
  let isolation: string;
  try {
    isolation = await agent.isolation();
    await agent.warm();
  } catch (err) {
    await agent.close();
    await symbolic.close();
    throw err;
  }
  const adapterManifest = config.student.adapter ? await readAdapterManifest(config.student.adapter) : undefined;
  const environment: Record<string, string> = {
    studio: studioVersion,
    runtime: describeRuntime(),
    sandbox: isolation,
    retrieval: retrieval?.description ?? 'none',
    studentBaseUrls: profile.baseUrls.join(', '),
    promptProfile: `${prompt.name} (${path.basename(prompt.source)})`,
    ...(prompt.format === 'reference-yaml' && prompt.sourceNote ? { promptNote: prompt.sourceNote } : {}),
    ...(judgePrompt.description ? { judgePrompt: judgePrompt.description } : {}),
  };
  return {
    student,
    sandboxTiming: agent.timing,
    deps: {
      runEpisode: agent.runEpisode,
      scorer: { symbolic, judge, f1Threshold: config.scoring.f1Threshold, ...(judgePrompt.judgePrompts ? { judgePrompts: judgePrompt.judgePrompts } : {}) },
      promptProfile: { name: prompt.name, hash: promptProfileHash(prompt) },
      environment,
      ...(adapterManifest ? { adapterManifest: adapterManifest as EvalRunDependencies['adapterManifest'] } : {}),
    },
    close: async () => {
      await agent.close();
      await symbolic.close();
    },
  };
}
