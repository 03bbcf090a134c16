/** One retrieved passage as the agent's `web_search` tool sees it. */
export interface RetrievedPassage {
  /** Passage id in the index (corpus id). */
  id: string;
  /** Title without quotes (may be empty). */
  title: string;
  /** Passage text without the title line. */
  text: string;
  /**
   * The score printed to the model. For dense search: cosine similarity (inner product of normalised
   * vectors). For full-text search: see the backend's `scoreScale`.
   */
  score: number;
}

/** Where `web_search` gets its passages: a LanceDB index, a community `/retrieve` server, or a test double. */
export interface RetrievalBackend {
  /** Short description for manifests and logs, e.g. `lancedb:/path/to/index (fts)`. */
  readonly description: string;
  search(query: string, topK: number, signal?: AbortSignal): Promise<RetrievedPassage[]>;
  /** Releases what the backend holds open (an index's table), where it holds anything. */
  close?(): void;
}
