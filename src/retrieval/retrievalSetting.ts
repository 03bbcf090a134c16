import { z } from 'zod';
import { HttpRetrievalBackend } from './retrieveApi';
import { type RetrievalBackend } from './types';

/** The index a run's `web_search` uses, as run configs, manifests and command arguments record it. */
export const retrievalSettingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('lancedb'), indexDir: z.string(), mode: z.enum(['fts', 'vector', 'hybrid']).default('fts') }),
  z.object({ kind: z.literal('http'), url: z.string() }),
  z.object({ kind: z.literal('none') }),
]);
export type RetrievalSetting = z.infer<typeof retrievalSettingSchema>;

/**
 * Opens the backend a setting names, for every kind of run (teacher generation, evaluation, quick eval, the
 * CLI's agent commands). A LanceDB index with vectors embeds the query at the embeddings server its manifest
 * names, so the key of that server comes along.
 */
export async function openRetrieval(setting: RetrievalSetting, keys: { embeddingsApiKey?: () => Promise<string | undefined> } = {}): Promise<RetrievalBackend | undefined> {
  if (setting.kind === 'none') return undefined;
  if (setting.kind === 'http') return new HttpRetrievalBackend({ url: setting.url });
  // LanceDB loads a native module: only when a run actually uses an index.
  const { LanceRetrievalBackend } = await import('./lanceIndex');
  const apiKey = await keys.embeddingsApiKey?.();
  return LanceRetrievalBackend.open(setting.indexDir, { mode: setting.mode, ...(apiKey ? { apiKey } : {}) });
}
