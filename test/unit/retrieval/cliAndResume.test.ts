import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli } from '../../../src/cli/main';
import { type CliIo } from '../../../src/cli/command';
import { readManifest } from '../../../src/retrieval/indexManifest';
import { loadLanceDb } from '../../../src/retrieval/lanceIndex';
import { fixture, fixtureQuestions, tempDir, wikiPassages } from './retrievalFixtures';

const repoRoot = path.resolve(__dirname, '../../..');

function fakeIo(cwd: string, signal = new AbortController().signal): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), isTty: false, env: {}, cwd, signal };
}

/** A synthetic wiki-18 corpus with a bad row every 997 lines. */
function writeCorpus(file: string, rows: number): { good: number } {
  const lines: string[] = [];
  let good = 0;
  for (let i = 0; i < rows; i++) {
    if (i % 997 === 500) lines.push('{"id": broken');
    else {
      lines.push(JSON.stringify({ id: `p${i}`, contents: `"Topic ${i}"\nPassage number ${i} talks about subject ${i % 113} and item ${i % 71}.` }));
      good++;
    }
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return { good };
}

void test('an import killed mid-way resumes where its last checkpoint was, with every passage exactly once', async (t) => {
  const dir = tempDir(t);
  const corpus = path.join(dir, 'corpus.jsonl');
  const { good } = writeCorpus(corpus, 40_000);
  const out = path.join(dir, 'idx');

  // The CLI runs the build in a worker process; killing the process group (a closed terminal, an OOM kill
  // of both) stops both mid-write.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'index', 'build', '--corpus', corpus, '--out', out, '--batch-size', '200'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  t.after(killGroup);
  const killed = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (/\d rows \(/.test(chunk.toString())) killGroup();
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the build ended before it could be killed (${String(_code)})`))));
  });
  await killed;
  const interrupted = await readManifest(out);
  assert.ok(interrupted, 'the checkpoint survives the kill');
  assert.equal(interrupted.progress.complete, false);
  assert.ok(interrupted.rows > 0 && interrupted.rows < good, `killed after ${interrupted.rows} rows`);

  const io = fakeIo(dir);
  assert.equal(await runCli(['index', 'build', '--corpus', corpus, '--out', out, '--batch-size', '5000'], io), 0, io.err.join(''));
  assert.match(io.out.join(''), new RegExp(`Resuming corpus\\.jsonl at line ${interrupted.progress.linesConsumed + 1}`));
  const manifest = await readManifest(out);
  assert.equal(manifest?.rows, good);
  assert.equal(manifest?.badRows, 40_000 - good);

  const lancedb = await loadLanceDb();
  const table = await (await lancedb.connect(out)).openTable('passages');
  t.after(() => table.close());
  const ids = (await table.query().select(['id']).toArray()).map((r: { id: string }) => r.id);
  assert.equal(ids.length, good);
  assert.equal(new Set(ids).size, good, 'no passage was written twice');
});

void test('index build, info and search from the command line', async (t) => {
  const dir = tempDir(t);
  const io = fakeIo(dir);
  assert.equal(await runCli(['index', 'build', '--corpus', fixture('dpr.tsv'), '--out', 'idx', '--name', 'Fixture passages'], io), 0, io.err.join(''));
  assert.match(io.err.join(''), /dpr\.tsv:\d+: skipped: /);
  assert.match(io.out.join(''), new RegExp(`Index ready: ${wikiPassages().length} rows`));

  const info = fakeIo(dir);
  assert.equal(await runCli(['index', 'info', 'idx'], info), 0);
  assert.match(info.out.join(''), /name: +Fixture passages/);
  assert.match(info.out.join(''), /FTS \(BM25\) on title, text/);
  assert.match(info.out.join(''), /embedding: +none/);

  const { question, passage_id } = fixtureQuestions()[0];
  const search = fakeIo(dir);
  assert.equal(await runCli(['index', 'search', 'idx', question, '--output', 'json'], search), 0);
  const result = JSON.parse(search.out.join('')) as { mode: string; hits: { id: string }[] };
  assert.equal(result.mode, 'fts');
  assert.ok(result.hits.some((h) => h.id === passage_id));

  const webSearch = fakeIo(dir);
  assert.equal(await runCli(['index', 'search', 'idx', question, '--output', 'web-search', '--k', '1'], webSearch), 0);
  assert.match(webSearch.out.join(''), /^\nRetrieved documents:\n\n===== Document 0, similarity: \d+\.\d\d =====\n"/);

  const wrongMode = fakeIo(dir);
  assert.equal(await runCli(['index', 'search', 'idx', question, '--mode', 'vector'], wrongMode), 1);
  assert.match(wrongMode.err.join(''), /needs vectors, and this index has none/);
  const badFlag = fakeIo(dir);
  assert.equal(await runCli(['index', 'search', 'idx', question, '--mode', 'semantic'], badFlag), 2);
});

void test('serve-retrieval serves until cancelled', async (t) => {
  const dir = tempDir(t);
  assert.equal(await runCli(['index', 'build', '--corpus', fixture('wiki18.jsonl'), '--out', 'idx'], fakeIo(dir)), 0);
  const controller = new AbortController();
  const io = fakeIo(dir, controller.signal);
  const running = runCli(['serve-retrieval', '--index', 'idx', '--port', '0'], io);
  const deadline = Date.now() + 10_000;
  while (!io.out.join('').includes('/retrieve') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const url = /(http:\/\/127\.0\.0\.1:\d+\/retrieve)/.exec(io.out.join(''))?.[1];
  assert.ok(url, `the server printed its URL within 10 s; it printed: ${io.out.join('')}`);
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ queries: [fixtureQuestions()[1].question], topk: 3, return_scores: true }) });
  const body = (await res.json()) as { result: { document: { id: string } }[][] };
  assert.ok(body.result[0].some((h) => h.document.id === fixtureQuestions()[1].passage_id));
  controller.abort();
  assert.equal(await running, 0);
  assert.match(io.out.join(''), /Stopped\./);
});
