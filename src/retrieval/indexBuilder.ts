import * as path from 'node:path';
import { appendFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import type * as Arrow from 'apache-arrow';
import type * as LanceDb from '@lancedb/lancedb';
import { type CorpusFormat, type CorpusPassage, type CorpusPosition, detectCorpusFormat, readCorpus, startOfCorpus } from './corpusFormats';
import { type TextEmbedder, normalizeInPlace } from './embeddings';
import { FaissFlatReader } from './faissFlatIndex';
import {
  type AnnInfo,
  type EmbeddingInfo,
  type IndexManifest,
  badRowsFileName,
  ftsColumns,
  manifestFileName,
  passagesTableName,
  readManifest,
  writeManifest,
} from './indexManifest';
import { loadLanceDb } from './lanceIndex';
import { passageContents } from './webSearchText';
import { formatDuration } from '../environment/durationText';

/** Where the vectors of a build come from (none: a full-text-only index). */
export type VectorSource =
  | { kind: 'embedder'; embedder: TextEmbedder; info: Omit<EmbeddingInfo, 'dims'> }
  | { kind: 'faiss'; file: string; info: Omit<EmbeddingInfo, 'dims' | 'source' | 'faissFile'> };

export interface AnnOptions {
  /** `auto`: build IVF_PQ when the index has vectors and at least `annMinRows` rows. */
  mode: 'auto' | 'none' | 'ivf-pq';
  numPartitions?: number;
  numSubVectors?: number;
  nprobes?: number;
  refineFactor?: number;
  /** Training vectors per IVF partition for k-means (LanceDB's default is 256). */
  sampleRate?: number;
  /** k-means iterations for the IVF centroids (LanceDB's default is 50). */
  maxIterations?: number;
}

export interface BuildIndexOptions {
  corpus: string;
  indexDir: string;
  format?: CorpusFormat;
  /** Display name; the folder name by default. */
  name?: string;
  vectors?: VectorSource;
  /** Passages per write (and per embedding round). */
  batchSize?: number;
  /** Build the BM25 full-text index (default true). */
  fts?: boolean;
  ann?: AnnOptions;
  /** Throw away an unfinished or finished index in the folder and start over. */
  restart?: boolean;
  signal?: AbortSignal;
}

/** Progress of a build, as an async stream (the CLI prints it, VS Code shows it in a notification). */
export type BuildEvent =
  | { kind: 'started'; resumed: boolean; rows: number; totalBytes: number; format: CorpusFormat; message: string }
  | {
      kind: 'progress';
      rows: number;
      badRows: number;
      bytesRead: number;
      totalBytes: number;
      rowsPerSecond: number;
      /** Seconds left for the passage import, from the bytes still to read; undefined until a rate is known. */
      etaSeconds?: number;
      fraction: number;
      message: string;
    }
  | { kind: 'bad-row'; line: number; reason: string; message: string }
  | { kind: 'phase'; phase: 'compact' | 'fts' | 'ann'; message: string }
  | { kind: 'done'; manifest: IndexManifest; message: string };

/** Below this many rows a flat vector scan is fast enough that an ANN index is not worth building. */
export const annMinRows = 20_000;

/**
 * Titles are mostly names, where stemming conflates different things (Porter turns "Ardell" into "ardel",
 * so "Comet Ardel" matched "Comet Ardell" equally); passage text is stemmed so "discovered" finds
 * "discovery". Stop words are removed and accents folded in both.
 */
export function ftsOptionsFor(column: string): { stem: boolean } {
  return { stem: column !== 'title' };
}

/**
 * The largest divisor of `dims` that is at most dims/4: PQ sub-vectors of about 4 dimensions, as for
 * 768 → 192. Measured on 100k synthetic 768-d vectors (bench/retrieval/sweep.ts): with 8-dimension
 * sub-vectors recall@3 needed refine factor 20 to reach 0.99 and nprobes did not help; with 4 it does at
 * refine 10. The codes are twice as large (192 bytes a vector), still 1/16 of the vectors.
 */
export function defaultSubVectors(dims: number): number {
  for (let s = Math.max(1, Math.floor(dims / 4)); s > 1; s--) if (dims % s === 0) return s;
  return 1;
}

/**
 * IVF partitions: √rows / 2 (500 at 1M rows, 2,300 at 21M). LanceDB trains its k-means on `sampleRate`
 * vectors per partition, all in memory, so these two set the build's memory: at 1M 768-d rows, √rows
 * partitions at LanceDB's default rate of 256 peaked at 1.7 GB; 512 partitions at rate 128 at 0.95 GB,
 * with recall@3 1.00 at nprobes 5 / refine 10 (bench/retrieval).
 */
export function defaultPartitions(rows: number): number {
  return Math.max(1, Math.round(Math.sqrt(rows) / 2));
}
export const defaultAnnSampleRate = 128;
export const defaultAnnMaxIterations = 20;
/**
 * Query settings recorded with a new IVF_PQ index, measured on 1M synthetic 768-d vectors with the
 * defaults above (bench/retrieval/sweep.ts): recall@3 against exact search 0.97–1.00 at refine factor 20
 * and 0.90–1.00 at 10 over three builds, nprobes 5 and 10 alike; a query costs about 5 ms.
 */
export const defaultAnnQuery = { nprobes: 10, refineFactor: 20 } as const;


interface PendingBatch {
  passages: CorpusPassage[];
  bad: { line: number; reason: string }[];
  position: CorpusPosition;
}

/**
 * Builds (or resumes building) a retrieval index from a passage corpus: streams the corpus into a
 * LanceDB table in batches, checkpointing after each, then builds the BM25 index and, with vectors,
 * the IVF_PQ index. The index is searchable as soon as the `fts` phase ends; the ANN index comes last
 * because it is the slow step (minutes per million vectors) and vector search works without it.
 */
export async function* buildIndex(options: BuildIndexOptions): AsyncGenerator<BuildEvent> {
  const signal = options.signal;
  const indexDir = path.resolve(options.indexDir);
  const corpus = path.resolve(options.corpus);
  const corpusStat = await stat(corpus).catch(() => undefined);
  if (!corpusStat?.isFile()) throw new Error(`${corpus}: corpus file not found`);
  const format = options.format ?? (await detectCorpusFormat(corpus));
  // Embedding rounds stay small so progress moves; imported vectors (3 KB each at 768-d) come in 5k-row
  // batches, because every batch is held several times over (file read, Arrow, the write in flight).
  const batchSize = Math.max(1, options.batchSize ?? (options.vectors?.kind === 'embedder' ? 1024 : options.vectors?.kind === 'faiss' ? 5000 : 20_000));

  await mkdir(indexDir, { recursive: true });
  if (options.restart) await clearIndexFolder(indexDir);
  let manifest = await readManifest(indexDir);
  if (!manifest && (await readdir(indexDir)).length > 0) {
    throw new Error(`${indexDir}: the folder is not empty and holds no index; choose an empty or new folder`);
  }
  const resumed = manifest !== undefined;
  if (manifest) checkResumable(indexDir, manifest, corpus, format, corpusStat, options.vectors);

  const lancedb = await loadLanceDb();
  const arrow = await import('apache-arrow');
  const db = await lancedb.connect(indexDir);

  let faiss: FaissFlatReader | undefined;
  try {
    let dims = manifest?.embedding?.dims;
    if (options.vectors?.kind === 'faiss') {
      faiss = await FaissFlatReader.open(options.vectors.file);
      dims = faiss.header.dims;
    } else if (options.vectors?.kind === 'embedder' && dims === undefined) {
      const [probe] = await options.vectors.embedder.embedPassages(['dimension probe'], signal);
      dims = probe.length;
    }
    if (!manifest) {
      manifest = {
        schema: 1,
        name: options.name ?? path.basename(indexDir),
        createdAt: new Date().toISOString(),
        corpus: { path: corpus, format, sizeBytes: corpusStat.size, mtimeMs: corpusStat.mtimeMs },
        rows: 0,
        badRows: 0,
        progress: { ...startOfCorpus, complete: false },
        fts: { built: false, columns: ftsColumns },
        embedding: embeddingInfo(options.vectors, dims),
      };
    }
    const schema = passageSchema(arrow, dims);
    let table: LanceDb.Table;
    if ((await db.tableNames()).includes(passagesTableName)) {
      table = await db.openTable(passagesTableName);
      // A kill between a write and its checkpoint leaves rows the manifest does not count: drop them,
      // they are read again from the corpus.
      const stored = await table.countRows();
      if (stored !== manifest.rows) await table.delete(`line > ${manifest.progress.linesConsumed}`);
    } else {
      table = await db.createEmptyTable(passagesTableName, schema);
    }
    await writeManifest(indexDir, manifest);

    const state = manifest;
    yield {
      kind: 'started',
      resumed,
      rows: state.rows,
      totalBytes: corpusStat.size,
      format,
      message: resumed ? `Resuming ${path.basename(corpus)} at line ${state.progress.linesConsumed + 1} (${state.rows} rows already in)` : `Importing ${path.basename(corpus)} (${format})`,
    };

    if (!state.progress.complete) {
      const started = performance.now();
      const startBytes = state.progress.byteOffset;
      const startRows = state.rows;
      let pendingWrite: Promise<void> | undefined;
      const flush = (batch: PendingBatch): Promise<void> =>
        (async () => {
          const vectors = await vectorsFor(batch.passages, options.vectors, faiss, signal);
          if (batch.passages.length) await table.add(passageBatch(arrow, schema, batch.passages, vectors, dims));
          if (batch.bad.length) await appendFile(path.join(indexDir, badRowsFileName), batch.bad.map((b) => `${JSON.stringify(b)}\n`).join(''));
          state.rows += batch.passages.length;
          state.badRows += batch.bad.length;
          state.progress = { ...batch.position, complete: false };
          await writeManifest(indexDir, state);
        })();
      let batch: PendingBatch = { passages: [], bad: [], position: state.progress };
      const progressEvent = (): BuildEvent => {
        const seconds = (performance.now() - started) / 1000;
        const rowsPerSecond = seconds > 0 ? (state.rows - startRows) / seconds : 0;
        const bytesRead = state.progress.byteOffset;
        const bytesPerSecond = seconds > 0 ? (bytesRead - startBytes) / seconds : 0;
        const etaSeconds = bytesPerSecond > 0 ? (corpusStat.size - bytesRead) / bytesPerSecond : undefined;
        const fraction = corpusStat.size > 0 ? Math.min(1, bytesRead / corpusStat.size) : 1;
        return {
          kind: 'progress',
          rows: state.rows,
          badRows: state.badRows,
          bytesRead,
          totalBytes: corpusStat.size,
          rowsPerSecond,
          etaSeconds,
          fraction,
          message: `${state.rows.toLocaleString('en-US')} rows (${Math.round(fraction * 100)}%), ${Math.round(rowsPerSecond).toLocaleString('en-US')} rows/s, ETA ${etaSeconds === undefined ? '?' : formatDuration(etaSeconds * 1000)}${state.badRows ? `, ${state.badRows} bad rows skipped` : ''}`,
        };
      };
      try {
        for await (const item of readCorpus(corpus, format, state.progress, signal)) {
          if (item.kind === 'bad') {
            batch.bad.push({ line: item.bad.line, reason: item.bad.reason });
            yield { kind: 'bad-row', line: item.bad.line, reason: item.bad.reason, message: `${corpus}:${item.bad.line}: skipped: ${item.bad.reason}` };
          } else {
            batch.passages.push(item.passage);
          }
          batch.position = item.position;
          if (batch.passages.length >= batchSize) {
            // Parse the next batch while this one is embedded and written; at most one write in flight,
            // so checkpoints stay in corpus order.
            if (pendingWrite) {
              await pendingWrite;
              yield progressEvent();
            }
            pendingWrite = flush(batch);
            batch = { passages: [], bad: [], position: item.position };
          }
        }
      } finally {
        // never leave a write running (or its rejection unobserved) when the import stops early
        if (pendingWrite) {
            await pendingWrite.catch((err: unknown) => {
              if (!signal?.aborted) throw err;
            });
          }
      }
      await flush(batch);
      state.progress = { ...state.progress, complete: true };
      await writeManifest(indexDir, state);
      yield progressEvent();
    }

    if (!state.builtAt) {
      // Compact the many small write batches into large fragments before indexing: queries scan fewer
      // files, and the indexes are not remapped by a later compaction.
      yield { kind: 'phase', phase: 'compact', message: 'Compacting the table' };
      await table.optimize({ cleanupOlderThan: new Date() });
      // The call above keeps the version that was current when it began, which holds every small
      // fragment again (a second copy of the data); now that the compacted version is current, drop it.
      await table.optimize({ cleanupOlderThan: new Date() });
    }
    if ((options.fts ?? true) && !state.fts.built) {
      signal?.throwIfAborted();
      yield { kind: 'phase', phase: 'fts', message: `Building the full-text (BM25) index over ${state.rows.toLocaleString('en-US')} rows` };
      for (const column of ftsColumns) await table.createIndex(column, { config: lancedb.Index.fts(ftsOptionsFor(column)), replace: true });
      state.fts = { built: true, columns: ftsColumns };
    }
    state.builtAt ??= new Date().toISOString();
    await writeManifest(indexDir, state);

    const ann = options.ann ?? { mode: 'auto' };
    const wantAnn = state.embedding !== undefined && dims !== undefined && (ann.mode === 'ivf-pq' || (ann.mode === 'auto' && state.rows >= annMinRows));
    if (wantAnn && dims !== undefined && state.ann?.state !== 'built') {
      signal?.throwIfAborted();
      const info: AnnInfo = {
        kind: 'IVF_PQ',
        state: 'building',
        numPartitions: ann.numPartitions ?? defaultPartitions(state.rows),
        numSubVectors: ann.numSubVectors ?? defaultSubVectors(dims),
        nprobes: ann.nprobes ?? defaultAnnQuery.nprobes,
        refineFactor: ann.refineFactor ?? defaultAnnQuery.refineFactor,
      };
      state.ann = info;
      await writeManifest(indexDir, state);
      yield { kind: 'phase', phase: 'ann', message: `Building the IVF_PQ index (${info.numPartitions} partitions); search already works without it` };
      try {
        await table.createIndex('vector', {
          config: lancedb.Index.ivfPq({
            distanceType: 'cosine',
            numPartitions: info.numPartitions,
            numSubVectors: info.numSubVectors,
            sampleRate: ann.sampleRate ?? defaultAnnSampleRate,
            maxIterations: ann.maxIterations ?? defaultAnnMaxIterations,
          }),
          replace: true,
        });
        state.ann = { ...info, state: 'built', builtAt: new Date().toISOString() };
      } catch (err) {
        state.ann = { ...info, state: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
      await writeManifest(indexDir, state);
    }
    // No optimize() after the IVF_PQ build: LanceDB's index optimisation merges partitions it finds small,
    // which turned 500 partitions into 176 (and 1,000 into 31) and cut recall@3 to 0.66. Superseded
    // versions were already removed after the compaction, before any index existed.
    table.close();
    yield { kind: 'done', manifest: state, message: `Index ready: ${state.rows.toLocaleString('en-US')} rows${state.badRows ? `, ${state.badRows} bad rows skipped (see ${badRowsFileName})` : ''}` };
  } finally {
    await faiss?.close();
  }
}

function embeddingInfo(vectors: VectorSource | undefined, dims: number | undefined): EmbeddingInfo | undefined {
  if (!vectors || dims === undefined) return undefined;
  if (vectors.kind === 'faiss') return { ...vectors.info, source: 'faiss-flat', faissFile: path.resolve(vectors.file), dims };
  return { ...vectors.info, dims };
}

function checkResumable(
  indexDir: string,
  manifest: IndexManifest,
  corpus: string,
  format: CorpusFormat,
  corpusStat: { size: number; mtimeMs: number },
  vectors: VectorSource | undefined,
): void {
  if (manifest.corpus.path !== corpus) throw new Error(`${indexDir}: this index was built from ${manifest.corpus.path}, not ${corpus}; use another folder or restart the build`);
  if (manifest.corpus.format !== format) throw new Error(`${corpus}: this index was read as ${manifest.corpus.format}, not ${format}; restart the build to change it`);
  if (!manifest.progress.complete && (manifest.corpus.sizeBytes !== corpusStat.size || manifest.corpus.mtimeMs !== corpusStat.mtimeMs)) {
    throw new Error(`${corpus}: the corpus changed since the interrupted build began; restart the build`);
  }
  const hadVectors = manifest.embedding !== undefined;
  if (!manifest.progress.complete && hadVectors !== (vectors !== undefined)) {
    throw new Error(`${corpus}: the interrupted build ${hadVectors ? 'had' : 'had no'} vectors; resume it with the same embedding options, or restart`);
  }
}

/** Removes a previous build (our files and the LanceDB table) but nothing else in the folder. */
async function clearIndexFolder(indexDir: string): Promise<void> {
  await rm(path.join(indexDir, `${passagesTableName}.lance`), { recursive: true, force: true });
  await rm(path.join(indexDir, badRowsFileName), { force: true });
  await rm(path.join(indexDir, manifestFileName), { force: true });
}

function passageSchema(arrow: typeof Arrow, dims: number | undefined): Arrow.Schema {
  const fields: Arrow.Field[] = [
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('title', new arrow.Utf8(), false),
    new arrow.Field('text', new arrow.Utf8(), false),
    new arrow.Field('line', new arrow.Int32(), false),
  ];
  if (dims !== undefined) fields.push(new arrow.Field('vector', new arrow.FixedSizeList(dims, new arrow.Field('item', new arrow.Float32(), true)), false));
  return new arrow.Schema(fields);
}

function passageBatch(arrow: typeof Arrow, schema: Arrow.Schema, passages: CorpusPassage[], vectors: Float32Array | undefined, dims: number | undefined): Arrow.Table {
  const n = passages.length;
  const children: Arrow.Data[] = [
    utf8Column(arrow, passages.map((p) => p.id)),
    utf8Column(arrow, passages.map((p) => p.title)),
    utf8Column(arrow, passages.map((p) => p.text)),
    arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(passages, (p) => p.line) }),
  ];
  if (vectors && dims !== undefined) {
    const values = arrow.makeData({ type: new arrow.Float32(), length: vectors.length, data: vectors });
    children.push(arrow.makeData({ type: schema.fields[4].type as Arrow.FixedSizeList, length: n, nullCount: 0, child: values }));
  }
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}

/**
 * A non-null Utf8 column written straight into one buffer. apache-arrow's `vectorFromArray` builds it
 * about three times slower, which at 21M passages is most of the import time.
 */
function utf8Column(arrow: typeof Arrow, values: readonly string[]): Arrow.Data<Arrow.Utf8> {
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    total += Buffer.byteLength(values[i], 'utf8');
    offsets[i + 1] = total;
  }
  const data = Buffer.allocUnsafe(total);
  for (let i = 0; i < values.length; i++) data.write(values[i], offsets[i], 'utf8');
  return arrow.makeData({ type: new arrow.Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data });
}

