/**
 * Retrieval benchmark: a synthetic Wikipedia-like corpus (wiki-18 JSONL with realistic Zipf word
 * frequencies) plus a FAISS IndexFlatIP file of 768-d vectors, imported through the product's own build
 * path (a worker process running `buildIndex`, as VS Code and the CLI run it), then queried through
 * `LanceRetrievalBackend` opened as the long-running users open it (full-text indexes prewarmed when small).
 *
 *   node --import tsx bench/retrieval/run.ts                 # 1,000,000 passages (about 8 min on 2 cores)
 *   node --import tsx bench/retrieval/run.ts --rows 50000    # a quick development run
 *   RETRIEVAL_BENCH_ROWS=100000 node --import tsx bench/retrieval/run.ts
 *
 * Options: --rows N, --dims D (768), --queries N (200), --recall-queries N (30), --dir PATH (kept
 * afterwards; a temp folder otherwise, removed at the end).
 *
 * Prints: ingest rows/s, compaction, FTS and IVF_PQ build times, FTS / vector / hybrid top-3 p50 and p95,
 * recall@3 of the ANN index against exact search, disk size, and the peak RSS of the build process and of
 * the querying process, against the targets.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildIndexInWorker } from '../../src/retrieval/indexBuildProcess';
import { LanceRetrievalBackend, describeIndex } from '../../src/retrieval/lanceIndex';
import { type TextEmbedder, normalizeInPlace } from '../../src/retrieval/embeddings';
import { faissFlatIpHeader } from '../../src/retrieval/faissFlatIndex';

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    dims: { type: 'string' },
    queries: { type: 'string' },
    'recall-queries': { type: 'string' },
    dir: { type: 'string' },
  },
});
const rows = Number(values.rows ?? process.env.RETRIEVAL_BENCH_ROWS ?? 1_000_000);
const dims = Number(values.dims ?? 768);
const queryCount = Number(values.queries ?? 200);
const recallQueries = Number(values['recall-queries'] ?? 30);
const keep = values.dir !== undefined;
const workDir = values.dir ? path.resolve(values.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'retrieval-bench-'));
fs.mkdirSync(workDir, { recursive: true });

// ---- deterministic synthetic data ----------------------------------------------------------------
let seed = 20261122;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function gaussian(): number {
  return Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}
const syllables = ['ka', 'lo', 'mi', 'ten', 'sar', 'vo', 'ri', 'dan', 'el', 'po', 'qua', 'zen', 'tor', 'ba', 'nu', 'shi', 'ge', 'ul', 'fra', 'wen'];
function pseudoWord(i: number): string {
  let w = '';
  let n = i + 1;
  while (n > 0) {
    w += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  }
  return w;
}
const vocabularySize = 60_000;
const vocabulary = Array.from({ length: vocabularySize }, (_, i) => pseudoWord(i));
// Zipf(1.05) cumulative distribution over the vocabulary ranks
const cdf = new Float64Array(vocabularySize);
let acc = 0;
for (let r = 0; r < vocabularySize; r++) cdf[r] = acc += 1 / Math.pow(r + 1, 1.05);
function zipfWord(): string {
  const u = random() * acc;
  let lo = 0;
  let hi = vocabularySize - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return vocabulary[lo];
}
const topics = 1000;
const topicWords = Array.from({ length: topics }, (_, t) => Array.from({ length: 12 }, (_, k) => `${pseudoWord(vocabularySize + t * 12 + k)}x`));
const centres = Array.from({ length: topics }, () => normalizeInPlace(Float32Array.from({ length: dims }, gaussian)));
/** Per-dimension noise around a topic centre: the noise vector's norm is about 0.8, so topics overlap. */
const noisePerDim = 0.03;
function passageVector(topic: number, out: Float32Array, offset: number): void {
  const c = centres[topic];
  let sum = 0;
  for (let d = 0; d < dims; d++) {
    const v = c[d] + noisePerDim * gaussian();
    out[offset + d] = v;
    sum += v * v;
  }
  const norm = Math.sqrt(sum);
  for (let d = 0; d < dims; d++) out[offset + d] /= norm;
}

interface QuerySpec {
  text: string;
  vector: Float32Array;
}

