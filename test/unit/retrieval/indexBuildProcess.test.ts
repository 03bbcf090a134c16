import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BuildProcessEvent, buildIndexInWorker } from '../../../src/retrieval/indexBuildProcess';
import { readManifest } from '../../../src/retrieval/indexManifest';
import { LanceRetrievalBackend, loadLanceDb } from '../../../src/retrieval/lanceIndex';
import { badRowLines, fixture, fixtureQuestions, tempDir, wikiPassages } from './retrievalFixtures';

const repoRoot = path.resolve(__dirname, '../../..');
/** The CLI as VS Code starts it, from source here. */
const cli = [process.execPath, '--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts')];

async function collect(events: AsyncIterable<BuildProcessEvent>): Promise<BuildProcessEvent[]> {
  const out: BuildProcessEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

void test('a build in a worker process streams its events and reports the memory it used', async (t) => {
  const dir = tempDir(t);
  const indexDir = path.join(dir, 'idx');
  const events = await collect(buildIndexInWorker({ corpus: fixture('wiki18.jsonl'), indexDir, name: 'Worker build' }, { cli }));
  const kinds = events.map((e) => e.kind);
  assert.equal(kinds[0], 'started');
  assert.ok(kinds.includes('progress'));
  assert.deepEqual(
    events.flatMap((e) => (e.kind === 'bad-row' ? [e.line] : [])),
    badRowLines(fixture('wiki18.jsonl')),
    'every bad row is reported with its line',
  );
  const done = events.find((e) => e.kind === 'done');
  assert.ok(done && done.kind === 'done');
  assert.equal(done.manifest.rows, wikiPassages().length);
  const resources = events.at(-1);
  assert.ok(resources?.kind === 'resources' && resources.peakRssBytes > 0, 'the last event is the worker\'s peak memory');
  assert.match(resources.message, /peaked at/);

  // the index the worker wrote answers the fixture's questions
  const backend = await LanceRetrievalBackend.open(indexDir, { prewarm: 'always' });
  t.after(() => backend.close());
  for (const q of fixtureQuestions()) {
    const hits = await backend.search(q.question, 3);
    assert.ok(hits.some((h) => h.id === q.passage_id), `"${q.question}" finds ${q.passage_id}`);
  }
});

void test('a failing build throws the worker\'s own message', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'no-such-corpus.jsonl');
  await assert.rejects(collect(buildIndexInWorker({ corpus: missing, indexDir: path.join(dir, 'idx') }, { cli })), (err: Error) => {
    assert.ok(err.message.includes(missing) && err.message.includes('not found'), err.message);
    return true;
  });
});

void test('a stopped build stops its worker at a checkpoint, and the next build resumes it', async (t) => {
  const dir = tempDir(t);
  const corpus = path.join(dir, 'corpus.jsonl');
  const rows = 60_000;
  fs.writeFileSync(corpus, `${Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `p${i}`, contents: `"Topic ${i}"\nPassage ${i} about subject ${i % 97}.` })).join('\n')}\n`);
  const indexDir = path.join(dir, 'idx');
  const controller = new AbortController();
  const seen: BuildProcessEvent[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of buildIndexInWorker({ corpus, indexDir, batchSize: 500 }, { cli, signal: controller.signal })) {
        seen.push(e);
        if (e.kind === 'progress') controller.abort(new Error('stopped by the test'));
      }
    })(),
    /stopped by the test/,
  );
  const stopped = await readManifest(indexDir);
  assert.ok(stopped && !stopped.progress.complete && stopped.rows > 0 && stopped.rows < rows, `stopped after ${stopped?.rows} rows`);

  const resumed = await collect(buildIndexInWorker({ corpus, indexDir, batchSize: 5000 }, { cli }));
  const started = resumed[0];
  assert.ok(started.kind === 'started' && started.resumed);
  const lancedb = await loadLanceDb();
  const table = await (await lancedb.connect(indexDir)).openTable('passages');
  t.after(() => table.close());
  const ids = (await table.query().select(['id']).toArray()).map((r: { id: string }) => r.id);
  assert.equal(ids.length, rows);
  assert.equal(new Set(ids).size, rows, 'no passage twice after the resume');
});
