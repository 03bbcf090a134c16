import { z } from 'zod';
import { type ChatMessage, type ChatRequest, type ChatResult } from '../llm/types';
import { parseJsonReply } from '../llm/jsonReply';
import { answerFromText } from './boxedAnswer';
import { type FactualVerdict, goldAliases, tokenF1 } from './factualMatch';

/** The part of a model endpoint the judge needs (a `ModelEndpoint` of the judge profile in the product). */
export interface JudgeModel {
  complete(request: ChatRequest): Promise<ChatResult>;
}

/** The JSON the judge must reply with. `correct` may be a boolean or 0/1, as models write both. */
export const judgeReplySchema = z.object({
  correct: z.union([z.boolean(), z.literal(0), z.literal(1)]),
  explanation: z.string(),
});
export type JudgeReply = z.infer<typeof judgeReplySchema>;

const judgeSystemPrompt = [
  'You grade answers to factual questions against a reference answer.',
  'A prediction is correct when it names the same entity, value or fact as the reference, even if it is worded differently:',
  'synonyms, aliases, abbreviations, a fuller or shorter form of a name, and different but equivalent units or date formats all count.',
  'It is wrong when it names something else, when it hedges between several candidates, or when it is so vague that the reference cannot be recovered from it.',
  'Extra correct detail does not make a prediction wrong; a prediction that contradicts the reference is wrong.',
  'Reply with a single JSON object and nothing else: {"correct": true or false, "explanation": "one short sentence"}.',
].join('\n');

function judgeUserPrompt(question: string, gold: readonly string[], prediction: string): string {
  const reference = gold.length === 1 ? gold[0] : gold.map((g) => `- ${g}`).join('\n');
  return `Question:\n${question}\n\nReference answer${gold.length === 1 ? '' : 's (any one is enough)'}:\n${reference}\n\nPrediction:\n${prediction}\n\nIs the prediction correct?`;
}

/** The first `{…}` object in a reply, also inside a fenced block; undefined when there is none. */
export function parseJudgeReply(text: string): { reply?: JudgeReply; error?: string } {
  const parsed = parseJsonReply(text, judgeReplySchema);
  return 'error' in parsed ? { error: parsed.error } : { reply: parsed.value };
}

export interface LlmJudgeOptions {
  /** Attempts when the reply is not valid JSON of the right shape (transport retries are the endpoint's). Default 2. */
  attempts?: number;
  signal?: AbortSignal;
}

/**
 * Judges a factual answer with the judge model (METHOD §6): our grading prompt, greedy decoding, a JSON
 * reply validated with zod. The judge's explanation is kept in `detail`. A reply that stays malformed
 * after the retries gives a wrong verdict with rule `judge-error` and the reason; a transport failure
 * (the endpoint's retries exhausted) is thrown, since the verdict would say nothing about the answer.
 */
export async function judgeFactualWithModel(
  judge: JudgeModel,
  question: string,
  prediction: string,
  gold: string | readonly string[],
  options: LlmJudgeOptions = {},
): Promise<FactualVerdict> {
  const predAnswer = answerFromText(prediction).answer;
  const aliases = goldAliases(gold);
  if (aliases.length === 0) throw new Error('the gold answer is empty');
  const f1 = Math.max(...aliases.map((a) => tokenF1(predAnswer, a)));
  const base = { predAnswer, goldAnswer: aliases[0], f1 };
  if (predAnswer.trim() === '') return { ...base, correct: false, rule: 'no-answer', detail: 'the prediction has no answer to compare' };
  const messages: ChatMessage[] = [
    { role: 'system', content: judgeSystemPrompt },
    { role: 'user', content: judgeUserPrompt(question, aliases, predAnswer) },
  ];
  const attempts = Math.max(1, options.attempts ?? 2);
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const result = await judge.complete({ messages, sampling: { temperature: 0, maxTokens: 256 }, signal: options.signal });
    const text = result.choices[0]?.text ?? '';
    const { reply, error } = parseJudgeReply(text);
    if (reply) {
      const correct = reply.correct === true || reply.correct === 1;
      return { ...base, correct, rule: 'llm-judge', detail: reply.explanation };
    }
    lastError = `${error ?? 'invalid reply'} (reply: ${JSON.stringify(text.slice(0, 200))})`;
  }
  return { ...base, correct: false, rule: 'judge-error', detail: lastError };
}
