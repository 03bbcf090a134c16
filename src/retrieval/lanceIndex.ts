import * as path from 'node:path';
import { freemem } from 'node:os';
import { readdir, rm, stat } from 'node:fs/promises';
import { undefinedIfMissing } from '../runs/durableFile';
import type * as LanceDb from '@lancedb/lancedb';
import { type RetrievalBackend, type RetrievedPassage } from './types';
import { type TextEmbedder, OpenAiEmbeddingsClient, cosineSimilarity } from './embeddings';
import { OnnxFolderEmbedder } from './onnxEmbedder';
import { type EmbeddingInfo, type IndexManifest, ftsColumns, passagesTableName, readManifest } from './indexManifest';
import { type PassageFilter, passageFilterExpression } from './lanceFilter';
import { reciprocalRankFusion } from './reciprocalRankFusion';

/** Loads LanceDB on first use: it is a 180 MB native module that activation must not pay for. */
export function loadLanceDb(): Promise<typeof LanceDb> {
  // Lance's native logger prints warnings to stderr (k-means notes while an IVF index trains, API
  // deprecations) that users cannot act on; keep errors only, unless the user chose a level.
  process.env.LANCEDB_LOG ??= 'error';
  return import('@lancedb/lancedb');
}

export type SearchMode = 'fts' | 'vector' | 'hybrid';
export const searchModes: readonly SearchMode[] = ['fts', 'vector', 'hybrid'];

/**
 * What the printed score means for each mode. Vector and hybrid print cosine similarity (METHOD §3);
 * full-text prints LanceDB's BM25 score as is, because BM25 has no fixed upper bound to normalise by.
 */
export const scoreScales: Record<SearchMode, string> = {
  fts: 'BM25 relevance (title BM25 + text BM25, as LanceDB computes them): 0 or more, unbounded, higher is better; grows with the number of query words matched (about 5–25 for a few-word query); compare only within one query',
  vector: 'cosine similarity of the query and passage embeddings, in [-1, 1]',
  hybrid: 'cosine similarity of the query and passage embeddings, in [-1, 1]; the order comes from reciprocal rank fusion of full-text and vector rankings',
};

/** One search hit with the scores behind it, for tools and views that show more than `web_search` does. */
export interface SearchHit extends RetrievedPassage {
  line: number;
  /** BM25 score when the passage came back from full-text search. */
  bm25?: number;
  /** Cosine similarity when the index has vectors and the query was embedded. */
  similarity?: number;
  /** Fused score in hybrid mode. */
  rrf?: number;
}

export interface SearchOptions {
  mode?: SearchMode;
  topK?: number;
  filter?: PassageFilter;
  /** IVF partitions probed per vector query (ANN index only). */
  nprobes?: number;
  /** Candidates re-scored exactly, as a multiple of k (ANN index only). */
  refineFactor?: number;
  /** Skip the ANN index and scan every vector (exact; for recall measurements). */
  exact?: boolean;
  signal?: AbortSignal;
}

export interface OpenIndexOptions {
  /** Default mode; without it: hybrid when the index has vectors and queries can be embedded, else fts. */
  mode?: SearchMode;
  /** Embeds queries; without it one is made from the manifest (endpoint or ONNX folder). */
  queryEmbedder?: TextEmbedder;
  /** API key for an endpoint named in the manifest. */
  apiKey?: string;
  /**
   * Load the full-text indexes into memory on open, so no query pays for reading posting lists from disk
   * (at 1M passages: 0.5 s and about 400 MB; query p50 8.5 → 3.9 ms). `auto` (the default) prewarms
   * corpora up to `prewarmAutoMaxCorpusBytes` when memory allows; one-off searches pass `never`.
   */
  prewarm?: 'auto' | 'always' | 'never';
}

/** `prewarm: 'auto'` loads the full-text indexes of corpora up to this size (about 1.7M wiki-18 passages). */
export const prewarmAutoMaxCorpusBytes = 1024 * 1024 * 1024;

/** Whether `auto` prewarms: a corpus that is small enough, with free memory for 8 times its size. */
export function shouldPrewarm(setting: OpenIndexOptions['prewarm'], corpusBytes: number, freeMemoryBytes: number): boolean {
  if (setting === 'always') return true;
  if (setting === 'never') return false;
  return corpusBytes <= prewarmAutoMaxCorpusBytes && freeMemoryBytes >= 8 * corpusBytes;
}

/** A query embedder for an index, from what its manifest records; undefined when none can be made. */
export function queryEmbedderFor(embedding: EmbeddingInfo | undefined, apiKey?: string): TextEmbedder | undefined {
  if (!embedding) return undefined;
  const prefixes = { query: embedding.queryPrefix, passage: embedding.passagePrefix };
  if (embedding.baseUrl) return new OpenAiEmbeddingsClient({ baseUrl: embedding.baseUrl, model: embedding.model, apiKey, prefixes });
  if (embedding.modelFolder) return new OnnxFolderEmbedder({ modelFolder: embedding.modelFolder, prefixes });
  return undefined;
}

