import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type SettingKey, type SettingTypes } from '../../../src/platform/ids';
import { defaultProfile, type EndpointRole, endpointRoles } from '../../../src/llm/profiles';
import { runEnvironmentFromCli, runEnvironmentFromSettings, type SecretReader, type SettingReader } from '../../../src/runs/runEnvironment';
import { teacherOfEnvironment, teacherRunConfigSchema } from '../../../src/teacher/runConfig';
import { prepareTeacherRun } from '../../../src/teacher/teacherRunSetup';
import { runTeacherGeneration } from '../../../src/teacher/teacherRun';
import { openRetrieval } from '../../../src/retrieval/retrievalSetting';
import { buildIndex } from '../../../src/retrieval/indexBuilder';
import { OpenAiEmbeddingsClient } from '../../../src/retrieval/embeddings';
import { arithmeticAgent, evaluateIntegerExpression, startFakeModelServer } from '../../support/fakeModelServer';
import { collect, fixture, fixtureQuestions } from '../retrieval/retrievalFixtures';
import { CliUsageError } from '../../../src/cli/command';
import { cliRunEnvironment } from '../../../src/cli/runEnvironmentArgs';

// The run environment is the one place a run's surroundings come from: each setting below is changed from
// its package.json default and must reach what a run started from VS Code (settings) or the CLI
// (environment variables and flags) uses. Before it existed, teacher generation in VS Code hard-coded the
// server flavor, dropped the teacher's concurrency and timeout, ignored the prompt folder, had no index
// folder without a workspace, and no run passed the embeddings key.

const repoRoot = path.resolve(__dirname, '../../..');
const defaults = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown }> } } })
  .contributes.configuration.properties;

/** Settings as VS Code reads them: package.json defaults, with `changed` on top. */
function settings(changed: Partial<SettingTypes> = {}): SettingReader {
  return <K extends SettingKey>(key: K): SettingTypes[K] => {
    if (key in changed) return changed[key] as SettingTypes[K];
    const entry = defaults[`trajectoryStudio.${key}`];
    if (!entry) throw new Error(`package.json has no setting trajectoryStudio.${key}`);
    return entry.default as SettingTypes[K];
  };
}

const noSecrets: SecretReader = () => Promise.resolve(undefined);
const places = { workspaceFolder: '/work/project', globalStorageFolder: '/storage/trajectory-studio' };

function differentFlavor(role: EndpointRole): 'vllm' | 'openai' {
  return settings()(`endpoints.${role}.flavor`) === 'vllm' ? 'openai' : 'vllm';
}

for (const role of endpointRoles) {
  void test(`each ${role} endpoint setting reaches the ${role} profile of a run started from VS Code`, () => {
    const read = settings();
    const changed = {
      [`endpoints.${role}.baseUrls`]: ['http://10.0.0.7:9000/v1', 'http://10.0.0.8:9000/v1'],
      [`endpoints.${role}.model`]: `${read(`endpoints.${role}.model`)}-changed`,
      [`endpoints.${role}.flavor`]: differentFlavor(role),
      [`endpoints.${role}.concurrency`]: read(`endpoints.${role}.concurrency`) + 5,
      [`endpoints.${role}.timeoutSeconds`]: read(`endpoints.${role}.timeoutSeconds`) + 17,
    } as Partial<SettingTypes>;
    const profile = runEnvironmentFromSettings(settings(changed), places, noSecrets).endpoint(role);
    assert.deepEqual(profile.baseUrls, changed[`endpoints.${role}.baseUrls`]);
    assert.equal(profile.model, changed[`endpoints.${role}.model`]);
    assert.equal(profile.flavor, changed[`endpoints.${role}.flavor`]);
    assert.equal(profile.concurrency, changed[`endpoints.${role}.concurrency`]);
    assert.equal(profile.timeoutMs, (changed[`endpoints.${role}.timeoutSeconds`] as number) * 1000);
  });

  void test(`each ${role} endpoint variable reaches the ${role} profile of a CLI run`, () => {
    const prefix = `TRAJECTORY_STUDIO_${role.toUpperCase()}_`;
    const flavor = defaultProfile(role).flavor === 'vllm' ? 'openai' : 'vllm';
    const concurrency = defaultProfile(role).concurrency + 3;
    const timeoutSeconds = defaultProfile(role).timeoutMs / 1000 + 11;
    const env = { [`${prefix}BASE_URLS`]: 'http://10.0.0.9:1/v1', [`${prefix}MODEL`]: 'm', [`${prefix}FLAVOR`]: flavor, [`${prefix}CONCURRENCY`]: String(concurrency), [`${prefix}TIMEOUT_SECONDS`]: String(timeoutSeconds) };
    const profile = runEnvironmentFromCli(env, { cwd: '/work' }).endpoint(role);
    assert.deepEqual([profile.baseUrls, profile.model, profile.flavor, profile.concurrency, profile.timeoutMs], [['http://10.0.0.9:1/v1'], 'm', flavor, concurrency, timeoutSeconds * 1000]);
  });
}

