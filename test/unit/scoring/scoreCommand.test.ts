import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { captureCliIo } from '../../support/cliIo';

async function cli(argv: string[], cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo({ env: { PATH: process.env.PATH }, cwd });
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

const fixtures = path.join(__dirname, '../../fixtures/scoring');

void test('score --math prints the verdict and the rule that decided it', async () => {
  const right = await cli(['score', '--math', '--profile', 'studio', '--pred', 'thus \\boxed{\\frac{1}{2}}', '--gold', '0.5']);
  assert.equal(right.code, 0);
  assert.match(right.out, /^correct {2}numeric {2}/);
  const wrong = await cli(['score', '--math', '--profile', 'studio', '--pred', '\\boxed{3}', '--gold', '4']);
  assert.match(wrong.out, /^wrong {2}numeric {2}/);
});

void test('by default a single pair gets both profiles, each with its verdict and rule', async () => {
  // The reference strips the brackets of [1,2] and (1,2) and compares elements (reference
  // exps_research/unified_framework/math_utils/qwen_math_grader.py:159-174); the studio keeps an interval's ends.
  const r = await cli(['score', '--math', '--pred', '\\boxed{[1,2]}', '--gold', '(1,2)']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0], /^studio: +wrong {2}elementwise {2}/);
  assert.match(lines[1], /^reference: +correct {2}elementwise {2}/);
});

void test('--json with both profiles holds both verdicts; --profile reference prints that one only', async () => {
  const both = JSON.parse((await cli(['score', '--math', '--json', '--pred', '\\boxed{five}', '--gold', '5'])).out) as Record<string, { correct: boolean; rule: string }>;
  // Number words are converted before comparison (qwen_math_parser.py:297-298): both profiles accept.
  assert.deepEqual([both.studio.correct, both.reference.correct], [true, true]);
  const ref = await cli(['score', '--math', '--profile', 'reference', '--pred', '\\boxed{90^\\circ}', '--gold', '90^\\circ']);
  // The gold keeps ^\circ while the prediction loses it (qwen_math_parser.py:289-290, score_answers.py:124).
  assert.match(ref.out, /^wrong {2}/);
  assert.doesNotMatch(ref.out, /studio/);
  assert.equal((await cli(['score', '--math', '--profile', 'paper', '--pred', '1', '--gold', '1'])).code, 2);
});

void test('score --factual works offline with exact match and reports F1 with --json', async () => {
  const r = await cli(['score', '--factual', '--profile', 'studio', '--pred', 'the Eiffel tower', '--gold', 'Eiffel Tower', '--json']);
  const verdict = JSON.parse(r.out) as { correct: boolean; rule: string; method: string; score: number };
  assert.deepEqual([verdict.correct, verdict.rule, verdict.method, verdict.score], [true, 'exact-match', 'exact-match', 1]);
});

void test('without a judge the reference profile says exact match stood in for it', async () => {
  const r = await cli(['score', '--factual', '--json', '--pred', 'the Eiffel tower', '--gold', 'Eiffel Tower']);
  const verdicts = JSON.parse(r.out) as Record<string, { correct: boolean; rule: string }>;
  assert.equal(verdicts.reference.correct, true);
  assert.match(verdicts.reference.rule, /no-judge/);
});

void test('file mode scores every pair, says which line, and sums up', async () => {
  const r = await cli(['score', '--profile', 'studio', '--file', path.join(fixtures, 'pairs.jsonl')]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n').filter((l) => l.startsWith('line '));
  assert.deepEqual(lines.map((l) => l.split(':')[0]), ['line 1', 'line 2', 'line 3', 'line 4', 'line 6']);
  assert.deepEqual(lines.map((l) => l.split(': ')[1].split(' ')[0]), ['correct', 'wrong', 'correct', 'wrong', 'correct']);
  assert.match(r.out, /3\/5 correct \(60\.0%\)/);
});

void test('file mode with both profiles gives each accuracy and lists the pairs they disagree on', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'score-cli-'));
  try {
    const file = path.join(dir, 'pairs.jsonl');
    const pairs = [
      { pred: '\\boxed{7}', gold: '7' }, // both accept
      { pred: '\\boxed{a+b}', gold: 'a+b' }, // the reference's unit list deletes `a` (qwen_math_parser.py:138, 280-286)
      { pred: '\\boxed{1.41421}', gold: '\\sqrt{2}' }, // the reference's symbolic step allows relative 1e-4 (qwen_math_grader.py:321-323)
    ];
    writeFileSync(file, pairs.map((p) => JSON.stringify({ ...p, domain: 'math' })).join('\n'));
    const r = await cli(['score', '--file', 'pairs.jsonl'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /studio: 2\/3 correct/);
    assert.match(r.out, /reference: 2\/3 correct/);
    assert.match(r.out, /disagreements: 2/);
    assert.match(r.out, /line 2: pred "\\\\boxed\{a\+b\}" gold "a\+b" {2}studio correct \(string\) {2}reference wrong/);
    assert.match(r.out, /line 3: .* {2}studio wrong \(symbolic\) {2}reference correct \(symbolic\)/);
    const json = await cli(['score', '--file', 'pairs.jsonl', '--json'], dir);
    const out = json.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = out[out.length - 1] as { summary: Record<string, { correct: number; total: number }>; disagreements: { line: number }[] };
    assert.deepEqual(summary.summary.studio, { correct: 2, total: 3, accuracy: 2 / 3 });
    assert.deepEqual(summary.disagreements.map((d) => d.line), [2, 3]);
    assert.ok('studio' in out[0] && 'reference' in out[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a bad line is reported with its file, line and field', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'score-cli-'));
  try {
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(file, '{"pred": "1", "gold": "1", "domain": "math"}\n{"pred": "1", "domain": "math"}\n');
    const r = await cli(['score', '--file', 'bad.jsonl'], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.jsonl:2: field "gold"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('missing flags are usage errors', async () => {
  assert.equal((await cli(['score', '--pred', '1', '--gold', '1'])).code, 2);
  assert.equal((await cli(['score', '--math', '--factual', '--pred', '1', '--gold', '1'])).code, 2);
  assert.equal((await cli(['score', '--math', '--pred', '1'])).code, 2);
  assert.equal((await cli(['score', '--factual', '--judge', '--pred', '1', '--gold', '1'])).code, 2);
});