interface PassageRow {
  id: string;
  title: string;
  text: string;
  line: number;
  vector?: Iterable<number> | null;
  _score?: number;
  _distance?: number;
}

/**
 * A LanceDB index on disk as a `RetrievalBackend`: full-text (BM25), vector (cosine) or hybrid (RRF)
 * search over the `passages` table an index build wrote.
 */
export class LanceRetrievalBackend implements RetrievalBackend {
  readonly mode: SearchMode;
  private constructor(
    readonly indexDir: string,
    readonly manifest: IndexManifest,
    private readonly table: LanceDb.Table,
    private readonly lancedb: typeof LanceDb,
    private readonly queryEmbedder: TextEmbedder | undefined,
    mode: SearchMode | undefined,
    /** Whether `open` loaded the full-text indexes into memory. */
    readonly prewarmed: boolean,
  ) {
    this.mode = mode ?? (manifest.embedding && queryEmbedder ? 'hybrid' : 'fts');
  }

  static async open(indexDir: string, options: OpenIndexOptions = {}): Promise<LanceRetrievalBackend> {
    const dir = path.resolve(indexDir);
    const manifest = await readManifest(dir);
    if (!manifest) throw new Error(`${dir}: not a retrieval index (no studio-index.json); build one with "trajectory-studio index build"`);
    if (!manifest.builtAt) throw new Error(`${dir}: the index build has not finished (${manifest.rows} rows so far); run the build again to resume it`);
    const lancedb = await loadLanceDb();
    const db = await lancedb.connect(dir);
    const table = await db.openTable(passagesTableName);
    const embedder = options.queryEmbedder ?? queryEmbedderFor(manifest.embedding, options.apiKey);
    if (options.mode && options.mode !== 'fts') {
      if (!manifest.embedding) throw new Error(`${dir}: ${options.mode} search needs vectors, and this index has none (rebuild with an embedding model, or search with mode fts)`);
      if (!embedder) throw new Error(`${dir}: ${options.mode} search needs a query embedder for ${manifest.embedding.model}; give an embeddings endpoint`);
    }
    const prewarm = manifest.fts.built && shouldPrewarm(options.prewarm, manifest.corpus.sizeBytes, freemem());
    if (prewarm) {
      for (const index of await table.listIndices()) if (index.indexType === 'FTS') await table.prewarmIndex(index.name);
    }
    return new LanceRetrievalBackend(dir, manifest, table, lancedb, embedder, options.mode, prewarm);
  }

  get description(): string {
    const vectors = this.manifest.embedding ? `, vectors ${this.manifest.embedding.model}` : '';
    return `lancedb:${this.indexDir} (${this.mode}${vectors})`;
  }

  /** What `score` means in this backend's results. */
  get scoreScale(): string {
    return scoreScales[this.mode];
  }

  async search(query: string, topK: number, signal?: AbortSignal): Promise<RetrievedPassage[]> {
    const hits = await this.searchHits(query, { topK, signal });
    return hits.map(({ id, title, text, score }) => ({ id, title, text, score }));
  }

  async searchHits(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const mode = options.mode ?? this.mode;
    const topK = Math.max(1, Math.floor(options.topK ?? 3));
    options.signal?.throwIfAborted();
    if (query.trim() === '') return [];
    const where = passageFilterExpression(options.filter);
    if (mode === 'fts') {
      const rows = await this.fullText(query, topK, where, false);
      return rows.map((r) => ({ ...basePassage(r), score: r._score ?? 0, bm25: r._score }));
    }
    const queryVector = await this.embedQuery(query, options.signal);
    if (mode === 'vector') {
      const rows = await this.nearest(queryVector, topK, where, options);
      return rows.map((r) => {
        const similarity = 1 - (r._distance ?? 1);
        return { ...basePassage(r), score: similarity, similarity };
      });
    }
    // Few candidates per list: RRF's top k rarely comes from deep in either list, and each ANN candidate
    // costs `refineFactor` exact re-scorings (random reads of full vectors).
    const candidates = Math.max(topK * 2, 5);
    // Keep the exact re-scoring work of the vector list what a plain top-k vector search does
    // (k × refineFactor rows) although the list is longer.
    const refineFactor = Math.max(1, Math.ceil(((options.refineFactor ?? this.manifest.ann?.refineFactor ?? 1) * topK) / candidates));
    const [vectorRows, textRows] = await Promise.all([
      this.nearest(queryVector, candidates, where, { ...options, refineFactor }),
      this.fullText(query, candidates, where, true),
    ]);
    const byId = new Map<string, SearchHit>();
    for (const r of textRows) {
      // rows come back with the vector as an Arrow list value: iterable, not indexable
      const similarity = r.vector ? cosineSimilarity(queryVector, Float32Array.from(r.vector)) : undefined;
      byId.set(r.id, { ...basePassage(r), score: similarity ?? 0, bm25: r._score, similarity });
    }
    for (const r of vectorRows) {
      const similarity = 1 - (r._distance ?? 1);
      const existing = byId.get(r.id);
      if (existing) existing.similarity = similarity;
      byId.set(r.id, { ...(existing ?? basePassage(r)), score: similarity, similarity, bm25: existing?.bm25 });
    }
    const fused = reciprocalRankFusion([vectorRows.map((r) => r.id), textRows.map((r) => r.id)]);
    return fused.slice(0, topK).map(({ id, score }) => ({ ...byId.get(id)!, rrf: score }));
  }

