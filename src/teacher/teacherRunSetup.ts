import { runJudgePrompt } from '../scoring/scoringSettings';
import * as path from 'node:path';
import { loadPromptProfile } from '../agent/promptProfiles';
import { ModelEndpoint, type RetryInfo } from '../llm/modelEndpoint';
import { type ApiKeyProvider, type EndpointProfile } from '../llm/profiles';
import { describeRuntime } from '../environment/runtime';
import { openRetrieval } from '../retrieval/retrievalSetting';
import { type EpisodeOptions } from '../sandbox';
import { SympyChecker } from '../scoring/sympyChecker';
import { assertCanContinueAssistantMessage, TeacherConfigError } from './firstThoughtPrefix';
import { type TeacherRunConfig } from './runConfig';
import { agentEpisodeRunner } from './teacherAgent';
import { type TeacherRunDependencies } from './teacherRun';

/** Where a teacher run gets its servers and Python from: the VS Code settings, or the CLI's flags and environment. */
export interface TeacherRunServices {
  /** The teacher endpoint profile (the run's concurrency raises its request limit when lower). */
  teacherProfile: EndpointProfile;
  /** The judge profile, needed when factual answers are judged by a model. */
  judgeProfile?: EndpointProfile;
  apiKeys?: ApiKeyProvider;
  sandbox?: EpisodeOptions;
  /** Python workers kept started ahead of need (default: up to 4). */
  warmEpisodes?: number;
  /** Python for the symbolic check (the sandbox's interpreter by default). */
  python?: string;
  /** Folders with the user's own prompt profiles. */
  promptFolders?: string[];
  /** The key of the embeddings server a vector or hybrid index search needs. */
  embeddingsApiKey?: () => Promise<string | undefined>;
  /** Told about every request that failed and will be retried. */
  onRetry?: (info: RetryInfo) => void;
}

export interface PreparedTeacherRun {
  deps: TeacherRunDependencies;
  teacher: ModelEndpoint;
  /** Stops the sandbox workers and the sympy helper. */
  close(): Promise<void>;
}

/**
 * Checks a run's settings against the servers it would use, before any request (a first-thought prefix
 * against a server that cannot continue an assistant message is refused here), and builds what the run
 * needs: the teacher endpoint, the agent with its sandbox and retrieval, the scorer.
 */
export async function prepareTeacherRun(config: TeacherRunConfig, services: TeacherRunServices): Promise<PreparedTeacherRun> {
  const profile: EndpointProfile = {
    ...services.teacherProfile,
    model: config.teacher.model,
    ...(config.teacher.baseUrls.length ? { baseUrls: config.teacher.baseUrls } : {}),
    flavor: config.teacher.flavor,
    concurrency: Math.max(services.teacherProfile.concurrency, config.concurrency),
  };
  if (config.firstThoughtPrefix) assertCanContinueAssistantMessage(profile);
  if (config.scoring.factual === 'judge' && (!services.judgeProfile || services.judgeProfile.baseUrls.length === 0)) {
    throw new TeacherConfigError('factual answers are to be judged by the judge model, but no judge endpoint is configured (set its base URL, or score with exact match)');
  }
  const teacher = new ModelEndpoint(profile, { apiKeys: services.apiKeys, onRetry: services.onRetry });
  const judge = config.scoring.factual === 'judge' && services.judgeProfile ? new ModelEndpoint(services.judgeProfile, { apiKeys: services.apiKeys, onRetry: services.onRetry }) : undefined;
  const judgePrompt = await runJudgePrompt(config.scoring, config.compatibility);
  const prompt = await loadPromptProfile(config.promptProfile ?? 'teacher', services.promptFolders ?? []);
  const retrieval = await openRetrieval(config.retrieval, services);
  const agent = agentEpisodeRunner({
    endpoint: teacher,
    prompt,
    retrieval,
    maxSteps: config.maxSteps,
    sampling: { temperature: config.agentTemperature, seed: config.seed },
    sandbox: services.sandbox,
    compatibility: config.compatibility,
    // A few workers start ahead; the rest start while their question's CoT call is in flight.
    warmEpisodes: services.warmEpisodes ?? Math.min(config.concurrency, 4),
  });
  const symbolic = new SympyChecker({ python: services.python ?? (services.sandbox?.interpreter || undefined) });
  let isolation = 'unknown';
  try {
    isolation = await agent.isolation();
  } catch (err) {
    await agent.close();
    await symbolic.close();
    throw err;
  }
  const environment: Record<string, string> = {
    runtime: describeRuntime(),
    sandbox: isolation,
    retrieval: retrieval?.description ?? 'none',
    teacherBaseUrls: profile.baseUrls.join(', '),
    promptProfile: `${prompt.name} (${path.basename(prompt.source)})`,
    ...(prompt.format === 'reference-yaml' && prompt.sourceNote ? { promptNote: prompt.sourceNote } : {}),
    ...(judgePrompt.description ? { judgePrompt: judgePrompt.description } : {}),
  };
  return {
    teacher,
    deps: {
      runEpisode: agent.runEpisode,
      cot: config.firstThoughtPrefix ? teacher : undefined,
      scorer: { symbolic, judge, f1Threshold: config.scoring.f1Threshold, ...(judgePrompt.judgePrompts ? { judgePrompts: judgePrompt.judgePrompts } : {}) },
      environment,
    },
    close: async () => {
      await agent.close();
      await symbolic.close();
    },
  };
}
