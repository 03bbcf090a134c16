import * as path from 'node:path';
import { z } from 'zod';
import { type CorpusFormat, type CorpusPosition } from './corpusFormats';
import { writeJsonDurably } from '../runs/durableFile';
import { readVersionedJson, versionedJsonFormat } from '../runs/versionedJson';

/** Where the dense vectors of an index came from, and how to embed queries against them. */
export const embeddingInfoSchema = z.object({
  source: z.enum(['openai-endpoint', 'onnx-folder', 'faiss-flat']),
  /** Model name (`intfloat/e5-base-v2`); for an ONNX folder, the folder name. */
  model: z.string(),
  dims: z.number(),
  queryPrefix: z.string(),
  passagePrefix: z.string(),
  /** OpenAI-compatible base URL that embeds queries (`openai-endpoint`, or `faiss-flat` when given). */
  baseUrl: z.string().optional(),
  /** Absolute path of the ONNX model folder (`onnx-folder`). */
  modelFolder: z.string().optional(),
  /** Absolute path of the imported FAISS file (`faiss-flat`). */
  faissFile: z.string().optional(),
});
export type EmbeddingInfo = z.infer<typeof embeddingInfoSchema>;

export const annInfoSchema = z.object({
  kind: z.literal('IVF_PQ'),
  state: z.enum(['building', 'built', 'failed']),
  numPartitions: z.number(),
  numSubVectors: z.number(),
  /** Default query settings recorded with the index; recall@k was measured with them (see bench/retrieval). */
  nprobes: z.number(),
  refineFactor: z.number(),
  builtAt: z.string().optional(),
  error: z.string().optional(),
});
export type AnnInfo = z.infer<typeof annInfoSchema>;

const corpusFormatSchema = z.enum(['wiki18-jsonl', 'title-text-jsonl', 'dpr-tsv']) satisfies z.ZodType<CorpusFormat>;
const corpusPositionSchema = z.object({
  byteOffset: z.number(),
  linesConsumed: z.number(),
  recordsConsumed: z.number(),
}) satisfies z.ZodType<CorpusPosition>;

/** The version of `studio-index.json` this code writes; older ones migrate on read (see {@link indexManifestFormat}). */
export const INDEX_MANIFEST_VERSION = 1;

/**
 * `studio-index.json`, kept next to the LanceDB table: what the index holds and how far its build got.
 * It is rewritten (durably) after every batch, so it doubles as the resume checkpoint.
 */
export const indexManifestSchema = z.object({
  schema: z.literal(INDEX_MANIFEST_VERSION),
  name: z.string(),
  createdAt: z.string(),
  /** When the passages and the full-text index were complete (the index is searchable from then on). */
  builtAt: z.string().optional(),
  corpus: z.object({ path: z.string(), format: corpusFormatSchema, sizeBytes: z.number(), mtimeMs: z.number() }),
  rows: z.number(),
  badRows: z.number(),
  progress: corpusPositionSchema.extend({ complete: z.boolean() }),
  fts: z.object({ built: z.boolean(), columns: z.array(z.string()) }),
  embedding: embeddingInfoSchema.optional(),
  ann: annInfoSchema.optional(),
});
export type IndexManifest = z.infer<typeof indexManifestSchema>;

/** How `studio-index.json` is read: a bump of {@link INDEX_MANIFEST_VERSION} adds the migration from the old version here. */
export const indexManifestFormat = versionedJsonFormat('a Trajectory Studio index manifest', indexManifestSchema, 'schema', INDEX_MANIFEST_VERSION);

export const manifestFileName = 'studio-index.json';
export const badRowsFileName = 'bad-rows.jsonl';
export const passagesTableName = 'passages';
export const ftsColumns = ['title', 'text'];

export function manifestPath(indexDir: string): string {
  return path.join(indexDir, manifestFileName);
}

export async function readManifest(indexDir: string): Promise<IndexManifest | undefined> {
  return readVersionedJson(manifestPath(indexDir), indexManifestFormat);
}

/** Writes the manifest durably, so a kill never leaves half a checkpoint. */
export async function writeManifest(indexDir: string, manifest: IndexManifest): Promise<void> {
  await writeJsonDurably(manifestPath(indexDir), manifest);
}
