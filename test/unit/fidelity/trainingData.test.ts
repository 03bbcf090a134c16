import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Compatibility } from '../../../src/trajectory/compatibility';
import { importReferenceRecords } from '../../../src/trajectory/referenceImport';
import { newTrajectory, type Trajectory } from '../../../src/trajectory/schema';
import { exportTrainingData, manifestPathFor, type FallbackPrompt } from '../../../src/trajectory/sftExport';
import { readExportManifest } from '../../../src/trainingExport/exportManifest';
import { DEFAULT_SFT_PROMPT, sftTaskTurn } from '../../../src/trajectory/sftPrompt';
import { decideTeacherFilter } from '../../../src/teacher/trajectoryFilter';

/**
 * Training data built the reference's way and the studio's way from records shaped like the reference's saved
 * runs (fixtures/records-*.jsonl, written for these tests). METHOD §6 (the filter) and §7 (the fallback example).
 */

const fixtures = join(__dirname, 'fixtures');
const filterFile = join(fixtures, 'records-filter.jsonl');
const fallbackFile = join(fixtures, 'records-fallback.jsonl');

interface RawMessage {
  role: string;
  content: { type: string; text: string }[];
}
interface RawRecord {
  question: string;
  log_data: { messages: RawMessage[]; original_memory: { steps: { messages?: RawMessage[] }[] } } | null;
}

async function rawRecords(file: string): Promise<RawRecord[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RawRecord);
}

const textOf = (m: RawMessage): string => m.content.map((p) => p.text).join('');

/**
 * The reference's cleaning of a stored conversation, written out here from its source so the expectation does
 * not come from the code under test: tool-call turns dropped (src/smolagents/models.py:246-247), tool responses
 * become user turns and adjacent turns of one role are concatenated (models.py:215-218, called with these
 * conversions at exps_research/train_utils/preprocess.py:160-168), a trailing user turn dropped (preprocess.py:148-153).
 */
