import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveRunStateSchema } from '../../../src/protocol/liveRun';
import { LiveRunTracker } from '../../../src/runs/liveRunTracker';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('a run shows each question as it goes: queued, step k, accepted or failed with the error, and counts', () => {
  const c = clock();
  const tracker = new LiveRunTracker('teacher', 'Teacher: out.traj.jsonl', '/w/out.traj.jsonl', c.now);
  tracker.setQuestions([
    { key: 'q1', taskId: 'q1', question: 'What is 2 + 2?' },
    { key: 'q2', taskId: 'q2', question: 'What is 3 + 3?' },
    { key: 'q3', taskId: 'q3', question: 'What is 4 + 4?' },
    { key: 'q0', taskId: 'q0', question: 'Done before', earlier: { status: 'accepted', detail: 'correct answer' } },
  ]);
  tracker.running({ tokensPerSecond: 0 });
  tracker.questionStarted('q1');
  tracker.stepStarted('q1', 1);
  let s = tracker.state();
  assert.deepEqual(
    s.questions.map((q) => [q.key, q.status, q.step]),
    [['q1', 'running', 2], ['q2', 'queued', undefined], ['q3', 'queued', undefined], ['q0', 'accepted', undefined]],
  );
  assert.equal(s.questions[3].earlier, true);
  c.advance(30_000);
  tracker.questionFinished('q1', { status: 'accepted', detail: 'correct answer' }, { tokensPerSecond: 12, etaMs: 60_000 });
  tracker.questionStarted('q2');
  tracker.questionFinished('q2', { status: 'failed', detail: 'server said 500' });
  s = tracker.state();
  assert.equal(s.counts.accepted, 2, 'the earlier acceptance counts too');
  assert.equal(s.counts.failed, 1);
  assert.equal(s.counts.queued, 1);
  assert.equal(s.counts.done, 2);
  assert.equal(s.counts.earlier, 1);
  assert.equal(s.questionsPerMinute, 4, 'two questions in 30 s');
  assert.equal(s.etaMs, 60_000);
  assert.deepEqual(s.errors.map((e) => [e.taskId, e.message]), [['q2', 'server said 500']]);
  assert.equal(s.canCancel, true);
  assert.equal(s.canRetryFailed, false, 'retry waits for the end');
  assert.ok(liveRunStateSchema.safeParse(s).success, 'the state is what the protocol carries');
});

test('cancelling: running questions end as cancelled, queued ones stay queued; Retry Failed is offered when some failed', () => {
  const tracker = new LiveRunTracker('teacher', 't', '/o');
  tracker.setQuestions(['a', 'b', 'c'].map((k) => ({ key: k, taskId: k, question: k })));
  tracker.questionStarted('a');
  tracker.questionFinished('a', { status: 'failed', detail: 'boom' });
  tracker.questionStarted('b');
  tracker.stepStarted('b', 0);
  tracker.cancelling();
  assert.equal(tracker.state().phase, 'cancelling');
  assert.equal(tracker.state().canCancel, false);
  tracker.end({ cancelled: true, summary: 'cancelled: 1/3 done' });
  const s = tracker.state();
  assert.deepEqual(s.questions.map((q) => q.status), ['failed', 'cancelled', 'queued']);
  assert.equal(s.phase, 'cancelled');
  assert.equal(s.etaMs, null);
  assert.equal(s.canRetryFailed, true);
  assert.equal(s.summary, 'cancelled: 1/3 done');
});

test('events that arrive before the question list keep their status when the list comes', () => {
  const tracker = new LiveRunTracker('evaluation', 'e', '/r');
  const seen: number[] = [];
  tracker.onChange(() => seen.push(1));
  tracker.questionStarted('math/q2', 'q2');
  tracker.questionFinished('math/q1', { status: 'correct' }, undefined, 'q1');
  tracker.setQuestions([
    { key: 'math/q1', taskId: 'q1', group: 'math', question: 'one' },
    { key: 'math/q2', taskId: 'q2', group: 'math', question: 'two' },
    { key: 'math/q3', taskId: 'q3', group: 'math', question: 'three' },
  ]);
  const s = tracker.state();
  assert.deepEqual(s.questions.map((q) => [q.key, q.status, q.question]), [['math/q1', 'correct', 'one'], ['math/q2', 'running', 'two'], ['math/q3', 'queued', 'three']]);
  assert.ok(seen.length >= 3, 'every change is announced');
});

test('a run that fails to start says why', () => {
  const tracker = new LiveRunTracker('teacher', 't', '/o');
  tracker.end({ cancelled: false, failure: 'no teacher endpoint' });
  const s = tracker.state();
  assert.equal(s.phase, 'failed');
  assert.equal(s.failure, 'no teacher endpoint');
  assert.equal(s.canCancel, false);
});
