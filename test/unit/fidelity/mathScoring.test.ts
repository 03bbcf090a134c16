import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { judgeMathAnswer } from '../../../src/scoring/mathEquivalence';
import { judgeMathAnswerReference } from '../../../src/scoring/referenceMath';
import { referenceStripString, referenceWordToNumber } from '../../../src/scoring/referenceNormalize';
import { SympyChecker } from '../../../src/scoring/sympyChecker';

/*
 * Fidelity of the reference-compatible math scorer to the reference grader, and the studio profile's
 * deliberate differences (docs/COMPATIBILITY.md). Every expected reference verdict in the fixtures carries a
 * `cite` naming the lines of the reference that decide it; file names there are short for
 *   score_answers.py        exps_research/unified_framework/score_answers.py
 *   qwen_math_parser.py     exps_research/unified_framework/math_utils/qwen_math_parser.py (extraction, strip_string)
 *   qwen_math_grader.py     exps_research/unified_framework/math_utils/qwen_math_grader.py (math_equal, symbolic_equal)
 * of the Nardien/agent-distillation mirror. Studio verdicts are the studio's own decisions, argued in
 * docs/COMPATIBILITY.md.
 */

const verdictSchema = z.strictObject({ correct: z.boolean(), rule: z.string() });
const pairSchema = z.strictObject({
  case: z.string(),
  pred: z.string(),
  gold: z.string(),
  reference: verdictSchema,
  studio: verdictSchema,
  cite: z.string().min(1),
});
const goldSchema = z.strictObject({ gold: z.string(), reference: z.boolean(), cite: z.string().min(1) });

function readJsonl<T>(name: string, schema: z.ZodType<T>): T[] {
  const file = path.join(__dirname, 'fixtures', name);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ line, at: `${name}:${i + 1}` }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, at }) => {
      const parsed = schema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${at}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    });
}

const pairs = readJsonl('math-pairs.jsonl', pairSchema);
const golds = readJsonl('math-golds.jsonl', goldSchema);
const symbolic = new SympyChecker();
after(() => symbolic.close());

/** The ten pairs on which the studio and the reference grader were found to disagree (the issue's list). */
const theTen = [
  'unboxed sentence',
  'unboxed math delimiters',
  'function-application prefix',
  'percent of a fraction gold',
  'bare list in another order',
  'the letter a is a unit',
  'closed interval for an open one',
  'number word',
  'decimal for an irrational gold',
  'degree gold boxed verbatim',
];

void describe('reference profile reproduces the reference grader', () => {
  void test('the fixture holds the ten known disagreements', () => {
    assert.deepEqual(
      theTen.filter((name) => !pairs.some((p) => p.case === name)),
      [],
    );
  });

  for (const pair of pairs) {
    void test(`${pair.case}: reference says ${pair.reference.correct ? 'correct' : 'wrong'}`, async () => {
      const verdict = await judgeMathAnswerReference(pair.pred, pair.gold, { symbolic });
      assert.deepEqual(
        { correct: verdict.correct, rule: verdict.rule },
        pair.reference,
        `pred ${JSON.stringify(pair.pred)} gold ${JSON.stringify(pair.gold)} (${pair.cite}): ${verdict.detail}`,
      );
    });
  }

  void test('the gold is compared as written while the prediction is normalised', async () => {
    // qwen_math_parser.py:289-290 strips ^\circ from the prediction; score_answers.py:124 passes the gold unchanged.
    const verdict = await judgeMathAnswerReference('\\boxed{90^\\circ}', '90^\\circ', { symbolic });
    assert.equal(verdict.predAnswer, '90');
    assert.equal(verdict.goldAnswer, '90^\\circ');
  });

  void test('an unboxed prediction is read as written and the verdict says so', async () => {
    // score_answers.py:120-123: without "boxed" the prediction skips extraction and normalisation.
    const verdict = await judgeMathAnswerReference('$5$', '5', { symbolic });
    assert.equal(verdict.predRead, 'raw');
    assert.match(verdict.detail, /as written/);
  });
});

void describe('reference normalisation quirks (qwen_math_parser.py strip_string)', () => {
  void test('units, number words and the and-deletion act on the prediction as the reference does', () => {
    // :138 + :280-286 "a" is a unit; :297-298 number words; :338 "and" is deleted anywhere.
    assert.equal(referenceStripString('a+b'), '+b');
    assert.equal(referenceStripString('twenty-one'), '21');
    assert.equal(referenceStripString('5 \\text{ cm}'), '5');
    assert.equal(referenceStripString('1 and 2'), '12');
    // :353-354 trailing zeros after a decimal point go; :69-83 a/b becomes a fraction.
    assert.equal(referenceStripString('12.00'), '12');
    assert.equal(referenceStripString('3/4'), '\\frac{3}{4}');
  });

  void test('number phrases read as word2number reads them', () => {
    // word2number (called at qwen_math_parser.py:91-96): non-number words are skipped, scales compose.
    assert.equal(referenceWordToNumber('five apples'), '5');
    assert.equal(referenceWordToNumber('two hundred and five'), '205');
    assert.equal(referenceWordToNumber('three thousand forty'), '3040');
    assert.equal(referenceWordToNumber('x+1'), undefined);
  });
});

void describe('gold self-check: each gold boxed verbatim', () => {
  for (const g of golds) {
    void test(`${JSON.stringify(g.gold)}: reference ${g.reference ? 'accepts' : 'rejects'}, studio accepts`, async () => {
      const boxed = `The final answer is $\\boxed{${g.gold}}$.`;
      const reference = await judgeMathAnswerReference(boxed, g.gold, { symbolic });
      assert.equal(reference.correct, g.reference, `${g.cite}: ${reference.rule}: ${reference.detail}`);
      const studio = await judgeMathAnswer(boxed, g.gold, { symbolic });
      assert.equal(studio.correct, true, `${studio.rule}: ${studio.detail}`);
    });
  }

  void test('the reference rejects some golds of its own and the studio none', async () => {
    let rejectedByReference = 0;
    for (const g of golds) {
      if (!(await judgeMathAnswerReference(`\\boxed{${g.gold}}`, g.gold, { symbolic })).correct) rejectedByReference++;
    }
    assert.equal(rejectedByReference, golds.filter((g) => !g.reference).length);
    assert.ok(rejectedByReference > 0);
  });
});

void describe('studio profile on the same pairs', () => {
  for (const pair of pairs) {
    void test(`${pair.case}: studio says ${pair.studio.correct ? 'correct' : 'wrong'}`, async () => {
      const verdict = await judgeMathAnswer(pair.pred, pair.gold, { symbolic });
      assert.deepEqual({ correct: verdict.correct, rule: verdict.rule }, pair.studio, verdict.detail);
    });
  }
});