function referenceClean(messages: readonly RawMessage[]): { role: string; content: string }[] {
  const out: { role: string; content: string }[] = [];
  for (const m of messages) {
    if (m.role === 'tool-call') continue;
    const role = m.role === 'tool-response' ? 'user' : m.role;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content += textOf(m);
    else out.push({ role, content: textOf(m) });
  }
  if (out[out.length - 1]?.role === 'user') out.pop();
  return out;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fidelity-training-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Imports a fixture and stores the teacher filter's decision under a profile, as a teacher run does. */
async function importAndFilter(file: string, compatibility: Compatibility): Promise<{ trajectories: Trajectory[]; problems: { line: number; field?: string; message: string }[] }> {
  const { trajectories, problems } = await importReferenceRecords(file, { source: file.split('/').pop()! });
  for (const t of trajectories) {
    const decision = decideTeacherFilter(t, { compatibility, dropParseErrors: true, dropExecutionErrors: false });
    t.meta = { ...t.meta, teacherFilter: { ...decision } };
  }
  return { trajectories, problems };
}

describe('teacher filter (METHOD §6)', () => {
  // The reference drops a record when a tool response holds "Error in code parsing" (a reply with no code
  // block), keeps "Code execution failed" ones, and keeps only score 1
  // (exps_research/unified_framework/filter_agent_training_data.py:10-12, 48, 58-84). A SyntaxError raised
  // by the code reads "Code parsing failed on line ..." (src/smolagents/local_python_executor.py:1549), which
  // is neither string, so the reference keeps it.
  const questions = ['What is 3 times 4?', 'What is 5 plus 6?', 'What is 9 minus 2?', 'What is 8 divided by 2?', 'What is 2 to the power 5?'];
  const expected: Record<Compatibility, boolean[]> = {
    // clean, syntax error then recovery, missing code block then recovery, execution error then recovery, wrong answer
    reference: [true, true, false, true, false],
    // the studio keeps syntax errors too: the model read the error and fixed its code, as after any other error
    studio: [true, true, false, true, false],
  };
  for (const compatibility of ['reference', 'studio'] as const) {
    void test(`${compatibility}: keeps the records the reference keeps, syntax errors included`, async () => {
      const { trajectories } = await importAndFilter(filterFile, compatibility);
      assert.deepEqual(trajectories.map((t) => t.task.question), questions);
      assert.deepEqual(
        trajectories.map((t) => (t.meta?.teacherFilter as { accepted: boolean }).accepted),
        expected[compatibility],
      );
    });
  }

  void test('the reasons say which kind of parse failure it was, and in which step', async () => {
    const { trajectories } = await importAndFilter(filterFile, 'reference');
    const reasons = trajectories.map((t) => (t.meta?.teacherFilter as { reason: string }).reason);
    assert.equal(reasons[1], 'correct answer (recovered from an error in step 1)');
    assert.equal(reasons[2], 'correct answer, but the reply had no code block in step 1');
    assert.equal(reasons[3], 'correct answer (recovered from an error in step 1)');
  });

  void test('trajectories the studio\'s agent made are judged by the same rules (its missing block is a CodeBlockMissing parse error)', () => {
    const made = (errorType: string): Trajectory => {
      const t = newTrajectory({ task: { id: 'q', question: 'q?', domain: 'math', goldAnswer: '1' }, origin: { kind: 'teacher' } });
      t.steps = [
        { thought: 'a', code: 'x', modelOutput: 'a', observation: { printOutput: '', lastValue: 'None', webSearchCalls: [], error: { kind: 'parse', type: errorType, message: 'm' } } },
        { thought: 'b', code: 'final_answer(1)', modelOutput: 'b', observation: { printOutput: '', lastValue: '1', webSearchCalls: [], finalAnswer: '1' } },
      ];
      t.finalAnswer = '1';
      t.judgement = { correct: true, method: 'math-equivalence' };
      return t;
    };
    for (const compatibility of ['studio', 'reference'] as const) {
      const settings = { compatibility, dropParseErrors: true, dropExecutionErrors: false };
      assert.deepEqual(
        ['CodeBlockMissing', 'SyntaxError', 'IndentationError'].map((type) => decideTeacherFilter(made(type), settings).verdict),
        ['parse-error', 'correct', 'correct'],
        compatibility,
      );
    }
  });

  void test('the syntax error can still be dropped on request, with its own reason', async () => {
    const { trajectories } = await importReferenceRecords(filterFile, { source: 'records-filter.jsonl' });
    const decision = decideTeacherFilter(trajectories[1], { compatibility: 'studio', dropParseErrors: true, dropExecutionErrors: false, dropSyntaxErrors: true });
    assert.deepEqual(decision, { verdict: 'parse-error', accepted: false, reason: 'correct answer, but the code had a syntax error in step 1' });
  });

  void test('a record whose run failed (log_data null) is named by line and field with the run\'s error', async () => {
    const { problems } = await importAndFilter(filterFile, 'reference');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].line, 6);
    assert.equal(problems[0].field, 'log_data');
    assert.match(problems[0].message, /^log_data: is null: the reference's agent run for this question failed with the error "Connection to the server timed out"/);
  });
});

