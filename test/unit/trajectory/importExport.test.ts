import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importReferenceRecords } from '../../../src/trajectory/referenceImport';
import { importQuestionSet, parseCsv } from '../../../src/trajectory/questionSetImport';
import { buildSftConversation, exportTrainingData, manifestPathFor } from '../../../src/trajectory/sftExport';
import { DEFAULT_SFT_PROMPT, sftTaskTurn } from '../../../src/trajectory/sftPrompt';
import { loadQwenTokenizer, maskConversation, renderQwenChat } from '../../../src/trajectory/tokenMask';
import { findLeakage } from '../../../src/trajectory/leakageCheck';
import { parseTrajectory, type Trajectory } from '../../../src/trajectory/schema';
import { parseTrajectoryText, renderTrajectoryText } from '../../../src/trajectory/textForm';

const fixtures = join(__dirname, '..', '..', 'fixtures', 'trajectory');
const referenceFile = join(fixtures, 'reference-records.jsonl');

async function readFixtureRecords(): Promise<Record<string, unknown>[]> {
  return (await readFile(referenceFile, 'utf8')).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function importedFixture() {
  return importReferenceRecords(referenceFile, { source: 'reference-records.jsonl' });
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'traj-export-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('a reference record whose run failed (log_data null or empty) is reported as a failed run, by line and field, with its error', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'records.jsonl');
    // The reference writes log_data null and the exception text when its agent run raised
    // (exps_research/unified_framework/processors/agent.py:173-180).
    const records = [null, {}, ''].map((log, i) => JSON.stringify({ question: `Question ${i}?`, true_answer: 'x', log_data: log, ...(i === 0 ? { error: 'Connection refused\nmore' } : {}) }));
    await writeFile(file, `${records.join('\n')}\n`);
    const { trajectories, problems } = await importReferenceRecords(file, { source: 'records.jsonl' });
    assert.equal(trajectories.length, 0);
    assert.deepEqual(problems.map((p) => [p.line, p.field]), [[1, 'log_data'], [2, 'log_data'], [3, 'log_data']]);
    assert.equal(
      problems[0].message,
      'log_data: is null: the reference\'s agent run for this question failed with the error "Connection refused", so the record holds no conversation to import (the reference leaves such records out of training too); run the question again to get a trajectory',
    );
    for (const p of problems.slice(1)) assert.match(p.message, /agent run for this question failed, so the record holds no conversation/);
  });
});

void test('reference records import as valid trajectories, one step per assistant message, bad records reported by line', async () => {
  const records = await readFixtureRecords();
  const { trajectories, problems } = await importedFixture();
  assert.equal(trajectories.length + problems.length, records.length);
  assert.deepEqual(problems.map((p) => [p.line, p.field]), [[4, 'log_data']]);
  for (const t of trajectories) assert.deepEqual(parseTrajectory(JSON.parse(JSON.stringify(t))), t, 'imports are valid records');

  const [math, factual, fallback] = trajectories as [Trajectory, Trajectory, Trajectory];
  assert.equal(math.task.question, records[0].question);
  assert.equal(math.task.goldAnswer, records[0].true_answer);
  assert.equal(math.task.domain, 'math');
  assert.equal(math.steps.length, 3);
  assert.equal(math.steps[0].observation!.error!.kind, 'parse');
  assert.equal(math.steps[0].code, 'total = sum(range(1, 20, 2)\nprint(total)');
  // Print output and the error of one step, from two observation turns.
  assert.equal(math.steps[1].observation!.printOutput, '100\n');
  assert.deepEqual(
    { kind: math.steps[1].observation!.error!.kind, type: math.steps[1].observation!.error!.type, statement: math.steps[1].observation!.error!.statement },
    { kind: 'execution', type: 'ZeroDivisionError', statement: 'ratio = total / 0' },
  );
  assert.equal(math.finalAnswer, records[0].generated_answer);
  assert.equal(math.fromFallback, false);
  assert.equal(math.steps[2].observation!.finalAnswer, records[0].generated_answer);
  assert.equal(math.judgement!.correct, true);

  assert.equal(factual.task.domain, 'factual');
  assert.equal(factual.task.goldAnswer, JSON.stringify(records[1].true_answer));
  assert.equal(factual.steps[1].thought, 'Now the river of Marenth.', 'list-of-text content is joined');
  assert.match(factual.steps[0].observation!.printOutput, /===== Document 0, similarity: 0.91 =====/);
  assert.equal(factual.steps[0].observation!.lastValue, 'None');

  assert.equal(fallback.fromFallback, true, 'no final_answer call: the answer came from the fallback');
  assert.equal(fallback.judgement!.correct, false);
});

