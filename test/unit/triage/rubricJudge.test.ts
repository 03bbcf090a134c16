import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ModelEndpoint } from '../../../src/llm/modelEndpoint';
import { defaultProfile } from '../../../src/llm/profiles';
import { parseRubric } from '../../../src/triage/rubric';
import { applyRubricResults, judgeTrajectoryFile, judgeWithRubric, maxFailedCallsInARow, rubricContentHash, rubricFlagsOf } from '../../../src/triage/rubricJudge';
import { parseRubricReply } from '../../../src/triage/rubricPrompt';
import { parseTrajectory, TRAJECTORY_SCHEMA_VERSION, type Trajectory } from '../../../src/trajectory/schema';
import { applyTrajectoryEdit } from '../../../src/trajectoryEditor/trajectoryEdits';
import { sampleTrajectory } from '../trajectoryEditor/memorySource';
import { type FakeModelServer, type ReplyScript, type ScriptReply, startFakeModelServer } from '../../support/fakeModelServer';

const rubric = parseRubric(
  JSON.stringify({
    name: 'test-rubric',
    criteria: [
      { id: 'reacts-to-errors', description: 'Errors are noticed and fixed.', severity: 'high' },
      { id: 'thought-matches-code', description: 'Each thought announces what its code does.' },
      { id: 'grounded', description: 'Facts come from passages.', severity: 'low', appliesTo: 'factual' },
    ],
  }),
  'test.rubric.json',
);

const fixedNow = () => new Date('2026-02-03T04:05:06.000Z');
const folder = mkdtempSync(path.join(tmpdir(), 'rubric-judge-'));
let server: FakeModelServer;
let endpoint: ModelEndpoint;

