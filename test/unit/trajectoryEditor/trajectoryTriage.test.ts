import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newTrajectory, type Step, type Trajectory } from '../../../src/trajectory/schema';
import { TrajectoryEditorModel } from '../../../src/trajectoryEditor/editorDocumentModel';
import { TrajectoryEditorSession } from '../../../src/trajectoryEditor/trajectoryEditorSession';
import { acceptQuestion, flagRulesInUse } from '../../../src/trajectoryEditor/trajectoryTriage';
import { flagTitle } from '../../../src/triage/flags';
import { MemorySource, sampleTrajectory } from './memorySource';
import { summaryTracker } from './summaryTracker';

// Trajectories with one planted defect each (what the triage rules look for), and clean ones around them.

function step(thought: string, code: string, observation: Partial<NonNullable<Step['observation']>>): Step {
  return {
    thought,
    code,
    modelOutput: `Thought: ${thought}\nCode:\n\`\`\`py\n${code}\n\`\`\`<end_code>`,
    observation: { printOutput: '', lastValue: 'None', webSearchCalls: [], ...observation },
  };
}

/** A factual question answered from memory: `no-search` (high) on its only step. */
function answeredFromMemory(id: string): Trajectory {
  return {
    ...newTrajectory({
      id,
      task: { id: `task-${id}`, question: `What is the capital of France (${id})?`, goldAnswer: 'Paris', domain: 'factual' },
      origin: { kind: 'teacher' },
      steps: [step('I know this one.', 'final_answer("Paris")', { finalAnswer: 'Paris' })],
    }),
    finalAnswer: 'Paris',
  };
}

const zeroDivision = { kind: 'execution' as const, type: 'ZeroDivisionError', message: 'division by zero', line: 1 };

/** Step 2 runs step 1's failing code again: `ignored-error` (high) on step 2. */
function ignoredError(id: string): Trajectory {
  return newTrajectory({
    id,
    task: { id: `task-${id}`, question: `Divide one by zero (${id})?`, goldAnswer: '42', domain: 'math' },
    origin: { kind: 'teacher' },
    steps: [step('Divide.', 'x = 1 / 0\nprint(x)', { error: zeroDivision }), step('Try again.', 'x = 1 / 0\nprint(x)', { error: zeroDivision })],
  });
}

/** final_answer of a typed literal no output showed: `answer-not-computed` (medium) on step 2. */
function typedAnswer(id: string): Trajectory {
  return {
    ...newTrajectory({
      id,
      task: { id: `task-${id}`, question: `What is six times seven (${id})?`, goldAnswer: '42', domain: 'math' },
      origin: { kind: 'teacher' },
      steps: [step('Multiply.', 'print(6 * 8)', { printOutput: '48\n' }), step('So the answer is.', 'final_answer("\\\\boxed{42}")', { finalAnswer: '\\boxed{42}' })],
    }),
    finalAnswer: '\\boxed{42}',
  };
}

const trackers = new WeakMap<TrajectoryEditorSession, ReturnType<typeof summaryTracker>>();

async function sessionOf(trajectories: Trajectory[]): Promise<TrajectoryEditorSession> {
  const tracker = summaryTracker();
  const session = new TrajectoryEditorSession(new TrajectoryEditorModel(new MemorySource(trajectories.map((t) => JSON.stringify(t)))), tracker.events);
  await session.startIndexing();
  await session.indexed;
  tracker.indexed();
  trackers.set(session, tracker);
  return session;
}

/** Resolves once the session has summarised every edited record again (what the list shows after an edit). */
const summarised = (session: TrajectoryEditorSession) => trackers.get(session)!.summarised();


// slots:        0 clean            1 typed (medium)  2 memory (high)        3 clean            4 error (high)     5 clean
const file = () => [sampleTrajectory('c0', 2), typedAnswer('t1'), answeredFromMemory('m2'), sampleTrajectory('c3', 2), ignoredError('e4'), sampleTrajectory('c5', 2)];

void test('each list row carries its flags and risk; the planted step is the one flagged', async () => {
  const session = await sessionOf(file());
  const rows = session.rows({}, 0, 10).rows;
  assert.deepEqual(
    rows.map((r) => [r.slot, r.flags.map((f) => `${f.rule}@${f.step ?? '-'}`), r.risk]),
    [
      [0, [], 0],
      [1, ['answer-not-computed@1'], 2],
      [2, ['no-search@0'], 3],
      [3, [], 0],
      [4, ['ignored-error@1'], 3],
      [5, [], 0],
    ],
  );
  const view = await session.open(4);
  assert.ok(view.valid);
  if (view.valid) {
    const [flag] = view.trajectory.flags;
    assert.equal(flag.title, 'Error ignored');
    assert.equal(flag.step, 1);
    assert.match(flag.message, /again unchanged/);
    assert.equal(flag.evidence, 'x = 1 / 0');
  }
});

