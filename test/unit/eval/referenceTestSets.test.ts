import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { BenchmarkError, readBenchmarks } from '../../../src/eval/benchmarks';
import { computeRunResults } from '../../../src/eval/runResults';
import { captureCliIo } from '../../support/cliIo';
import { type FakeModelServer, renderAgentTurn, startFakeModelServer } from '../../support/fakeModelServer';

/**
 * The method's test sets as its repository ships them (data_processor/{math,qa}_dataset/test/*.json): a
 * `{metadata: {dataset_info: {name, fold, total_examples, …}}, examples: [{id, question, answer, …}]}` object
 * with no domain anywhere, ids as numbers or text, and answers as text or numbers (GSM-Hard's are floats).
 * The fixtures below are written here in that shape (three questions each, our own text) under the same
 * folder and file names, with the data-set names the reference's metadata uses (AIME and GSM-Hard say
 * "MATH" there). The expected domains follow the method's split: the four math sets and the four QA sets.
 */
const referenceSets = [
  { folder: 'math_dataset', file: 'aime_90_20250504.json', dataset: 'MATH', domain: 'math' },
  { folder: 'math_dataset', file: 'gsm_hard_500_20250507.json', dataset: 'MATH', domain: 'math' },
  { folder: 'math_dataset', file: 'math_500_20250414.json', dataset: 'MATH', domain: 'math' },
  { folder: 'math_dataset', file: 'olymath_200_20250511.json', dataset: 'OlymMATH', domain: 'math' },
  { folder: 'qa_dataset', file: '2wikimultihopqa_500_20250511.json', dataset: '2wikimultihopqa', domain: 'factual' },
  { folder: 'qa_dataset', file: 'bamboogle_125_20250507.json', dataset: 'bamboogle', domain: 'factual' },
  { folder: 'qa_dataset', file: 'hotpotqa_500_20250422.json', dataset: 'hotpotqa', domain: 'factual' },
  { folder: 'qa_dataset', file: 'musique_500_20250504.json', dataset: 'musique', domain: 'factual' },
] as const;

let dir: string;
let server: FakeModelServer;
const files: string[] = [];

function referenceShaped(dataset: string, domain: string, i: number): unknown {
  const examples = [0, 1, 2].map((k) =>
    domain === 'math'
      ? { id: 10 * i + k, question: `Test question ${i}.${k}: what is ${k} + ${i}?`, answer: dataset === 'MATH' && k === 2 ? k + i + 0.0 : String(k + i), level: 2, split: 'test' }
      : { id: `${i}-${k}`, question: `Test question ${i}.${k}: who wrote book ${k}?`, answer: `Author ${k}`, level: 'hard', type: 'compositional', split: 'test' },
  );
  return { metadata: { dataset_info: { name: dataset, fold: 'test', total_examples: examples.length, creation_date: '2026-01-01', filtering_criteria: null } }, examples };
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'reference-sets-'));
  referenceSets.forEach((set, i) => {
    const folder = path.join(dir, set.folder, 'test');
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, set.file);
    writeFileSync(file, JSON.stringify(referenceShaped(set.dataset, set.domain, i)));
    files.push(file);
  });
  server = await startFakeModelServer({ script: () => renderAgentTurn({ thought: 'I know this one.', code: 'final_answer("Author 1")' }), models: ['student'] });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the method's test-set files are read as they are, each with its domain and every question", async () => {
  const benchmarks = await readBenchmarks(files);
  assert.deepEqual(
    benchmarks.map((b) => [b.name, b.domain]),
    referenceSets.map((s) => [s.file.replace(/\.json$/, ''), s.domain]),
  );
  for (const b of benchmarks) {
    assert.equal(b.tasks.length, 3);
    assert.ok(b.domainFrom?.startsWith('its data set'), `${b.name}: ${b.domainFrom}`);
    assert.ok(b.tasks.every((t) => t.domain === b.domain && t.goldAnswer !== undefined));
  }
});

test('without a data-set name the folder or the file name tells the domain; a file that tells none asks for one', async () => {
  const bare = (name: string, folder: string): string => {
    mkdirSync(path.join(dir, folder), { recursive: true });
    const file = path.join(dir, folder, name);
    writeFileSync(file, JSON.stringify({ metadata: { dataset_info: { fold: 'test' } }, examples: [{ id: 1, question: 'Q?', answer: 'A' }] }));
    return file;
  };
  const [byFolder] = await readBenchmarks([bare('set_a.json', 'qa_dataset')]);
  assert.deepEqual([byFolder.domain, byFolder.domainFrom], ['factual', 'its folder "qa_dataset"']);
  const [byName] = await readBenchmarks([bare('musique_dev.json', 'elsewhere')]);
  assert.deepEqual([byName.domain, byName.domainFrom], ['factual', 'its file name']);
  const unknown = bare('questions.json', 'elsewhere');
  await assert.rejects(readBenchmarks([unknown]), (err: Error) => err instanceof BenchmarkError && err.message.includes(unknown) && /eval --domain math\|factual/.test(err.message));
  const [chosen] = await readBenchmarks([unknown], { domain: 'math' });
  assert.deepEqual([chosen.domain, chosen.domainFrom], ['math', "the run's domain setting"]);
});

test('eval runs on the test-set files directly and says where each domain came from', async () => {
  const io = captureCliIo({ env: { TRAJECTORY_STUDIO_STUDENT_BASE_URLS: server.baseUrl, TRAJECTORY_STUDIO_STUDENT_MODEL: 'student' }, cwd: dir });
  const code = await runCli(['eval', '--benchmarks', files.join(','), '--out', 'run', '--greedy', '--concurrency', '4'], io);
  assert.equal(code, 0, io.err);
  for (const set of referenceSets) assert.ok(io.out.includes(`note: ${set.file.replace(/\.json$/, '')}: scored as ${set.domain} (the domain from its data set "${set.dataset}")`), set.file);
  const { metrics } = await computeRunResults(path.join(dir, 'run'));
  assert.deepEqual(
    metrics.benchmarks.map((b) => [b.name, b.domain, b.questions]),
    referenceSets.map((s) => [s.file.replace(/\.json$/, ''), s.domain, 3]),
  );
  // "Author 1" is right for question 1 of each factual set and for no math question.
  for (const b of metrics.benchmarks) assert.equal(b.correct, b.domain === 'factual' ? 1 : 0, b.name);
});
