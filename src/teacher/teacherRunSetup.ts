import { openRunSetup, promptEnvironment, type RunSetupServices, startedIsolation } from '../runs/runSetup';
import { loadPromptProfile } from '../agent/promptProfiles';
import { type ModelEndpoint } from '../llm/modelEndpoint';
import { type EndpointProfile } from '../llm/profiles';
import { type EpisodeOptions } from '../sandbox';
import { assertCanContinueAssistantMessage, TeacherConfigError } from './firstThoughtPrefix';
import { type TeacherRunConfig } from './runConfig';
import { agentEpisodeRunner } from './teacherAgent';
import { type TeacherRunDependencies } from './teacherRun';

/** Where a teacher run gets its servers and Python from: the VS Code settings, or the CLI's flags and environment. */
export interface TeacherRunServices extends RunSetupServices {
  /** The teacher endpoint profile (the run's concurrency raises its request limit when lower). */
  teacherProfile: EndpointProfile;
  sandbox?: EpisodeOptions;
  /** Python workers kept started ahead of need (default: up to 4). */
  warmEpisodes?: number;
  /** Python for the symbolic check (the sandbox's interpreter by default). */
  python?: string;
  /** Folders with the user's own prompt profiles. */
  promptFolders?: string[];
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
  const setup = await openRunSetup({
    config: { ...config, model: config.teacher },
    roleProfile: services.teacherProfile,
    services,
    refuse: (message) => new TeacherConfigError(message),
    checkEndpoint: (profile) => {
      if (config.firstThoughtPrefix) assertCanContinueAssistantMessage(profile);
    },
    python: services.python ?? (services.sandbox?.interpreter || undefined),
  });
  const { endpoint: teacher, retrieval, symbolic } = setup;
  const prompt = await loadPromptProfile(config.promptProfile ?? 'teacher', services.promptFolders ?? []);
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
  const isolation = await startedIsolation(agent, symbolic, false);
  const environment: Record<string, string> = {
    ...setup.environment,
    sandbox: isolation,
    teacherBaseUrls: teacher.profile.baseUrls.join(', '),
    ...promptEnvironment(prompt),
  };
  return {
    teacher,
    deps: {
      runEpisode: agent.runEpisode,
      cot: config.firstThoughtPrefix ? teacher : undefined,
      scorer: setup.scorer,
      environment,
    },
    close: async () => {
      await agent.close();
      await symbolic.close();
    },
  };
}
