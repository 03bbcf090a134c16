import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOutputTarget, existingOutputQuestion } from '../../../src/teacher/outputTarget';

test('an existing output file is offered as "Resume" with what it holds, never as something to overwrite', () => {
  const resume = describeOutputTarget('/ws/out/math.teacher.traj.jsonl', 12);
  assert.equal(resume.resumes, true);
  assert.equal(resume.label, '$(debug-continue) Resume math.teacher.traj.jsonl');
  assert.equal(resume.description, '/ws/out');
  assert.match(resume.detail, /12 trajectories; answered questions are skipped, nothing is replaced/);
  assert.doesNotMatch(`${resume.label} ${resume.detail}`, /overwrite/i);
  assert.match(describeOutputTarget('/ws/a.traj.jsonl', 1).detail, /holds 1 trajectory;/);
});

test('a file that does not exist yet is offered as a new file', () => {
  const fresh = describeOutputTarget('/ws/out/new.traj.jsonl', undefined);
  assert.equal(fresh.resumes, false);
  assert.equal(fresh.label, '$(new-file) new.traj.jsonl');
});

test('the one question after a new-file dialog returned an existing file says it is resumed, not replaced', () => {
  assert.equal(existingOutputQuestion('/ws/x.traj.jsonl', 3), 'x.traj.jsonl already exists with 3 trajectories. Generation never replaces a file: it resumes, adding the questions not yet answered there.');
});
