import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Trajectory } from '../../../src/trajectory/schema';
import { findSameTaskInFiles } from '../../../src/trajectoryEditor/sameTaskSearch';
import { sampleTrajectory } from './memorySource';

async function withFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ts-same-task-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function withTask(t: Trajectory, taskId: string, question = t.task.question): Trajectory {
  return { ...t, task: { ...t.task, id: taskId, question } };
}

const lines = (...ts: Trajectory[]) => ts.map((t) => JSON.stringify(t)).join('\n') + '\n';

test("finds a task's trajectories in other files by task id or by the same question, with where they are", async () => {
  await withFolder(async (dir) => {
    const teacher = join(dir, 'teacher.traj.jsonl');
    const run = join(dir, 'run.traj.jsonl');
    await writeFile(teacher, lines(withTask(sampleTrajectory('t1'), 'math-1'), withTask(sampleTrajectory('t2'), 'math-2')));
    // the eval run numbered its tasks differently but asked the same question
    await writeFile(run, lines(withTask(sampleTrajectory('s0'), 'other'), withTask(sampleTrajectory('s1', 2), 'bench-7', 'Question t1? ')));
    const result = await findSameTaskInFiles(
      [
        { path: teacher, label: 'teacher.traj.jsonl' },
        { path: run, label: 'eval run r1 · run.traj.jsonl' },
      ],
      { taskId: 'math-1', question: 'Question t1?' },
    );
    assert.deepEqual(
      result.matches.map((m) => [m.fileLabel, m.record, m.id]),
      [
        ['teacher.traj.jsonl', 0, 't1'],
        ['eval run r1 · run.traj.jsonl', 1, 's1'],
      ],
    );
    assert.match(result.matches[1].label, /eval run r1 · run\.traj\.jsonl #2 · s1 · teacher teacher-model · not judged · 2 steps/);
    assert.deepEqual(result.unfinished, []);
  });
});

test('a search out of time stops and names the files it did not finish; a missing file does not hide the others', async () => {
  await withFolder(async (dir) => {
    const a = join(dir, 'a.traj.jsonl');
    const b = join(dir, 'b.traj.jsonl');
    await writeFile(a, lines(withTask(sampleTrajectory('a1'), 'x'), withTask(sampleTrajectory('a2'), 'x')));
    await writeFile(b, lines(withTask(sampleTrajectory('b1'), 'x')));
    // a clock that jumps past the budget after the first record of the first file
    let ticks = 0;
    const now = () => (ticks++ < 3 ? 0 : 60_000);
    const timed = await findSameTaskInFiles(
      [
        { path: a, label: 'a' },
        { path: b, label: 'b' },
      ],
      { taskId: 'x', question: '' },
      { budgetMs: 1_000, now },
    );
    assert.deepEqual(timed.unfinished, ['a', 'b']);
    assert.ok(timed.matches.length < 3, 'the search stopped early');

    const missing = await findSameTaskInFiles(
      [
        { path: join(dir, 'gone.traj.jsonl'), label: 'gone' },
        { path: b, label: 'b' },
      ],
      { taskId: 'x', question: '' },
    );
    assert.deepEqual(
      missing.matches.map((m) => m.id),
      ['b1'],
    );
    assert.deepEqual(missing.unfinished, ['gone']);
  });
});
