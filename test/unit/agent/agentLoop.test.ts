import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentEpisodeEvents, type AgentEvent, runAgentEpisode, type AgentEpisodeOptions } from '../../../src/agent/agentLoop';
import { ACTION_STOP_SEQUENCES, extractCode } from '../../../src/trajectory/replyParsing';
import { loadPromptProfile, type PromptProfile } from '../../../src/agent/promptProfiles';
import { taskTurn } from '../../../src/agent/agentMessages';
import { ModelEndpoint } from '../../../src/llm/modelEndpoint';
import { defaultProfile } from '../../../src/llm/profiles';
import { startEpisode } from '../../../src/sandbox/index';
import { RETRY_INSTRUCTION } from '../../../src/trajectory/observationFormat';
import { type RetrievedPassage } from '../../../src/retrieval/types';
import { formatWebSearchResult } from '../../../src/retrieval/webSearchText';
import { trajectorySchema, type Task } from '../../../src/trajectory/schema';
import {
  arithmeticAgent,
  type ChatCompletionBody,
  evaluateIntegerExpression,
  type FakeModelServer,
  firstAnswering,
  lookupAgent,
  malformedStudent,
  renderAgentTurn,
  type ReplyScript,
  scriptedAgent,
  startFakeModelServer,
} from '../../support/fakeModelServer';

const corpus: RetrievedPassage[] = [
  { id: 'p1', title: 'Freedonia', text: 'The capital of Freedonia is Fredville, on the river Fred.', score: 0.91 },
  { id: 'p2', title: 'Sylvania', text: 'Sylvania borders Freedonia to the east.', score: 0.55 },
];
const facts = { 'What is the capital of Freedonia?': { query: 'capital of Freedonia', answer: 'Fredville' } };

const arithmetic = 'What is 17 * 23 + 4?';
const divisionTrouble = 'How many apples does each of the 4 friends get from 28 apples?';
const stubborn = 'Prove the Riemann hypothesis.';
const stubbornFallback = 'I could not prove it within the steps I had.';

function agentScript(): ReplyScript {
  return firstAnswering(
    arithmeticAgent(),
    lookupAgent(facts),
    scriptedAgent({
      [divisionTrouble]: {
        steps: [
          { thought: 'Divide the apples by the friends.', code: 'friends = 0\nshare = 28 // friends\nprint(share)' },
          (lastUser) =>
            lastUser.includes('ZeroDivisionError')
              ? { thought: 'I used 0 friends by mistake; there are 4.', code: 'friends = 4\nshare = 28 // friends\nprint(share)' }
              : { thought: 'Done.', code: 'final_answer(share)' },
          { thought: 'The share is known.', code: 'final_answer(share)' },
        ],
      },
      [stubborn]: { steps: [{ thought: 'Let me think more.', code: 'print("still working")' }], fallbackAnswer: stubbornFallback },
    }),
  );
}

function task(question: string, domain: Task['domain'] = 'math'): Task {
  return { id: question.slice(0, 12), question, domain };
}

/** Runs one episode against the server with a real sandbox (and a web_search that answers from `corpus`). */
async function runEpisode(server: FakeModelServer, question: string, extra: Partial<AgentEpisodeOptions> & { prompt: PromptProfile }, onEvent?: (e: AgentEvent) => void) {
  const searches: string[] = [];
  const episode = await startEpisode({
    webSearch: (query) => {
      searches.push(query);
      return Promise.resolve(corpus);
    },
  });
  try {
    const endpoint = new ModelEndpoint({ ...defaultProfile('teacher'), baseUrls: [server.baseUrl], model: 'teacher', timeoutMs: 10_000 });
    const trajectory = await runAgentEpisode({ task: task(question), endpoint, episode, originKind: 'teacher', ...extra }, onEvent);
    return { trajectory, searches, endpoint };
  } finally {
    await episode.close();
  }
}

function requestsSince(server: FakeModelServer, start: number): ChatCompletionBody[] {
  return server.chatRequests().slice(start);
}

