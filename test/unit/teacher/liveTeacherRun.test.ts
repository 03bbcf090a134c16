import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { recordSlotOfTask } from '../../../src/runs/liveRunRecords';
import { teacherOutcome, teacherQuestionSeeds } from '../../../src/teacher/liveTeacherRun';
import { teacherRunConfigSchema } from '../../../src/teacher/runConfig';
import { newTrajectory } from '../../../src/trajectory/schema';

test('the live view lists a teacher run\'s questions with what an earlier run wrote, and finds a question\'s record', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-teacher-'));
  try {
    const questionFile = path.join(dir, 'q.questions.jsonl');
    fs.writeFileSync(questionFile, ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ id, question: `Question ${id}?`, answer: '1', domain: 'math' })).join('\n') + '\n');
    const outputFile = path.join(dir, 'out.traj.jsonl');
    const record = (id: string, teacherFilter: object, runError?: string) =>
      JSON.stringify({ ...newTrajectory({ task: { id, question: `Question ${id}?`, domain: 'math' }, origin: { kind: 'teacher', model: 't' } }), meta: { teacherFilter, ...(runError ? { runError } : {}) } });
    fs.writeFileSync(
      outputFile,
      [
        record('b', { verdict: 'correct', accepted: true, reason: 'correct answer' }),
        record('a', { verdict: 'run-error', accepted: false, reason: 'server said 500' }, 'server said 500'),
      ].join('\n') + '\n',
    );
    const config = teacherRunConfigSchema.parse({ questionFile, outputFile, teacher: { model: 't', baseUrls: ['http://127.0.0.1:1/v1'] }, limit: 3 });
    const seeds = await teacherQuestionSeeds(config);
    assert.deepEqual(
      seeds.map((s) => [s.key, s.question, s.earlier?.status, s.earlier?.detail]),
      [
        ['a', 'Question a?', 'failed', 'server said 500'],
        ['b', 'Question b?', 'accepted', 'correct answer'],
        ['c', 'Question c?', undefined, undefined],
      ],
      'the limit applies; earlier records show their verdicts',
    );
    assert.equal(await recordSlotOfTask(outputFile, 'a'), 1);
    assert.equal(await recordSlotOfTask(outputFile, 'c'), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('teacher outcomes: a run error fails with the error, the filter accepts or rejects with its reason', () => {
  assert.deepEqual(teacherOutcome({ verdict: 'run-error', accepted: false, reason: 'boom' }), { status: 'failed', detail: 'boom' });
  assert.deepEqual(teacherOutcome({ verdict: 'correct', accepted: true, reason: 'correct answer' }), { status: 'accepted', detail: 'correct answer' });
  assert.deepEqual(teacherOutcome({ verdict: 'parse-error', accepted: false, reason: 'no code block' }), { status: 'rejected', detail: 'no code block' });
});
