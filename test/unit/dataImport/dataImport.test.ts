import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeTeacherFilter,
  detectImportFormat,
  formatImportReport,
  importQuestionFile,
  importReferenceRecordsWithTeacherFilter,
  parseImportDataArgs,
  suggestedOutputName,
} from '../../../src/dataImport/dataImport';
import { importReferenceRecords } from '../../../src/trajectory/referenceImport';

const fixtures = join(import.meta.dirname, '../../fixtures/trajectory');
const referenceFile = join(fixtures, 'reference-records.jsonl');

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'data-import-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('reference records keep the teacher filter decision of the chosen profile, counted as the CLI prints them', async () => {
  const result = await importReferenceRecordsWithTeacherFilter(referenceFile, { source: 'reference-records.jsonl', compatibility: 'reference' });
  assert.equal(result.trajectories.length, 3);
  for (const t of result.trajectories) {
    const decision = t.meta?.teacherFilter as { verdict: string; accepted: boolean; reason: string } | undefined;
    assert.ok(decision && typeof decision.reason === 'string' && decision.reason.length > 0, 'every trajectory says why it was kept or dropped');
  }
  const accepted = result.trajectories.filter((t) => (t.meta?.teacherFilter as { accepted: boolean }).accepted).length;
  assert.equal(result.teacherFilter.kept, accepted);
  assert.equal(result.teacherFilter.total, 3);
  assert.match(describeTeacherFilter(result.teacherFilter), new RegExp(`^teacher filter \\(reference\\): ${accepted} of 3 kept \\(`));
  assert.deepEqual(result.problems.map((p) => [p.line, p.field]), [[4, 'log_data']]);
});

void test('records that do not say their domain are counted as guessed, and a default domain replaces the guess', async () => {
  const guessed = await importReferenceRecords(referenceFile, { source: 'r.jsonl' });
  assert.equal(guessed.guessedDomains.math + guessed.guessedDomains.factual, 3);
  const chosen = await importReferenceRecords(referenceFile, { source: 'r.jsonl', defaultDomain: 'factual' });
  assert.deepEqual(chosen.guessedDomains, { math: 0, factual: 0 });
  assert.deepEqual(chosen.trajectories.map((t) => t.task.domain), ['factual', 'factual', 'factual']);
  await withTempDir(async (dir) => {
    // a record that says its domain keeps it, whatever the default
    const line = (await readFile(referenceFile, 'utf8')).split('\n')[0];
    const file = join(dir, 'said.jsonl');
    await writeFile(file, `${JSON.stringify({ ...(JSON.parse(line) as object), domain: 'math' })}\n`);
    const said = await importReferenceRecords(file, { source: 'said.jsonl', defaultDomain: 'factual' });
    assert.equal(said.trajectories[0].task.domain, 'math');
    assert.deepEqual(said.guessedDomains, { math: 0, factual: 0 });
  });
});

void test('a question set without domains says how many questions need one, and importing with a domain takes them', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'set.csv');
    await writeFile(file, 'question,answer\nWhat is 2+2?,4\nCapital of France?,Paris\n');
    const without = await importQuestionFile(file);
    assert.equal(without.tasks.length, 0);
    assert.equal(without.missingDomain, 2);
    assert.match(without.problems[0].message, /domain/);
    const withDomain = await importQuestionFile(file, 'math');
    assert.equal(withDomain.tasks.length, 2);
    assert.equal(withDomain.missingDomain, 0);
  });
});

void test('the format is told from the content: conversations are reference records, the rest question sets', async () => {
  assert.equal(await detectImportFormat(referenceFile), 'reference');
  await withTempDir(async (dir) => {
    const questions = join(dir, 'q.jsonl');
    await writeFile(questions, '{"question": "What is 2+2?", "answer": "4", "domain": "math"}\n');
    assert.equal(await detectImportFormat(questions), 'questions');
    const csv = join(dir, 'q.csv');
    await writeFile(csv, 'question,log_data\n');
    assert.equal(await detectImportFormat(csv), 'questions');
  });
  assert.equal(suggestedOutputName('/x/records.jsonl', 'reference'), 'records.traj.jsonl');
  assert.equal(suggestedOutputName('/x/set.csv', 'questions'), 'set.questions.jsonl');
});

void test('the report names every skipped record by line and field, and the filter decisions', () => {
  const text = formatImportReport({
    input: '/w/records.jsonl',
    output: '/w/records.traj.jsonl',
    format: 'reference',
    written: 2,
    skipped: [{ where: 'line 3', field: 'log_data', message: 'is a string but not JSON' }],
    teacherFilter: { compatibility: 'studio', kept: 1, total: 2, verdicts: [['correct', 1], ['wrong-answer', 1]] },
  });
  assert.match(text, /imported: 2 trajectories/);
  assert.match(text, /skipped: 1 record\n/);
  assert.match(text, /records\.jsonl, line 3 \(field `log_data`\): is a string but not JSON/);
  assert.match(text, /teacher filter \(studio\): 1 of 2 kept \(correct 1, wrong-answer 1\)/);
});

void test('bad arguments are refused with the field at fault named', () => {
  assert.throws(() => parseImportDataArgs({ input: 'records.jsonl' }), /invalid arguments: input: must be an absolute path/);
  assert.throws(() => parseImportDataArgs({ input: '/a.jsonl', format: 'csv' }), /format: /);
  assert.throws(() => parseImportDataArgs({ input: '/a.jsonl', outptu: '/b.jsonl' }), /"outptu": not an option/);
  assert.throws(() => parseImportDataArgs({ input: '/a.jsonl', output: 7 }), /output: /);
  assert.throws(() => parseImportDataArgs({ input: '/a.csv', format: 'questions', domain: 'guess' }), /domain: "guess" is only for reference records/);
  assert.throws(() => parseImportDataArgs('records.jsonl'), /invalid arguments: \(the argument\): /);
  assert.deepEqual(parseImportDataArgs({ input: '/a.jsonl', output: '/b.traj.jsonl', domain: 'math', overwrite: true }), { input: '/a.jsonl', output: '/b.traj.jsonl', domain: 'math', overwrite: true });
});
