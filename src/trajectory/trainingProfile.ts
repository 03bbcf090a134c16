import { type Compatibility } from './compatibility';

/**
 * What each compatibility profile puts into training data beyond the trajectory itself (docs/COMPATIBILITY.md):
 * which tokens of an assistant turn carry loss, and whether a run that ended with the fallback answer call
 * gives an extra example. The export preview (tokenMask.ts) and the trainer (media/python/train_data.py) both
 * follow {@link assistantLossSpan}; the export manifest records the profile so the trainer can be told.
 */

/**
 * The part of one assistant turn of the Qwen template `<|im_start|>assistant\n{content}<|im_end|>\n` that
 * carries loss. The content and the end-of-turn token always do; the two newlines depend on the profile.
 */
export interface AssistantLossSpan {
  /** The newline after `<|im_start|>assistant`. */
  headerNewline: boolean;
  /** The newline after `<|im_end|>`. */
  trailingNewline: boolean;
}

/**
 * `reference`: what TRL's completion-only collator trains with the reference's templates (response template
 * `<|im_start|>assistant`, instruction template `<|im_start|>user`: everything in between, both newlines
 * included). `studio`: only what the model writes when it is served: the content and `<|im_end|>`, where
 * generation stops; the header newline is part of the generation prompt and the trailing one is never sampled.
 */
export function assistantLossSpan(compatibility: Compatibility): AssistantLossSpan {
  return compatibility === 'reference' ? { headerNewline: true, trailingNewline: true } : { headerNewline: false, trailingNewline: false };
}

/** One line for manifests and previews. */
export function describeLossMask(compatibility: Compatibility): string {
  return compatibility === 'reference'
    ? 'assistant turns: the newline after <|im_start|>assistant, the content, <|im_end|> and the newline after it'
    : 'assistant turns: the content and <|im_end|> (the tokens the model generates when served)';
}

/**
 * Whether an example whose answer came from the fallback call after the step limit is written beside the
 * trajectory, and which of its assistant turns carry loss. `reference`: every turn, as the reference trains its
 * fallback conversation like any other; `studio`: only the fallback reply, so the steps of a long run are not
 * trained twice while the student still learns to answer the fallback request it also gets when served.
 */
export function fallbackExampleTrainsSteps(compatibility: Compatibility): boolean {
  return compatibility === 'reference';
}
