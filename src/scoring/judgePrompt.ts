import { mediaFolder } from '../environment/mediaFolder';
import { parseTextSections, trimBlankLines } from '../environment/sectionedText';
import { type Compatibility } from '../trajectory/compatibility';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { type ChatMessage } from '../llm/types';
import { parseJsonReply } from '../llm/jsonReply';

/**
 * Judge prompts as files. Built-in ones live in `media/prompts/judge/` as `<profile>.judge.txt`
 * (`studio`, the default, and `reference`, the reference implementation's request and reply shape in our
 * words); a user may point the studio at their own file in the same format.
 *
 * File format, like the prompt profiles: sections introduced by `=== <section> ===`; `#` lines before the
 * first section are comments; leading and trailing blank lines of a section are dropped.
 * - `system` (optional): the system message; absent or empty → the request has only the user message.
 * - `user`: the user message, with `{{question}}`, `{{gold}}` and `{{answer}}` (the answer taken from the
 *   prediction) or `{{prediction}}` (the prediction as written).
 * - `reply format`: how the reply is read, one of {@link judgeReplyFormats}.
 */

/** Thrown for a malformed judge prompt file; the message names the file and line. */
export class JudgePromptError extends Error {
  override readonly name = 'JudgePromptError';
}

/**
 * How a judge's reply is read. Either way the reply must hold one JSON object (alone, in prose or in a
 * fenced block); a reply without a readable verdict is a judge error, never a verdict.
 * - `json-correct` (studio): `{"correct": true | false | 1 | 0, "explanation": "..."}`;
 * - `json-score` (reference): `{"explanation": "...", "score": 0 | 1}`. The reference reads `score` from
 *   the JSON and sums it over the questions, so a boolean counts as 1 or 0 there and here; any other
 *   value is an error here (the reference would add it to its sum).
 */
export const judgeReplyFormats = ['json-correct', 'json-score'] as const;
export type JudgeReplyFormat = (typeof judgeReplyFormats)[number];

export interface JudgePrompt {
  /** The file it came from (or `<inline>`). */
  source: string;
  /** Empty: no system message. */
  system: string;
  user: string;
  replyFormat: JudgeReplyFormat;
}

const sectionNames = ['system', 'user', 'reply format'] as const;
const placeholders = ['question', 'gold', 'answer', 'prediction'] as const;
type Placeholder = (typeof placeholders)[number];
export const judgePromptSuffix = '.judge.txt';

/** Parses a judge prompt file's text; every problem names `source` and the line. */
export function parseJudgePrompt(text: string, source = '<inline>'): JudgePrompt {
  const found = parseTextSections(text, source, sectionNames, (message) => new JudgePromptError(message), '"=== system ===" or "=== user ==="');
  const user = found.get('user');
  if (!user) throw new JudgePromptError(`${source}: missing section "=== user ==="`);
  const reply = found.get('reply format');
  if (!reply) throw new JudgePromptError(`${source}: missing section "=== reply format ===" (one of: ${judgeReplyFormats.join(', ')})`);
  const format = trimBlankLines(reply.body).trim();
  if (!(judgeReplyFormats as readonly string[]).includes(format)) {
    throw new JudgePromptError(`${source}:${reply.line + 1}: unknown reply format "${format}" (expected one of: ${judgeReplyFormats.join(', ')})`);
  }
  const system = found.get('system');
  for (const [section, entry] of [['user', user], ['system', system]] as const) {
    entry?.body.forEach((line, i) => {
      for (const m of line.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
        if (!(placeholders as readonly string[]).includes(m[1])) {
          throw new JudgePromptError(`${source}:${entry.line + 1 + i}: unknown placeholder "${m[0]}" in the ${section} section (known: ${placeholders.map((p) => `{{${p}}}`).join(', ')})`);
        }
      }
    });
  }
  const userText = trimBlankLines(user.body);
  if (!userText.includes('{{gold}}')) throw new JudgePromptError(`${source}:${user.line}: the user section must contain {{gold}}`);
  if (!userText.includes('{{answer}}') && !userText.includes('{{prediction}}')) {
    throw new JudgePromptError(`${source}:${user.line}: the user section must contain {{answer}} or {{prediction}}`);
  }
  return { source, system: system ? trimBlankLines(system.body) : '', user: userText, replyFormat: format as JudgeReplyFormat };
}

