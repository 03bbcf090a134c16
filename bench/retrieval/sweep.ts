/**
 * Recall/latency sweep of the IVF_PQ query settings on an index a bench run kept:
 *
 *   node --import tsx bench/retrieval/run.ts --rows 1000000 --dir /tmp/rb1m     # builds and keeps it
 *   node --import tsx bench/retrieval/sweep.ts --dir /tmp/rb1m [--queries 30]
 *
 * Queries are passage vectors from the kept FAISS file plus a little noise; recall@3 is measured against
 * an exact flat scan, for each nprobes × refineFactor pair.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LanceRetrievalBackend } from '../../src/retrieval/lanceIndex';
import { type TextEmbedder, normalizeInPlace } from '../../src/retrieval/embeddings';
import { FaissFlatReader } from '../../src/retrieval/faissFlatIndex';

const { values } = parseArgs({ options: { dir: { type: 'string' }, queries: { type: 'string' } } });
if (!values.dir) throw new Error('--dir is required: the folder of a kept bench run');
const dir = path.resolve(values.dir);
const queryCount = Number(values.queries ?? 30);

async function main(): Promise<void> {
  const reader = await FaissFlatReader.open(path.join(dir, 'vectors.index'));
  const { count, dims } = reader.header;
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const queries = new Map<string, Float32Array>();
  for (let i = 0; i < queryCount; i++) {
    const row = Math.floor(random() * count);
    const v = await reader.readRange(row, 1);
    for (let d = 0; d < dims; d++) v[d] += 0.02 * (random() - 0.5) * 3.4;
    queries.set(`q${i}`, normalizeInPlace(v));
  }
  await reader.close();
  const queryEmbedder: TextEmbedder = {
    model: 'sweep',
    description: 'sweep query vectors',
    embedPassages: () => Promise.reject(new Error('not used')),
    embedQueries: (texts) => Promise.resolve(texts.map((t) => queries.get(t)!)),
  };
  const backend = await LanceRetrievalBackend.open(path.join(dir, 'index'), { queryEmbedder, mode: 'vector' });
  const exact = new Map<string, Set<string>>();
  for (const q of queries.keys()) exact.set(q, new Set((await backend.searchHits(q, { topK: 3, exact: true })).map((h) => h.id)));
  console.log('nprobes  refine  recall@3  p50 ms');
  for (const nprobes of [5, 10, 20, 50]) {
    for (const refineFactor of [5, 10, 20, 50]) {
      let overlap = 0;
      const times: number[] = [];
      for (const q of queries.keys()) {
        const t0 = performance.now();
        const hits = await backend.searchHits(q, { topK: 3, nprobes, refineFactor });
        times.push(performance.now() - t0);
        overlap += hits.filter((h) => exact.get(q)!.has(h.id)).length / 3;
      }
      times.sort((a, b) => a - b);
      console.log(`${String(nprobes).padStart(7)} ${String(refineFactor).padStart(7)} ${(overlap / queries.size).toFixed(3).padStart(9)} ${times[Math.floor(times.length / 2)].toFixed(1).padStart(7)}`);
    }
  }
  backend.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