describe('max-step fallback example (METHOD §7)', () => {
  const fallbackPrompt: FallbackPrompt = { system: 'Give the answer from what the steps found. (test fallback system)', request: '\nAnswer now, in one line: {{question}} (test request)' };

  async function exportFixture(compatibility: Compatibility, dir: string) {
    const { trajectories, problems } = await importAndFilter(fallbackFile, compatibility);
    assert.deepEqual(problems, []);
    const out = join(dir, `train-${compatibility}.jsonl`);
    const manifest = await exportTrainingData(trajectories, out, { format: 'openai', prompt: DEFAULT_SFT_PROMPT, compatibility, fallbackPrompt, statuses: ['unreviewed'] });
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: { role: string; content: string; weight?: number }[] });
    return { trajectories, manifest, lines, out };
  }

  void test('the import keeps the fallback reply of a run that hit the step limit', async () => {
    const records = await rawRecords(fallbackFile);
    const { trajectories } = await importAndFilter(fallbackFile, 'reference');
    const stored = records[0].log_data!.original_memory.steps[1].messages!;
    assert.equal(trajectories[0].fromFallback, true);
    assert.equal(trajectories[0].fallbackOutput, textOf(stored[stored.length - 1]), 'the reply exactly as stored, spaces and all');
    assert.equal(trajectories[0].steps.length, 5);
    assert.deepEqual(trajectories.slice(1).map((t) => [t.fromFallback, t.fallbackOutput]), [[false, undefined], [false, undefined], [false, undefined]]);
  });

  void test('reference: four records give five examples, the fifth the fallback conversation trained in full', async () => {
    await withTempDir(async (dir) => {
      const records = await rawRecords(fallbackFile);
      const { trajectories, manifest, lines, out } = await exportFixture('reference', dir);
      // preprocess.py:195-213: one example per record, plus one per stored fallback conversation.
      assert.equal(lines.length, 5);
      assert.deepEqual([manifest.examples, manifest.fallbackExamples, manifest.compatibility], [5, 1, 'reference']);
      assert.equal((await readExportManifest(out))?.compatibility, 'reference');
      assert.equal(JSON.parse(await readFile(manifestPathFor(out), 'utf8')).compatibility, 'reference');

      // The trajectory's own example ends with its last reply; the final observation is dropped.
      const main = lines[0].messages;
      assert.deepEqual(main.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);

      // The fallback example follows the trajectory's and is the stored fallback conversation as the reference
      // cleans it, with the export's own system, task turn and request texts in place of the fixture's.
      const fallback = lines[1].messages;
      const stored = referenceClean(records[0].log_data!.original_memory.steps[1].messages!);
      assert.deepEqual(fallback.map((m) => m.role), stored.map((m) => m.role));
      assert.equal(fallback.length, 13);
      assert.equal(fallback[0].content, fallbackPrompt.system);
      assert.equal(fallback[1].content, sftTaskTurn(records[0].question, DEFAULT_SFT_PROMPT));
      assert.deepEqual(fallback.filter((m) => m.role === 'assistant').map((m) => m.content), stored.filter((m) => m.role === 'assistant').map((m) => m.content));
      assert.deepEqual(fallback.slice(3, 11).filter((m) => m.role === 'user').map((m) => m.content), stored.slice(3, 11).filter((m) => m.role === 'user').map((m) => m.content), 'observations verbatim');
      const lastObservation = textOf(records[0].log_data!.messages[records[0].log_data!.messages.length - 1]);
      assert.equal(fallback[11].content, `${lastObservation}\nAnswer now, in one line: ${records[0].question} (test request)`, 'the last observation and the request, merged');
      assert.equal(fallback[12].content, '  The squares add up to \\boxed{14}.\n', 'the reply as the server returned it');
      // The reference's collator trains every assistant turn of it (exps_research/finetune_sft.py:223-238).
      assert.deepEqual(fallback.filter((m) => m.role === 'assistant').map((m) => m.weight), [1, 1, 1, 1, 1, 1]);
      assert.equal(trajectories.length, 4);
    });
  });

  void test('studio: the same five examples, but the fallback example trains only the fallback reply', async () => {
    await withTempDir(async (dir) => {
      const { manifest, lines } = await exportFixture('studio', dir);
      assert.deepEqual([lines.length, manifest.examples, manifest.fallbackExamples, manifest.compatibility], [5, 5, 1, 'studio']);
      const fallback = lines[1].messages;
      assert.deepEqual(fallback.filter((m) => m.role === 'assistant').map((m) => m.weight), [0, 0, 0, 0, 0, 1]);
      assert.equal(fallback[12].content, 'The squares add up to \\boxed{14}.');
    });
  });

  void test('without the fallback texts the missing example is listed with its reason, never dropped silently', async () => {
    await withTempDir(async (dir) => {
      const { trajectories } = await importAndFilter(fallbackFile, 'reference');
      const manifest = await exportTrainingData(trajectories, join(dir, 'x.jsonl'), { format: 'openai', prompt: DEFAULT_SFT_PROMPT, compatibility: 'reference', statuses: ['unreviewed'] });
      assert.equal(manifest.examples, 4);
      assert.deepEqual(manifest.skipped, [{ id: trajectories[0].id, taskId: trajectories[0].task.id, reason: 'fallback example: no fallback prompt texts were given to build it' }]);
    });
  });
});
