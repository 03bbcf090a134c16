/**
 * Reading the model's reply (METHOD §2): the stored text, the thought, and the code to execute.
 */

/** The stop strings of every action step. The server cuts before them and does not return them. */
export const ACTION_STOP_SEQUENCES: readonly string[] = ['<end_code>', 'Observation:', 'Calling tools:'];

/** The text stored for a step: `<end_code>` restored when the stop string cut the reply right after the block. */
export function storedModelOutput(reply: string): string {
  return reply.trim().endsWith('```') ? `${reply}<end_code>` : reply;
}

/** The thought of a reply: the text after `Thought:` (when present) up to `Code:`, trimmed. */
export function extractThought(text: string): string {
  const codeAt = text.search(/^\s*Code:/m);
  let thought = codeAt >= 0 ? text.slice(0, codeAt) : text;
  const thoughtAt = thought.indexOf('Thought:');
  if (thoughtAt >= 0) thought = thought.slice(thoughtAt + 'Thought:'.length);
  // Without a Code: line, cut at the first fence so the code is not repeated as thought.
  if (codeAt < 0) {
    const fence = thought.indexOf('```');
    if (fence >= 0) thought = thought.slice(0, fence);
  }
  return thought.trim();
}

const codeBlockPattern = /```(?:py|python)?\n(.*?)\n```/gs;

/** What the reply yields to execute. */
export type ExtractedCode =
  /** One or more fenced blocks, stripped and joined by a blank line. */
  | { kind: 'blocks'; code: string }
  /** No fenced block: the whole reply, to be run if it parses as Python (a parse error means "no code"). */
  | { kind: 'whole-text'; code: string };

/** Every ```py / ```python / ``` block of a reply as written, stripped and joined by a blank line; undefined when there is none. */
export function codeBlocks(text: string): string | undefined {
  const blocks = [...text.matchAll(codeBlockPattern)].map((m) => m[1].trim());
  return blocks.length > 0 ? blocks.join('\n\n') : undefined;
}

/** Finds the code of a reply: every ```py / ```python / ``` block; otherwise the whole text. */
export function extractCode(text: string): ExtractedCode {
  const blocks = codeBlocks(text);
  if (blocks !== undefined) return { kind: 'blocks', code: fixFinalAnswerAssignment(blocks) };
  return { kind: 'whole-text', code: fixFinalAnswerAssignment(text.trim()) };
}

/** Replaces the variable so the call works: `final_answer = 3; final_answer(final_answer)` would call an int. */
export const FINAL_ANSWER_VARIABLE = 'final_answer_value';

/**
 * When code both assigns to `final_answer` and calls `final_answer(`, renames the variable (its assignments
 * and reads, not the calls) so the call still reaches the tool.
 */
export function fixFinalAnswerAssignment(code: string): string {
  const assignment = /(?<![.\w])final_answer(\s*=(?!=))/g;
  if (!code.includes('final_answer(') || !assignment.test(code)) return code;
  return code.replace(assignment, `${FINAL_ANSWER_VARIABLE}$1`).replace(/(?<![.\w])final_answer\b(?!\s*\()/g, FINAL_ANSWER_VARIABLE);
}
