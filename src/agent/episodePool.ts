import { type RetrievalBackend } from '../retrieval/types';
import { type EpisodeOptions, SandboxPool } from '../sandbox';
import { type Compatibility } from '../trajectory/compatibility';

/** Passages per `web_search` call (METHOD §3: top 3). */
const passagesPerSearch = 3;

/**
 * The pool of pre-started Python workers an agent's episodes run in (teacher generation and evaluation):
 * each episode gets a fresh state under the run's compatibility profile, with `web_search` answered by the
 * run's retrieval backend.
 */
export function agentEpisodePool(options: { sandbox?: EpisodeOptions; compatibility: Compatibility; retrieval?: RetrievalBackend; warmEpisodes?: number }): SandboxPool {
  const { retrieval } = options;
  return new SandboxPool(
    {
      ...options.sandbox,
      compatibility: options.compatibility,
      ...(retrieval ? { webSearch: (query: string, signal?: AbortSignal) => retrieval.search(query, passagesPerSearch, signal) } : {}),
    },
    Math.max(1, options.warmEpisodes ?? 2),
  );
}
