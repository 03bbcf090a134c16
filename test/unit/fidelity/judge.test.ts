import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { builtinJudgePrompt, JudgePromptError, loadJudgePrompt, readJudgeReply } from '../../../src/scoring/judgePrompt';
import { judgeFactualWithModel } from '../../../src/scoring/llmJudge';
import { scriptedJudge } from '../../support/scriptedJudge';

/**
 * The factual judge in the reference's request and reply format (profile `reference`,
 * media/prompts/judge/reference.judge.txt, our wording). Reference facts, by file and line in the reference
 * repository (Nardien/agent-distillation, exps_research/unified_framework/score_answers.py):
 * - 20-22: the reply schema is {explanation: str, score: int};
 * - 60-71: the request carries the question, the predicted answer and the gold answer, and asks for a JSON
 *   object with `explanation` and `score` (0 or 1);
 * - 73-79: one user message, no system message;
 * - 58-59: the intended cut of long predictions never happens (it assigns to a misspelt name), so the
 *   prediction is sent whole;
 * - 82 and 92: the verdict is `json.loads(reply)["score"]`; 248-253: accuracy = sum(scores) / count.
 */

void test('the reference judge sends one user message with the question, the prediction as written and the gold answer', async () => {
  const judge = scriptedJudge(['{"explanation": "Same city.", "score": 1}']);
  const prediction = `The museum is in \\boxed{Paris}. ${'More words. '.repeat(120)}`;
  const v = await judgeFactualWithModel(judge, 'Where is the Louvre?', prediction, 'Paris', { profile: 'reference' });
  assert.equal(v.correct, true);
  assert.equal(v.rule, 'llm-judge');
  assert.equal(v.detail, 'Same city.');
  assert.equal(v.error, undefined);
  const messages = judge.requests[0].messages;
  assert.deepEqual(messages.map((m) => m.role), ['user']);
  const content = messages[0].content;
  assert.ok(content.includes('Question: Where is the Louvre?'));
  assert.ok(content.includes(`Predicted answer: ${prediction}`), 'the whole prediction, not cut and not reduced to the boxed answer');
  assert.ok(content.includes('Gold answer: Paris'));
  assert.match(content, /explanation/);
  assert.match(content, /score: 1 if the answers match, 0 if they do not/);
  assert.equal((await builtinJudgePrompt('reference')).replyFormat, 'json-score');
});

void test('reply formats the reference reads: the JSON object with explanation and score', () => {
  assert.deepEqual(readJudgeReply('{"explanation": "Alias of the gold answer.", "score": 1}', 'json-score'), { correct: true, explanation: 'Alias of the gold answer.' });
  assert.deepEqual(readJudgeReply('{"score": 0, "explanation": "A different person."}', 'json-score'), { correct: false, explanation: 'A different person.' });
  // The reference sums the scores, so True counts as 1 and False as 0 there.
  assert.deepEqual(readJudgeReply('{"explanation": "x", "score": true}', 'json-score'), { correct: true, explanation: 'x' });
  assert.deepEqual(readJudgeReply('{"explanation": "x", "score": false}', 'json-score'), { correct: false, explanation: 'x' });
  // Servers without structured output wrap the object; it is still read.
  assert.deepEqual(readJudgeReply('```json\n{"explanation": "x", "score": 1}\n```', 'json-score'), { correct: true, explanation: 'x' });
  assert.deepEqual(readJudgeReply('Verdict: {"explanation": "x", "score": 0} done', 'json-score'), { correct: false, explanation: 'x' });
});

void test('a reply the reference format cannot read is a recorded judge error that counts as wrong', async () => {
  const unreadable: [string, RegExp][] = [
    ['The answers match.', /no JSON object/],
    ['{"explanation": "x", "score": 2}', /score/],
    ['{"explanation": "x", "score": "1"}', /score/],
    ['{"explanation": "x", "score": 0.5}', /score/],
    ['{"explanation": "x"}', /score/],
    ['{"score": 1}', /explanation/],
    ['{"explanation": "x", "score": 1', /no JSON object|does not parse/],
    ['{"explanation": "a", "score": 1} {"explanation": "b", "score": 0}', /does not parse/],
    ['{"correct": true, "explanation": "studio format"}', /score/],
  ];
  for (const [reply, why] of unreadable) {
    const judge = scriptedJudge([reply]);
    const v = await judgeFactualWithModel(judge, 'q', 'Paris', 'Paris', { profile: 'reference' });
    assert.equal(v.correct, false, reply);
    assert.equal(v.rule, 'judge-error', reply);
    assert.match(v.error ?? '', why, reply);
    assert.match(v.error ?? '', /json-score/, reply);
    assert.equal(v.detail, v.error);
    assert.equal(judge.requests.length, 2, 'asked once more before giving up');
  }
});

void test('the studio format does not take a reference-format reply for a verdict', async () => {
  const v = await judgeFactualWithModel(scriptedJudge(['{"explanation": "x", "score": 1}']), 'q', 'Paris', 'Paris');
  assert.equal(v.rule, 'judge-error');
  assert.equal(v.correct, false);
  assert.match(v.error ?? '', /json-correct.*correct/);
});

void test('a judge prompt file is checked when it is read: errors name the file and line', async () => {
  await assert.rejects(loadJudgePrompt(path.join(__dirname, 'fixtures', 'judge-absent.judge.txt')), (e: unknown) => e instanceof JudgePromptError && /judge-absent\.judge\.txt: cannot read/.test(e.message));
  const file = path.join(__dirname, 'fixtures', 'judge-typo.judge.txt');
  await assert.rejects(loadJudgePrompt(file), (e: unknown) => e instanceof JudgePromptError && /judge-typo\.judge\.txt:7: unknown placeholder "\{\{gold_answer\}\}"/.test(e.message));
  await assert.rejects(
    judgeFactualWithModel(scriptedJudge(['{}']), 'q', 'Paris', 'Paris', { promptFile: file }),
    /judge-typo\.judge\.txt:7/,
    'a broken user file stops the run rather than being scored with',
  );
});
