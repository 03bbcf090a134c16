import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { type AnswerVerdict, judgementFromVerdicts, scoreAnswerByProfile } from '../../../src/scoring/answerScorer';
import { runJudgePrompt } from '../../../src/scoring/scoringSettings';
import { type SymbolicEquality, type SymbolicResult } from '../../../src/scoring/sympyChecker';
import { scriptedJudge } from '../../support/scriptedJudge';

/** A symbolic checker that says every pair is equal by simplification and counts the questions it gets. */
class CountingSymbolic implements SymbolicEquality {
  readonly questions: string[] = [];
  check(a: string, b: string): Promise<SymbolicResult> {
    this.questions.push(`${a} | ${b}`);
    return Promise.resolve({ equal: true, method: 'simplify' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

void test('math answers get both profiles\' verdicts, and they may differ', async () => {
  // The reference compares bracketed sequences element by element whatever the brackets
  // (exps_research/unified_framework/math_utils/qwen_math_grader.py:159-174); the studio keeps interval ends.
  const verdicts = await scoreAnswerByProfile({ domain: 'math', prediction: '\\boxed{[1,2]}', gold: '(1,2)' });
  assert.equal(verdicts.studio.correct, false);
  assert.equal(verdicts.reference.correct, true);
  assert.equal(verdicts.reference.rule, 'elementwise');
  const judgement = judgementFromVerdicts(verdicts, 'reference', new Date(0));
  assert.equal(judgement.correct, true);
  assert.equal(judgement.profile, 'reference');
  assert.equal(judgement.byProfile?.studio.correct, false);
});

void test('one sympy question serves both profiles when they ask the same one', async () => {
  const symbolic = new CountingSymbolic();
  // Neither side is a number and the gold needs no normalising: both scorers end at the symbolic step
  // with the same pair of expressions.
  const verdicts = await scoreAnswerByProfile({ domain: 'math', prediction: '\\boxed{x^2-1}', gold: '(x-1)(x+1)' }, { symbolic });
  assert.equal(verdicts.studio.rule, 'symbolic');
  assert.equal(verdicts.reference.rule, 'symbolic');
  assert.equal(symbolic.questions.length, 1, symbolic.questions.join('\n'));
});

void test('factual answers without a judge: the reference verdict says exact match stood in for the judge', async () => {
  const verdicts = await scoreAnswerByProfile({ domain: 'factual', prediction: 'Paris', gold: 'paris' });
  assert.equal(verdicts.studio.rule, 'exact-match');
  assert.equal(verdicts.reference.correct, true);
  assert.match(verdicts.reference.rule, /^no-judge-/);
  assert.match(verdicts.reference.detail, /no judge model is configured/);
});

void test('factual answers with a judge: the judge is asked once per profile', async () => {
  const judge = scriptedJudge(['{"correct": true, "explanation": "same city", "score": 1}']);
  const requests = judge.requests;
  const verdicts = await scoreAnswerByProfile({ domain: 'factual', prediction: 'Paris', gold: 'Paris, France', question: 'Capital of France?' }, { judge });
  assert.equal(requests.length, 2);
  assert.equal(verdicts.studio.method, 'llm-judge');
  assert.equal(verdicts.reference.method, 'llm-judge');
});

void test('a verdict that could not be reached carries its error into the judgement', () => {
  const ok: AnswerVerdict = { domain: 'factual', correct: true, method: 'llm-judge', rule: 'llm-judge', detail: 'same', predAnswer: 'a', goldAnswer: 'a' };
  const failed: AnswerVerdict = { ...ok, correct: false, rule: 'judge-error', detail: '', error: 'the reply was not JSON' };
  const judgement = judgementFromVerdicts({ studio: ok, reference: failed }, 'studio', new Date(0));
  assert.equal(judgement.byProfile?.reference.error, 'the reply was not JSON');
  assert.equal(judgement.byProfile?.reference.correct, false);
  assert.equal(judgement.byProfile?.studio.error, undefined);
});

void test("a user's judge prompt file replaces the built-in prompt of the run's profile only", async () => {
  const judge = scriptedJudge(['{"correct": true, "explanation": "same city", "score": 1}']);
  const requests = judge.requests;
  const file = path.join(import.meta.dirname, '../fidelity/fixtures/judge-mine.judge.txt');
  const { judgePrompts, description } = await runJudgePrompt({ factual: 'judge', judgePrompt: file }, 'reference');
  assert.match(description ?? '', /judge-mine\.judge\.txt .*for the reference profile/);
  await scoreAnswerByProfile({ domain: 'factual', prediction: 'Paris', gold: 'Paris, France', question: 'Capital of France?' }, { judge, judgePrompts });
  const fromFile = requests.filter((r) => r.messages.some((m) => m.content.startsWith('Q: Capital of France?')));
  assert.equal(fromFile.length, 1, 'one request (the reference profile) uses the file; the studio keeps its built-in prompt');
  assert.deepEqual(await runJudgePrompt({ factual: 'exact-match', judgePrompt: file }, 'reference'), {}, 'no judge, no judge prompt');
});