void test('export of the reference-shaped fixture follows METHOD §7, with excluded steps kept in context at weight 0', async () => {
  const { trajectories } = await importedFixture();
  for (const t of trajectories) t.review = { status: 'accepted', reasonTags: [] };
  trajectories[0].steps[0].excludeFromTraining = true; // the step with the parse error
  trajectories[2].review.status = 'rejected';
  const records = await readFixtureRecords();
  const rawMessages = JSON.parse(records[0].log_data as string).messages as { role: string; content: { text: string }[] }[];
  await withTempDir(async (dir) => {
    const out = join(dir, 'train.jsonl');
    const manifest = await exportTrainingData(trajectories, out, { format: 'openai', prompt: DEFAULT_SFT_PROMPT, sources: ['reference-records.jsonl'] });
    const bytes = await readFile(out);
    assert.equal(manifest.snapshot, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    assert.deepEqual(JSON.parse(await readFile(manifestPathFor(out), 'utf8')).snapshot, manifest.snapshot);
    assert.deepEqual(manifest.skipped.map((s) => s.id), [trajectories[2].id]);
    const lines = bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: { role: string; content: string; weight?: number }[] });
    assert.equal(lines.length, 2);
    const messages = lines[0].messages;
    assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    assert.equal(messages[1].content, sftTaskTurn(trajectories[0].task.question, DEFAULT_SFT_PROMPT));
    const assistantTexts = rawMessages.filter((m) => m.role === 'assistant').map((m) => m.content.map((p) => p.text).join('').trim());
    assert.deepEqual(messages.filter((m) => m.role === 'assistant').map((m) => m.content), assistantTexts);
    assert.deepEqual(messages.filter((m) => m.role === 'assistant').map((m) => m.weight), [0, 1, 1]);
    // Observations are the teacher's turns verbatim; the two turns after step 2 are merged; the last is dropped.
    const responses = rawMessages.filter((m) => m.role === 'tool-response').map((m) => m.content.map((p) => p.text).join(''));
    assert.equal(messages[3].content, responses[0]);
    assert.equal(messages[5].content, responses[1] + responses[2]);
    assert.ok(!messages.some((m) => m.content.includes('Calling tools:')), 'tool-call turns are dropped');

    const axolotl = join(dir, 'axolotl.jsonl');
    await exportTrainingData(trajectories, axolotl, { format: 'axolotl', prompt: DEFAULT_SFT_PROMPT });
    const ax = JSON.parse((await readFile(axolotl, 'utf8')).split('\n')[0]) as { messages: { role: string; train: boolean }[] };
    assert.deepEqual(ax.messages.map((m) => m.train), [false, false, false, false, true, false, true]);

    const share = join(dir, 'sharegpt.jsonl');
    const shareManifest = await exportTrainingData(trajectories, share, { format: 'sharegpt', prompt: DEFAULT_SFT_PROMPT });
    assert.equal(shareManifest.examples, 1);
    assert.match(shareManifest.skipped.find((s) => s.id === trajectories[0].id)!.reason, /ShareGPT cannot mark/);
    const sg = JSON.parse((await readFile(share, 'utf8')).trim()) as { conversations: { from: string }[]; system: string };
    assert.equal(sg.system, DEFAULT_SFT_PROMPT.system);
    assert.deepEqual(sg.conversations.map((c) => c.from), ['human', 'gpt', 'human', 'gpt', 'human', 'gpt']);
  });
});

void test('token masks of the exported example, checked token by token through the Qwen2.5 template', async () => {
  const tokenizer = await loadQwenTokenizer();
  const { trajectories } = await importedFixture();
  const t = trajectories[0];
  t.steps[0].excludeFromTraining = true;
  const conversation = buildSftConversation(t, DEFAULT_SFT_PROMPT);
  const rendered = renderQwenChat(conversation.turns);
  assert.equal(rendered, tokenizer.applyChatTemplate(conversation.turns), 'our rendering is the tokenizer\'s own chat template');
  const masked = maskConversation(tokenizer, conversation);
  assert.deepEqual(masked.labels.map((l, i) => (l === -100 ? -100 : masked.inputIds[i])), masked.labels);

  // Group consecutive tokens by their label; decode each run's bytes.
  const runs: { train: boolean; bytes: Buffer }[] = [];
  let offset = 0;
  const all = Buffer.from(rendered);
  for (const token of masked.tokens) {
    const length = tokenizer.byteLengthOf(token.id);
    const piece = all.subarray(offset, offset + length);
    offset += length;
    const last = runs[runs.length - 1];
    if (last && last.train === token.train) last.bytes = Buffer.concat([last.bytes, piece]);
    else runs.push({ train: token.train, bytes: piece });
  }
  assert.equal(offset, all.length, 'the tokens cover the text exactly');
  const trainedRuns = runs.filter((r) => r.train).map((r) => r.bytes.toString('utf8'));
  const expected = conversation.turns.filter((x) => x.role === 'assistant' && x.train).map((x) => `${x.content}<|im_end|>`);
  assert.deepEqual(trainedRuns, expected, 'exactly the trained assistant turns and their end-of-turn token carry loss');
  const maskedText = runs.filter((r) => !r.train).map((r) => r.bytes.toString('utf8')).join('');
  assert.ok(maskedText.includes(t.steps[0].modelOutput.trim()), 'the excluded step is in the context, masked');
  assert.ok(maskedText.includes('<|im_start|>assistant\n'), 'turn headers are masked');
  assert.equal(masked.straddling, 0);
  assert.equal(masked.trainedTokens, masked.labels.filter((l) => l !== -100).length);
});