void describe('agent loop, end to end through the model server and the sandbox', () => {
  let server: FakeModelServer;
  let teacherPrompt: PromptProfile;
  let studentPrompt: PromptProfile;
  before(async () => {
    server = await startFakeModelServer({ script: agentScript() });
    teacherPrompt = await loadPromptProfile('teacher');
    studentPrompt = await loadPromptProfile('student');
  });
  after(() => server.close());

  void it('solves an arithmetic task in two steps and sends well-formed requests', async () => {
    const start = server.chatRequests().length;
    const { trajectory } = await runEpisode(server, arithmetic, { prompt: teacherPrompt });
    const expected = String(evaluateIntegerExpression('17 * 23 + 4'));
    assert.equal(trajectory.steps.length, 2);
    assert.equal(trajectory.steps[0].observation?.printOutput, `${expected}\n`);
    assert.equal(trajectory.finalAnswer, expected);
    assert.equal(trajectory.fromFallback, undefined);
    assert.ok(trajectory.steps[0].modelOutput.endsWith('```<end_code>'), 'the cut stop string is restored');
    assert.equal(trajectory.steps[0].thought, 'I will compute 17 * 23 + 4 with Python and print the value.');
    trajectorySchema.parse(trajectory);

    const [first, second] = requestsSince(server, start);
    for (const body of [first, second]) {
      assert.deepEqual(body.stop, [...ACTION_STOP_SEQUENCES]);
      assert.equal(body.n, 1);
      assert.equal(body.temperature, 0);
      for (const key of ['top_p', 'top_k', 'repetition_penalty', 'max_tokens', 'seed']) assert.equal(typeof body[key], 'number', `${key} is sent explicitly`);
      assert.ok(!body.messages.some((m) => String(m.content).includes('Calling tools:')), 'no tool-call turns');
    }
    assert.deepEqual(first.messages.map((m) => m.role), ['system', 'user']);
    assert.equal(first.messages[1].content, taskTurn(arithmetic, teacherPrompt));
    assert.deepEqual(second.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(second.messages[2].content, trajectory.steps[0].modelOutput.trim());
    assert.equal(second.messages[3].content, `Call id: call_1\nObservation:\nExecution logs:\n${expected}\nLast output from code snippet:\nNone`);
    assert.equal(second.messages[3].content, trajectory.steps[0].observation?.text);
  });

  void it('answers a lookup task through web_search', async () => {
    const start = server.chatRequests().length;
    const { trajectory, searches } = await runEpisode(server, 'What is the capital of Freedonia?', { prompt: teacherPrompt });
    assert.deepEqual(searches, ['capital of Freedonia']);
    assert.deepEqual(trajectory.steps[0].observation?.webSearchCalls, [{ query: 'capital of Freedonia', passages: corpus }]);
    const second = requestsSince(server, start)[1];
    assert.ok(String(second.messages[3].content).includes(formatWebSearchResult(corpus)));
    assert.equal(trajectory.finalAnswer, 'Fredville');
  });

  void it('shows an execution error as an error turn and lets the agent recover', async () => {
    const start = server.chatRequests().length;
    const { trajectory } = await runEpisode(server, divisionTrouble, { prompt: teacherPrompt });
    const failed = trajectory.steps[0].observation;
    assert.equal(failed?.error?.type, 'ZeroDivisionError');
    assert.equal(failed?.error?.kind, 'execution');
    const errorTurn = String(requestsSince(server, start)[1].messages[3].content);
    assert.ok(errorTurn.startsWith("Call id: call_1\nError:\nCode execution failed at line 'share = 28 // friends' due to: ZeroDivisionError"), errorTurn);
    assert.ok(errorTurn.includes(RETRY_INSTRUCTION));
    assert.equal(trajectory.steps[1].observation?.printOutput, `${28 / 4}\n`);
    assert.equal(trajectory.finalAnswer, String(28 / 4));
    assert.equal(trajectory.steps.length, 3);
  });

  void it('stops after max steps and takes the fallback answer, merging the last observation with the request', async () => {
    const start = server.chatRequests().length;
    const { trajectory } = await runEpisode(server, stubborn, { prompt: teacherPrompt, maxSteps: 3 });
    const bodies = requestsSince(server, start);
    assert.equal(trajectory.steps.length, 3);
    assert.equal(bodies.length, 4);
    assert.equal(trajectory.finalAnswer, stubbornFallback);
    assert.equal(trajectory.fromFallback, true);
    const fallback = bodies[3];
    assert.equal(fallback.stop, undefined, 'the fallback call has no stop sequences');
    assert.equal(fallback.messages[0].content, teacherPrompt.fallbackSystem);
    const roles = fallback.messages.map((m) => m.role);
    assert.ok(roles.every((r, i) => i === 0 || r !== roles[i - 1]), `no two adjacent turns share a role: ${roles.join(',')}`);
    const last = String(fallback.messages[fallback.messages.length - 1].content);
    assert.ok(last.startsWith(`Call id: call_3\nObservation:\nExecution logs:\nstill working\n`));
    assert.ok(last.endsWith(teacherPrompt.fallbackRequest.replace('{{question}}', stubborn)));
    trajectorySchema.parse(trajectory);
  });

  void it('continues a first-thought prefix on the first call only', async () => {
    const start = server.chatRequests().length;
    const prefix = 'Thought: Multiplication comes before addition here.\n\n';
    const { trajectory } = await runEpisode(server, arithmetic, { prompt: teacherPrompt, firstThoughtPrefix: prefix, cotReply: 'whole reply' });
    const [first, second] = requestsSince(server, start);
    assert.equal(first.continue_final_message, true);
    assert.equal(first.add_generation_prompt, false);
    assert.deepEqual(first.messages[first.messages.length - 1], { role: 'assistant', content: prefix });
    assert.equal(second.continue_final_message, undefined);
    assert.ok(trajectory.steps[0].modelOutput.startsWith(prefix + 'Code:'));
    assert.equal(trajectory.steps[0].thought, 'Multiplication comes before addition here.');
    assert.equal(trajectory.origin.firstThoughtPrefix, prefix);
    assert.equal(trajectory.finalAnswer, String(evaluateIntegerExpression('17 * 23 + 4')));
  });

  void it('streams events: model text that adds up to each reply, then code, observation and the answer', async () => {
    const episode = await startEpisode();
    try {
      const endpoint = new ModelEndpoint({ ...defaultProfile('teacher'), baseUrls: [server.baseUrl], model: 'teacher' });
      const events: AgentEvent[] = [];
      const run = agentEpisodeEvents({ task: task(arithmetic), endpoint, episode, prompt: teacherPrompt, originKind: 'teacher', streamText: true });
      let next = await run.next();
      while (!next.done) {
        events.push(next.value);
        next = await run.next();
      }
      const trajectory = next.value;
      const streamed = events.filter((e) => e.type === 'model-text' && e.step === 0).map((e) => (e.type === 'model-text' ? e.delta : '')).join('');
      assert.equal(`${streamed}<end_code>`, trajectory.steps[0].modelOutput);
      assert.deepEqual(
        events.filter((e) => e.type !== 'model-text').map((e) => e.type),
        ['step-started', 'model-reply', 'code', 'observation', 'step-finished', 'step-started', 'model-reply', 'code', 'observation', 'step-finished', 'final-answer'],
      );
    } finally {
      await episode.close();
    }
  });

  for (const isolation of ['isolated', 'shared'] as const) {
    void it(`SAG (${isolation}): 8 candidates, 5 invalid; votes on print output, records every candidate, keeps the ${isolation === 'isolated' ? "winner's state only" : 'leaked state as the reference did'}`, async () => {
      const question = 'Which number do the candidates agree on?';
      const invalidKinds = { 1: 'syntax-error', 2: 'runtime-error', 4: 'no-code', 6: 'syntax-error', 7: 'runtime-error' } as const;
      const validTurns: Record<number, string> = {
        0: 'value = 7\nleaked_from_0 = True\nprint(value)',
        3: 'value = 12\nprint(value)',
        5: 'value = 12\nleaked_from_5 = True\nprint(value)',
      };
      const sagScript = malformedStudent(
        scriptedAgent({
          [question]: {
            steps: [
              (_u, _s) => ({ thought: 'unused', code: 'unused' }),
              { thought: 'Report what the state holds.', code: "final_answer(f\"{value} {'leaked_from_0' in globals()} {'leaked_from_5' in globals()}\")" },
            ],
          },
        }),
        { invalid: (req) => (req.step === 0 ? invalidKinds[req.choiceIndex as keyof typeof invalidKinds] : undefined) },
      );
      const student = await startFakeModelServer({
        script: (req) => (req.step === 0 && validTurns[req.choiceIndex] ? renderAgentTurn({ thought: `Candidate ${req.choiceIndex}.`, code: validTurns[req.choiceIndex] }) : sagScript(req)),
      });
      try {
        const { trajectory } = await runEpisode(student, question, { prompt: studentPrompt, originKind: 'student', mode: { kind: 'sag', candidates: 8, isolation } });
        const [first] = student.chatRequests();
        assert.equal(first.n, 8);
        assert.equal(first.temperature, 0.4);
        assert.equal(first.top_p, 0.8);
        assert.equal(first.seed, 42);
        assert.equal(first.max_tokens, 1024);
        const step = trajectory.steps[0];
        assert.equal(step.candidates?.length, 8);
        assert.deepEqual(step.candidates?.map((c) => c.valid), [true, false, false, true, false, true, false, false]);
        assert.deepEqual(step.voteGroups, [{ voteKey: '7\n', members: [0] }, { voteKey: '12\n', members: [3, 5] }]);
        assert.equal(step.winner, 3);
        assert.equal(step.code, extractCode(step.candidates?.[3].text ?? '').code);
        assert.equal(step.candidates?.[4].error?.type, 'CodeBlockMissing');
        assert.equal(step.candidates?.[2].error?.type, 'NameError');
        if (isolation === 'isolated') {
          assert.equal(trajectory.finalAnswer, '12 False False', 'the winner\'s state is kept and no other candidate leaked into it');
        } else {
          assert.equal(trajectory.finalAnswer, '12 True True', 'every candidate ran in the one state, then the winner again');
          assert.equal(trajectory.steps[0].observation?.printOutput, '12\n');
        }
        assert.deepEqual(trajectory.origin.sag, { candidates: 8, isolation });
        trajectorySchema.parse(trajectory);
      } finally {
        await student.close();
      }
    });
  }

  for (const executeDuplicates of [false, true]) {
    void it(`SAG (isolated${executeDuplicates ? ', every copy executed' : ''}): repeated candidate codes ${executeDuplicates ? 'each run' : 'run once and share the outcome'}`, async () => {
      const question = 'How often does each distinct code run?';
      // Every run appends its letter to a file in the shared work folder, so the file counts executions.
      const codeA = "open('runs.txt', 'a').write('A')\nprint('same answer')";
      const codeB = "open('runs.txt', 'a').write('B')\nprint('other answer')";
      const byChoice = [codeA, codeA, codeA, codeA, codeB, codeB, codeA, codeA];
      const student = await startFakeModelServer({
        script: (req) =>
          req.step === 0
            ? renderAgentTurn({ thought: `Candidate ${req.choiceIndex}.`, code: byChoice[req.choiceIndex] })
            : renderAgentTurn({ thought: 'Report the runs.', code: "final_answer(''.join(sorted(open('runs.txt').read())))" }),
      });
      try {
        const { trajectory } = await runEpisode(student, question, { prompt: studentPrompt, originKind: 'student', mode: { kind: 'sag', candidates: 8, isolation: 'isolated', executeDuplicates } });
        const step = trajectory.steps[0];
        const expectedRuns = executeDuplicates ? byChoice : [...new Set(byChoice)];
        assert.equal(trajectory.finalAnswer, expectedRuns.map((c) => (c === codeA ? 'A' : 'B')).sort().join(''));
        const firstIndexOf = (code: string): number => byChoice.indexOf(code);
        assert.deepEqual(
          step.candidates?.map((c) => c.sameCodeAs),
          byChoice.map((code, i) => (executeDuplicates || firstIndexOf(code) === i ? undefined : firstIndexOf(code))),
        );
        // sharing an execution changes nothing in the vote: every copy counts
        assert.deepEqual(step.voteGroups, [
          { voteKey: 'same answer\n', members: byChoice.flatMap((c, i) => (c === codeA ? [i] : [])) },
          { voteKey: 'other answer\n', members: byChoice.flatMap((c, i) => (c === codeB ? [i] : [])) },
        ]);
        assert.equal(step.winner, 0);
        assert.ok(step.candidates?.every((c) => c.valid && c.printOutput === (c.code === codeA ? 'same answer\n' : 'other answer\n')));
        trajectorySchema.parse(trajectory);
      } finally {
        await student.close();
      }
    });
  }

  void it('SAG with no valid candidate takes candidate 0 and shows its error', async () => {
    const question = 'What is 2 * 3?';
    const student = await startFakeModelServer({ script: malformedStudent(arithmeticAgent(), { invalid: (req) => (req.step === 0 ? (req.choiceIndex === 0 ? 'runtime-error' : 'syntax-error') : undefined) }) });
    try {
      const { trajectory } = await runEpisode(student, question, { prompt: studentPrompt, originKind: 'student', mode: { kind: 'sag', candidates: 4, isolation: 'isolated' } });
      const step = trajectory.steps[0];
      assert.equal(step.winner, 0);
      assert.deepEqual(step.voteGroups, []);
      assert.equal(step.observation?.error?.type, 'NameError');
      assert.ok(String(student.chatRequests()[1].messages.at(-1)?.content).includes("due to: NameError: name 'undefined_total' is not defined"));
      assert.equal(trajectory.finalAnswer, String(evaluateIntegerExpression('2 * 3')));
    } finally {
      await student.close();
    }
  });

  void it('stops promptly when aborted mid-episode', async () => {
    const slow = await startFakeModelServer({ script: agentScript(), latencyMs: 30_000 });
    try {
      const started = performance.now();
      await assert.rejects(runEpisode(slow, arithmetic, { prompt: teacherPrompt, signal: AbortSignal.timeout(200) }));
      assert.ok(performance.now() - started < 15_000, 'did not wait for the model');
    } finally {
      await slow.close();
    }
  });
});
