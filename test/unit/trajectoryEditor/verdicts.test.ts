import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scoreAnswerByProfile } from '../../../src/scoring/answerScorer';
import { type ExecOutcome, type PythonEpisode } from '../../../src/sandbox/types';
import { type Trajectory } from '../../../src/trajectory/schema';
import { reexecuteStep } from '../../../src/trajectoryEditor/reexecution';
import { applyTrajectoryEdit } from '../../../src/trajectoryEditor/trajectoryEdits';
import { summariseTrajectory } from '../../../src/trajectoryEditor/trajectoryListIndex';
import { trajectoryView } from '../../../src/trajectoryEditor/trajectoryView';
import {
  answerFromSteps,
  filterVerdictView,
  needsJudgingOf,
  rejudgeTrajectory,
  type ScoringMethod,
  type TrajectoryScorer,
  verdictStateOf,
} from '../../../src/trajectoryEditor/verdicts';
import { sampleTrajectory } from './memorySource';

/** The math sample ending with `final_answer(42)`, judged correct as a generation run would have. */
function answered(id = 'm'): Trajectory {
  const t = sampleTrajectory(id, 3);
  t.steps[2] = { ...t.steps[2], code: 'final_answer(42)', observation: { printOutput: '', lastValue: 'None', webSearchCalls: [], finalAnswer: '42' } };
  t.finalAnswer = '42';
  t.judgement = { correct: true, method: 'math-equivalence', detail: 'numeric: 42 equals 42' };
  return t;
}

function factual(method: 'llm-judge' | 'exact-match'): Trajectory {
  const t = answered('f');
  t.task = { id: 'task-f', question: 'In which year was the Eiffel Tower completed?', goldAnswer: '1889', domain: 'factual' };
  t.finalAnswer = '1889';
  t.judgement = { correct: true, method };
  return t;
}

/** The product's scorer without Python or a judge model: the offline methods, and no judge available. */
const offlineScorer: TrajectoryScorer = (input, method) => (method === 'llm-judge' ? Promise.resolve(undefined) : scoreAnswerByProfile(input, {}));

/** An episode whose code raises NameError unless it is one of the sample's `print` lines. */
const raisingEpisode = (): Promise<PythonEpisode> =>
  Promise.resolve({
    isolation: 'test',
    exec: (code: string): Promise<ExecOutcome> => {
      const p = /^print\("(.*)"\)$/.exec(code);
      if (p) return Promise.resolve({ printOutput: `${p[1]}\n`, printedChars: 0, lastValue: 'None', webSearchCalls: [], durationMs: 1 });
      return Promise.resolve({ printOutput: '', printedChars: 0, lastValue: 'None', webSearchCalls: [], durationMs: 1, error: { kind: 'execution', type: 'NameError', message: "name 'answr' is not defined" } });
    },
    runCandidates: () => Promise.reject(new Error('not used')),
    adoptCandidate: () => Promise.resolve(),
    close: () => Promise.resolve(),
  });

void test('re-executing the answer step into an error leaves no answer and no "correct" verdict', async () => {
  const before = answered();
  const edited = applyTrajectoryEdit(before, { kind: 'setCode', stepIndex: 2, text: 'final_answer(answr)' });
  const rerun = await reexecuteStep(edited, 2, raisingEpisode, new AbortController().signal);
  assert.equal(rerun.finalAnswer, undefined, 'the steps no longer call final_answer');
  assert.equal(rerun.revisions.at(-1)?.what, 'answer');
  const judged = await rejudgeTrajectory(edited, rerun, { scorer: offlineScorer, judgeAvailable: false });
  assert.equal(judged.judgement, undefined);
  assert.equal(verdictStateOf(judged), 'unjudged');
  assert.equal(summariseTrajectory(0, judged).verdict, 'unjudged', 'the list no longer says correct');
  assert.equal(trajectoryView(0, judged, true).finalAnswer, undefined, 'the header shows no answer');
  assert.deepEqual(judged.revisions.at(-1), { at: judged.revisions.at(-1)?.at, what: 'judgement', before: 'correct', after: 'no answer' });
});