void test('question sets: reference JSON, JSONL and CSV, with problems located', async () => {
  const json = await importQuestionSet(join(fixtures, 'questions.json'));
  const source = JSON.parse(await readFile(join(fixtures, 'questions.json'), 'utf8')) as { examples: { id: string; question: string; answer: unknown }[] };
  assert.deepEqual(json.tasks.map((t) => t.id), source.examples.map((e) => e.id));
  assert.ok(json.tasks.every((t) => t.domain === 'math'), 'metadata.domain applies');
  assert.equal(json.tasks[1].goldAnswer, String(source.examples[1].answer));
  assert.deepEqual(json.problems, []);

  const jsonl = await importQuestionSet(join(fixtures, 'questions.jsonl'));
  assert.deepEqual(jsonl.tasks.map((t) => t.id), ['f1', 'f3']);
  assert.deepEqual(jsonl.problems.map((p) => p.where), ['line 3', 'line 4']);
  assert.equal(jsonl.tasks[1].goldAnswer, JSON.stringify(['Ilse Varn', 'I. Varn']));

  const csv = await importQuestionSet(join(fixtures, 'questions.csv'));
  assert.deepEqual(csv.tasks.map((t) => t.id), ['c1', 'c2', 'c4']);
  assert.equal(csv.tasks[1].question, 'A question with "quotes", a comma,\nand a newline?');
  assert.deepEqual(csv.problems.map((p) => p.where), ['line 5'], 'the quoted newline in row c2 counts as a line');
  assert.match(csv.problems[0].message, /expected 4 columns/);
  assert.throws(() => parseCsv('a,"open'), /never closed/);
});

void test('leakage: exact and near duplicates against benchmark questions are found, unrelated ones are not', async () => {
  const { trajectories } = await importedFixture();
  const bench = (await importQuestionSet(join(fixtures, 'questions.csv'))).tasks.concat((await importQuestionSet(join(fixtures, 'questions.json'))).tasks);
  const matches = findLeakage(
    trajectories.map((t) => ({ id: t.id, question: t.task.question })),
    bench.map((b) => ({ id: b.id, question: b.question, source: b.source! })),
  );
  const byId = new Map(matches.map((m) => [m.trainingId, m]));
  assert.equal(byId.get(trajectories[0].id)?.kind, 'exact');
  assert.equal(byId.get(trajectories[0].id)?.benchmarkId, 'm2');
  assert.equal(byId.get(trajectories[1].id)?.kind, 'near', 'the same question with "the fictional country of" added');
  assert.equal(byId.get(trajectories[1].id)?.benchmarkId, 'c4');
  assert.equal(byId.has(trajectories[2].id), false);
  const punctuation = findLeakage([{ id: 'x', question: 'WHAT is 2+2 ?' }], [{ id: 'y', question: 'what is 2 + 2' }]);
  assert.equal(punctuation[0]?.kind, 'exact');
});

void test('reference records saved as one JSON array import like JSONL, numbered from 1', async () => {
  const records = await readFixtureRecords();
  await withTempDir(async (dir) => {
    const file = join(dir, 'records.json');
    await writeFile(file, `\ufeff${JSON.stringify(records, null, 2)}`);
    const fromArray = await importReferenceRecords(file, { source: 'reference-records.jsonl' });
    const fromLines = await importedFixture();
    assert.deepEqual(fromArray.problems.map((p) => [p.line, p.field]), fromLines.problems.map((p) => [p.line, p.field]));
    assert.deepEqual(fromArray.trajectories.map((t) => t.steps), fromLines.trajectories.map((t) => t.steps));
  });
});

void test('the example .traj fixture is the text form of the imported fixture record', async () => {
  const { trajectories } = await importedFixture();
  const text = await readFile(join(fixtures, 'example.traj'), 'utf8');
  assert.equal(text, renderTrajectoryText(trajectories[0]));
  assert.deepEqual(parseTrajectoryText(text, trajectories[0]), trajectories[0]);
});