void test('the flag filter keeps flagged, unflagged, or one rule’s trajectories; the rules in use are offered', async () => {
  const session = await sessionOf(file());
  const slots = (flag: string) => session.rows({ flag }, 0, 10).rows.map((r) => r.slot);
  assert.deepEqual(slots('any'), [1, 2, 4]);
  assert.deepEqual(slots('none'), [0, 3, 5]);
  assert.deepEqual(slots('ignored-error'), [4]);
  assert.deepEqual(slots('stale-step'), [], 'a rule nothing is flagged by matches nothing');
  assert.deepEqual(
    flagRulesInUse(session.listIndex.flagCounts()),
    [
      { rule: 'no-search', title: 'Answered without searching', severity: 'high', count: 1 },
      { rule: 'answer-not-computed', title: 'Answer typed, not computed', severity: 'medium', count: 1 },
      { rule: 'ignored-error', title: 'Error ignored', severity: 'high', count: 1 },
    ],
    'in the rules’ listing order',
  );
});

void test('sort by risk puts the riskiest first, ties in file order, and combines with filters', async () => {
  const session = await sessionOf(file());
  const order = (q: Parameters<typeof session.rows>[0]) => session.rows(q, 0, 10).rows.map((r) => r.slot);
  assert.deepEqual(order({ sort: 'risk' }), [2, 4, 1, 0, 3, 5]);
  assert.deepEqual(order({ sort: 'risk', domain: ['math'] }), [4, 1, 0, 3, 5]);
  assert.deepEqual(order({ sort: 'risk', descending: true }), [5, 3, 0, 1, 4, 2], 'descending reverses it, as for the other sorts');
});

