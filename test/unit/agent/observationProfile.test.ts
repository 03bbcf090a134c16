import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type ChatCompleter, runAgentEpisode } from '../../../src/agent/agentLoop';
import { loadPromptProfile, type PromptProfile } from '../../../src/agent/promptProfiles';
import { greedySampling } from '../../../src/llm/profiles';
import { type ChatMessage, type ChatRequest, type ChatResult } from '../../../src/llm/types';
import { RETRY_INSTRUCTION } from '../../../src/trajectory/observationFormat';
import { type CandidateExecution, type ExecOutcome, type PythonEpisode } from '../../../src/sandbox/types';
import { type Compatibility } from '../../../src/trajectory/compatibility';
import { type Step } from '../../../src/trajectory/schema';

/** A Python episode that answers every step with one syntax error (Python's line without its newline). */
class SyntaxErrorEpisode implements PythonEpisode {
  readonly isolation = 'none';
  constructor(readonly compatibility?: Compatibility) {}
  exec(): Promise<ExecOutcome> {
    return Promise.resolve({
      printOutput: '',
      printedChars: 0,
      lastValue: 'None',
      error: { kind: 'parse', type: 'SyntaxError', message: "'(' was never closed (<unknown>, line 1)", line: 1, statement: 'x = (' },
      syntaxError: { text: 'x = (', offset: 5 },
      webSearchCalls: [],
      durationMs: 1,
    });
  }
  runCandidates(): Promise<CandidateExecution[]> {
    return Promise.reject(new Error('not used'));
  }
  adoptCandidate(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A model that always writes the same code and remembers the conversations it was sent. */
function recordingModel(seen: ChatMessage[][]): ChatCompleter {
  const reply = 'Thought: try.\nCode:\n```py\nx = (\n```<end_code>';
  return {
    profile: { name: 'fixed', model: 'fixed', sampling: greedySampling },
    complete: (request: ChatRequest): Promise<ChatResult> => {
      seen.push(request.messages.map((m) => ({ ...m })));
      return Promise.resolve({
        choices: [{ text: reply, finishReason: 'stop' }],
        usage: { promptTokens: 1, completionTokens: 1 },
        model: 'fixed',
        sampling: greedySampling,
        latencyMs: 0,
        attempts: 1,
        fromCache: false,
      });
    },
  };
}

const task = { id: 'p1', question: 'What is 2 + 2?', domain: 'math' as const };
const reference = `Call id: call_1\nError:\nCode parsing failed on line 1 due to: SyntaxError\nx = (     ^\nError: '(' was never closed (<unknown>, line 1)\n${RETRY_INSTRUCTION}\n`;
const studio = `Call id: call_1\nError:\nCode parsing failed on line 1 due to: SyntaxError\nx = (\n    ^\nError: '(' was never closed (<unknown>, line 1)\n${RETRY_INSTRUCTION}\n`;

void describe('agent loop: the compatibility profile of observations', () => {
  let prompt: PromptProfile;
  before(async () => {
    prompt = await loadPromptProfile('student');
  });

  void it("follows the episode's profile when the caller names none, and records it in the origin", async () => {
    for (const [compatibility, expected] of [['reference', reference], ['studio', studio]] as const) {
      const t = await runAgentEpisode({ task, endpoint: recordingModel([]), episode: new SyntaxErrorEpisode(compatibility), prompt, originKind: 'student', maxSteps: 1 });
      assert.equal(t.steps[0]?.observation?.text, expected, compatibility);
      assert.equal(t.origin.compatibility, compatibility);
    }
  });

  void it('records no profile when neither the caller nor the episode names one, and uses the studio rules', async () => {
    const t = await runAgentEpisode({ task, endpoint: recordingModel([]), episode: new SyntaxErrorEpisode(), prompt, originKind: 'student', maxSteps: 1 });
    assert.equal(t.steps[0]?.observation?.text, studio);
    assert.equal(t.origin.meta, undefined);
  });

  void it('rebuilds a stored step without its text in the conversation with the Call id line', async () => {
    const prior: Step = {
      thought: 'try.',
      code: 'x = (',
      modelOutput: 'Thought: try.\nCode:\n```py\nx = (\n```<end_code>',
      observation: { printOutput: '', lastValue: 'None', webSearchCalls: [], error: { kind: 'parse', type: 'SyntaxError', message: 'invalid syntax', line: 1, statement: 'x = (' } },
    };
    const seen: ChatMessage[][] = [];
    await runAgentEpisode({ task, endpoint: recordingModel(seen), episode: new SyntaxErrorEpisode('reference'), prompt, originKind: 'student', maxSteps: 2, priorSteps: [prior] });
    const firstCall = seen[0] ?? [];
    const lastTurn = firstCall[firstCall.length - 1];
    // The stored error has no position, so no caret line can be rebuilt; the Call id is there under either profile.
    assert.equal(lastTurn?.role, 'user');
    assert.ok(lastTurn?.content.endsWith(`Call id: call_1\nError:\nCode parsing failed on line 1 due to: SyntaxError\nx = (\nError: invalid syntax\n${RETRY_INSTRUCTION}\n`), lastTurn?.content);
  });
});
