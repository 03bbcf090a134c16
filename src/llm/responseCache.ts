import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonDurably } from '../runs/durableFile';
import { JsonFileError, readVersionedJson, versionedJsonFormat } from '../runs/versionedJson';
import { type ChatChoice, type TokenUsage } from './types';

/** What the cache keeps of a reply: enough to rebuild the result without calling the server. */
export interface CachedReply {
  choices: ChatChoice[];
  usage: TokenUsage;
  model: string;
}

/** A store of replies keyed by the full request. */
export interface ResponseCache {
  get(key: string): Promise<CachedReply | undefined>;
  set(key: string, reply: CachedReply): Promise<void>;
}

/** Serialises with object keys sorted, so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The cache key of a request body: everything sent except the `stream` flags (a streamed and a plain reply
 * are the same generation). The base URL is left out on purpose: replicas behind one profile serve the same model.
 */
export function requestCacheKey(body: object): string {
  const { stream: _stream, stream_options: _streamOptions, ...rest } = body as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** The version of a cache entry this code writes; entries from before the field existed are version 1. */
export const CACHED_REPLY_VERSION = 1;

const cachedReplyFileSchema = z.object({
  schema: z.literal(CACHED_REPLY_VERSION),
  choices: z.array(z.object({ text: z.string(), finishReason: z.enum(['stop', 'length', 'other']), stopString: z.string().optional() })),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
  model: z.string(),
}) satisfies z.ZodType<CachedReply>;

/** How a cache entry is read: a bump of {@link CACHED_REPLY_VERSION} adds the migration from the old version here. */
export const cachedReplyFormat = versionedJsonFormat('a cached model reply', cachedReplyFileSchema, 'schema', CACHED_REPLY_VERSION);

/**
 * Replies on disk, one JSON file per request under `<folder>/<first two hex digits>/<key>.json`, written
 * durably (temp file, fsync, rename) so a crash never leaves a half-written entry. A re-run of a deterministic
 * generation is then free, and a crashed run resumes without paying for what it already got.
 */
export class DiskResponseCache implements ResponseCache {
  constructor(readonly folder: string) {}

  private pathOf(key: string): string {
    return join(this.folder, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedReply | undefined> {
    try {
      const entry = await readVersionedJson(this.pathOf(key), cachedReplyFormat);
      if (!entry) return undefined;
      const { schema: _schema, ...reply } = entry;
      return reply;
    } catch (err) {
      if (err instanceof JsonFileError) throw new Error(`${err.message}; delete it to re-request`);
      throw err;
    }
  }

  async set(key: string, reply: CachedReply): Promise<void> {
    await mkdir(join(this.folder, key.slice(0, 2)), { recursive: true });
    await writeJsonDurably(this.pathOf(key), { schema: CACHED_REPLY_VERSION, ...reply }, { indent: 0 });
  }
}
