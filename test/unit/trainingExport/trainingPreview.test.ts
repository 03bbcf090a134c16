import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkLeakage, readBenchmarkQuestions, selectionOfRule, type TrainingPrompts } from '../../../src/trainingExport/trainingExport';
import { exportTokenStatistics, previewTrajectory } from '../../../src/trainingExport/trainingPreview';
import { newTrajectory, type Step, type Trajectory } from '../../../src/trajectory/schema';
import { loadQwenTokenizer, maskConversation, renderQwenChat } from '../../../src/trajectory/tokenMask';
import { buildSftConversation } from '../../../src/trajectory/sftExport';

const prompts: TrainingPrompts = {
  prompt: { name: 'test', system: 'You are a careful agent.', taskSuffix: '' },
  fallbackPrompt: { system: 'Answer now.', request: 'Question: {{question}}' },
};

function step(n: number, extra: Partial<Step> = {}): Step {
  return { thought: `thought ${n}`, code: `print(${n})`, modelOutput: `Thought: step ${n} reasoning\nCode:\n\`\`\`py\nprint(${n})\n\`\`\`<end_code>`, observation: { printOutput: `${n}\n`, lastValue: 'None', webSearchCalls: [] }, ...extra };
}

function trajectory(question: string, steps: Step[], status: 'accepted' | 'unreviewed' = 'accepted'): Trajectory {
  const t = newTrajectory({ task: { id: `q-${question.length}`, question, goldAnswer: '2', domain: 'math' }, origin: { kind: 'teacher', model: 'm' }, steps });
  return { ...t, review: { ...t.review, status } };
}

test('the preview shows every token of the trainer text in its turn, loss only on kept replies, the excluded step marked', async () => {
  const tokenizer = await loadQwenTokenizer();
  const t = trajectory('What is 1 + 1?', [step(1), step(2, { excludeFromTraining: true }), step(3)]);
  const preview = previewTrajectory(tokenizer, t, { prompts, compatibility: 'studio', selection: selectionOfRule('accepted') });
  assert.equal(preview.exclusion, undefined);
  const [example] = preview.examples;
  const conversation = buildSftConversation(t, prompts.prompt);
  // Nothing is lost or reordered: the tokens spell the exact chat-template text.
  assert.equal(example.turns.flatMap((turn) => turn.tokens.map((tok) => tok.text)).join(''), renderQwenChat(conversation.turns));
  assert.equal(example.trainedTokens, maskConversation(tokenizer, conversation, 'studio').trainedTokens);
  const replies = example.turns.filter((turn) => turn.kind === 'reply');
  assert.deepEqual(replies.map((r) => [r.stepIndex, r.excluded]), [[0, false], [1, true], [2, false]]);
  assert.ok(replies[0].tokens.some((tok) => tok.train) && replies[2].tokens.some((tok) => tok.train));
  assert.ok(!replies[1].tokens.some((tok) => tok.train), 'the excluded step carries no loss');
  for (const turn of example.turns.filter((x) => x.role !== 'assistant')) assert.ok(!turn.tokens.some((tok) => tok.train), `${turn.kind} carries no loss`);
  assert.equal(example.turns[1].kind, 'task');
  assert.ok(example.turns.some((turn) => turn.kind === 'observation'));
});

test('the reference profile trains more tokens of the same replies', async () => {
  const tokenizer = await loadQwenTokenizer();
  const t = trajectory('What is 1 + 1?', [step(1), step(2)]);
  const studio = previewTrajectory(tokenizer, t, { prompts, compatibility: 'studio', selection: selectionOfRule('accepted') });
  const reference = previewTrajectory(tokenizer, t, { prompts, compatibility: 'reference', selection: selectionOfRule('accepted') });
  assert.ok(reference.examples[0].trainedTokens > studio.examples[0].trainedTokens);
});

test('statistics count only what the export would take and how many examples exceed the max length', async () => {
  const tokenizer = await loadQwenTokenizer();
  const kept = trajectory('What is 1 + 1?', [step(1)]);
  const long = trajectory('What is 2 + 2?', [step(1, { modelOutput: 'word '.repeat(400) })]);
  const rejected = { ...trajectory('What is 3 + 3?', [step(1)]), review: { ...kept.review, status: 'rejected' as const } };
  const stats = exportTokenStatistics(tokenizer, [kept, long, rejected], { prompts, compatibility: 'studio', selection: selectionOfRule('accepted'), format: 'openai', maxLength: 200 });
  assert.equal(stats.examples, 2);
  assert.equal(stats.overMaxLength, 1);
  assert.equal(stats.longest, long.id);
});

test('a leak is withheld only when asked, with the benchmark file and question named', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'leak-'));
  try {
    const bench = path.join(dir, 'bench.jsonl');
    await writeFile(bench, `${JSON.stringify({ id: 'b7', question: 'What is 1 + 1?', answer: '2' })}\n`);
    const { questions, problems } = await readBenchmarkQuestions(bench);
    assert.deepEqual(problems, []);
    const leaking = trajectory('What is 1 + 1?', [step(1)]);
    const clean = trajectory('Name the largest moon of Saturn.', [step(1)]);
    const kept = checkLeakage([leaking, clean], selectionOfRule('accepted'), questions, { leaveOut: false });
    assert.equal(kept.matches.length, 1);
    assert.equal(kept.withhold.size, 0);
    const out = checkLeakage([leaking, clean], selectionOfRule('accepted'), questions, { leaveOut: true });
    assert.deepEqual([...out.withhold.keys()], [leaking.id]);
    assert.match(out.withhold.get(leaking.id) ?? '', /exact duplicate of bench\.jsonl question b7/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
