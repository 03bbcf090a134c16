import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fallbackMessages, taskTurn } from '../../../src/agent/agentMessages';
import { pythonStringRepr } from '../../../src/agent/referencePromptJinja';
import { loadPromptProfile, parseReferencePromptProfile, PromptProfileError, promptProfileHash, renderSystemPrompt } from '../../../src/agent/promptProfiles';
import { defaultAgentTools, type ToolDescription } from '../../../src/agent/tools';
import { DEFAULT_ALLOWED_IMPORTS } from '../../../src/sandbox/prepare';

/**
 * Prompt files in the reference's format (a smolagents-style prompt YAML). The fixture
 * fixtures/prompt-code-agent.yaml is our own text with the reference's constructs; the expected renderings
 * in fixtures/prompt-code-agent.expected.json were produced by jinja2 itself, the way the reference renders
 * (fixtures/prompt-code-agent.expected.py). Reference facts checked here, by file and line in the
 * reference repository (Nardien/agent-distillation):
 * - src/smolagents/agents.py:84-89: populate_template = jinja2 Template(..., undefined=StrictUndefined).render;
 * - src/smolagents/agents.py:1416-1430: system_prompt (or system_prompt_short for fine-tuned students) rendered
 *   with tools, managed_agents and authorized_imports = str(sorted list);
 * - src/smolagents/agents.py:253,262: tools is a dict name → tool, the given tools first, final_answer last;
 * - src/smolagents/prompts/code_agent.yaml:146-150: one entry per tool, `- {{ tool.name }}: {{ tool.description }}`,
 *   `Takes inputs: {{tool.inputs}}`, `Returns an output of type: {{tool.output_type}}`;
 * - src/smolagents/default_tools.py:80-84 and 395-404: final_answer takes `answer` of type 'any' and returns
 *   'any'; web_search takes `query` of type 'string' and returns 'string';
 * - src/smolagents/agents.py:571 and 590-591: final_answer.pre_messages is sent as written, post_messages is
 *   rendered with `task`.
 */

const fixtures = path.join(__dirname, 'fixtures');
const yamlFile = path.join(fixtures, 'prompt-code-agent.yaml');

interface Expected {
  system_prompt: string;
  system_prompt_short: string;
  post_messages: string;
  pre_messages: string;
}

async function expected(): Promise<Expected> {
  return JSON.parse(await readFile(path.join(fixtures, 'prompt-code-agent.expected.json'), 'utf8')) as Expected;
}

const studioTexts = { source: 'studio.prompt.txt', taskSuffix: 'Studio suffix.', fallbackSystem: 'Studio fallback.', fallbackRequest: 'Studio request: {{question}}' };

void test('a prompt YAML in the reference format renders exactly as jinja2 renders it for the reference', async () => {
  const want = await expected();
  const teacher = await loadPromptProfile(yamlFile);
  assert.equal(teacher.format, 'reference-yaml');
  assert.equal(renderSystemPrompt(teacher, defaultAgentTools, DEFAULT_ALLOWED_IMPORTS), want.system_prompt);
  const student = await loadPromptProfile(`${yamlFile}#system_prompt_short`);
  assert.equal(student.name, 'prompt-code-agent#system_prompt_short');
  assert.equal(renderSystemPrompt(student, defaultAgentTools, DEFAULT_ALLOWED_IMPORTS), want.system_prompt_short);
});

void test('the tool list has the reference tool description format: name, description, inputs as a Python dict, output type', async () => {
  const system = renderSystemPrompt(await loadPromptProfile(yamlFile), defaultAgentTools, ['sympy', 'math', 'math']);
  const lines = system.split('\n');
  const at = lines.findIndex((l) => l.startsWith('- web_search: '));
  assert.ok(at > 0, system);
  assert.deepEqual(lines.slice(at, at + 6), [
    '- web_search: Searches a Wikipedia-style passage index and returns the three most relevant passages, each with its title and a similarity score.',
    "    Takes inputs: {'query': {'type': 'string', 'description': 'what to look for, in a few words'}}",
    '    Returns an output of type: string',
    '- final_answer: Gives the final answer to the task and ends it.',
    "    Takes inputs: {'answer': {'type': 'any', 'description': 'the answer; for math, an exact value'}}",
    '    Returns an output of type: any',
  ]);
  assert.ok(system.includes("Modules your code may import: ['math', 'sympy']"), 'imports as str() of the sorted, de-duplicated list');
  assert.ok(!system.includes('Helpers you may hand work to'), 'no managed agents, so their block is left out');
});

