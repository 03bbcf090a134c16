import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Trajectory } from '../../../src/trajectory/schema';
import { TrajectoryEditorModel } from '../../../src/trajectoryEditor/editorDocumentModel';
import { TrajectoryEditorSession } from '../../../src/trajectoryEditor/trajectoryEditorSession';
import { MemorySource, sampleTrajectory } from './memorySource';

// The list's "N shown · M in file" is the `total` of the rows answer, and the review and filter counts
// come from the index: these must follow every filter, search and edit.

function generated(id: string, accepted: boolean, reason: string, question?: string): Trajectory {
  return {
    ...sampleTrajectory(id, 2, question),
    finalAnswer: '42',
    judgement: { correct: true, method: 'math-equivalence' },
    meta: { teacherFilter: { verdict: accepted ? 'correct' : 'parse-error', accepted, reason } },
  };
}

async function sessionOf(records: Trajectory[], extraLines: string[] = []): Promise<TrajectoryEditorSession> {
  const session = new TrajectoryEditorSession(new TrajectoryEditorModel(new MemorySource([...records.map((r) => JSON.stringify(r)), ...extraLines])));
  await session.startIndexing();
  await session.indexed;
  return session;
}

const records = [
  generated('a', true, 'correct answer', 'How many apples are left?'),
  generated('b', true, 'correct answer', 'What is the area of the square?'),
  generated('c', false, 'correct answer, but the code did not parse in step 1', 'How many pears are left?'),
  sampleTrajectory('d', 1, 'Who wrote the letter?'),
];

void test('the shown count follows every filter and search, down to none', async () => {
  const session = await sessionOf(records, ['{ torn line']);
  assert.equal(session.rows({}, 0, 100).total, 5);
  assert.equal(session.rows({ filter: ['passed'] }, 0, 100).total, 2);
  assert.equal(session.rows({ filter: ['dropped'] }, 0, 100).total, 1);
  assert.equal(session.rows({ filter: ['none'] }, 0, 100).total, 2, 'the hand-made record and the invalid line');
  assert.equal(session.rows({ search: 'left' }, 0, 100).total, 2);
  assert.equal(session.rows({ search: 'left', filter: ['passed'] }, 0, 100).total, 1);
  assert.equal(session.rows({ verdict: ['correct'], status: ['unreviewed'] }, 0, 100).total, 3);
  const none = session.rows({ search: 'zeppelin' }, 0, 100);
  assert.equal(none.total, 0);
  assert.deepEqual(none.rows, []);
  assert.equal(session.rows({}, 0, 100).total, 5, 'clearing the query shows every line again');
});

void test('a row carries the filter decision, and a dropped record is not a plain "correct" in the list', async () => {
  const session = await sessionOf(records);
  const rows = session.rows({}, 0, 100).rows;
  assert.deepEqual(rows.map((r) => r.filter), ['passed', 'passed', 'dropped', undefined]);
  assert.equal(rows[2].status, 'unreviewed', 'the filter decision is not a review status');
});

void test('review and filter counts stay right after edits, undo and a changed answer', async () => {
  const session = await sessionOf(records);
  const index = session.listIndex;
  assert.deepEqual(index.countsByStatus(), { unreviewed: 4, accepted: 0, rejected: 0, invalid: 0 });
  assert.deepEqual(index.countsByFilter(), { passed: 2, dropped: 1, none: 1 });
  const applied = await session.edit(0, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await session.edit(2, { kind: 'setReview', status: 'rejected', reasonTags: ['bad-code'] });
  // Summaries are refreshed from the model's change event; wait for them as the page's next request would.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(index.countsByStatus(), { unreviewed: 2, accepted: 1, rejected: 1, invalid: 0 });
  assert.equal(session.rows({ status: ['accepted'] }, 0, 100).total, 1);
  assert.equal(session.rows({ status: ['unreviewed'] }, 0, 100).total, 2);
  assert.deepEqual(index.countsByFilter(), { passed: 2, dropped: 1, none: 1 }, 'a review does not change the filter counts');
  session.model.undo(applied!);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(index.countsByStatus(), { unreviewed: 3, accepted: 0, rejected: 1, invalid: 0 });
  assert.equal(session.rows({ status: ['accepted'] }, 0, 100).total, 0);

  const noAnswer: Trajectory = { ...(await session.model.readTrajectory(1)) };
  delete noAnswer.finalAnswer;
  delete noAnswer.judgement;
  await session.model.apply(1, { kind: 'replace', trajectory: noAnswer, label: 'Re-execute step 2' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(session.rows({ verdict: ['correct'] }, 0, 100).total, 2, 'the record without an answer left the "correct" filter');
  assert.equal(session.rows({ verdict: ['unjudged'] }, 0, 100).total, 2);
});
