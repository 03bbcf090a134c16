import * as path from 'node:path';
import { describeRuntime } from '../environment/runtime';
import { ModelEndpoint, type RetryInfo } from '../llm/modelEndpoint';
import { type ApiKeyProvider, type EndpointProfile } from '../llm/profiles';
import { openRetrieval } from '../retrieval/retrievalSetting';
import { type RetrievalSetting } from '../retrieval/retrievalSetting';
import { type RetrievalBackend } from '../retrieval/types';
import { type AnswerScorerOptions } from '../scoring/answerScorer';
import { runJudgePrompt, type ScoringSettings } from '../scoring/scoringSettings';
import { SympyChecker } from '../scoring/sympyChecker';
import { type Compatibility } from '../trajectory/compatibility';

/**
 * The setup teacher generation and evaluation share before their first question: the endpoint the run talks
 * to, the judge (checked before any request), the user's judge prompt, the index, the sympy helper, and the
 * facts about all of them that the run's manifest records. What differs (the agent, the first-thought check,
 * the adapter) stays with each kind of run.
 */

/** What a run takes from where it was started (VS Code settings, or the CLI's flags and environment), beside its role's profile. */
export interface RunSetupServices {
  /** The judge profile, needed when factual answers are judged by a model. */
  judgeProfile?: EndpointProfile;
  apiKeys?: ApiKeyProvider;
  /** The key of the embeddings server a vector or hybrid index search needs. */
  embeddingsApiKey?: () => Promise<string | undefined>;
  /** Told about every request that failed and will be retried. */
  onRetry?: (info: RetryInfo) => void;
}

/** The parts of a run's config the shared setup reads. */
export interface RunSetupConfig {
  /** The model as the run's config names it: it overrides the role's profile. */
  model: { model: string; baseUrls: readonly string[]; flavor: EndpointProfile['flavor'] };
  concurrency: number;
  scoring: ScoringSettings;
  compatibility: Compatibility;
  retrieval: RetrievalSetting;
}

export interface RunSetup {
  /** The run's model server: the role's profile with the config's model, URLs and flavor. */
  endpoint: ModelEndpoint;
  retrieval: RetrievalBackend | undefined;
  symbolic: SympyChecker;
  /** The answer scorer's options: sympy, the judge, the F1 threshold and the user's judge prompt. */
  scorer: AnswerScorerOptions;
  /** Environment-record lines: the runtime, the index and the judge prompt. */
  environment: Record<string, string>;
}

export interface OpenRunSetupOptions {
  config: RunSetupConfig;
  /** The profile of the run's role (teacher, student), from settings or the environment. */
  roleProfile: EndpointProfile;
  services: RunSetupServices;
  /** Each kind of run refuses bad settings with its own error type. */
  refuse: (message: string) => Error;
  /** A check of the endpoint before anything is opened (a first-thought prefix needs a server that continues a message). */
  checkEndpoint?: (profile: EndpointProfile) => void;
  /** Python with sympy for the symbolic check. */
  python?: string;
}

/** Opens what the run shares with the other kind of run; bad settings are refused before anything is opened. */
export async function openRunSetup({ config, roleProfile, services, refuse, checkEndpoint, python }: OpenRunSetupOptions): Promise<RunSetup> {
  const profile: EndpointProfile = {
    ...roleProfile,
    model: config.model.model,
    ...(config.model.baseUrls.length ? { baseUrls: [...config.model.baseUrls] } : {}),
    flavor: config.model.flavor,
    // Each question holds at most one request at a time; the run's concurrency is the request limit.
    concurrency: Math.max(roleProfile.concurrency, config.concurrency),
  };
  checkEndpoint?.(profile);
  const judged = config.scoring.factual === 'judge';
  if (judged && (!services.judgeProfile || services.judgeProfile.baseUrls.length === 0)) {
    throw refuse('factual answers are to be judged by the judge model, but no judge endpoint is configured (set its base URL, or score with exact match)');
  }
  const endpointOptions = { apiKeys: services.apiKeys, onRetry: services.onRetry };
  const endpoint = new ModelEndpoint(profile, endpointOptions);
  const judge = judged && services.judgeProfile ? new ModelEndpoint(services.judgeProfile, endpointOptions) : undefined;
  const judgePrompt = await runJudgePrompt(config.scoring, config.compatibility);
  const retrieval = await openRetrieval(config.retrieval, services);
  const symbolic = new SympyChecker({ python });
  return {
    endpoint,
    retrieval,
    symbolic,
    scorer: { symbolic, judge, f1Threshold: config.scoring.f1Threshold, ...(judgePrompt.judgePrompts ? { judgePrompts: judgePrompt.judgePrompts } : {}) },
    environment: {
      runtime: describeRuntime(),
      retrieval: retrieval?.description ?? 'none',
      ...(judgePrompt.description ? { judgePrompt: judgePrompt.description } : {}),
    },
  };
}

/** The environment-record lines for the agent's prompt profile: which profile and file, and where a reference YAML's texts came from. */
export function promptEnvironment(prompt: { name: string; source: string; format?: string; sourceNote?: string }): Record<string, string> {
  return {
    promptProfile: `${prompt.name} (${path.basename(prompt.source)})`,
    ...(prompt.format === 'reference-yaml' && prompt.sourceNote ? { promptNote: prompt.sourceNote } : {}),
  };
}

/**
 * The sandbox's isolation as the agent reports it once its first worker started (and, with `warm`, after the
 * warm workers started); a failure to start closes the agent and the sympy helper before it is rethrown.
 */
export async function startedIsolation(agent: { isolation(): Promise<string>; warm?(): Promise<void>; close(): Promise<void> }, symbolic: SympyChecker, warm: boolean): Promise<string> {
  try {
    const isolation = await agent.isolation();
    if (warm) await agent.warm?.();
    return isolation;
  } catch (err) {
    await agent.close();
    await symbolic.close();
    throw err;
  }
}
