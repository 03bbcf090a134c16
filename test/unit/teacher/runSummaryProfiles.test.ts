import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { formatTeacherSummary, summarizeTeacherFile } from '../../../src/teacher/runSummary';
import { type Judgement, newTrajectory, type Trajectory } from '../../../src/trajectory/schema';

// Three math records of a run under the reference profile: both scorings right (t1), only the corrected
// one right (t2: the paper's scoring compares the gold as written), and one judged before both verdicts
// were stored (t3, right). By hand: reference 2/3 (66.7%), studio 3/3 (100.0%), one disagreement.

function record(id: string, judgement: Judgement, accepted: boolean): Trajectory {
  const t = newTrajectory({ id, task: { id, question: `Question ${id}?`, domain: 'math', goldAnswer: '90^\\circ' }, origin: { kind: 'teacher', model: 'teacher' } });
  t.finalAnswer = '\\boxed{90}';
  t.judgement = judgement;
  t.meta = { teacherFilter: accepted ? { verdict: 'correct', accepted: true, reason: 'correct answer' } : { verdict: 'incorrect', accepted: false, reason: 'wrong answer' } };
  return t;
}

const verdict = (correct: boolean, rule: string) => ({ correct, method: 'math-equivalence', rule });

void test('the teacher summary gives success under both scorings, marks the run\'s profile, and counts the disagreements', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'teacher-profiles-'));
  try {
    const file = path.join(dir, 'teacher.traj.jsonl');
    const records = [
      record('t1', { correct: true, method: 'math-equivalence', profile: 'reference', byProfile: { studio: verdict(true, 'string-equal'), reference: verdict(true, 'string-equal') } }, true),
      record('t2', { correct: false, method: 'math-equivalence', profile: 'reference', byProfile: { studio: verdict(true, 'normalized-equal'), reference: verdict(false, 'gold-as-written') } }, false),
      record('t3', { correct: true, method: 'math-equivalence' }, true),
    ];
    await writeFile(file, `${records.map((t) => JSON.stringify(t)).join('\n')}\n`);
    const summary = await summarizeTeacherFile(file);
    assert.deepEqual(summary.byDomain.map((d) => [d.domain, d.correct, d.correctByProfile.reference, d.correctByProfile.studio]), [['math', 2, 2, 3]]);
    assert.deepEqual([summary.profiles, summary.disagreements, summary.withoutBothVerdicts], [['reference'], 1, 1]);
    const lines = formatTeacherSummary(summary);
    assert.ok(lines.includes("    Paper's scoring (reference) ◀ this run 2/3 (66.7%) · Corrected (studio) 3/3 (100.0%)"), lines.join('\n'));
    assert.ok(lines.includes('  1 trajectory(ies) judged differently by the two profiles'));
    assert.ok(lines.includes('  1 record(s) hold one verdict only (scored before both profiles were stored): it counts for both'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
