import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractCode, extractThought, FINAL_ANSWER_VARIABLE, fixFinalAnswerAssignment, storedModelOutput } from '../../../src/trajectory/replyParsing';
import { voteOnCandidates } from '../../../src/agent/candidateVote';
import { actionMessages, fallbackMessages, mergeAdjacentTurns, taskTurn } from '../../../src/agent/agentMessages';
import { listPromptProfiles, loadPromptProfile, parsePromptProfile, PromptProfileError, renderSystemPrompt } from '../../../src/agent/promptProfiles';
import { defaultAgentTools } from '../../../src/agent/tools';

void describe('code parsing', () => {
  void it('joins every py/python/bare fenced block, stripped, with a blank line', () => {
    const reply = 'Thought: two parts\nCode:\n```py\n  a = 1\n```\nand\n```python\nb = 2  \n```\nthen\n```\nprint(a + b)\n```';
    assert.deepEqual(extractCode(reply), { kind: 'blocks', code: 'a = 1\n\nb = 2\n\nprint(a + b)' });
  });

  void it('falls back to the whole reply when there is no block', () => {
    assert.deepEqual(extractCode('  print(42)\n'), { kind: 'whole-text', code: 'print(42)' });
  });

  void it('renames a final_answer variable when the code also calls final_answer', () => {
    const code = 'final_answer = 6 * 7\nfinal_answer(final_answer)';
    assert.equal(fixFinalAnswerAssignment(code), `${FINAL_ANSWER_VARIABLE} = 6 * 7\nfinal_answer(${FINAL_ANSWER_VARIABLE})`);
    assert.equal(fixFinalAnswerAssignment('final_answer = 3\nprint(final_answer)'), 'final_answer = 3\nprint(final_answer)', 'no call: left alone');
    assert.equal(fixFinalAnswerAssignment('x.final_answer = 3\nfinal_answer(x)'), 'x.final_answer = 3\nfinal_answer(x)', 'attributes are not the tool');
  });

  void it('restores <end_code> after a cut block and reads the thought up to Code:', () => {
    assert.equal(storedModelOutput('Thought: t\nCode:\n```py\nx\n```'), 'Thought: t\nCode:\n```py\nx\n```<end_code>');
    assert.equal(storedModelOutput('just words'), 'just words');
    assert.equal(extractThought('Thought: I add.\nThen print.\nCode:\n```py\nx\n```'), 'I add.\nThen print.');
    assert.equal(extractThought('No label here\n```py\nx\n```'), 'No label here');
  });
});

void describe('candidate vote', () => {
  const c = (voteKey: string, valid = true) => ({ voteKey, valid });
  void it('picks the first member of the largest group of valid candidates', () => {
    const result = voteOnCandidates([c('7'), c('x', false), c('12'), c('12'), c('7', false)]);
    assert.equal(result.winner, 2);
    assert.deepEqual(result.groups, [{ voteKey: '7', members: [0] }, { voteKey: '12', members: [2, 3] }]);
  });
  void it('breaks ties toward the group seen first, and all singletons give the first valid one', () => {
    assert.equal(voteOnCandidates([c('a', false), c('b'), c('c'), c('c'), c('b')]).winner, 1);
    assert.equal(voteOnCandidates([c('a', false), c('b'), c('c')]).winner, 1);
  });
  void it('falls back to candidate 0 when none is valid', () => {
    assert.deepEqual(voteOnCandidates([c('a', false), c('b', false)]), { winner: 0, groups: [], noValidCandidate: true });
  });
});

void describe('prompt profiles and messages', () => {
  const text = '# comment\n=== system ===\nYou are an agent.\n{{tools}}\nImports: {{authorized_imports}}\n=== task suffix ===\nUse code.\n=== fallback system ===\nSum up.\n=== fallback request ===\nAnswer: {{question}}\n';

  void it('renders the tool list from the tools\' own descriptions', () => {
    const profile = parsePromptProfile(text, 'mine');
    const system = renderSystemPrompt(profile, defaultAgentTools, ['math', 'sympy']);
    for (const tool of defaultAgentTools) {
      assert.ok(system.includes(tool.name) && system.includes(tool.description));
    }
    assert.ok(system.includes('Imports: math, sympy'));
  });

  void it('reports a malformed file with its line', async () => {
    assert.throws(() => parsePromptProfile('=== system ===\n{{tools}}\n=== sytem ===\n', 'bad', 'bad.prompt.txt'), (e: unknown) => e instanceof PromptProfileError && /bad\.prompt\.txt:3: unknown section "sytem"/.test(e.message));
    assert.throws(() => parsePromptProfile('=== system ===\nno tools\n=== task suffix ===\n=== fallback system ===\n=== fallback request ===\n{{question}}', 'x', 'x.prompt.txt'), /x\.prompt\.txt:1: .*\{\{tools\}\}/);
    assert.throws(() => parsePromptProfile('=== system ===\n{{tools}}\n', 'x', 'x.prompt.txt'), /missing section\(s\): "=== task suffix ===", "=== fallback system ===", "=== fallback request ==="/);
    const folder = await mkdtemp(join(tmpdir(), 'ts-prompts-'));
    try {
      await writeFile(join(folder, 'teacher.prompt.txt'), text);
      const profiles = await listPromptProfiles([folder]);
      assert.deepEqual(profiles.map((p) => p.name).sort(), ['student', 'teacher']);
      assert.equal((await loadPromptProfile('teacher', [folder])).system, 'You are an agent.\n{{tools}}\nImports: {{authorized_imports}}', 'a user file shadows the built-in');
      await assert.rejects(loadPromptProfile('nope', [folder]), /no prompt profile "nope" \(available: .*student/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  void it('ships a long teacher profile and a short student profile that both parse', async () => {
    const teacher = await loadPromptProfile('teacher');
    const student = await loadPromptProfile('student');
    assert.ok(teacher.system.length > 2 * student.system.length);
    assert.ok(teacher.system.includes('Observation'), 'the teacher variant carries worked examples');
    assert.equal(teacher.taskSuffix, student.taskSuffix, 'students are run with the suffix they were trained on');
  });

  void it('builds the conversation with observation turns as user turns and merges adjacent ones', () => {
    const profile = parsePromptProfile(text, 'mine');
    const steps = [{ modelOutput: 'Thought: a\nCode:\n```py\nx=1\n```<end_code>\n', observationText: 'Call id: call_1\nObservation:\nExecution logs:\nLast output from code snippet:\nNone' }];
    const action = actionMessages('SYS', 'Q?', profile, steps);
    assert.deepEqual(action.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(action[1].content, taskTurn('Q?', profile));
    assert.ok(action[1].content.startsWith('New task:\nQ?') && action[1].content.endsWith('Use code.'));
    assert.equal(action[2].content, steps[0].modelOutput.trim());
    const fallback = fallbackMessages('Q?', profile, steps);
    assert.deepEqual(fallback.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(fallback[3].content, `${steps[0].observationText}Answer: Q?`);
    assert.deepEqual(mergeAdjacentTurns([{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { role: 'assistant', content: 'c' }]), [{ role: 'user', content: 'ab' }, { role: 'assistant', content: 'c' }]);
  });
});