void test('re-executing an earlier step keeps the later steps\' answer and its verdict; a new final_answer there ends the episode', async () => {
  const before = answered();
  const unchanged = await reexecuteStep(before, 0, raisingEpisode, new AbortController().signal);
  assert.equal(unchanged.finalAnswer, '42');
  assert.equal(await rejudgeTrajectory(before, unchanged, { scorer: offlineScorer, judgeAvailable: false }), unchanged, 'nothing to judge again');

  const early = applyTrajectoryEdit(before, { kind: 'setCode', stepIndex: 0, text: 'final_answer(41)' });
  const episode = (): Promise<PythonEpisode> =>
    raisingEpisode().then((e) => ({ ...e, exec: (code: string) => (code === 'final_answer(41)' ? Promise.resolve({ printOutput: '', printedChars: 0, lastValue: 'None', webSearchCalls: [], durationMs: 1, finalAnswer: '41' }) : e.exec(code)) }));
  const rerun = await reexecuteStep(early, 0, episode, new AbortController().signal);
  assert.equal(rerun.finalAnswer, '41');
  const judged = await rejudgeTrajectory(early, rerun, { scorer: offlineScorer, judgeAvailable: false });
  assert.equal(judged.judgement?.correct, false, 'judged again with math equivalence: 41 is not 42');
  assert.equal(judged.judgement?.method, 'math-equivalence');
});

void test('a fallback answer does not survive re-executing the last step without final_answer', async () => {
  const t = sampleTrajectory('fb', 2);
  t.finalAnswer = '42';
  t.fromFallback = true;
  t.fallbackOutput = '42';
  t.judgement = { correct: true, method: 'math-equivalence' };
  const rerun = await reexecuteStep(t, 1, raisingEpisode, new AbortController().signal);
  assert.equal(rerun.finalAnswer, undefined);
  assert.equal(rerun.fromFallback, undefined);
});

void test('a continuation\'s answer equal to the gold is judged, also when the run used the judge model and none is configured', async () => {
  const before = factual('llm-judge');
  // What continueWithTeacher returns: new steps and answer, the old judgement dropped.
  const continued: Trajectory = { ...before, finalAnswer: '1889' };
  delete continued.judgement;
  const judged = await rejudgeTrajectory(before, continued, { scorer: offlineScorer, judgeAvailable: false });
  assert.equal(verdictStateOf(judged), 'correct');
  assert.match(judged.judgement?.detail ?? '', /judge model was not needed/);

  const other: Trajectory = { ...continued, finalAnswer: 'in the spring of 1889' };
  const waiting = await rejudgeTrajectory(before, other, { scorer: offlineScorer, judgeAvailable: false });
  assert.equal(waiting.judgement, undefined, 'the old verdict is not kept');
  assert.equal(verdictStateOf(waiting), 'needs-judging');
  assert.match(needsJudgingOf(waiting)?.reason ?? '', /judge model/);
  assert.equal(summariseTrajectory(0, waiting).verdict, 'needs-judging');
  assert.match(trajectoryView(0, waiting, true).needsJudging ?? '', /endpoints\.judge/);
});

void test('the run\'s method is used: exact match stays exact match, the judge model when it is available', async () => {
  const methods: ScoringMethod[] = [];
  const recording: TrajectoryScorer = (input, method) => {
    methods.push(method);
    return scoreAnswerByProfile(input, {});
  };
  const changed = (t: Trajectory): Trajectory => ({ ...t, finalAnswer: '1888' });
  await rejudgeTrajectory(factual('exact-match'), changed(factual('exact-match')), { scorer: recording, judgeAvailable: true });
  await rejudgeTrajectory(factual('llm-judge'), changed(factual('llm-judge')), { scorer: recording, judgeAvailable: true });
  const noMethod = factual('exact-match');
  delete noMethod.judgement;
  await rejudgeTrajectory(noMethod, changed(noMethod), { scorer: recording, judgeAvailable: true });
  await rejudgeTrajectory(noMethod, changed(noMethod), { scorer: recording, judgeAvailable: false });
  assert.deepEqual(methods, ['exact-match', 'llm-judge', 'llm-judge', 'exact-match']);
});

