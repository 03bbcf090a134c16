import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrajectoryEditorModel } from '../../../src/trajectoryEditor/editorDocumentModel';
import { applyTrajectoryEdit } from '../../../src/trajectoryEditor/trajectoryEdits';
import { TrajectoryEditorSession } from '../../../src/trajectoryEditor/trajectoryEditorSession';
import { observationDisplayChars } from '../../../src/trajectoryEditor/trajectoryView';
import { MemorySource, sampleTrajectory } from './memorySource';
import { summaryTracker } from './summaryTracker';

const trackers = new WeakMap<TrajectoryEditorSession, ReturnType<typeof summaryTracker>>();

async function sessionOf(lines: string[]): Promise<TrajectoryEditorSession> {
  const tracker = summaryTracker();
  const session = new TrajectoryEditorSession(new TrajectoryEditorModel(new MemorySource(lines)), tracker.events);
  await session.startIndexing();
  await session.indexed;
  tracker.indexed();
  trackers.set(session, tracker);
  return session;
}

/** Resolves once the session has summarised every edited record again (what the list shows after an edit). */
const summarised = (session: TrajectoryEditorSession) => trackers.get(session)!.summarised();

const accepted = (id: string) => JSON.stringify(applyTrajectoryEdit(sampleTrajectory(id), { kind: 'setReview', status: 'accepted', reasonTags: [] }));

void test('the review queue walks the unreviewed records in list order, wrapping, and stops when none is left', async () => {
  const lines = [accepted('a'), JSON.stringify(sampleTrajectory('b')), accepted('c'), JSON.stringify(sampleTrajectory('d'))];
  const session = await sessionOf(lines);
  assert.equal(session.nextUnreviewed({}, -1), 1);
  assert.equal(session.nextUnreviewed({}, 1), 3);
  assert.equal(session.nextUnreviewed({}, 3), 1, 'wraps to the top');
  await session.edit(1, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await session.edit(3, { kind: 'setReview', status: 'rejected', reasonTags: ['bad-code'] });
  assert.equal(session.nextUnreviewed({}, 3), -1, 'nothing left to review');
});

void test('an edit shows in the list at once: status, tags and the unsaved mark', async () => {
  const session = await sessionOf([JSON.stringify(sampleTrajectory('a')), JSON.stringify(sampleTrajectory('b'))]);
  await session.edit(1, { kind: 'setReview', status: 'rejected', reasonTags: ['hallucinated-fact'] });
  await summarised(session);
  const page = session.rows({ status: ['rejected'] }, 0, 10);
  assert.deepEqual(page.rows.map((r) => [r.slot, r.reasonTags, r.dirty]), [[1, ['hallucinated-fact'], true]]);
  assert.equal(session.rows({}, 0, 10).rows[0].dirty, false);
});

void test('compare pairs two runs of one task step by step and marks what differs', async () => {
  const teacher = sampleTrajectory('teacher', 3, 'Same question?');
  const student = { ...sampleTrajectory('student', 2, 'Same question?'), task: teacher.task };
  student.steps[1] = { ...student.steps[1], code: 'print("other")', observation: { printOutput: 'other\n', lastValue: 'None', webSearchCalls: [] } };
  const other = sampleTrajectory('unrelated', 1);
  const session = await sessionOf([JSON.stringify(teacher), JSON.stringify(other), JSON.stringify(student)]);
  const candidates = await session.sameTask(0);
  assert.deepEqual(candidates.map((c) => c.slot), [2], 'only records of the same task are offered');
  const result = await session.compare(0, 2);
  assert.equal(result.rows.length, 3);
  const [first, second, third] = result.rows;
  assert.equal(first.codeDiffers, false);
  assert.equal(first.thoughtDiffers, true, 'thoughts name their trajectory, so they differ');
  assert.equal(second.codeDiffers, true);
  assert.equal(second.observationDiffers, true);
  assert.equal(third.right, undefined, 'the shorter run has no third step');
});

void test('a huge observation is capped for display and the full text is there on request', async () => {
  const t = sampleTrajectory('big', 1);
  const huge = 'x'.repeat(observationDisplayChars * 3);
  t.steps[0].observation!.printOutput = huge;
  const session = await sessionOf([JSON.stringify(t)]);
  const view = await session.open(0);
  assert.ok(view.valid);
  const shown = view.valid ? view.trajectory.steps[0].observation!.printOutput : undefined;
  assert.equal(shown?.text.length, observationDisplayChars);
  assert.equal(shown?.totalChars, huge.length);
  assert.equal(await session.fullText(0, 0, 'printOutput'), huge);
});

void test('type-ahead finds the next question with a prefix, from a position on, wrapping, within the query', async () => {
  const lines = ['Name the largest planet.', 'What is 2 times 3?', '  name the smallest prime.', 'Spell nine.'].map((q, i) => JSON.stringify(sampleTrajectory(`t${i}`, 1, q)));
  const session = await sessionOf(lines);
  assert.equal(session.findByPrefix({}, 0, 'na'), 0);
  assert.equal(session.findByPrefix({}, 1, 'NAME'), 2, 'case and leading spaces do not matter');
  assert.equal(session.findByPrefix({}, 3, 'name the l'), 0, 'wraps to the top');
  assert.equal(session.findByPrefix({}, 0, 'zebra'), -1);
  assert.equal(session.findByPrefix({ search: 'prime' }, 0, 'name'), 0, 'positions are in the query result');
});
