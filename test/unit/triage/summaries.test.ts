import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { formatTeacherSummary, summarizeTeacherFile } from '../../../src/teacher/runSummary';
import { type Trajectory } from '../../../src/trajectory/schema';
import { computedMath, groundedFactual, trajectory } from '../../support/triageTrajectories';

function kept(t: Trajectory): Trajectory {
  return { ...t, judgement: { correct: true, method: 'exact-match' }, meta: { teacherFilter: { verdict: 'correct', accepted: true, reason: 'correct answer' } } };
}

void it('the teacher summary says how many trajectories triage flagged, by rule, and how many of them the filter kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'triage-summary-'));
  try {
    const file = join(dir, 'teacher.traj.jsonl');
    const fromMemory = kept(trajectory({ ...groundedFactual(), steps: [{ code: 'final_answer("Kestrel Bay")', finalAnswer: 'Kestrel Bay' }] }));
    await writeFile(file, `${[kept(trajectory(computedMath())), fromMemory].map((t) => JSON.stringify(t)).join('\n')}\n`);
    const summary = await summarizeTeacherFile(file);
    assert.deepEqual(summary.triage, { flagged: 1, flaggedAccepted: 1, byRule: { 'no-search': 1 } });
    const text = formatTeacherSummary(summary).join('\n');
    assert.match(text, /triage: 1 of 2 trajectories flagged, 1 of them passed the filter/);
    assert.match(text, /no-search +1 +Answered without searching/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
