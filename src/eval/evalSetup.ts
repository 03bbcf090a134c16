import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { openRunSetup, promptEnvironment, type RunSetupServices, startedIsolation } from '../runs/runSetup';
import { type AgentMode } from '../agent/agentLoop';
import { loadPromptProfile, promptProfileHash } from '../agent/promptProfiles';
import { studioVersion } from '../environment/runtime';
import { type ModelEndpoint } from '../llm/modelEndpoint';
import { type EndpointProfile } from '../llm/profiles';
import { type EpisodeOptions } from '../sandbox';
import { effectiveMode, effectiveSampling, type EvalRunConfig } from './evalConfig';
import { type EvalRunDependencies } from './evalRun';
import { type SandboxTiming, studentEpisodeRunner } from './studentAgent';

/** Where an evaluation gets its servers and Python from: the VS Code settings, or the CLI's flags and environment. */
export interface EvalRunServices extends RunSetupServices {
  /** The student endpoint profile; the config's model, base URLs and flavor override it. */
  studentProfile: EndpointProfile;
  /** Sandbox options (interpreter, limits); the config's isolation setting overrides `isolation`. */
  sandbox?: EpisodeOptions;
  promptFolders?: string[];
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
  const setup = await openRunSetup({
    config: { ...config, model: config.student },
    roleProfile: services.studentProfile,
    services,
    refuse: (message) => new EvalConfigError(message),
    python: services.sandbox?.interpreter || undefined,
  });
  const { endpoint: student, retrieval, symbolic } = setup;
  const prompt = await loadPromptProfile(config.promptProfile, services.promptFolders ?? []);
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
  const isolation = await startedIsolation(agent, symbolic, true);
  const adapterManifest = config.student.adapter ? await readAdapterManifest(config.student.adapter) : undefined;
  const environment: Record<string, string> = {
    studio: studioVersion,
    ...setup.environment,
    sandbox: isolation,
    studentBaseUrls: student.profile.baseUrls.join(', '),
    ...promptEnvironment(prompt),
  };
  return {
    student,
    sandboxTiming: agent.timing,
    deps: {
      runEpisode: agent.runEpisode,
      scorer: setup.scorer,
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
