import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRAJECTORY_SCHEMA_VERSION,
  TrajectoryValidationError,
  newTrajectory,
  observationFromOutcome,
  parseTrajectory,
  safeParseTrajectory,
  trajectoryMigrations,
  type TrajectoryMigration,
} from '../../../src/trajectory/schema';
import { type ExecOutcome } from '../../../src/sandbox/types';

function sample() {
  return newTrajectory({
    id: 't-1',
    task: { id: 'q1', question: 'What is 2+2?', goldAnswer: '4', domain: 'math', source: 'set.json' },
    origin: { kind: 'teacher', model: 'Qwen/Qwen2.5-32B-Instruct', sampling: { temperature: 0, seed: 42 } },
  });
}

void test('a new trajectory is valid, versioned and unreviewed, and survives JSON', () => {
  const t = sample();
  assert.equal(t.schema, TRAJECTORY_SCHEMA_VERSION);
  assert.equal(t.review.status, 'unreviewed');
  assert.deepEqual(parseTrajectory(JSON.stringify(t)), t);
});

void test('fields with defaults may be absent in a file and are filled in', () => {
  const { review: _r, revisions: _v, ...bare } = sample();
  const parsed = parseTrajectory(bare);
  assert.equal(parsed.review.status, 'unreviewed');
  assert.deepEqual(parsed.revisions, []);
});

void test('a sandbox outcome is stored as a step observation unchanged', () => {
  const outcome: ExecOutcome = {
    printOutput: 'hi\n',
    printedChars: 3,
    lastValue: 'None',
    error: { kind: 'execution', type: 'ZeroDivisionError', message: 'division by zero', line: 2, statement: '1/0' },
    webSearchCalls: [{ query: 'q', passages: [{ id: 'p1', title: 'T', text: 'x', score: 0.5 }] }],
    durationMs: 12,
  };
  const t = sample();
  t.steps.push({ thought: 'go', code: 'print("hi")\n1/0', modelOutput: 'Thought: go', observation: observationFromOutcome(outcome) });
  const back = parseTrajectory(JSON.parse(JSON.stringify(t)));
  assert.deepEqual(back.steps[0].observation!.error, outcome.error);
  assert.deepEqual(back.steps[0].observation!.webSearchCalls, outcome.webSearchCalls);
});

void test('wrong types deep inside are reported with their JSON path, all at once', () => {
  const t = JSON.parse(JSON.stringify(sample()));
  t.steps = [{ thought: 'a', code: 'b', modelOutput: 'c', observation: { printOutput: '', lastValue: 'None', error: { kind: 'nope', type: 'E', message: 'm' } } }];
  t.task.domain = 'chemistry';
  t.surprise = true;
  const r = safeParseTrajectory(t);
  assert.equal(r.ok, false);
  const paths = r.ok ? [] : r.issues.map((i) => i.path);
  assert.ok(paths.includes('$.steps[0].observation.error.kind'), paths.join());
  assert.ok(paths.includes('$.task.domain'), paths.join());
  assert.ok(!r.ok && r.issues.some((i) => i.path === '$' && i.message.includes('surprise')));
});

void test('a record from a newer version is refused with a message that says so', () => {
  const t = { ...sample(), schema: TRAJECTORY_SCHEMA_VERSION + 5 };
  assert.throws(() => parseTrajectory(t), (err: unknown) => {
    assert.ok(err instanceof TrajectoryValidationError);
    assert.match(err.message, /newer Trajectory Studio/);
    assert.match(err.message, new RegExp(`${TRAJECTORY_SCHEMA_VERSION + 5}`));
    return true;
  });
});

void test('missing or malformed versions and non-objects are clear errors', () => {
  const { schema: _s, ...noVersion } = sample();
  assert.throws(() => parseTrajectory(noVersion), /missing schema version/);
  assert.throws(() => parseTrajectory({ ...sample(), schema: '1' }), /whole-number schema version/);
  assert.throws(() => parseTrajectory([]), /expected a trajectory object, got an array/);
  assert.throws(() => parseTrajectory('{oops'), /not valid JSON/);
});

void test('older versions are migrated step by step before validation', () => {
  // A hypothetical version 0 that called the task text `prompt`; the migration renames it.
  const migrations: Record<number, TrajectoryMigration> = {
    ...trajectoryMigrations,
    0: (r) => {
      const task = { ...(r.task as Record<string, unknown>) };
      task.question = task.prompt;
      delete task.prompt;
      return { ...r, task };
    },
  };
  const current = JSON.parse(JSON.stringify(sample()));
  const old = { ...current, schema: 0, task: { ...current.task, prompt: current.task.question } };
  delete old.task.question;
  const r = safeParseTrajectory(old, migrations);
  assert.ok(r.ok);
  assert.equal(r.value.schema, TRAJECTORY_SCHEMA_VERSION);
  assert.equal(r.value.task.question, current.task.question);
  assert.equal(r.migratedFrom, 0);
  // Without a migration for that version the record is refused, not guessed at.
  const refused = safeParseTrajectory({ ...old, schema: 0 }, trajectoryMigrations);
  assert.ok(!refused.ok && refused.issues[0].message.includes('no migration'));
});