async function vectorsFor(passages: CorpusPassage[], source: VectorSource | undefined, faiss: FaissFlatReader | undefined, signal?: AbortSignal): Promise<Float32Array | undefined> {
  if (!source || passages.length === 0) return undefined;
  if (source.kind === 'embedder') {
    const embedded = await source.embedder.embedPassages(passages.map(passageContents), signal);
    const dims = embedded[0].length;
    const out = new Float32Array(passages.length * dims);
    embedded.forEach((v, i) => {
      if (v.length !== dims) throw new Error(`${source.embedder.description}: embeddings of different sizes (${dims} and ${v.length})`);
      out.set(v, i * dims);
    });
    return out;
  }
  // FAISS rows follow corpus records one to one (bad records included), so read the covering range and pick.
  const reader = faiss!;
  const first = passages[0].recordIndex;
  const last = passages[passages.length - 1].recordIndex;
  const range = await reader.readRange(first, last - first + 1);
  const dims = reader.header.dims;
  if (last - first + 1 === passages.length) {
    // no bad rows in this batch: the range is already in passage order
    for (let i = 0; i < passages.length; i++) normalizeInPlace(range.subarray(i * dims, (i + 1) * dims));
    return range;
  }
  const out = new Float32Array(passages.length * dims);
  passages.forEach((p, i) => {
    const v = range.slice((p.recordIndex - first) * dims, (p.recordIndex - first + 1) * dims);
    out.set(normalizeInPlace(v), i * dims);
  });
  return out;
}