/** What fills a judge prompt's placeholders. */
export interface JudgeRequestInput {
  question: string;
  /** The gold answer and its aliases. */
  gold: readonly string[];
  /** The answer taken from the prediction. */
  answer: string;
  /** The prediction as written. */
  prediction: string;
}

/** `{{gold}}`: the answer, or one alias per line after "- ". */
function goldText(gold: readonly string[]): string {
  return gold.length === 1 ? gold[0] : gold.map((g) => `- ${g}`).join('\n');
}

/** Fills the placeholders in one pass, so text inside a value (a prediction holding "{{gold}}") stays as written. */
function fill(template: string, input: JudgeRequestInput): string {
  const values: Record<Placeholder, string> = { question: input.question, gold: goldText(input.gold), answer: input.answer, prediction: input.prediction };
  return template.replace(/\{\{\s*(question|gold|answer|prediction)\s*\}\}/g, (_m, name: Placeholder) => values[name]);
}

/** The judge request's messages: the system message when the file has one, then the user message. */
export function judgeMessages(prompt: JudgePrompt, input: JudgeRequestInput): ChatMessage[] {
  const user: ChatMessage = { role: 'user', content: fill(prompt.user, input) };
  return prompt.system ? [{ role: 'system', content: fill(prompt.system, input) }, user] : [user];
}

/** A verdict read from a reply, or why none could be read. */
export type JudgeReplyReading = { correct: boolean; explanation: string } | { error: string };

/** The JSON of the `json-correct` reply format. */
export const correctReplySchema = z.object({
  correct: z.union([z.boolean(), z.literal(0), z.literal(1)]),
  explanation: z.string(),
});
/** The JSON of the `json-score` reply format (the reference's `ResponseFormat`: explanation, score). */
export const scoreReplySchema = z.object({
  explanation: z.string(),
  score: z.union([z.literal(0), z.literal(1), z.boolean()], { error: 'must be 0 or 1' }),
});

/** Reads a judge's reply in the declared format. */
export function readJudgeReply(text: string, format: JudgeReplyFormat): JudgeReplyReading {
  if (format === 'json-correct') {
    const parsed = parseJsonReply(text, correctReplySchema);
    if ('error' in parsed) return { error: parsed.error };
    return { correct: parsed.value.correct === true || parsed.value.correct === 1, explanation: parsed.value.explanation };
  }
  const parsed = parseJsonReply(text, scoreReplySchema);
  if ('error' in parsed) return { error: parsed.error };
  return { correct: parsed.value.score === 1 || parsed.value.score === true, explanation: parsed.value.explanation };
}

/** A short hash of the judge prompt (its texts and reply format), for run records. */
export function judgePromptHash(prompt: JudgePrompt): string {
  const h = createHash('sha256');
  for (const part of [prompt.system, prompt.user, prompt.replyFormat]) h.update(part).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** `media/prompts/judge/` of the bundle (dist/) or of the source tree (src/scoring/). */
export function builtinJudgePromptFolder(): Promise<string> {
  return mediaFolder(path.join('prompts', 'judge'), `studio${judgePromptSuffix}`, 'The built-in judge prompts');
}

/** Reads and parses a judge prompt file; an unreadable file is a {@link JudgePromptError} naming it. */
export async function loadJudgePrompt(file: string): Promise<JudgePrompt> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new JudgePromptError(`${file}: cannot read the judge prompt file (${err instanceof Error ? err.message : String(err)})`);
  }
  return parseJudgePrompt(text, file);
}

const builtinPrompts = new Map<Compatibility, Promise<JudgePrompt>>();

/** A built-in judge prompt (read once per process). */
export function builtinJudgePrompt(profile: Compatibility): Promise<JudgePrompt> {
  let prompt = builtinPrompts.get(profile);
  if (!prompt) {
    prompt = builtinJudgePromptFolder().then((folder) => loadJudgePrompt(path.join(folder, `${profile}${judgePromptSuffix}`)));
    // A failed read is not cached, so a later call tries again.
    void prompt.catch(() => builtinPrompts.delete(profile));
    builtinPrompts.set(profile, prompt);
  }
  return prompt;
}
