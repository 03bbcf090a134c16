import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { triageTrajectory, type TriageOptions } from '../../../src/triage/checks';
import { riskOf, TRIAGE_RULE_IDS, triageRules, type TriageFlag } from '../../../src/triage/flags';
import { computedMath, groundedFactual, trajectory, type TrajectorySpec } from '../../support/triageTrajectories';

/** Each rule: a trajectory with the defect (flagged at the right step) and a near miss (not flagged). */

function flagsOf(spec: TrajectorySpec, rule: string, options?: TriageOptions): TriageFlag[] {
  return triageTrajectory(trajectory(spec), options).filter((f) => f.rule === rule);
}

function withSteps(base: TrajectorySpec, edit: (steps: TrajectorySpec['steps']) => TrajectorySpec['steps']): TrajectorySpec {
  return { ...base, steps: edit(base.steps.map((s) => ({ ...s }))) };
}

describe('triage rules', () => {
  it('clean trajectories have no flags at all', () => {
    assert.deepEqual(triageTrajectory(trajectory(groundedFactual())), []);
    assert.deepEqual(triageTrajectory(trajectory(computedMath())), []);
  });

  it('every rule has a title and a description, and ids are unique', () => {
    assert.equal(new Set(triageRules.map((r) => r.id)).size, TRIAGE_RULE_IDS.length);
    for (const r of triageRules) assert.ok(r.title && r.description, r.id);
  });

  it('no-search: a factual answer with no web_search call; a search anywhere clears it', () => {
    const noSearch = { ...groundedFactual(), steps: [{ thought: 'I remember it.', code: 'final_answer("Kestrel Bay")', finalAnswer: 'Kestrel Bay' }] };
    const [f] = flagsOf(noSearch, 'no-search');
    assert.equal(f.step, 0);
    assert.equal(f.severity, 'high');
    assert.deepEqual(flagsOf(groundedFactual(), 'no-search'), []);
    // Math questions need no search.
    assert.deepEqual(flagsOf(computedMath(), 'no-search'), []);
  });

  it('ungrounded-answer: the answer is in no passage read before it; a reworded match still counts as grounded', () => {
    const ungrounded = withSteps(groundedFactual(), (s) => [s[0], { ...s[1], code: 'final_answer("Harrowmere")', finalAnswer: 'Harrowmere' }]);
    ungrounded.steps[1].finalAnswer = 'Harrowmere';
    const [f] = flagsOf({ ...ungrounded, finalAnswer: 'Harrowmere' }, 'ungrounded-answer');
    assert.equal(f.step, 1);
    assert.match(f.message, /harrowmere/i);
    const reworded = withSteps(groundedFactual(), (s) => [s[0], { ...s[1], code: 'final_answer("kestrel bay.")', finalAnswer: 'kestrel bay.' }]);
    assert.deepEqual(flagsOf({ ...reworded, finalAnswer: 'kestrel bay.' }, 'ungrounded-answer'), []);
    // A yes/no answer to a comparison question is not looked for in passages.
    const yes = withSteps(groundedFactual(), (s) => [s[0], { ...s[1], code: 'final_answer("yes")', finalAnswer: 'yes' }]);
    assert.deepEqual(flagsOf({ ...yes, finalAnswer: 'yes' }, 'ungrounded-answer'), []);
  });

  it('ungrounded-answer: passages the answering step itself retrieved came too late', () => {
    const late = {
      ...groundedFactual(),
      steps: [
        { code: 'print(1)', print: '1', search: { query: 'unrelated', passages: ['Nothing about painters.'] } },
        { code: 'r = web_search("Ilse Varn")\nfinal_answer("Kestrel Bay")', search: { query: 'Ilse Varn', passages: ['Born in Kestrel Bay.'] }, finalAnswer: 'Kestrel Bay' },
      ],
    };
    assert.equal(flagsOf(late, 'ungrounded-answer').length, 1);
  });

  it('answer-not-computed: a typed literal nothing printed; a value printed earlier (as a fraction too) is computed', () => {
    const typed = { ...computedMath(), steps: [{ code: 'final_answer("\\\\boxed{391}")', finalAnswer: '\\boxed{391}' }] };
    const [f] = flagsOf(typed, 'answer-not-computed');
    assert.equal(f.step, 0);
    assert.match(f.evidence ?? '', /391/);
    assert.deepEqual(flagsOf(computedMath(), 'answer-not-computed'), []);
    const fraction = {
      domain: 'math' as const,
      question: 'What is the probability of at least one 3 or 6 on two dice?',
      gold: '\\frac{5}{9}',
      steps: [
        { code: 'print(sp.Rational(20, 36))', print: '5/9\n' },
        { code: 'final_answer("\\\\boxed{\\\\frac{5}{9}}")', finalAnswer: '\\boxed{\\frac{5}{9}}' },
      ],
    };
    assert.deepEqual(flagsOf(fraction, 'answer-not-computed'), []);
    // A computed answer passed as a variable is never a literal.
    const variable = { ...computedMath(), steps: [{ code: 'x = 17 * 23\nfinal_answer(x)', finalAnswer: '391' }] };
    assert.deepEqual(flagsOf(variable, 'answer-not-computed'), []);
  });

  it('unchecked-thought-number: a number only the thought states; numbers from the question, code or output are checked', () => {
    const unchecked = withSteps(computedMath(), (s) => [{ ...s[0], thought: 'In my head 17 × 23 is 401, let me confirm.' }, s[1]]);
    const [f] = flagsOf(unchecked, 'unchecked-thought-number');
    assert.equal(f.step, 0);
    assert.match(f.message, /401/);
    assert.match(f.evidence ?? '', /401/);
    const checked = withSteps(computedMath(), (s) => [{ ...s[0], thought: 'Multiply 17 by 23; I expect 391.0, or 39,100% of 1.' }, s[1]]);
    assert.deepEqual(flagsOf(checked, 'unchecked-thought-number'), []);
    // Small counts ("2 steps") are not results.
    const counting = withSteps(computedMath(), (s) => [{ ...s[0], thought: 'This takes 2 steps.' }, s[1]]);
    assert.deepEqual(flagsOf(counting, 'unchecked-thought-number'), []);
  });

  it('ignored-error: the failing code run again, or the same error again; a fix is not flagged', () => {
    const failing = { code: 'print(1/0)', error: { type: 'ZeroDivisionError', message: 'division by zero' } };
    const rerun = { ...computedMath(), steps: [failing, { ...failing }, ...computedMath().steps] };
    const [f] = flagsOf(rerun, 'ignored-error');
    assert.equal(f.step, 1);
    const sameError = { ...computedMath(), steps: [failing, { code: 'print(2/0)', error: failing.error }, ...computedMath().steps] };
    assert.equal(flagsOf(sameError, 'ignored-error')[0]?.step, 1);
    const fixed = { ...computedMath(), steps: [failing, ...computedMath().steps] };
    assert.deepEqual(flagsOf(fixed, 'ignored-error'), []);
  });

  it('repeated-search: the same query again in a later step (ignoring case and punctuation); a new query is fine', () => {
    const base = groundedFactual();
    const repeat = { ...base, steps: [base.steps[0], { ...base.steps[0], code: 'print(web_search("ilse varn, painter born"))', search: { query: 'ilse varn, painter born', passages: ['x'] } }, base.steps[1]] };
    const [f] = flagsOf(repeat, 'repeated-search');
    assert.equal(f.step, 1);
    const refined = { ...base, steps: [base.steps[0], { ...base.steps[0], search: { query: 'Ilse Varn birthplace harbour', passages: ['x'] } }, base.steps[1]] };
    assert.deepEqual(flagsOf(refined, 'repeated-search'), []);
  });

  it('silent-step: nothing printed, no value; an assignment whose value is shown is not silent', () => {
    const silent = withSteps(computedMath(), (s) => [{ code: 'import math' }, ...s]);
    const [f] = flagsOf(silent, 'silent-step');
    assert.equal(f.step, 0);
    const valued = withSteps(computedMath(), (s) => [{ code: 'x = 17 * 23', last: '391' }, ...s]);
    assert.deepEqual(flagsOf(valued, 'silent-step'), []);
  });

  it('missing-boxed: a math answer without \\boxed{}; factual answers and boxed ones are fine', () => {
    const plain = withSteps(computedMath(), (s) => [s[0], { ...s[1], code: 'final_answer("391")', finalAnswer: '391' }]);
    const [f] = flagsOf({ ...plain, finalAnswer: '391' }, 'missing-boxed');
    assert.equal(f.step, 1);
    assert.deepEqual(flagsOf({ ...plain, finalAnswer: '391' }, 'missing-boxed', { requireBoxed: false }), []);
    assert.deepEqual(flagsOf(computedMath(), 'missing-boxed'), []);
    assert.deepEqual(flagsOf(groundedFactual(), 'missing-boxed'), []);
  });

  it('answer-format-drift: a decimal for an exact gold, a variable prefix, a sentence for a name; the gold’s own form is fine', () => {
    const exact = { ...computedMath(), gold: '\\frac{1}{3}', finalAnswer: '\\boxed{0.3333}' };
    assert.match(flagsOf(exact, 'answer-format-drift')[0]?.message ?? '', /decimal/);
    const prefixed = { ...computedMath(), finalAnswer: '\\boxed{x = 391}' };
    assert.match(flagsOf(prefixed, 'answer-format-drift')[0]?.message ?? '', /prefix/);
    const sentence = { ...groundedFactual(), finalAnswer: 'She was born in the small harbour town of Kestrel Bay on the coast' };
    assert.match(flagsOf(sentence, 'answer-format-drift')[0]?.message ?? '', /sentence/);
    assert.deepEqual(flagsOf({ ...computedMath(), gold: '0.25', finalAnswer: '\\boxed{0.25}' }, 'answer-format-drift'), []);
    assert.deepEqual(flagsOf({ ...groundedFactual(), finalAnswer: 'Kestrel Bay harbour' }, 'answer-format-drift'), []);
  });

  it('over-length: only with a token counter, and only above the max length', () => {
    const count = (): number => 5000;
    assert.equal(flagsOf(computedMath(), 'over-length', { countTrainingTokens: count, maxLength: 4096 }).length, 1);
    assert.deepEqual(flagsOf(computedMath(), 'over-length', { countTrainingTokens: count, maxLength: 5000 }), []);
    assert.deepEqual(flagsOf(computedMath(), 'over-length', { maxLength: 1 }), []);
  });

  it('low-agreement: the winner’s group holds half the candidates or fewer; a clear majority is fine', () => {
    const split = withSteps(computedMath(), (s) => [{ ...s[0], candidates: { outputs: ['391\n', '391\n', '401\n', '401\n', '7\n', '8\n'], winner: 0 } }, s[1]]);
    const [f] = flagsOf(split, 'low-agreement');
    assert.equal(f.step, 0);
    assert.match(f.message, /2 of 6/);
    const majority = withSteps(computedMath(), (s) => [{ ...s[0], candidates: { outputs: ['391\n', '391\n', '391\n', '401\n'], winner: 0 } }, s[1]]);
    assert.deepEqual(flagsOf(majority, 'low-agreement'), []);
  });

  it('winner-overridden: the step’s code is no longer the voted candidate’s; an untouched winner is fine', () => {
    const voted = { outputs: ['391\n', '391\n', '391\n'], winner: 0 };
    const edited = withSteps(computedMath(), (s) => [{ ...s[0], candidates: { ...voted, codes: ['print(17 * 23)', 'print(23 * 17)', 'print(391)'] }, code: 'print(17 * 24)' }, s[1]]);
    assert.equal(flagsOf(edited, 'winner-overridden')[0]?.step, 0);
    const untouched = withSteps(computedMath(), (s) => [{ ...s[0], candidates: voted }, s[1]]);
    assert.deepEqual(flagsOf(untouched, 'winner-overridden'), []);
  });

  it('stale-step: a step an earlier edit made stale', () => {
    const stale = withSteps(computedMath(), (s) => [s[0], { ...s[1], stale: true }]);
    assert.equal(flagsOf(stale, 'stale-step')[0]?.step, 1);
    assert.deepEqual(flagsOf(computedMath(), 'stale-step'), []);
  });

  it('risk adds severities, so a high flag outranks a low one', () => {
    const high = triageTrajectory(trajectory({ ...groundedFactual(), steps: [{ code: 'final_answer("Kestrel Bay")', finalAnswer: 'Kestrel Bay' }] }));
    const low = triageTrajectory(trajectory(withSteps(computedMath(), (s) => [{ code: 'import math' }, ...s])));
    assert.ok(riskOf(high) > riskOf(low));
  });
});
