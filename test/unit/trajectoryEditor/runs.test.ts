import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadPromptProfile } from '../../../src/agent/promptProfiles';
import { ModelEndpoint } from '../../../src/llm/modelEndpoint';
import { defaultProfile } from '../../../src/llm/profiles';
import { type CandidateExecution, type ExecOutcome, type PythonEpisode, type WebSearchHandler } from '../../../src/sandbox/types';
import { startEpisode } from '../../../src/sandbox/index';
import { applyTrajectoryEdit } from '../../../src/trajectoryEditor/trajectoryEdits';
import { previousObservation, recordedWebSearch, reexecuteStep } from '../../../src/trajectoryEditor/reexecution';
import { continueWithTeacher, type ContinuationEvent } from '../../../src/trajectoryEditor/teacherContinuation';
import { type FakeModelServer, scriptedAgent, startFakeModelServer } from '../../support/fakeModelServer';
import { sampleTrajectory } from './memorySource';

/**
 * A stand-in Python episode that understands `print("…")` and `final_answer(…)` lines and records what it
 * ran, so the tests can check the replay order without starting Python.
 */
class RecordingEpisode implements PythonEpisode {
  readonly isolation = 'test';
  readonly ran: string[] = [];
  closed = false;
  constructor(private readonly webSearch?: WebSearchHandler) {}
  async exec(code: string): Promise<ExecOutcome> {
    this.ran.push(code);
    let printOutput = '';
    let finalAnswer: string | undefined;
    for (const line of code.split('\n')) {
      const p = /^print\("(.*)"\)$/.exec(line);
      if (p) printOutput += `${p[1]}\n`;
      const s = /^print\(web_search\("(.*)"\)\)$/.exec(line);
      if (s && this.webSearch) printOutput += (await this.webSearch(s[1])).map((x) => x.title).join(',') + '\n';
      const f = /^final_answer\((.*)\)$/.exec(line);
      if (f) finalAnswer = f[1].replace(/^"|"$/g, '');
    }
    const outcome: ExecOutcome = { printOutput, printedChars: printOutput.length, lastValue: 'None', webSearchCalls: [], durationMs: 1 };
    if (finalAnswer !== undefined) outcome.finalAnswer = finalAnswer;
    return outcome;
  }
  runCandidates(): Promise<CandidateExecution[]> {
    return Promise.reject(new Error('not used'));
  }
  adoptCandidate(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

void test('re-execution replays the earlier steps, runs the edited step, keeps the old observation and marks later steps stale', async () => {
  const original = sampleTrajectory('r', 4);
  const edited = applyTrajectoryEdit(original, { kind: 'setCode', stepIndex: 2, text: 'print("fixed")' });
  const episodes: RecordingEpisode[] = [];
  const updated = await reexecuteStep(edited, 2, (ws) => {
    const e = new RecordingEpisode(ws);
    episodes.push(e);
    return Promise.resolve(e);
  }, new AbortController().signal);

  assert.equal(episodes.length, 1);
  assert.deepEqual(episodes[0].ran, [edited.steps[0].code, edited.steps[1].code, 'print("fixed")'], 'steps 1 and 2 replayed, then the edited step');
  assert.equal(episodes[0].closed, true, 'the episode is closed');
  assert.equal(updated.steps[2].observation?.printOutput, 'fixed\n');
  assert.match(updated.steps[2].observation?.text ?? '', /^Call id: call_3\nObservation:/, 'the observation text the model would read');
  assert.equal(updated.steps[2].stale, undefined, 'the re-run step is current again');
  assert.equal(updated.steps[3].stale, true);
  assert.equal(previousObservation(updated, 2)?.printOutput, original.steps[2].observation!.printOutput, 'the old observation is kept for display');
  assert.equal(edited.steps[2].observation?.printOutput, original.steps[2].observation!.printOutput, 'the input record is not changed');
});

void test('an aborted re-execution closes its episode and reports the abort', async () => {
  const abort = new AbortController();
  const episode = new RecordingEpisode();
  abort.abort();
  await assert.rejects(reexecuteStep(sampleTrajectory('x', 3), 2, () => Promise.resolve(episode), abort.signal), (err: Error) => err.name === 'AbortError');
  assert.equal(episode.closed, true);
});

void test('web_search during re-execution answers recorded queries and refuses others with a readable error', async () => {
  const t = sampleTrajectory('w', 1);
  t.steps[0].observation!.webSearchCalls = [{ query: 'capital of France', passages: [{ id: 'p', title: 'Paris', text: 'Paris is the capital.', score: 0.9 }] }];
  const search = recordedWebSearch(t);
  assert.deepEqual((await search('capital of France')).map((p) => p.title), ['Paris']);
  await assert.rejects(search('something else'), /was not made in this trajectory/);
});

let server: FakeModelServer;
const question = 'Question cont?';
before(async () => {
  server = await startFakeModelServer({
    models: ['teacher-model'],
    script: scriptedAgent({
      [question]: {
        steps: [
          { thought: 'unused', code: 'print("unused")' },
          { thought: 'unused', code: 'print("unused")' },
          { thought: 'The teacher picks it up from here.', code: 'print("teacher step")' },
          { thought: 'Done.', code: 'final_answer("42")' },
        ],
      },
    }),
  });
});
after(async () => {
  await server?.close();
});

void test('continuing with the teacher keeps steps 1..k, streams the new steps in, and files the dropped ones in the history', async () => {
  const original = { ...sampleTrajectory('cont', 4, question), judgement: { correct: false, method: 'math-equivalence' } };
  const endpoint = new ModelEndpoint({ ...defaultProfile('teacher'), baseUrls: [server.baseUrl], model: 'teacher-model', maxAttempts: 1 });
  const episode = new RecordingEpisode();
  const events: ContinuationEvent[] = [];
  const updated = await continueWithTeacher(
    original,
    1,
    { endpoint, prompt: await loadPromptProfile('teacher'), startEpisode: () => Promise.resolve(episode) },
    new AbortController().signal,
    (e) => events.push(e),
  );

  assert.equal(updated.id, original.id, 'the record keeps its identity');
  assert.deepEqual(updated.steps.slice(0, 2), original.steps.slice(0, 2), 'steps 1 and 2 are kept as they were');
  assert.deepEqual(
    updated.steps.slice(2).map((s) => s.thought),
    ['The teacher picks it up from here.', 'Done.'],
  );
  assert.equal(updated.finalAnswer, '42');
  assert.equal(updated.judgement, undefined, 'the old verdict no longer applies');
  assert.deepEqual(episode.ran.slice(0, 2), [original.steps[0].code, original.steps[1].code], 'the kept steps were replayed first');
  const revision = updated.revisions.at(-1)!;
  assert.equal(revision.what, 'continued');
  assert.deepEqual((revision.before as { thought: string }[]).map((s) => s.thought), original.steps.slice(2).map((s) => s.thought));

  const streamed = events.filter((e) => e.kind === 'text');
  assert.ok(streamed.length > 0, 'model text streamed in');
  assert.deepEqual(
    events.filter((e) => e.kind === 'step').map((e) => (e.kind === 'step' ? e.step.index : -1)),
    [2, 3],
  );
  assert.equal(episode.closed, true);
});

void test('continuing from a step whose observation is stale is refused until it is re-executed', async () => {
  const edited = applyTrajectoryEdit(sampleTrajectory('s', 3, question), { kind: 'setCode', stepIndex: 0, text: 'print(0)' });
  const endpoint = new ModelEndpoint({ ...defaultProfile('teacher'), baseUrls: [server.baseUrl], model: 'teacher-model' });
  await assert.rejects(
    continueWithTeacher(edited, 1, { endpoint, prompt: await loadPromptProfile('teacher'), startEpisode: () => Promise.resolve(new RecordingEpisode()) }, new AbortController().signal),
    /step 1 has no up-to-date observation/,
  );
});

void test('re-execution in the editor runs under the profile the trajectory was made with', async () => {
  // A trajectory generated under the reference profile shows the value of the last statement as its
  // "last output" (METHOD §2); re-executing it in the editor must not switch it to the studio's rule.
  const results = new Map<string, string | undefined>();
  for (const compatibility of ['reference', 'studio'] as const) {
    const t = applyTrajectoryEdit(sampleTrajectory(`p-${compatibility}`, 2), { kind: 'setCode', stepIndex: 1, text: 'total = 2 + 3' });
    t.origin.compatibility = compatibility;
    const started: string[] = [];
    const updated = await reexecuteStep(t, 1, (webSearch, signal, profile) => {
      started.push(profile);
      return startEpisode({ webSearch, signal, compatibility: profile, stepCpuSeconds: 10 });
    }, new AbortController().signal);
    assert.deepEqual(started, [compatibility], 'the episode starts under the trajectory\'s profile');
    results.set(compatibility, updated.steps[1].observation?.lastValue);
  }
  assert.equal(results.get('reference'), '5', 'reference: the assignment\'s value');
  assert.equal(results.get('studio'), 'None', 'studio: a statement has no value');
});
