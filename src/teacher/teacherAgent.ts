import { type ChatCompleter, runAgentEpisode } from '../agent/agentLoop';
import { type PromptProfile } from '../agent/promptProfiles';
import { agentEpisodePool } from '../agent/episodePool';
import { type SamplingSettings } from '../llm/types';
import { type RetrievalBackend } from '../retrieval/types';
import { type EpisodeOptions } from '../sandbox';
import { type Compatibility } from '../trajectory/compatibility';
import { type TeacherEpisodeRunner } from './teacherRun';

export interface TeacherAgentSettings {
  endpoint: ChatCompleter;
  prompt: PromptProfile;
  /** Where `web_search` looks; without one the tool raises an error the model can read. */
  retrieval?: RetrievalBackend;
  maxSteps: number;
  /** Sampling of the agent calls (greedy by default, METHOD §1). */
  sampling?: Partial<SamplingSettings>;
  /** How the Python sandbox is started (interpreter, isolation, limits). */
  sandbox?: EpisodeOptions;
  /** Python workers started ahead of time. */
  warmEpisodes?: number;
  /** Whose rules the observations follow (the sandbox and the loop both get it). Default `studio`. */
  compatibility?: Compatibility;
}


/**
 * The teacher's episodes through the product's agent loop and sandbox: a fresh Python state per question
 * from a pool of pre-started workers, `web_search` answered by the retrieval backend. `close` stops the
 * waiting workers.
 */
export function agentEpisodeRunner(settings: TeacherAgentSettings): { runEpisode: TeacherEpisodeRunner; isolation: () => Promise<string>; close: () => Promise<void> } {
  const retrieval = settings.retrieval;
  const compatibility = settings.compatibility ?? 'studio';
  const pool = agentEpisodePool({ ...(settings.sandbox ? { sandbox: settings.sandbox } : {}), compatibility, ...(retrieval ? { retrieval } : {}), ...(settings.warmEpisodes !== undefined ? { warmEpisodes: settings.warmEpisodes } : {}) });
  const runEpisode: TeacherEpisodeRunner = async ({ task, firstThought, signal, onEvent }) => {
    const episode = await pool.acquire();
    try {
      const thought = await firstThought;
      return await runAgentEpisode({
        task,
        endpoint: settings.endpoint,
        episode,
        prompt: settings.prompt,
        originKind: 'teacher',
        mode: { kind: 'greedy' },
        maxSteps: settings.maxSteps,
        compatibility,
        ...(settings.sampling ? { sampling: settings.sampling } : {}),
        ...(thought ? { firstThoughtPrefix: thought.prefix, cotReply: thought.cotReply } : {}),
        signal,
      }, onEvent);
    } finally {
      await episode.close();
    }
  };
  return { runEpisode, isolation: () => pool.isolation(), close: () => pool.close() };
}