  private async embedQuery(query: string, signal?: AbortSignal): Promise<Float32Array> {
    if (!this.manifest.embedding) throw new Error(`${this.indexDir}: this index has no vectors; use full-text search`);
    if (!this.queryEmbedder) throw new Error(`${this.indexDir}: no query embedder for ${this.manifest.embedding.model}; give an embeddings endpoint`);
    const [vector] = await this.queryEmbedder.embedQueries([query], signal);
    if (!vector || vector.length !== this.manifest.embedding.dims) {
      throw new Error(`${this.queryEmbedder.description}: query vector has ${vector?.length ?? 0} dimensions, the index has ${this.manifest.embedding.dims}`);
    }
    return vector;
  }

  private async fullText(query: string, limit: number, where: string | undefined, withVector: boolean): Promise<PassageRow[]> {
    // Match queries take the text as terms: quotes, operators and brackets in what a model typed are
    // searched for as words instead of being parsed as query syntax. SHOULD clauses add the title's and
    // the text's BM25 (a MultiMatchQuery kept only the best column, which ranked a look-alike title first).
    const { BooleanQuery, MatchQuery, Occur } = this.lancedb;
    const q = this.table.query().fullTextSearch(new BooleanQuery(ftsColumns.map((column) => [Occur.Should, new MatchQuery(query, column)])));
    if (where) q.where(where);
    const columns = ['id', 'title', 'text', 'line', '_score'];
    if (withVector) columns.push('vector');
    return (await q.select(columns).limit(limit).toArray()) as PassageRow[];
  }

  private async nearest(vector: Float32Array, limit: number, where: string | undefined, options: SearchOptions): Promise<PassageRow[]> {
    const q = this.table.query().nearestTo(vector).distanceType('cosine').select(['id', 'title', 'text', 'line', '_distance']).limit(limit);
    if (where) q.where(where);
    const ann = this.manifest.ann;
    if (options.exact) q.bypassVectorIndex();
    else if (ann?.state === 'built') q.nprobes(options.nprobes ?? ann.nprobes).refineFactor(options.refineFactor ?? ann.refineFactor);
    return (await q.toArray()) as PassageRow[];
  }

  /** Releases the native table handle. */
  close(): void {
    this.table.close();
  }
}

function basePassage(r: PassageRow): Omit<SearchHit, 'score'> {
  return { id: String(r.id), title: r.title, text: r.text, line: Number(r.line) };
}

/** What the index manager view and `index info` show about one index. */
export interface IndexSummary {
  dir: string;
  manifest: IndexManifest;
  sizeBytes: number;
  indexes: string[];
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export async function describeIndex(indexDir: string): Promise<IndexSummary> {
  const dir = path.resolve(indexDir);
  const manifest = await readManifest(dir);
  if (!manifest) throw new Error(`${dir}: not a retrieval index (no studio-index.json)`);
  const indexes: string[] = [];
  if (manifest.fts.built) indexes.push(`FTS (BM25) on ${manifest.fts.columns.join(', ')}`);
  if (manifest.embedding) indexes.push(`vectors ${manifest.embedding.dims}-d (${manifest.embedding.model})`);
  if (manifest.ann) indexes.push(`IVF_PQ ${manifest.ann.state} (${manifest.ann.numPartitions} partitions, ${manifest.ann.numSubVectors} sub-vectors)`);
  return { dir, manifest, sizeBytes: await folderSize(dir), indexes };
}

/** The indexes directly under a folder (each a folder with a manifest); missing folder → none. */
export async function listIndexes(rootDir: string): Promise<IndexSummary[]> {
  const entries = await undefinedIfMissing(readdir(rootDir, { withFileTypes: true }));
  if (!entries) return [];
  const out: IndexSummary[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = path.join(rootDir, e.name);
    if (!(await readManifest(dir).catch(() => undefined))) continue;
    out.push(await describeIndex(dir));
  }
  return out.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** Deletes an index folder, after checking it really is one (so a wrong path never removes other data). */
export async function deleteIndex(indexDir: string): Promise<void> {
  const dir = path.resolve(indexDir);
  if (!(await readManifest(dir))) throw new Error(`${dir}: not a retrieval index (no studio-index.json); refusing to delete it`);
  await rm(dir, { recursive: true, force: true });
}