void test('a verdict judged again after "needs judging" clears the mark; a thought edit judges nothing', async () => {
  const before = factual('llm-judge');
  const waiting = await rejudgeTrajectory(before, { ...before, finalAnswer: 'spring 1889' }, { scorer: offlineScorer, judgeAvailable: false });
  const fixed = await rejudgeTrajectory(waiting, { ...waiting, finalAnswer: '1889' }, { scorer: offlineScorer, judgeAvailable: false });
  assert.equal(needsJudgingOf(fixed), undefined);
  assert.equal(fixed.meta, undefined, 'no empty meta is left behind');
  const thought = applyTrajectoryEdit(before, { kind: 'setThought', stepIndex: 0, text: 'new thought' });
  let called = false;
  const spy: TrajectoryScorer = () => {
    called = true;
    return Promise.resolve(undefined);
  };
  assert.equal(await rejudgeTrajectory(before, thought, { scorer: spy, judgeAvailable: false }), thought);
  assert.equal(called, false);
});

void test('a scorer failure marks the record "needs judging" with the reason', async () => {
  const before = answered();
  const failing: TrajectoryScorer = () => Promise.reject(new Error('cannot run python3: ENOENT'));
  const judged = await rejudgeTrajectory(before, { ...before, finalAnswer: '41' }, { scorer: failing, judgeAvailable: false });
  assert.equal(verdictStateOf(judged), 'needs-judging');
  assert.match(needsJudgingOf(judged)?.reason ?? '', /ENOENT/);
});

void test('the generation filter\'s decision is shown in its own words, apart from the review', () => {
  const passed = { ...answered(), meta: { teacherFilter: { verdict: 'correct', accepted: true, reason: 'correct answer' } } };
  const dropped = { ...answered(), meta: { teacherFilter: { verdict: 'parse-error', accepted: false, reason: 'correct answer, but the code did not parse in step 2' } } };
  assert.equal(filterVerdictView(passed)?.text, 'passed the filter');
  assert.equal(filterVerdictView(dropped)?.text, 'dropped by the filter: correct answer, but the code did not parse in step 2');
  assert.equal(filterVerdictView(answered()), undefined);
  assert.equal(summariseTrajectory(0, dropped).filter, 'dropped');
  assert.equal(summariseTrajectory(0, passed).filter, 'passed');
  assert.equal(summariseTrajectory(0, answered()).filter, 'none');
  assert.equal(trajectoryView(0, dropped, false).filterVerdict?.passed, false);
  assert.equal(answerFromSteps(answered()), '42');
});

void test('an answer edited in the editor is judged under both profiles, and the trajectory\'s own profile counts', async () => {
  // `\boxed{[1,2]}` for the gold `(1,2)`: the reference compares bracketed lists element-wise and ignores the
  // brackets; the studio keeps the interval ends (docs/COMPATIBILITY.md).
  const before = sampleTrajectory('profiles', 1);
  before.task = { ...before.task, domain: 'math', goldAnswer: '(1,2)' };
  before.origin = { ...before.origin, compatibility: 'reference' };
  before.finalAnswer = '\\boxed{(3,4)}';
  before.judgement = { correct: false, method: 'math-equivalence' };
  const judged = await rejudgeTrajectory(before, { ...before, finalAnswer: '\\boxed{[1,2]}' }, { scorer: offlineScorer, judgeAvailable: false });
  assert.equal(judged.judgement?.profile, 'reference');
  assert.deepEqual([judged.judgement?.byProfile?.reference.correct, judged.judgement?.byProfile?.studio.correct], [true, false]);
  assert.equal(judged.judgement?.correct, true, 'the reference verdict counts for a trajectory made under the reference profile');
});
