import { type Trajectory } from '../trajectory/schema';
import { buildSftConversation } from '../trajectory/sftExport';
import { type SftPrompt } from '../trajectory/sftPrompt';
import { type ChatTokenizer, renderQwenChat } from '../trajectory/tokenMask';

/**
 * The `over-length` rule's counter: the trajectory's training text exactly as the export renders it (chat
 * template included), counted with the real tokenizer. A byte-level BPE token covers at least one byte, so
 * a text of at most `maxLength` bytes cannot exceed `maxLength` tokens; such texts are not tokenized and
 * the byte count is returned as the bound (tokenizing is the slow part of triage).
 */
export function trainingTokenCounter(tokenizer: Pick<ChatTokenizer, 'encode'>, prompt: SftPrompt, maxLength: number): (t: Trajectory) => number {
  return (t) => {
    const text = renderQwenChat(buildSftConversation(t, prompt).turns);
    const bytes = Buffer.byteLength(text);
    return bytes <= maxLength ? bytes : tokenizer.encode(text).length;
  };
}