void test('descriptions with quotes are printed the way Python prints a dict', () => {
  const quoted: ToolDescription = { name: 'lookup', description: 'Finds a term.', parameters: [{ name: 'term', type: 'str', description: "the term's name, e.g. \"pi\"" }, { name: 'limit', type: 'int', description: "at most this many (don't exceed 5)" }], returns: 'str' };
  const profile = parseReferencePromptProfile('system_prompt: |-\n  {%- for tool in tools.values() %}{{ tool.inputs }}{% endfor %}\n', 'q', 'q.yaml', studioTexts);
  assert.equal(
    renderSystemPrompt(profile, [quoted], []),
    `{'term': {'type': 'string', 'description': 'the term\\'s name, e.g. "pi"'}, 'limit': {'type': 'integer', 'description': "at most this many (don't exceed 5)"}}`,
  );
});

void test('strings inside printed dicts are escaped as Python repr() escapes them', () => {
  // Expected values printed by Python 3: repr() of each string.
  assert.equal(pythonStringRepr('tab\there\nand a \\ backslash'), "'tab\\there\\nand a \\\\ backslash'");
  assert.equal(pythonStringRepr('café 日本 \u{1F600}'), "'café 日本 \u{1F600}'");
  assert.equal(pythonStringRepr('zero\u200bwidth\u00a0nbsp\x7f'), "'zero\\u200bwidth\\xa0nbsp\\x7f'");
  assert.equal(pythonStringRepr(`both ' and "`), `'both \\' and "'`);
});

void test('the fallback texts come from final_answer; the task suffix from the studio, and the profile says so', async () => {
  const want = await expected();
  const profile = await loadPromptProfile(yamlFile);
  assert.equal(profile.fallbackSystem, want.pre_messages);
  const messages = fallbackMessages('Who wrote Dracula?', profile, []);
  assert.equal(messages[0].content, want.pre_messages);
  assert.ok(messages.at(-1)?.content.endsWith('Using those notes, answer this task:\nWho wrote Dracula?'));
  const builtin = await loadPromptProfile('teacher');
  assert.equal(profile.taskSuffix, builtin.taskSuffix);
  assert.equal(taskTurn('Q?', profile), `New task:\nQ?\n\n${builtin.taskSuffix}`);
  assert.ok(profile.format === 'reference-yaml');
  assert.match(profile.sourceNote, /task suffix/);
  assert.match(profile.sourceNote, /teacher\.prompt\.txt/);
  assert.match(profile.sourceNote, /Not used by the studio: planning, managed_agent, system_prompt_short/);
});

void test('a YAML that carries task_suffix and no final_answer: suffix from the file, fallbacks from the studio', () => {
  const profile = parseReferencePromptProfile('system_prompt: Tools {{ tools | length }}\ntask_suffix: Think, then code.\n', 'mine', 'mine.yaml', studioTexts);
  assert.equal(profile.taskSuffix, 'Think, then code.');
  assert.equal(profile.fallbackRequest, studioTexts.fallbackRequest);
  assert.match(profile.sourceNote, /fallback system text.*fallback request/);
  assert.doesNotMatch(profile.sourceNote, /task suffix/);
  assert.equal(renderSystemPrompt(profile, defaultAgentTools, []), 'Tools 2');
});

