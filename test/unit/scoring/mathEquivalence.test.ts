import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { judgeMathAnswer, parseNumericAnswer } from '../../../src/scoring/mathEquivalence';
import { normalizeMathAnswer } from '../../../src/scoring/mathNormalize';
import { type SymbolicEquality, SympyChecker } from '../../../src/scoring/sympyChecker';

interface Pair {
  pred: string;
  gold: string;
  correct: boolean;
  rule: string;
  why: string;
}

const pairs = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/scoring/math-pairs.json'), 'utf8')) as Pair[];
const symbolic = new SympyChecker();
after(() => symbolic.close());

void describe('math equivalence: the table of pairs (METHOD §6)', () => {
  void test('the table covers every rule of the cascade, with correct and wrong cases', () => {
    assert.ok(pairs.length >= 150, `only ${pairs.length} pairs`);
    for (const rule of ['string', 'choice', 'numeric', 'numeric-percent', 'stripped', 'elementwise', 'symbolic']) {
      assert.ok(pairs.some((p) => p.rule === rule && p.correct), `no correct case decided by ${rule}`);
    }
    for (const rule of ['choice', 'numeric', 'elementwise', 'symbolic', 'no-answer', 'no-match']) {
      assert.ok(pairs.some((p) => p.rule === rule && !p.correct), `no wrong case decided by ${rule}`);
    }
  });

  for (const pair of pairs) {
    void test(`${pair.correct ? 'correct' : 'wrong'} by ${pair.rule}: ${pair.why}`, async () => {
      const verdict = await judgeMathAnswer(pair.pred, pair.gold, { symbolic });
      assert.deepEqual(
        { correct: verdict.correct, rule: verdict.rule },
        { correct: pair.correct, rule: pair.rule },
        `pred ${JSON.stringify(pair.pred)} gold ${JSON.stringify(pair.gold)}: ${verdict.detail}`,
      );
      assert.ok(verdict.detail.length > 0, 'every verdict says why');
    });
  }
});

void describe('math equivalence: behaviour around the table', () => {
  void test('normalisation is idempotent on every answer of the table', () => {
    for (const p of pairs) {
      for (const s of [p.pred, p.gold]) {
        const once = normalizeMathAnswer(s);
        assert.equal(normalizeMathAnswer(once), once, `not idempotent on ${JSON.stringify(s)}`);
      }
    }
  });

  void test('the verdict is symmetric for the numeric and structural rules', async () => {
    for (const p of pairs.filter((x) => ['numeric', 'elementwise', 'stripped', 'symbolic'].includes(x.rule) && !x.pred.includes('\\boxed{}'))) {
      const gold = p.pred.replace(/^.*\\boxed\{/s, '\\boxed{');
      const forward = await judgeMathAnswer(p.pred, p.gold, { symbolic });
      const backward = await judgeMathAnswer(`\\boxed{${p.gold}}`, gold, { symbolic });
      assert.equal(backward.correct, forward.correct, `asymmetric on ${p.pred} / ${p.gold}`);
    }
  });

  void test('without a symbolic checker the symbolic pairs are not accepted, and the verdict says the check was off', async () => {
    const symbolicPair = pairs.find((p) => p.rule === 'symbolic' && p.correct)!;
    const verdict = await judgeMathAnswer(symbolicPair.pred, symbolicPair.gold);
    assert.equal(verdict.correct, false);
    assert.equal(verdict.rule, 'no-match');
    assert.match(verdict.detail, /not enabled/);
  });

  void test('a symbolic check that cannot decide makes the pair wrong with its own rule', async () => {
    const undecided: SymbolicEquality = {
      check: () => Promise.resolve({ equal: undefined, method: 'timeout', error: 'timed out' }),
      close: () => Promise.resolve(),
    };
    const verdict = await judgeMathAnswer('\\boxed{x^2-1}', '(x-1)(x+1)', { symbolic: undecided });
    assert.equal(verdict.correct, false);
    assert.equal(verdict.rule, 'symbolic-undecided');
    assert.match(verdict.detail, /timeout/);
  });

  void test('numbers are read from plain, fractional and scientific forms', () => {
    const cases: [string, number][] = [['12', 12], ['-3.5', -3.5], ['\\frac{3}{4}', 3 / 4], ['-\\frac{1}{8}', -1 / 8], ['2\\times10^{3}', 2 * 10 ** 3], ['1e-3', 1e-3]];
    for (const [text, value] of cases) assert.equal(parseNumericAnswer(text), value, text);
    assert.equal(parseNumericAnswer('\\frac{1}{0}'), undefined);
    assert.equal(parseNumericAnswer('x+1'), undefined);
  });

  void test('the verdict carries both answers as extracted and normalised', async () => {
    const verdict = await judgeMathAnswer('Thus the area is $\\boxed{12 \\text{ cm}^2}$.', '12');
    assert.equal(verdict.predAnswer, '12 \\text{ cm}^2');
    assert.equal(verdict.predNormalized, '12');
    assert.equal(verdict.goldNormalized, '12');
    assert.equal(verdict.correct, true);
  });
});

void describe('math equivalence: the studio profile\'s decisions on the reference disagreements (docs/COMPATIBILITY.md)', () => {
  void test('a percent sign is read as a percentage: 50\\% is 1/2 and 0.5 is the gold\'s 50\\%', async () => {
    const percentPred = await judgeMathAnswer('\\boxed{50\\%}', '\\frac{1}{2}');
    assert.deepEqual([percentPred.correct, percentPred.rule], [true, 'numeric-percent']);
    assert.match(percentPred.detail, /50% is 0\.5/);
    const percentGold = await judgeMathAnswer('\\boxed{0.5}', '50\\%');
    assert.deepEqual([percentGold.correct, percentGold.rule], [true, 'numeric-percent']);
    const wrongPercent = await judgeMathAnswer('\\boxed{40\\%}', '\\frac{1}{2}');
    assert.equal(wrongPercent.correct, false);
  });

  void test('an answer written in number words is its number; words around it keep it text', async () => {
    assert.equal((await judgeMathAnswer('\\boxed{five}', '5')).correct, true);
    assert.equal((await judgeMathAnswer('\\boxed{\\text{twenty-one}}', '21')).correct, true);
    assert.equal((await judgeMathAnswer('\\boxed{three hundred and two}', '302')).correct, true);
    assert.equal((await judgeMathAnswer('\\boxed{six}', '5')).correct, false);
    assert.equal(normalizeMathAnswer('five apples'), 'fiveapples');
  });

  void test('every gold boxed verbatim is accepted, awkward shapes included', async () => {
    const golds = ['90^\\circ', 'a+b', '\\$18.90', '4\\text{ inches}', '10\\%', '\\text{(C)}', '(-\\infty, 3]', 'x \\in [2,5)', 'y = 2x + 3', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\{1, 2\\}'];
    for (const gold of golds) {
      const verdict = await judgeMathAnswer(`so $\\boxed{${gold}}$`, gold, { symbolic });
      assert.equal(verdict.correct, true, `${gold}: ${verdict.rule}: ${verdict.detail}`);
    }
  });
});
