import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadPromptProfile, type PromptProfile } from '../../../src/agent/promptProfiles';
import { type OneQuestionEvent, runOneQuestion } from '../../../src/eval/oneQuestionRun';
import { studentEpisodeRunner } from '../../../src/eval/studentAgent';
import { ModelEndpoint } from '../../../src/llm/modelEndpoint';
import { defaultProfile } from '../../../src/llm/profiles';
import { parseTrajectory, type Task, type Trajectory } from '../../../src/trajectory/schema';
import { arithmeticAgent, evaluateIntegerExpression, type FakeModelServer, startFakeModelServer } from '../../support/fakeModelServer';

/** A step's replies wait until the test opens its gate. */
interface StepGate {
  open: Promise<void>;
  release: () => void;
}

function stepGate(): StepGate {
  let release!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  return { open, release };
}

/** The live file's records, each checked by the trajectory schema (a half-written file fails here). */
async function liveRecords(file: string): Promise<Trajectory[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => parseTrajectory(JSON.parse(line)));
}

void describe('one question through the run over questions (Quick Eval, ask)', () => {
  let server: FakeModelServer;
  let prompt: PromptProfile;
  let dir: string;
  // The replies of step 2 onwards wait for the test, so it sees the live file between steps.
  let gates = new Map<number, StepGate>();
  const gate = (step: number): StepGate => {
    let g = gates.get(step);
    if (!g) gates.set(step, (g = stepGate()));
    return g;
  };
  const agent = arithmeticAgent();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'one-question-'));
    prompt = await loadPromptProfile('student', []);
    server = await startFakeModelServer({
      models: ['student'],
      script: async (req) => {
        if (req.step > 0) await gate(req.step).open;
        return agent(req);
      },
    });
  });
  after(async () => {
    for (const g of gates.values()) g.release();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function runner() {
    const endpoint = new ModelEndpoint({ ...defaultProfile('student'), baseUrls: [server.baseUrl], model: 'student', timeoutMs: 20_000 });
    return studentEpisodeRunner({ endpoint, prompt, mode: { kind: 'sag', candidates: 2, isolation: 'isolated' }, maxSteps: 5, sampling: { seed: 42 } });
  }

  const task = (question: string): Task => ({ id: 'q1', question, domain: 'math', source: 'quick eval' });

  void it('rewrites the live file after every finished step, ends with the answered trajectory, and streams the events in order', { timeout: 60_000 }, async () => {
    gates = new Map();
    const file = path.join(dir, 'watched', 'nested', 'live.traj.jsonl');
    const question = 'What is 17 * 3 + 4?';
    const expected = String(evaluateIntegerExpression('17 * 3 + 4'));
    const agentRunner = runner();
    const events: OneQuestionEvent[] = [];
    const seenInFile: number[] = [];
    let result: Trajectory | undefined;
    try {
      const run = runOneQuestion({ task: task(question), runEpisode: agentRunner.runEpisode, origin: { kind: 'student', model: 'student', endpoint: 'student' }, liveFile: file, signal: new AbortController().signal });
      for (let next = await run.next(); ; next = await run.next()) {
        if (next.done) {
          result = next.value;
          break;
        }
        const event = next.value;
        events.push(event);
        if (event.type !== 'live-file-written') continue;
        assert.equal(event.file, file);
        const records = await liveRecords(file);
        assert.equal(records.length, 1, 'the live file holds one trajectory');
        assert.equal(records[0].task.question, question);
        assert.equal(records[0].steps.length, event.steps, `the file holds the ${event.steps} finished step(s) when it says so`);
        seenInFile.push(records[0].steps.length);
        const finished = events.filter((e) => e.type === 'step-finished');
        assert.deepEqual(records[0].steps.map((s) => s.code), finished.slice(0, event.steps).map((e) => (e.type === 'step-finished' ? e.record.code : '')));
        assert.equal(records[0].finalAnswer, event.final ? expected : undefined);
        if (!event.final) gate(event.steps).release();
      }
    } finally {
      await agentRunner.close();
    }
    assert.ok(result, 'the run returns the trajectory');
    assert.equal(result.finalAnswer, expected);
    assert.equal(result.steps.length, 2);
    assert.deepEqual(seenInFile, [0, 1, 2, 2], 'written at the start, after each step, and at the end');
    assert.deepEqual(await liveRecords(file), [JSON.parse(JSON.stringify(result))], 'the file ends with the returned trajectory');

    const order = events
      .filter((e) => e.type === 'step-started' || e.type === 'vote' || e.type === 'step-finished' || e.type === 'final-answer')
      .map((e) => (e.type === 'final-answer' ? `final-answer ${e.answer}` : `${e.type} ${e.step}`));
    assert.deepEqual(order, ['step-started 0', 'vote 0', 'step-finished 0', 'step-started 1', 'vote 1', 'step-finished 1', `final-answer ${expected}`]);
    const written = (steps: number, final: boolean) => events.findIndex((e) => e.type === 'live-file-written' && e.steps === steps && e.final === final);
    const index = (type: string, step?: number) => events.findIndex((e) => e.type === type && (step === undefined || ('step' in e && e.step === step)));
    assert.ok(written(0, false) < index('step-finished', 0), 'the file exists before the first step finished');
    assert.ok(index('step-finished', 0) < written(1, false) && index('step-finished', 1) < written(2, false));
    assert.equal(written(2, true), events.length - 1, 'the last event is the final file');
  });

  void it('a stop in the middle of the run leaves a valid live file with the steps finished so far', { timeout: 60_000 }, async () => {
    gates = new Map();
    const folder = path.join(dir, 'stopped');
    const file = path.join(folder, 'live.traj.jsonl');
    const controller = new AbortController();
    const agentRunner = runner();
    const events: OneQuestionEvent[] = [];
    let result: Trajectory | undefined;
    try {
      const run = runOneQuestion({ task: task('What is 6 * 7?'), runEpisode: agentRunner.runEpisode, origin: { kind: 'student', model: 'student', endpoint: 'student' }, liveFile: file, signal: controller.signal });
      for (let next = await run.next(); ; next = await run.next()) {
        if (next.done) {
          result = next.value;
          break;
        }
        events.push(next.value);
        // Stop as soon as the first step finished: its write is under way, the second step is starting.
        if (next.value.type === 'step-finished') controller.abort(new Error('cancelled by the user'));
      }
    } finally {
      await agentRunner.close();
    }
    assert.equal(result, undefined, 'a stopped run returns no trajectory');
    assert.ok(!events.some((e) => e.type === 'final-answer' || (e.type === 'step-finished' && e.step === 1)), 'nothing after the stop finished');
    assert.ok(events.some((e) => e.type === 'live-file-written' && e.steps === 1 && !e.final), 'the run ends only once the finished step is written');
    const records = await liveRecords(file);
    assert.equal(records.length, 1);
    assert.equal(records[0].steps.length, 1, 'the finished step is kept');
    assert.equal(records[0].steps[0].observation?.printOutput.trim(), '42');
    assert.equal(records[0].finalAnswer, undefined);
    assert.deepEqual(await readdir(folder), ['live.traj.jsonl'], 'no temp file is left beside it');
  });

  void it('a failed episode is thrown, after the live file holds what finished', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'failed', 'live.traj.jsonl');
    const agentRunner = runner();
    try {
      // The scripted server does not know this question and answers 400.
      const run = runOneQuestion({ task: task('Who wrote Hamlet?'), runEpisode: agentRunner.runEpisode, origin: { kind: 'student', model: 'student', endpoint: 'student' }, liveFile: file, signal: new AbortController().signal });
      await assert.rejects(async () => {
        for await (const event of run) void event;
      });
    } finally {
      await agentRunner.close();
    }
    const records = await liveRecords(file);
    assert.equal(records.length, 1);
    assert.equal(records[0].steps.length, 0);
  });
});