void test('an undefined variable or attribute in a template is an error naming the file and line', () => {
  const undefinedName = 'system_prompt: |-\n  Tools:\n  {{ tools | length }}\n  Team: {{ team }}\n';
  assert.throws(
    () => parseReferencePromptProfile(undefinedName, 'u', 'u.yaml', studioTexts),
    (e: unknown) => e instanceof PromptProfileError && /^u\.yaml:4: system_prompt: .*'team' is undefined/.test(e.message),
  );
  const typo = 'final_answer:\n  pre_messages: x\n  post_messages: z\nsystem_prompt: |-\n  {%- for tool in tools.values() %}\n  - {{ tool.name }}: {{ tool.descripton }}\n  {%- endfor %}\n';
  assert.throws(
    () => parseReferencePromptProfile(typo, 't', 't.yaml', studioTexts),
    (e: unknown) => e instanceof PromptProfileError && /^t\.yaml:6: .*has no attribute 'descripton'/.test(e.message),
  );
  const badRequest = 'system_prompt: ok\nfinal_answer:\n  pre_messages: x\n  post_messages: |-\n    Answer:\n    {{ question }}\n';
  assert.throws(
    () => parseReferencePromptProfile(badRequest, 'r', 'r.yaml', studioTexts),
    (e: unknown) => e instanceof PromptProfileError && /^r\.yaml:6: final_answer\.post_messages: .*'question' is undefined/.test(e.message),
    'post_messages gets `task`, as in the reference',
  );
  // `is defined` and `default` still look at undefined names without failing, as with jinja2's StrictUndefined.
  const guarded = parseReferencePromptProfile("system_prompt: '{{ team is defined }} {{ team | default(\"none\") }}'\n", 'g', 'g.yaml', studioTexts);
  assert.equal(renderSystemPrompt(guarded, defaultAgentTools, []), 'False none');
});

void test('a broken template names its line in the file', () => {
  const unclosed = 'system_prompt: |-\n  Intro.\n  {%- for tool in tools.values() %}\n  - {{ tool.name }}\n';
  assert.throws(
    () => parseReferencePromptProfile(unclosed, 'b', 'b.yaml', studioTexts),
    (e: unknown) => e instanceof PromptProfileError && /^b\.yaml:3: system_prompt: .*\{% for %\} is never closed/.test(e.message),
  );
  const badExpression = '# comment\nsystem_prompt: |-\n  one\n  two\n  {{ tool.name + }}\n';
  assert.throws(() => parseReferencePromptProfile(badExpression, 'b', 'b.yaml', studioTexts), /b\.yaml:5: system_prompt: template syntax error/);
  const mismatched = 'system_prompt: |-\n  {% if tools %}\n  x\n  {% endfor %}\n';
  assert.throws(() => parseReferencePromptProfile(mismatched, 'b', 'b.yaml', studioTexts), /b\.yaml:4: .*endfor.*endif.*line 1/);
});

void test('YAML that does not parse, or lacks the system template, is an error naming the file and line', () => {
  assert.throws(() => parseReferencePromptProfile('system_prompt: |-\n  ok\nplanning: a: b\nmanaged_agent: {}\n', 'y', 'y.yaml', studioTexts), /y\.yaml:3: YAML does not parse/);
  assert.throws(() => parseReferencePromptProfile('system_prompt_short: hi\n', 'y', 'y.yaml', studioTexts), /y\.yaml:1: no "system_prompt" key \(text keys in this file: system_prompt_short\)/);
  assert.throws(() => parseReferencePromptProfile('a: 1\nfinal_answer:\n  pre_messages: [1, 2]\nsystem_prompt: x\n', 'y', 'y.yaml', studioTexts), /y\.yaml:3: final_answer\.pre_messages: .*expected text/);
  assert.throws(() => parseReferencePromptProfile('- a\n- b\n', 'y', 'y.yaml', studioTexts), /y\.yaml:1: expected a YAML mapping/);
});

void test('the profile hash covers the whole YAML file, also the parts the studio does not use', async () => {
  const text = await readFile(yamlFile, 'utf8');
  const base = promptProfileHash(parseReferencePromptProfile(text, 'p', 'p.yaml', studioTexts));
  const planningEdited = text.replace('Revise the plan with what you learned.', 'Revise the plan.');
  assert.notEqual(promptProfileHash(parseReferencePromptProfile(planningEdited, 'p', 'p.yaml', studioTexts)), base);
  assert.notEqual(promptProfileHash(parseReferencePromptProfile(text, 'p', 'p.yaml', studioTexts, 'system_prompt_short')), base);
  assert.equal(promptProfileHash(parseReferencePromptProfile(text, 'p', 'p.yaml', studioTexts)), base);
});