void test('the teacher flavor setting reaches a teacher run config made in VS Code (it was always "vllm")', () => {
  const flavor = differentFlavor('teacher');
  const environment = runEnvironmentFromSettings(settings({ 'endpoints.teacher.flavor': flavor }), places, noSecrets);
  const config = teacherRunConfigSchema.parse({ questionFile: 'q.jsonl', outputFile: 'o.traj.jsonl', teacher: teacherOfEnvironment(environment) });
  assert.equal(config.teacher.flavor, flavor);
  assert.equal(config.teacher.model, settings()('endpoints.teacher.model'));
});

void test('a teacher run with the prefix on a server set as "openai" is refused before any request', async () => {
  const environment = runEnvironmentFromSettings(settings({ 'endpoints.teacher.flavor': 'openai', 'endpoints.teacher.baseUrls': ['http://127.0.0.1:9/v1'] }), places, noSecrets);
  const config = teacherRunConfigSchema.parse({ questionFile: 'q.jsonl', outputFile: 'o.traj.jsonl', teacher: teacherOfEnvironment(environment), firstThoughtPrefix: true });
  await assert.rejects(prepareTeacherRun(config, { teacherProfile: environment.endpoint('teacher') }), /prefix|continue/i);
});

void test('the index folder: absolute as set, else under the workspace, else in the extension storage when no folder is open', () => {
  const relative = settings()('retrieval.indexFolder');
  assert.equal(runEnvironmentFromSettings(settings(), places, noSecrets).indexRoot, path.join(places.workspaceFolder, relative));
  assert.equal(runEnvironmentFromSettings(settings({ 'retrieval.indexFolder': '/data/indexes' }), places, noSecrets).indexRoot, '/data/indexes');
  assert.equal(runEnvironmentFromSettings(settings(), { globalStorageFolder: places.globalStorageFolder }, noSecrets).indexRoot, path.join(places.globalStorageFolder, 'indexes'));
  assert.equal(runEnvironmentFromCli({}, { cwd: '/work/cli', indexFolder: 'idx' }).indexRoot, '/work/cli/idx');
});

void test('the sandbox settings and flags reach the sandbox options', () => {
  const sandbox = runEnvironmentFromSettings(
    settings({ 'python.interpreter': '/opt/py/bin/python3', 'sandbox.isolation': 'rlimits', 'sandbox.stepTimeoutSeconds': 7, 'sandbox.memoryLimitMb': 999 }),
    places,
    noSecrets,
  ).sandbox;
  assert.deepEqual(sandbox, { interpreter: '/opt/py/bin/python3', isolation: 'rlimits', stepCpuSeconds: 7, memoryLimitMb: 999 });
  const parsed = { values: { python: '/opt/py/bin/python3', isolation: 'bwrap' }, positionals: [] };
  assert.deepEqual(cliRunEnvironment(parsed, { cwd: '/w', env: {} }).sandbox, { interpreter: '/opt/py/bin/python3', isolation: 'bwrap' });
  assert.throws(() => cliRunEnvironment({ values: { isolation: 'docker' }, positionals: [] }, { cwd: '/w', env: {} }), (e: unknown) => e instanceof CliUsageError && /--isolation .*"docker"/.test(e.message));
});

void test('API keys come from SecretStorage by role; a profile under another name has none', async () => {
  const secret: SecretReader = (name) => Promise.resolve(`key-of-${name}`);
  const environment = runEnvironmentFromSettings(settings(), places, secret);
  for (const role of endpointRoles) assert.equal(await environment.apiKeys(role), `key-of-apiKey.${role}`);
  assert.equal(await environment.apiKeys('my-own-server'), undefined);
  assert.equal(await environment.embeddingsApiKey(), 'key-of-apiKey.embeddings');
});