void test('the review queue visits flagged trajectories first, riskiest first, then the rest in list order, wrapping', async () => {
  const session = await sessionOf(file());
  // The page picked the first row on open, so the queue starts at its front.
  const walk = [session.nextUnreviewed({}, 0, true)];
  for (let i = 0; i < 6; i++) walk.push(session.nextUnreviewed({}, walk[walk.length - 1]));
  assert.deepEqual(walk, [2, 4, 1, 0, 3, 5, 2], 'flagged by risk (ties in file order), then file order, then round again');
  // From a record the user chose, the walk goes on from its place in the queue.
  assert.equal(session.nextUnreviewed({}, 3), 5);
  assert.equal(session.nextUnreviewed({}, 4), 1);
  assert.equal(session.nextUnreviewed({}, -1), 2, 'with nothing selected, the riskiest first');
  await session.edit(2, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await session.edit(4, { kind: 'setReview', status: 'rejected', reasonTags: ['bad-code'] });
  await summarised(session);
  assert.equal(session.nextUnreviewed({}, 2), 1, 'reviewed ones are passed over');
  assert.equal(session.nextUnreviewed({}, 5), 1, 'wraps to the front of the queue');
  // The queue follows the list's filter and sort: here only math, by question text, flagged first.
  assert.equal(session.nextUnreviewed({ domain: ['math'], sort: 'question', descending: true }, -1), 1);
  assert.equal(session.nextUnreviewed({ domain: ['math'], sort: 'question', descending: true }, 1), 5, 'then the unflagged in the list’s order (c5, c3, c0)');
  // Starting from the front passes over the selected record, unless it is the only one left.
  for (const slot of [1, 3, 5]) await session.edit(slot, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await summarised(session);
  assert.equal(session.nextUnreviewed({}, 0, true), 0);
  assert.equal(session.nextUnreviewed({}, 0), 0, 'the only one left');
  await session.edit(0, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await summarised(session);
  assert.equal(session.nextUnreviewed({}, 0), -1, 'nothing left to review');
  assert.equal(session.nextUnreviewed({}, 0, true), -1);
});

void test('flags follow edits: changing code makes later steps stale, re-executing them clears the flag', async () => {
  const session = await sessionOf([sampleTrajectory('a', 3), sampleTrajectory('b', 2)]);
  assert.deepEqual(session.rows({ flag: 'stale-step' }, 0, 10).rows, []);
  await session.edit(0, { kind: 'setCode', stepIndex: 0, text: 'print("out 1!")' });
  await summarised(session);
  const [row] = session.rows({ flag: 'stale-step' }, 0, 10).rows;
  assert.deepEqual(row.flags.map((f) => `${f.rule}@${f.step}`), ['stale-step@0', 'stale-step@1', 'stale-step@2']);
  assert.equal(row.risk, 9);
  assert.deepEqual(session.rows({ sort: 'risk' }, 0, 10).rows.map((r) => r.slot), [0, 1]);
  assert.deepEqual(flagRulesInUse(session.listIndex.flagCounts()).map((r) => r.rule), ['stale-step']);
  // What a re-execution of every step leaves behind: fresh observations, nothing stale.
  const edited = await session.model.readTrajectory(0);
  const rerun: Trajectory = { ...edited, steps: edited.steps.map((s, i) => ({ ...s, stale: false, observation: { printOutput: i === 0 ? 'out 1!\n' : `out ${i + 1}\n`, lastValue: 'None', webSearchCalls: [] } })) };
  await session.model.apply(0, { kind: 'replace', trajectory: rerun, label: 'Re-execute' });
  await summarised(session);
  assert.deepEqual(session.rows({ flag: 'any' }, 0, 10).rows, [], 'no stale-step flag is left');
  const view = await session.open(0);
  assert.ok(view.valid && view.trajectory.flags.length === 0);
  assert.deepEqual(flagRulesInUse(session.listIndex.flagCounts()), []);
});

void test('undo brings the flags back with the record', async () => {
  const session = await sessionOf([sampleTrajectory('a', 2)]);
  const applied = await session.edit(0, { kind: 'setCode', stepIndex: 0, text: 'print("x")' });
  assert.ok(applied);
  await summarised(session);
  assert.equal(session.summaryOf(0)?.risk, 6);
  session.model.undo(applied);
  await summarised(session);
  assert.equal(session.summaryOf(0)?.risk, 0);
});

void test('a later copy of a question is flagged as a near duplicate of the earlier one, and stays flagged after an edit', async () => {
  const first = sampleTrajectory('first', 2, 'How many legs does a spider have?');
  const copy = sampleTrajectory('copy', 2, 'How many legs does a spider have?');
  const session = await sessionOf([first, sampleTrajectory('other', 2), copy]);
  assert.deepEqual(session.rows({ flag: 'near-duplicate' }, 0, 10).rows.map((r) => r.slot), [2], 'the earlier one is not flagged');
  const view = await session.open(2);
  assert.ok(view.valid);
  if (view.valid) assert.match(view.trajectory.flags[0]?.message ?? '', /trajectory first \(record 1\)/);
  await session.edit(2, { kind: 'setThought', stepIndex: 0, text: 'Spiders are arachnids.' });
  await summarised(session);
  assert.deepEqual(session.rows({ flag: 'near-duplicate' }, 0, 10).rows.map((r) => r.slot), [2]);
});

void test('the accept question counts the open flags and names each rule once', () => {
  assert.equal(acceptQuestion([]), undefined, 'a clean trajectory is accepted without asking');
  const question = acceptQuestion([
    { rule: 'stale-step', severity: 'high', step: 1, message: 'An earlier step was edited' },
    { rule: 'stale-step', severity: 'high', step: 2, message: 'An earlier step was edited' },
    { rule: 'no-search', severity: 'high', message: 'Answered without web_search' },
  ]);
  assert.equal(question?.message, '3 open flags: Stale step, Answered without searching. Accept anyway?');
  assert.equal(question?.detail.split('\n')[0], 'Step 2 · Stale step: An earlier step was edited');
  assert.equal(question?.detail.split('\n')[2], 'Trajectory · Answered without searching: Answered without web_search');
  assert.equal(acceptQuestion([{ rule: 'silent-step', severity: 'low', step: 0, message: 'm' }])?.message, '1 open flag: Step shows nothing. Accept anyway?');
  assert.equal(flagTitle('rubric:cites-source'), 'Rubric: cites-source');
});

void test('an accepted flagged trajectory keeps its flags (the reviewer decided; the list still shows why)', async () => {
  const session = await sessionOf([ignoredError('e')]);
  await session.edit(0, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await summarised(session);
  const [row] = session.rows({}, 0, 10).rows;
  assert.equal(row.status, 'accepted');
  assert.equal(row.risk, 3);
});
