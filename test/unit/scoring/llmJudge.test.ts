import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { builtinJudgePrompt, judgePromptHash, loadJudgePrompt } from '../../../src/scoring/judgePrompt';
import { judgeFactualWithModel, parseJudgeReply } from '../../../src/scoring/llmJudge';
import { scriptedJudge } from '../../support/scriptedJudge';

const fixtures = path.join(__dirname, '..', 'fidelity', 'fixtures');

void test('the judge is asked with the question, the reference and the prediction, greedily', async () => {
  const judge = scriptedJudge(['{"correct": true, "explanation": "Same city."}']);
  const v = await judgeFactualWithModel(judge, 'Where is the Louvre?', 'It is in \\boxed{Paris, France}', 'Paris');
  assert.equal(v.correct, true);
  assert.equal(v.rule, 'llm-judge');
  assert.equal(v.detail, 'Same city.');
  const sent = judge.requests[0].messages.map((m) => m.content).join('\n');
  for (const part of ['Where is the Louvre?', 'Paris, France', 'Paris']) assert.ok(sent.includes(part), part);
  assert.equal(judge.requests[0].sampling?.temperature, 0);
});

void test('replies in a fenced block or with 0/1 are understood', async () => {
  const fenced = await judgeFactualWithModel(scriptedJudge(['```json\n{"correct": 0, "explanation": "Different person."}\n```']), 'q', 'Bob', 'Alice');
  assert.equal(fenced.correct, false);
  assert.equal(fenced.detail, 'Different person.');
  const one = await judgeFactualWithModel(scriptedJudge(['{"correct": 1, "explanation": "Alias."}']), 'q', 'NYC', 'New York City');
  assert.equal(one.correct, true);
});

void test('a malformed reply is asked again; one that stays malformed is a judge error with the reason', async () => {
  const recovering = scriptedJudge(['I think yes', '{"correct": true, "explanation": "ok"}']);
  assert.equal((await judgeFactualWithModel(recovering, 'q', 'a', 'a')).correct, true);
  assert.equal(recovering.requests.length, 2);
  const broken = scriptedJudge(['{"verdict": "yes"}']);
  const v = await judgeFactualWithModel(broken, 'q', 'a', 'a');
  assert.equal(v.correct, false);
  assert.equal(v.rule, 'judge-error');
  assert.match(v.detail, /correct/);
  assert.equal(v.error, v.detail, 'the unreadable reply is recorded as the verdict error');
});

void test('reply parsing names what is wrong', () => {
  assert.match(parseJudgeReply('no json').error ?? '', /no JSON/);
  assert.match(parseJudgeReply('{"correct": "yes", "explanation": "x"}').error ?? '', /correct/);
  assert.deepEqual(parseJudgeReply('{"correct": false, "explanation": "x"}').reply, { correct: false, explanation: 'x' });
});

void test('an empty prediction is not sent to the judge', async () => {
  const judge = scriptedJudge(['{"correct": true, "explanation": "?"}']);
  const v = await judgeFactualWithModel(judge, 'q', '  ', 'Paris');
  assert.equal(v.rule, 'no-answer');
  assert.equal(judge.requests.length, 0);
});

void test('the default judge prompt is the studio file: a system message, then the question, aliases and the extracted answer', async () => {
  const judge = scriptedJudge(['{"correct": true, "explanation": "Alias."}']);
  await judgeFactualWithModel(judge, 'Which city?', 'I think \\boxed{NYC}', ['New York City', 'NYC']);
  const studio = await builtinJudgePrompt('studio');
  const [system, user] = judge.requests[0].messages;
  assert.deepEqual(system, { role: 'system', content: studio.system });
  assert.equal(user.role, 'user');
  assert.ok(user.content.includes('Which city?'));
  assert.ok(user.content.includes('- New York City\n- NYC'), 'every alias, one per line');
  assert.ok(user.content.includes('Prediction:\nNYC\n'), 'the answer taken from the boxed prediction');
  assert.equal(studio.replyFormat, 'json-correct');
});

void test("a user's judge prompt file replaces the built-in one, with its own reply format", async () => {
  const file = path.join(fixtures, 'judge-mine.judge.txt');
  const judge = scriptedJudge(['{"correct": false, "explanation": "Wrong river."}']);
  const v = await judgeFactualWithModel(judge, 'Longest river?', 'The Amazon', 'Nile', { promptFile: file, profile: 'reference' });
  assert.equal(v.correct, false);
  assert.equal(v.detail, 'Wrong river.');
  assert.deepEqual(judge.requests[0].messages, [
    { role: 'system', content: 'You check quiz answers. Reply in JSON.' },
    { role: 'user', content: 'Q: Longest river?\nAccepted: Nile\nGiven: The Amazon\nReply {"correct": true/false, "explanation": "..."}.' },
  ]);
  const loaded = await loadJudgePrompt(file);
  const again = scriptedJudge(['{"correct": true, "explanation": "ok"}']);
  assert.equal((await judgeFactualWithModel(again, 'q', 'Nile', 'Nile', { prompt: loaded })).correct, true);
  assert.notEqual(judgePromptHash(loaded), judgePromptHash(await builtinJudgePrompt('studio')));
});

void test('placeholders are filled once: a prediction that contains one is sent as written', async () => {
  const judge = scriptedJudge(['{"explanation": "no", "score": 0}']);
  await judgeFactualWithModel(judge, 'What is {{gold}}?', 'It is {{gold}} and {{question}}', 'Secret', { profile: 'reference' });
  const content = judge.requests[0].messages[0].content;
  assert.ok(content.includes('Question: What is {{gold}}?'));
  assert.ok(content.includes('Predicted answer: It is {{gold}} and {{question}}'));
  assert.ok(content.includes('Gold answer: Secret'));
});