before(async () => {
  server = await startFakeModelServer();
  // One attempt: a failed call must surface as a judge error at once, without retries to wait for.
  endpoint = new ModelEndpoint({ ...defaultProfile('judge'), baseUrls: [server.baseUrl], model: 'judge', timeoutMs: 10_000, maxAttempts: 1 });
});
after(async () => {
  await server.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A three-step math trajectory (see memorySource.ts) under the given question. */
function trajectory(id: string, question: string): Trajectory {
  return sampleTrajectory(id, 3, question);
}

function reply(findings: { criterion: string; verdict: string; step?: number | null; reason: string }[]): string {
  return JSON.stringify({ findings });
}

const allPass = reply([
  { criterion: 'reacts-to-errors', verdict: 'pass', step: null, reason: 'No errors.' },
  { criterion: 'thought-matches-code', verdict: 'pass', step: null, reason: 'Consistent.' },
]);

/** Answers by the question in the request: a reply text per question; unknown questions get a 400. */
function byQuestion(replies: Record<string, ScriptReply | (() => ScriptReply)>): ReplyScript {
  return (request) => {
    const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
    for (const [question, answer] of Object.entries(replies)) {
      if (user.includes(`\n${question}\n`)) return typeof answer === 'function' ? answer() : answer;
    }
    return undefined;
  };
}

function userContent(index: number): string {
  const body = server.chatRequests()[index];
  const user = body.messages.find((m) => m.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

void test('structured replies are stored with their steps and failed criteria become flags on those steps', async () => {
  const t = trajectory('s1', 'What is six times seven?');
  t.steps[0].observation!.printOutput = `${'x'.repeat(5000)}\n`;
  server.setScript(
    byQuestion({
      'What is six times seven?': `Here is my verdict.\n\`\`\`json\n${reply([
        { criterion: 'reacts-to-errors', verdict: 'fail', step: 2, reason: 'Step 2 repeats\nthe failing call.' },
        { criterion: 'thought-matches-code', verdict: 'pass', step: null, reason: 'Consistent.' },
      ])}\n\`\`\``,
    }),
  );
  const before = server.chatRequests().length;
  const outcome = await judgeWithRubric([t], rubric, { judge: endpoint, model: 'judge', now: fixedNow });
  assert.equal(server.chatRequests().length - before, 1);
  assert.deepEqual({ ...outcome, judged: undefined }, { judged: undefined, changed: [0], cacheHits: 0, errors: 0, requests: 1, cancelled: false, notJudged: 0 });

  const stored = outcome.judged[0].review.rubric;
  assert.deepEqual(stored, {
    rubric: 'test-rubric',
    rubricHash: rubric.hash,
    model: 'judge',
    at: '2026-02-03T04:05:06.000Z',
    contentHash: rubricContentHash(t, rubric.hash, 'judge'),
    findings: [
      { criterion: 'reacts-to-errors', verdict: 'fail', step: 1, reason: 'Step 2 repeats\nthe failing call.', severity: 'high' },
      { criterion: 'thought-matches-code', verdict: 'pass', reason: 'Consistent.', severity: 'medium' },
      { criterion: 'grounded', verdict: 'not-applicable', reason: 'The criterion applies to factual questions; this one is math.', severity: 'low' },
    ],
  });
  assert.equal(t.review.rubric, undefined, 'the input is not changed');
  assert.deepEqual(parseTrajectory(JSON.parse(JSON.stringify(outcome.judged[0]))), outcome.judged[0], 'the result is a valid record');
  assert.deepEqual(rubricFlagsOf(outcome.judged[0]), [{ rule: 'rubric:reacts-to-errors', severity: 'high', step: 1, message: 'Step 2 repeats the failing call.' }]);

  const body = server.chatRequests()[before];
  assert.equal(body.temperature, 0);
  assert.equal(body.model, 'judge');
  const content = userContent(before);
  for (const part of ['- reacts-to-errors (high): Errors are noticed', '- thought-matches-code (medium)', '### Step 3', 'Reference answer: 42', 'characters cut']) {
    assert.ok(content.includes(part), part);
  }
  assert.ok(!content.includes('grounded'), 'a criterion for another domain is not asked');
  assert.ok(!content.includes('x'.repeat(2000)), 'a long observation is cut');
});

void test('malformed replies and failed calls are judge errors; the batch goes on and they are judged again next time', async () => {
  const list = [
    trajectory('e1', 'Good one?'),
    trajectory('e2', 'No JSON?'),
    trajectory('e3', 'Unknown criterion?'),
    trajectory('e4', 'Step out of range?'),
    trajectory('e5', 'Server refuses?'),
  ];
  server.setScript(
    byQuestion({
      'Good one?': allPass,
      'No JSON?': 'I think the transcript is fine.',
      'Unknown criterion?': reply([
        { criterion: 'reacts-to-errors', verdict: 'pass', reason: 'ok' },
        { criterion: 'thought-matches-code', verdict: 'pass', reason: 'ok' },
        { criterion: 'nope', verdict: 'fail', reason: 'invented' },
      ]),
      'Step out of range?': reply([
        { criterion: 'reacts-to-errors', verdict: 'fail', step: 9, reason: 'late' },
        { criterion: 'thought-matches-code', verdict: 'pass', reason: 'ok' },
      ]),
      // 'Server refuses?' is unknown to the script: the server answers 400, which is not retried.
    }),
  );
  const outcome = await judgeWithRubric(list, rubric, { judge: endpoint, model: 'judge', concurrency: 2 });
  assert.equal(outcome.errors, 4);
  assert.deepEqual(outcome.changed, [0, 1, 2, 3, 4]);
  assert.equal(outcome.judged[0].review.rubric?.error, undefined);
  const errors = outcome.judged.map((t) => t.review.rubric?.error ?? '');
  assert.match(errors[1], /no JSON object.*I think the transcript is fine/);
  assert.match(errors[2], /"nope" is not a criterion of the rubric/);
  assert.match(errors[3], /step 9 is out of range \(the trajectory has 3 steps\)/);
  assert.match(errors[4], /^the judge call failed: /);
  for (const t of outcome.judged.slice(1)) {
    assert.deepEqual(t.review.rubric?.findings, []);
    const flags = rubricFlagsOf(t);
    assert.equal(flags.length, 1);
    assert.equal(flags[0].rule, 'rubric:judge-error');
    assert.equal(flags[0].severity, 'low');
    assert.match(flags[0].message, /could not be read/);
  }

  server.setScript(byQuestion(Object.fromEntries(list.map((t) => [t.task.question, allPass]))));
  const before = server.chatRequests().length;
  const again = await judgeWithRubric(outcome.judged, rubric, { judge: endpoint, model: 'judge' });
  assert.equal(again.cacheHits, 1, 'only the good result counts as current');
  assert.equal(again.requests, 4);
  assert.equal(server.chatRequests().length - before, 4);
  assert.equal(again.errors, 0);
});

void test('an endpoint that fails every call stops the run after a few calls instead of marking every record', async () => {
  const list = Array.from({ length: 6 }, (_, i) => trajectory(`d${i}`, `Down ${i}?`));
  server.setScript(() => undefined);
  const outcome = await judgeWithRubric(list, rubric, { judge: endpoint, model: 'judge', concurrency: 1 });
  assert.equal(outcome.requests, maxFailedCallsInARow);
  assert.equal(outcome.errors, maxFailedCallsInARow);
  assert.equal(outcome.notJudged, list.length - maxFailedCallsInARow);
  assert.equal(outcome.cancelled, true);
  assert.match(outcome.stoppedBy ?? '', /failed 3 calls in a row/);
});

void test('cancelling mid-batch sends no further request and keeps what finished', async () => {
  const list = ['First?', 'Second?', 'Third?', 'Fourth?'].map((q, i) => trajectory(`c${i}`, q));
  const controller = new AbortController();
  server.setScript(
    byQuestion({
      'First?': allPass,
      // The user cancels while the second request is with the server.
      'Second?': () => {
        controller.abort(new Error('cancelled by the user'));
        return allPass;
      },
      'Third?': allPass,
      'Fourth?': allPass,
    }),
  );
  const before = server.chatRequests().length;
  const progress: number[] = [];
  const outcome = await judgeWithRubric(list, rubric, { judge: endpoint, model: 'judge', concurrency: 1, signal: controller.signal, onProgress: (done) => progress.push(done) });
  assert.equal(server.chatRequests().length - before, 2, 'nothing is sent after the cancel');
  assert.equal(outcome.cancelled, true);
  assert.ok(outcome.changed.includes(0), 'the first result is kept');
  assert.ok(outcome.judged[0].review.rubric !== undefined);
  assert.equal(outcome.judged[2].review.rubric, undefined);
  assert.equal(outcome.judged[3].review.rubric, undefined);
  assert.equal(outcome.notJudged, list.length - outcome.changed.length);
  assert.ok(outcome.notJudged >= 2);
  assert.equal(progress[progress.length - 1], outcome.changed.length);

  const already = new AbortController();
  already.abort();
  const none = await judgeWithRubric(list, rubric, { judge: endpoint, signal: already.signal });
  assert.equal(none.requests, 0);
  assert.equal(none.notJudged, list.length);
});

void test('a second run sends nothing; review changes keep the result, content changes or another model re-judge', async () => {
  const list = ['One?', 'Two?', 'Three?'].map((q, i) => trajectory(`k${i}`, q));
  server.setScript(byQuestion(Object.fromEntries(list.map((t) => [t.task.question, allPass]))));
  const first = await judgeWithRubric(list, rubric, { judge: endpoint, model: 'judge' });
  assert.equal(first.requests, 3);

  const before = server.chatRequests().length;
  const progress: [number, number][] = [];
  const second = await judgeWithRubric(first.judged, rubric, { judge: endpoint, model: 'judge', onProgress: (d, t) => progress.push([d, t]) });
  assert.equal(server.chatRequests().length, before, 'no request the second time');
  assert.deepEqual({ cacheHits: second.cacheHits, requests: second.requests, changed: second.changed }, { cacheHits: 3, requests: 0, changed: [] });
  assert.deepEqual(progress, [[3, 3]]);

  const accepted = applyTrajectoryEdit(second.judged[0], { kind: 'setReview', status: 'accepted', reasonTags: [] });
  assert.deepEqual(accepted.review.rubric, second.judged[0].review.rubric, 'accepting keeps the findings');
  const edited = applyTrajectoryEdit(second.judged[1], { kind: 'setThought', stepIndex: 0, text: 'A new thought' });
  assert.deepEqual(rubricFlagsOf(edited).map((f) => f.rule), ['rubric:outdated']);
  const third = await judgeWithRubric([accepted, edited, second.judged[2]], rubric, { judge: endpoint, model: 'judge' });
  assert.deepEqual({ cacheHits: third.cacheHits, requests: third.requests, changed: third.changed }, { cacheHits: 2, requests: 1, changed: [1] });
  assert.deepEqual(rubricFlagsOf(third.judged[1]), []);

  const otherModel = await judgeWithRubric(third.judged, rubric, { judge: endpoint, model: 'judge-v2' });
  assert.equal(otherModel.requests, 3);
});

void test('results go to the records whose content they were made from', async () => {
  const list = ['Alpha?', 'Beta?', 'Gamma?'].map((q, i) => trajectory(`a${i}`, q));
  server.setScript(byQuestion(Object.fromEntries(list.map((t) => [t.task.question, allPass]))));
  const outcome = await judgeWithRubric(list, rubric, { judge: endpoint, model: 'judge' });
  const results = outcome.changed.map((i) => outcome.judged[i].review.rubric!);
  // Meanwhile the file was reordered and one record edited.
  const edited = applyTrajectoryEdit(list[1], { kind: 'setCode', stepIndex: 0, text: 'print(7)' });
  const applied = applyRubricResults([list[2], edited, list[0]], results);
  assert.deepEqual(applied.changed, [0, 2]);
  assert.equal(applied.trajectories[0].review.rubric?.contentHash, rubricContentHash(list[2], rubric.hash, 'judge'));
  assert.equal(applied.trajectories[1].review.rubric, undefined);
});

void test('a file is judged in place: version 1 records come back as the current version, other lines untouched', async () => {
  const file = path.join(folder, 'judged.traj.jsonl');
  const v1 = { ...JSON.parse(JSON.stringify(trajectory('f1', 'File one?'))), schema: 1 } as Record<string, unknown>;
  const current = trajectory('f2', 'File two?');
  const broken = '{"schema":1,"id":"torn", "task": {';
  writeFileSync(file, `${JSON.stringify(v1)}\n${broken}\n${JSON.stringify(current)}\n`);
  server.setScript(byQuestion({ 'File one?': allPass, 'File two?': allPass }));

  const outcome = await judgeTrajectoryFile(file, rubric, { judge: endpoint, model: 'judge' });
  assert.equal(outcome.written, 2);
  assert.equal(outcome.invalidLines, 1);
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines[1], broken, 'a line that does not parse is kept byte for byte');
  for (const line of [lines[0], lines[2]]) {
    const record = JSON.parse(line) as { schema: number; review: { rubric?: unknown } };
    assert.equal(record.schema, TRAJECTORY_SCHEMA_VERSION);
    assert.ok(record.review.rubric);
  }

  const again = await judgeTrajectoryFile(file, rubric, { judge: endpoint, model: 'judge' });
  assert.deepEqual({ written: again.written, requests: again.requests, cacheHits: again.cacheHits }, { written: 0, requests: 0, cacheHits: 2 });
});

void test('reply parsing insists on one verdict per asked criterion and turns step numbers into indexes', () => {
  const asked = rubric.criteria.slice(0, 2);
  const ok = parseRubricReply(
    reply([
      { criterion: 'thought-matches-code', verdict: 'fail', step: 1, reason: 'x' },
      { criterion: 'reacts-to-errors', verdict: 'not-applicable', step: 3, reason: 'no errors' },
    ]),
    asked,
    3,
  );
  assert.ok('findings' in ok);
  assert.deepEqual(ok.findings.map((f) => [f.criterion, f.step]), [['reacts-to-errors', undefined], ['thought-matches-code', 0]]);
  const twice = parseRubricReply(reply([{ criterion: 'reacts-to-errors', verdict: 'pass', reason: 'a' }, { criterion: 'reacts-to-errors', verdict: 'pass', reason: 'b' }]), asked, 3);
  assert.ok('error' in twice && /judged twice/.test(twice.error) && /no verdict for "thought-matches-code"/.test(twice.error));
  const shape = parseRubricReply('{"findings": [{"criterion": "reacts-to-errors", "verdict": "maybe", "reason": "?"}]}', asked, 3);
  assert.ok('error' in shape && /wrong shape: findings\.0\.verdict/.test(shape.error));
  const noSteps = parseRubricReply(reply([{ criterion: 'reacts-to-errors', verdict: 'fail', step: 1, reason: 'a' }, { criterion: 'thought-matches-code', verdict: 'pass', reason: 'b' }]), asked, 0);
  assert.ok('error' in noSteps && /the trajectory has 0 steps/.test(noSteps.error));
});