void test('the prompt folder setting reaches the system prompt a teacher run sends', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'run-environment-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startFakeModelServer({ script: arithmeticAgent(), models: ['teacher'] });
  t.after(() => server.close());
  const marker = `Prompt from the user's folder ${path.basename(dir)}.`;
  mkdirSync(path.join(dir, 'my-prompts'));
  const builtIn = readFileSync(path.join(repoRoot, 'media/prompts/teacher.prompt.txt'), 'utf8');
  writeFileSync(path.join(dir, 'my-prompts', 'teacher.prompt.txt'), builtIn.replace('=== system ===\n', `=== system ===\n${marker}\n`));
  const question = '6 * 7';
  writeFileSync(path.join(dir, 'q.jsonl'), `${JSON.stringify({ id: 'q1', question: `What is ${question}?`, answer: String(evaluateIntegerExpression(question)), domain: 'math' })}\n`);

  // VS Code: a relative prompt folder setting resolves against the workspace folder.
  const environment = runEnvironmentFromSettings(settings({ 'agent.promptsFolder': 'my-prompts', 'endpoints.teacher.baseUrls': [server.baseUrl], 'endpoints.teacher.model': 'teacher' }), { ...places, workspaceFolder: dir }, noSecrets);
  const config = teacherRunConfigSchema.parse({ questionFile: path.join(dir, 'q.jsonl'), outputFile: path.join(dir, 'out.traj.jsonl'), teacher: teacherOfEnvironment(environment), firstThoughtPrefix: false, concurrency: 1 });
  const prepared = await prepareTeacherRun(config, { teacherProfile: environment.endpoint('teacher'), promptFolders: environment.promptFolders, sandbox: environment.sandbox });
  try {
    for await (const _event of runTeacherGeneration(config, prepared.deps, new AbortController().signal)) {
      // the run's events are not what this test looks at
    }
  } finally {
    await prepared.close();
  }
  const systems = server.chatRequests().map((r) => r.messages.find((m) => m.role === 'system')?.content ?? '');
  assert.ok(systems.length > 0, 'the teacher was asked');
  assert.ok(systems.every((s) => typeof s === 'string' && s.startsWith(marker)), 'every request carries the user\'s system prompt');
  // The CLI: --prompts-folder, relative to the working folder.
  assert.deepEqual(cliRunEnvironment({ values: { 'prompts-folder': 'my-prompts' }, positionals: [] }, { cwd: dir, env: {} }).promptFolders, [path.join(dir, 'my-prompts')]);
});

void test('hybrid search in a run sends the embeddings key: from SecretStorage in VS Code, from the environment in the CLI', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'run-environment-index-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const apiKey = `sk-${path.basename(dir)}`;
  const server = await startFakeModelServer({ models: ['e5-test'], apiKey });
  t.after(() => server.close());
  const info = { source: 'openai-endpoint' as const, model: 'e5-test', queryPrefix: 'query: ', passagePrefix: 'passage: ', baseUrl: server.baseUrl };
  const embedder = new OpenAiEmbeddingsClient({ baseUrl: server.baseUrl, model: 'e5-test', apiKey });
  const indexDir = path.join(dir, 'idx');
  await collect(buildIndex({ corpus: fixture('wiki18.jsonl'), indexDir, vectors: { kind: 'embedder', embedder, info } }));
  const setting = { kind: 'lancedb' as const, indexDir, mode: 'hybrid' as const };
  const [{ question, passage_id }] = fixtureQuestions();

  const vscodeEnvironment = runEnvironmentFromSettings(settings(), places, (name) => Promise.resolve(name === 'apiKey.embeddings' ? apiKey : undefined));
  const cliEnvironment = runEnvironmentFromCli({ TRAJECTORY_STUDIO_EMBEDDINGS_API_KEY: apiKey }, { cwd: dir });
  for (const environment of [vscodeEnvironment, cliEnvironment]) {
    const backend = await openRetrieval(setting, environment);
    assert.ok(backend);
    try {
      const passages = await backend.search(question, 3);
      assert.ok(passages.some((p) => p.id === passage_id), `${question} finds passage ${passage_id}`);
    } finally {
      backend.close?.();
    }
  }
  const queries = server.requests.filter((r) => r.path === '/v1/embeddings' && (r.body as { input: string[] }).input[0]?.startsWith('query: '));
  assert.ok(queries.length >= 2 && queries.every((r) => r.headers.authorization === `Bearer ${apiKey}`), 'each query embedding carried the key');

  // Without the key the server refuses, and the search says so rather than finding nothing.
  const keyless = await openRetrieval(setting, runEnvironmentFromCli({}, { cwd: dir }));
  try {
    await assert.rejects(keyless!.search(question, 3), /401|unauthori[sz]ed|api key/i);
  } finally {
    keyless?.close?.();
  }
});