function generate(corpusFile: string, faissFile: string): QuerySpec[] {
  const started = performance.now();
  const corpusFd = fs.openSync(corpusFile, 'w');
  const faissFd = fs.openSync(faissFile, 'w');
  fs.writeSync(faissFd, faissFlatIpHeader(dims, rows));
  const chunk = 10_000;
  const queryEvery = Math.max(1, Math.floor(rows / queryCount));
  const queries: QuerySpec[] = [];
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const vectors = new Float32Array(n * dims);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = start + i;
      const topic = Math.floor(random() * topics);
      const words = (count: number): string[] =>
        Array.from({ length: count }, () => (random() < 0.15 ? topicWords[topic][Math.floor(random() * 12)] : zipfWord()));
      const title = words(3 + Math.floor(random() * 6)).join(' ');
      const textWords = words(80 + Math.floor(random() * 41));
      lines.push(JSON.stringify({ id: String(id), contents: `"${title}"\n${textWords.join(' ')}.` }));
      passageVector(topic, vectors, i * dims);
      if (id % queryEvery === 0 && queries.length < queryCount) {
        // a query: two of the passage's topic words and one of its rarer words; its vector is near the passage's
        const rare = [...textWords].sort((a, b) => b.length - a.length)[0];
        const text = `${topicWords[topic][Math.floor(random() * 12)]} ${topicWords[topic][Math.floor(random() * 12)]} ${rare}`;
        const q = vectors.slice(i * dims, (i + 1) * dims);
        for (let d = 0; d < dims; d++) q[d] += 0.02 * gaussian();
        queries.push({ text, vector: normalizeInPlace(q) });
      }
    }
    fs.writeSync(corpusFd, `${lines.join('\n')}\n`);
    fs.writeSync(faissFd, Buffer.from(vectors.buffer));
  }
  fs.closeSync(corpusFd);
  fs.closeSync(faissFd);
  console.log(`generated ${rows.toLocaleString('en-US')} passages + ${dims}-d FAISS flat file in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return queries;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function timeQueries(label: string, queries: QuerySpec[], run: (q: QuerySpec) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (const q of queries.slice(0, 5)) await run(q); // warm-up: first queries load index pages
  const samples: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    await run(q);
    samples.push(performance.now() - t0);
  }
  const result = { p50: percentile(samples, 50), p95: percentile(samples, 95) };
  console.log(`${label.padEnd(34)} p50 ${fmt(result.p50).padStart(9)}   p95 ${fmt(result.p95).padStart(9)}   (${queries.length} queries)`);
  return result;
}

async function main(): Promise<void> {
  console.log(`retrieval bench: ${rows.toLocaleString('en-US')} passages, ${dims}-d vectors, in ${workDir}; ${os.cpus().length} cores`);
  const corpusFile = path.join(workDir, 'corpus.jsonl');
  const faissFile = path.join(workDir, 'vectors.index');
  const indexDir = path.join(workDir, 'index');
  fs.rmSync(indexDir, { recursive: true, force: true });
  const queries = generate(corpusFile, faissFile);
  const rssAfterGeneration = process.resourceUsage().maxRSS * 1024;

  const phaseTimes: Record<string, number> = {};
  let phase = 'ingest';
  let phaseStart = performance.now();
  let lastRate = 0;
  let buildPeakRss = 0;
  // The build runs as the product runs it: in a worker process started from the CLI (here from source).
  for await (const event of buildIndexInWorker(
    {
      corpus: corpusFile,
      indexDir,
      vectors: { kind: 'faiss', file: faissFile, model: 'synthetic', prefixes: { query: 'query: ', passage: 'passage: ' } },
      ann: { mode: 'ivf-pq' },
    },
    { cli: [process.execPath, '--import', 'tsx', path.join(__dirname, '../../src/cli/main.ts')] },
  )) {
    if (event.kind === 'progress') lastRate = event.rowsPerSecond;
    if (event.kind === 'resources') buildPeakRss = event.peakRssBytes;
    if (event.kind === 'phase' || event.kind === 'done') {
      phaseTimes[phase] = (performance.now() - phaseStart) / 1000;
      phase = event.kind === 'phase' ? event.phase : 'done';
      phaseStart = performance.now();
      console.log(`  ${event.message}`);
    }
  }
  const ingestRate = rows / phaseTimes.ingest;
  const summary = await describeIndex(indexDir);

  const byText = new Map(queries.map((q) => [q.text, q.vector]));
  const queryEmbedder: TextEmbedder = {
    model: 'synthetic',
    description: 'synthetic query vectors',
    embedPassages: () => Promise.reject(new Error('not used')),
    embedQueries: (texts) => Promise.resolve(texts.map((t) => byText.get(t)!)),
  };
  const openStarted = performance.now();
  const backend = await LanceRetrievalBackend.open(indexDir, { queryEmbedder, prewarm: 'auto' });
  const openMs = performance.now() - openStarted;
  const fts = await timeQueries('FTS (BM25) top-3', queries, (q) => backend.searchHits(q.text, { mode: 'fts', topK: 3 }));
  const ann = summary.manifest.ann!;
  const vector = await timeQueries(`vector top-3 IVF_PQ (nprobes ${ann.nprobes}, refine ${ann.refineFactor})`, queries, (q) => backend.searchHits(q.text, { mode: 'vector', topK: 3 }));
  const hybrid = await timeQueries('hybrid (RRF) top-3', queries, (q) => backend.searchHits(q.text, { mode: 'hybrid', topK: 3 }));

  // what a process serving queries holds, before the exact scans below (a bench-only measurement)
  const servingPeakRss = process.resourceUsage().maxRSS * 1024;
  let overlap = 0;
  const recallSet = queries.slice(0, recallQueries);
  const exactTimes: number[] = [];
  for (const q of recallSet) {
    const approx = await backend.searchHits(q.text, { mode: 'vector', topK: 3 });
    const t0 = performance.now();
    const exact = await backend.searchHits(q.text, { mode: 'vector', topK: 3, exact: true });
    exactTimes.push(performance.now() - t0);
    const exactIds = new Set(exact.map((h) => h.id));
    overlap += approx.filter((h) => exactIds.has(h.id)).length / 3;
  }
  const recall = overlap / recallSet.length;
  backend.close();
  const peakRss = process.resourceUsage().maxRSS * 1024;

  const target = (ok: boolean): string => (ok ? 'meets target' : 'MISSES target');
  console.log('');
  console.log(`ingest (parse JSONL + FAISS read + LanceDB add): ${Math.round(ingestRate).toLocaleString('en-US')} rows/s over ${phaseTimes.ingest.toFixed(1)} s (last reported ${Math.round(lastRate).toLocaleString('en-US')} rows/s) — ${target(ingestRate >= 30_000)} ≥ 30k`);
  console.log(`compaction: ${phaseTimes.compact.toFixed(1)} s`);
  console.log(`FTS index build (title + text): ${phaseTimes.fts.toFixed(1)} s`);
  console.log(`IVF_PQ build (${ann.numPartitions} partitions, ${ann.numSubVectors} sub-vectors): ${phaseTimes.ann.toFixed(1)} s`);
  console.log(`FTS top-3 p50 ${fmt(fts.p50)} / p95 ${fmt(fts.p95)} — ${target(fts.p50 <= 5)} p50 ≤ 5 ms`);
  console.log(`vector top-3 p50 ${fmt(vector.p50)} / p95 ${fmt(vector.p95)}`);
  console.log(`hybrid top-3 p50 ${fmt(hybrid.p50)} / p95 ${fmt(hybrid.p95)} — ${target(hybrid.p50 <= 15)} p50 ≤ 15 ms`);
  console.log(`exact vector top-3 (flat scan) p50 ${fmt(percentile(exactTimes, 50))}`);
  console.log(`recall@3 of IVF_PQ vs exact: ${recall.toFixed(3)} over ${recallSet.length} queries — ${target(recall >= 0.95)} ≥ 0.95`);
  console.log(`index on disk: ${mb(summary.sizeBytes)} (${(summary.sizeBytes / rows).toFixed(0)} bytes/passage)`);
  console.log(`opening the index: ${openMs.toFixed(0)} ms (${backend.prewarmed ? 'full-text indexes prewarmed' : 'no prewarm'})`);
  console.log(`peak RSS of the build process: ${mb(buildPeakRss)} — ${target(buildPeakRss <= 1.2 * 1024 ** 3)} ≤ 1.2 GB`);
  console.log(`peak RSS of this process while querying (it generated the data first: ${mb(rssAfterGeneration)}): ${mb(servingPeakRss)} — ${target(servingPeakRss <= 1.2 * 1024 ** 3)} ≤ 1.2 GB`);
  console.log(`peak RSS after the exact flat scans of the recall measurement (bench only): ${mb(peakRss)}`);
  const scale = 21_000_000 / rows;
  console.log(
    `extrapolated to 21M passages (linear): ingest ${((21_000_000 / ingestRate) / 60).toFixed(0)} min, FTS build ${((phaseTimes.fts * scale) / 60).toFixed(0)} min, ` +
      `IVF_PQ build ≥ ${((phaseTimes.ann * scale) / 3600).toFixed(1)} h, disk ${((summary.sizeBytes * scale) / 1024 ** 3).toFixed(0)} GB`,
  );
  if (!keep) fs.rmSync(workDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  if (!keep) fs.rmSync(workDir, { recursive: true, force: true });
  process.exitCode = 1;
});
