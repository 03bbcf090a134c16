import { type Compatibility } from '../trajectory/compatibility';
import { type z } from 'zod';
import { type ChatMessage, type ChatRequest, type ChatResult } from '../llm/types';
import { parseJsonReply } from '../llm/jsonReply';
import { answerFromText } from './boxedAnswer';
import { type FactualVerdict, goldAliases, tokenF1 } from './factualMatch';
import { builtinJudgePrompt, correctReplySchema, type JudgePrompt, judgeMessages, loadJudgePrompt, readJudgeReply } from './judgePrompt';

/** The part of a model endpoint the judge needs (a `ModelEndpoint` of the judge profile in the product). */
export interface JudgeModel {
  complete(request: ChatRequest): Promise<ChatResult>;
}

/** The JSON the studio's judge prompt asks for. `correct` may be a boolean or 0/1, as models write both. */
export const judgeReplySchema = correctReplySchema;
export type JudgeReply = z.infer<typeof judgeReplySchema>;

/** The first `{…}` object in a reply in the studio's format, also inside a fenced block. */
export function parseJudgeReply(text: string): { reply?: JudgeReply; error?: string } {
  const parsed = parseJsonReply(text, judgeReplySchema);
  return 'error' in parsed ? { error: parsed.error } : { reply: parsed.value };
}

export interface LlmJudgeOptions {
  /** Attempts when the reply cannot be read (transport retries are the endpoint's). Default 2. */
  attempts?: number;
  signal?: AbortSignal;
  /** The built-in judge prompt: `studio` (default) or `reference` (the reference's request and reply shape). */
  profile?: Compatibility;
  /** A judge prompt file of the user's (`trajectoryStudio.scoring.judgePrompt`); it replaces the profile's. */
  promptFile?: string;
  /** A judge prompt already loaded (e.g. once per run); it replaces `promptFile` and the profile's. */
  prompt?: JudgePrompt;
}

async function promptFor(options: LlmJudgeOptions): Promise<JudgePrompt> {
  if (options.prompt) return options.prompt;
  if (options.promptFile) return loadJudgePrompt(options.promptFile);
  return builtinJudgePrompt(options.profile ?? 'studio');
}

/**
 * Judges a factual answer with the judge model (METHOD §6): the judge prompt (built-in profile or the
 * user's file), greedy decoding, the reply read in the prompt's declared format. The judge's explanation
 * is kept in `detail`. A reply that stays unreadable after the retries gives a wrong verdict with rule
 * `judge-error` and the reason in `error` (and `detail`): it counts as wrong and is recorded, never
 * mistaken for a verdict. A transport failure (the endpoint's retries exhausted) is thrown, since the
 * verdict would say nothing about the answer; so is a judge prompt file that cannot be read or parsed.
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
  const prompt = await promptFor(options);
  const messages: ChatMessage[] = judgeMessages(prompt, { question, gold: aliases, answer: predAnswer, prediction });
  const attempts = Math.max(1, options.attempts ?? 2);
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const result = await judge.complete({ messages, sampling: { temperature: 0, maxTokens: 256 }, signal: options.signal });
    const text = result.choices[0]?.text ?? '';
    const reading = readJudgeReply(text, prompt.replyFormat);
    if (!('error' in reading)) return { ...base, correct: reading.correct, rule: 'llm-judge', detail: reading.explanation };
    lastError = `the judge's reply could not be read as ${prompt.replyFormat} (${prompt.source}): ${reading.error} (reply: ${JSON.stringify(text.slice(0, 200))})`;
  }
  return { ...base, correct: false, rule: 'judge-error', detail: lastError, error: lastError };
}
