import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listPromptProfiles, loadPromptProfile, PromptProfileError, promptProfileHash, renderSystemPrompt } from '../../../src/agent/promptProfiles';
import { defaultAgentTools } from '../../../src/agent/tools';

const yamlFixture = path.join(__dirname, '..', 'fidelity', 'fixtures', 'prompt-code-agent.yaml');

async function withFolder(work: (folder: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(path.join(tmpdir(), 'prompt-profiles-'));
  try {
    await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

void test('a <name>.yaml in a prompt folder is listed and loads by name, with #key picking the system template', async () => {
  await withFolder(async (folder) => {
    await copyFile(yamlFixture, path.join(folder, 'mine.yaml'));
    const listed = await listPromptProfiles([folder]);
    assert.deepEqual(listed.find((p) => p.name === 'mine'), { name: 'mine', file: path.join(folder, 'mine.yaml') });
    assert.ok(listed.some((p) => p.name === 'teacher'), 'built-ins stay listed');
    const teacher = await loadPromptProfile('mine', [folder]);
    const student = await loadPromptProfile('mine#system_prompt_short', [folder]);
    assert.equal(teacher.format, 'reference-yaml');
    assert.equal(student.name, 'mine#system_prompt_short');
    const long = renderSystemPrompt(teacher, defaultAgentTools, ['math']);
    const short = renderSystemPrompt(student, defaultAgentTools, ['math']);
    assert.ok(long.startsWith('You work on tasks by writing short Python programs'));
    assert.ok(short.startsWith('Solve the task with Python, step by step'));
    assert.notEqual(promptProfileHash(teacher), promptProfileHash(student));
  });
});

void test('.yml files load too; a .prompt.txt of the same name in the same folder wins', async () => {
  await withFolder(async (folder) => {
    await copyFile(yamlFixture, path.join(folder, 'other.yml'));
    assert.equal((await loadPromptProfile('other', [folder])).format, 'reference-yaml');
    await copyFile(yamlFixture, path.join(folder, 'both.yaml'));
    await writeFile(path.join(folder, 'both.prompt.txt'), '=== system ===\nMine.\n{{tools}}\n=== task suffix ===\n=== fallback system ===\nF\n=== fallback request ===\n{{question}}\n');
    const both = await loadPromptProfile('both', [folder]);
    assert.notEqual(both.format, 'reference-yaml');
    assert.ok(both.system.startsWith('Mine.'));
  });
});

void test('loading errors name the file: a missing file, an unknown key, #key on a .prompt.txt', async () => {
  await withFolder(async (folder) => {
    await assert.rejects(loadPromptProfile(path.join(folder, 'absent.yaml')), (e: unknown) => e instanceof PromptProfileError && e.message.includes('absent.yaml: cannot read the prompt file'));
    await copyFile(yamlFixture, path.join(folder, 'mine.yaml'));
    await assert.rejects(loadPromptProfile('mine#system_prompt_tiny', [folder]), /mine\.yaml:1: no "system_prompt_tiny" key \(text keys in this file: system_prompt, system_prompt_short\)/);
    await assert.rejects(loadPromptProfile('teacher#system_prompt_short'), /picks a template of a prompt YAML/);
  });
});

void test('a studio profile hashes exactly as before prompt YAMLs existed', async () => {
  const teacher = await loadPromptProfile('teacher');
  const h = createHash('sha256');
  for (const part of [teacher.system, teacher.taskSuffix, teacher.fallbackSystem, teacher.fallbackRequest]) h.update(part).update('\0');
  assert.equal(promptProfileHash(teacher), h.digest('hex').slice(0, 16));
});

void test('a template that fails to render names the file and line when the profile loads', async () => {
  await withFolder(async (folder) => {
    const file = path.join(folder, 'strict.yaml');
    // The load renders the template once with the default tools: final_answer has no `query` input.
    await writeFile(file, 'system_prompt: |-\n  {%- for tool in tools.values() %}\n  {{ tool.name }}: {{ tool.inputs.query.type }}\n  {%- endfor %}\n');
    await assert.rejects(loadPromptProfile(file), (e: unknown) => e instanceof PromptProfileError && /strict\.yaml:3: system_prompt: .*'tool\.inputs' has no attribute 'query'/.test(e.message));
  });
});
