import { greedySampling } from '../../src/llm/profiles';
import { type ChatRequest, type ChatResult } from '../../src/llm/types';
import { type JudgeModel } from '../../src/scoring/llmJudge';

/** A judge model that replies with the given texts in turn (the last one repeats) and records what it was asked. */
export function scriptedJudge(replies: readonly string[]): JudgeModel & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    requests,
    complete(request: ChatRequest): Promise<ChatResult> {
      requests.push(request);
      const text = replies[Math.min(requests.length - 1, replies.length - 1)];
      return Promise.resolve({ choices: [{ text, finishReason: 'stop' }], usage: { promptTokens: 10, completionTokens: 5 }, model: 'judge', sampling: greedySampling, latencyMs: 1, attempts: 1, fromCache: false });
    },
  };
}
