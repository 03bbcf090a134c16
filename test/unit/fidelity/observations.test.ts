import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChatCompleter, runAgentEpisode } from '../../../src/agent/agentLoop';
import { loadPromptProfile, type PromptProfile } from '../../../src/agent/promptProfiles';
import { runSagStep } from '../../../src/agent/sagStep';
import { greedySampling, sagSampling } from '../../../src/llm/profiles';
import { type ChatResult } from '../../../src/llm/types';
import { formatObservation, RETRY_INSTRUCTION, type SandboxEpisode, startEpisode } from '../../../src/sandbox/index';
import { type Compatibility } from '../../../src/trajectory/compatibility';

/**
 * The Python observations under the `reference` compatibility profile, rule by rule, against what the method's
 * reference implementation (the smolagents fork, src/smolagents/) shows, and the studio's own behaviour beside
 * them. Expected reference values were measured by running the reference's `evaluate_python_code`
 * (local_python_executor.py:1515-1601) on the same code; each case cites the rule's source.
 */

interface LastValueCase {
  name: string;
  /** Run first, in the same state (not checked). */
  setup?: string;
  code: string;
  /** The reference's "Last output from code snippet" (a RegExp where it holds a memory address). */
  reference: string | RegExp;
  /** The studio's (CPython semantics: only a final expression has a value). */
  studio: string;
  /** Where the reference decides it. */
  cites: string;
}

const lastValueCases: LastValueCase[] = [
  { name: 'an assignment gives the assigned value', code: 'a = 2 + 3', reference: '5', studio: 'None', cites: 'local_python_executor.py:737-758 (evaluate_assign returns the value), :1584 (the last node\'s result is the output)' },
  { name: 'an augmented assignment gives the new value', code: 'b = 1\nb += 1', reference: '2', studio: 'None', cites: 'local_python_executor.py:606-675 (evaluate_augassign returns current_value)' },
  { name: 'an augmented assignment to a subscript gives the new element', code: 'd = {"k": 1}\nd["k"] += 4', reference: '5', studio: 'None', cites: 'local_python_executor.py:613-619, :675' },
  { name: 'tuple unpacking gives the whole right-hand value', code: 'p, q = 1, 2', reference: '(1, 2)', studio: 'None', cites: 'local_python_executor.py:744-758' },
  { name: 'a chained assignment gives the value', code: 'r = s = 7', reference: '7', studio: 'None', cites: 'local_python_executor.py:744-758' },
  { name: 'an assignment of None shows None', code: 'y = None', reference: 'None', studio: 'None', cites: 'local_python_executor.py:758' },
  { name: 'a for loop gives the last value its body produced', code: 'for i in range(2):\n    c = i * 10', reference: '10', studio: 'None', cites: 'local_python_executor.py:978-1008 (last non-None body value)' },
  { name: 'a for loop keeps a value from an earlier iteration when later ones produce none', code: 'for i in range(3):\n    if i == 1:\n        w = i\n    print(i)', reference: '1', studio: 'None', cites: 'local_python_executor.py:998-1000, :968-975' },
  { name: 'a for loop whose body only calls methods returning None shows None', code: 'xs = []\nfor i in range(2):\n    xs.append(i)', reference: 'None', studio: 'None', cites: 'local_python_executor.py:999' },
  { name: "a for loop's else branch does not count (the reference never runs it)", code: 'for i in range(2):\n    e1 = i\nelse:\n    e2 = 99', reference: '1', studio: 'None', cites: 'local_python_executor.py:987-1007 (for_loop.orelse is never evaluated)' },
  { name: 'an if gives the last non-None value of the branch that ran', code: 'if True:\n    x = 5\n    print(x)', reference: '5', studio: 'None', cites: 'local_python_executor.py:956-975' },
  { name: 'an elif branch counts like any other', code: 'if 1 > 2:\n    v = 1\nelif 2 > 1:\n    v = 2\n    v += 10\nelse:\n    v = 3', reference: '12', studio: 'None', cites: 'local_python_executor.py:970-974' },
  { name: 'an if whose branch does not run shows None', code: 'if False:\n    never = 1', reference: 'None', studio: 'None', cites: 'local_python_executor.py:962' },
  { name: 'an import shows None', code: 'import math', reference: 'None', studio: 'None', cites: 'local_python_executor.py:1244-1277' },
  { name: 'a while loop shows None', code: 'n = 0\nwhile n < 3:\n    n += 1', reference: 'None', studio: 'None', cites: 'local_python_executor.py:466-485' },
  {
    name: 'a with block shows None',
    setup: 'class Box:\n    def __enter__(self):\n        return 1\n    def __exit__(self, *exc):\n        return False',
    code: 'with Box() as held:\n    inside = 3',
    reference: 'None',
    studio: 'None',
    cites: 'local_python_executor.py:1167-1193 (evaluate_with returns nothing)',
  },
  { name: 'a try block shows None', code: 'try:\n    z = 4\nexcept Exception:\n    pass', reference: 'None', studio: 'None', cites: 'local_python_executor.py:1090-1122 (evaluate_try returns nothing)' },
  { name: 'a def shows the function object the reference builds', code: 'def area(r):\n    return r * r', reference: /^<function create_function\.<locals>\.new_func at 0x[0-9a-f]+>$/, studio: 'None', cites: 'local_python_executor.py:488-563 (the function is create_function\'s inner new_func)' },
  { name: 'a lambda shows the reference\'s lambda wrapper', code: 'g = lambda t: t', reference: /^<function evaluate_lambda\.<locals>\.lambda_func at 0x[0-9a-f]+>$/, studio: 'None', cites: 'local_python_executor.py:442-463' },
  { name: 'a def inside an if counts as the branch value', code: 'if True:\n    def k():\n        return 1', reference: /^<function create_function\.<locals>\.new_func at 0x[0-9a-f]+>$/, studio: 'None', cites: 'local_python_executor.py:555-563, :966-969' },
  { name: 'a class shows the class as the reference creates it', code: 'class Point:\n    def norm(self):\n        return 0', reference: "<class 'smolagents.local_python_executor.Point'>", studio: 'None', cites: 'local_python_executor.py:566-603 (type() called inside the interpreter module)' },
  { name: 'a final expression shows its value under both profiles', code: 'pair = (1, 2)\npair', reference: '(1, 2)', studio: '(1, 2)', cites: 'local_python_executor.py:1401-1403 (ast.Expr)' },
  { name: 'print as the last statement shows None under both profiles', code: 'print("hi")', reference: 'None', studio: 'None', cites: 'local_python_executor.py:862-864' },
];

/** A stand-in model that answers every request with `reply` (n copies). */
function fixedModel(reply: string): ChatCompleter {
  return {
    profile: { name: 'fixed', model: 'fixed', sampling: greedySampling },
    complete: (request) => Promise.resolve(chatResult(Array.from({ length: request.n ?? 1 }, () => reply))),
  };
}

function chatResult(texts: readonly string[]): ChatResult {
  return {
    choices: texts.map((text) => ({ text, finishReason: 'stop' as const })),
    usage: { promptTokens: 1, completionTokens: 1 },
    model: 'fixed',
    sampling: sagSampling,
    latencyMs: 0,
    attempts: 1,
    fromCache: false,
  };
}

function codeReply(code: string): string {
  return `Thought: run it.\nCode:\n\`\`\`py\n${code}\n\`\`\`<end_code>`;
}

void describe('observations: the last value (METHOD §2, "Last output from code snippet")', () => {
  const episodes = new Map<Compatibility, SandboxEpisode>();
  before(async () => {
    for (const compatibility of ['reference', 'studio'] as const) episodes.set(compatibility, await startEpisode({ compatibility, stepCpuSeconds: 10 }));
  });
  after(async () => {
    await Promise.all([...episodes.values()].map((e) => e.close()));
  });

  for (const c of lastValueCases) {
    void it(`${c.name} (${c.cites})`, async () => {
      for (const compatibility of ['reference', 'studio'] as const) {
        const episode = episodes.get(compatibility);
        assert.ok(episode);
        if (c.setup) assert.equal((await episode.exec(c.setup)).error, undefined);
        const out = await episode.exec(c.code);
        assert.equal(out.error, undefined, `${compatibility}: ${JSON.stringify(out.error)}`);
        const expected = compatibility === 'reference' ? c.reference : c.studio;
        if (typeof expected === 'string') assert.equal(out.lastValue, expected, compatibility);
        else assert.match(out.lastValue, expected, compatibility);
        if (compatibility === 'reference') {
          assert.equal(formatObservation(out, 2, { compatibility }), `Call id: call_2\nObservation:\nExecution logs:\n${out.printOutput}Last output from code snippet:\n${out.lastValue}`);
        }
      }
    });
  }

  void it('runs the recorded statement once: its side effects and its state are those of plain Python', async () => {
    const episode = episodes.get('reference');
    assert.ok(episode);
    const out = await episode.exec('calls = []\nfor i in range(3):\n    calls.append(i)\n    last = len(calls)');
    assert.equal(out.lastValue, '3');
    assert.equal((await episode.exec('calls')).lastValue, '[0, 1, 2]');
    // The recorder is not one of the model's variables.
    assert.equal((await episode.exec('sorted(k for k in globals() if "record" in k)')).lastValue, '[]');
  });

  void it('reports an error in the last statement as any other error, with its statement', async () => {
    const episode = episodes.get('reference');
    assert.ok(episode);
    const out = await episode.exec('ok = 1\nfor i in range(2):\n    boom = 1 / (1 - i)');
    assert.equal(out.error?.type, 'ZeroDivisionError');
    assert.equal(out.error?.statement, 'for i in range(2):\n    boom = 1 / (1 - i)');
    assert.equal((await episode.exec('boom')).lastValue, '1.0', 'the first iteration ran');
  });

  void it('a final_answer call inside the last statement still ends the step with its answer', async () => {
    const episode = episodes.get('reference');
    assert.ok(episode);
    const out = await episode.exec('for i in range(5):\n    if i == 2:\n        final_answer(i * 7)');
    assert.equal(out.finalAnswer, '14');
  });
});

void describe('observations: syntax errors and missing code (METHOD §2)', () => {
  const episodes = new Map<Compatibility, SandboxEpisode>();
  let prompt: PromptProfile;
  before(async () => {
    prompt = await loadPromptProfile('student', []);
    for (const compatibility of ['reference', 'studio'] as const) episodes.set(compatibility, await startEpisode({ compatibility, stepCpuSeconds: 10 }));
  });
  after(async () => {
    await Promise.all([...episodes.values()].map((e) => e.close()));
  });

  // The reference: local_python_executor.py:1546-1553 builds the text (Python's line, then `offset` spaces and
  // a caret: one column right of Python's own caret); agents.py:1542-1548 records the call id before running
  // the code, so memory.py:117-127 puts `Call id:` before the error.
  const syntaxCases = [
    {
      code: 'if True\n    pass',
      reference: "Code parsing failed on line 1 due to: SyntaxError\nif True\n        ^\nError: expected ':' (<unknown>, line 1)",
      studio: "Code parsing failed on line 1 due to: SyntaxError\nif True\n       ^\nError: expected ':' (<unknown>, line 1)",
    },
    {
      // Python's text has no newline here, so the reference's caret lands on the same line.
      code: 'y = 1\ns = "abc',
      reference: 'Code parsing failed on line 2 due to: SyntaxError\ns = "abc     ^\nError: unterminated string literal (detected at line 2) (<unknown>, line 2)',
      studio: 'Code parsing failed on line 2 due to: SyntaxError\ns = "abc\n    ^\nError: unterminated string literal (detected at line 2) (<unknown>, line 2)',
    },
    {
      code: 'for i in range(3):\nprint(i)',
      reference: "Code parsing failed on line 2 due to: IndentationError\nprint(i)\n ^\nError: expected an indented block after 'for' statement on line 1 (<unknown>, line 2)",
      studio: "Code parsing failed on line 2 due to: IndentationError\nprint(i)\n^\nError: expected an indented block after 'for' statement on line 1 (<unknown>, line 2)",
    },
  ];
  for (const [index, c] of syntaxCases.entries()) {
    void it(`syntax error ${index + 1}: Call id, the line, a caret line and the message (local_python_executor.py:1546-1553, memory.py:117-127)`, async () => {
      for (const compatibility of ['reference', 'studio'] as const) {
        const episode = episodes.get(compatibility);
        assert.ok(episode);
        const out = await episode.exec(c.code);
        assert.equal(out.error?.kind, 'parse');
        const expected = compatibility === 'reference' ? c.reference : c.studio;
        assert.equal(formatObservation(out, 4, { compatibility }), `Call id: call_4\nError:\n${expected}\n${RETRY_INSTRUCTION}\n`, compatibility);
      }
    });
  }

  void it('a syntax error in an agent step is shown with its Call id; a reply without code has none (agents.py:1536-1548)', async () => {
    for (const compatibility of ['reference', 'studio'] as const) {
      const episode = episodes.get(compatibility);
      assert.ok(episode);
      const broken = await runAgentEpisode({
        task: { id: 't1', question: 'Add two and two.', domain: 'math' },
        endpoint: fixedModel(codeReply('total = (2 +')),
        episode,
        prompt,
        originKind: 'student',
        maxSteps: 1,
        compatibility,
      });
      const text = broken.steps[0]?.observation?.text ?? '';
      assert.ok(text.startsWith('Call id: call_1\nError:\nCode parsing failed on line 1 due to: SyntaxError\ntotal = (2 +'), `${compatibility}: ${text}`);
      assert.equal(broken.origin.compatibility, compatibility, 'the profile is recorded with the trajectory');

      const prose = await runAgentEpisode({
        task: { id: 't2', question: 'Add two and two.', domain: 'math' },
        endpoint: fixedModel('Thought: the answer is four, so I will say so now.'),
        episode,
        prompt,
        originKind: 'student',
        maxSteps: 1,
        compatibility,
      });
      const missing = prose.steps[0]?.observation?.text ?? '';
      assert.ok(missing.startsWith('Error:\n'), `${compatibility}: ${missing}`);
      assert.ok(!missing.includes('Call id'), compatibility);
    }
  });

  void it('refuses to run an agent whose profile differs from its Python episode', async () => {
    const episode = episodes.get('studio');
    assert.ok(episode);
    await assert.rejects(
      runAgentEpisode({ task: { id: 't3', question: 'q', domain: 'math' }, endpoint: fixedModel(codeReply('1')), episode, prompt, originKind: 'student', maxSteps: 1, compatibility: 'reference' }),
      /reference compatibility profile but its Python episode was started under studio/,
    );
  });
});

void describe('observations: print output', () => {
  void it('the reference joins print arguments by one space and ends every call with a newline, whatever sep, end or file say (local_python_executor.py:862-864)', async () => {
    const code = 'print("a", "b", sep="-", end="")\nprint("c")\nprint()\nprint(1, [2], None)';
    const expected = { reference: 'a b\nc\n\n1 [2] None\n', studio: 'a-bc\n\n1 [2] None\n' };
    for (const compatibility of ['reference', 'studio'] as const) {
      const episode = await startEpisode({ compatibility, stepCpuSeconds: 10 });
      try {
        assert.equal((await episode.exec(code)).printOutput, expected[compatibility], compatibility);
      } finally {
        await episode.close();
      }
    }
  });
});

void describe('observations: stderr (warnings) and the SAG vote', () => {
  const divideByZero = 'import numpy as np\nv = np.array([1.0]) / 0\nprint(v)';

  void it('the reference shows print output only; the studio shows the warning too (local_python_executor.py:862-864, agents.py:1558-1561)', async () => {
    for (const compatibility of ['reference', 'studio'] as const) {
      const episode = await startEpisode({ compatibility, stepCpuSeconds: 10 });
      try {
        const out = await episode.exec(divideByZero);
        assert.equal(out.error, undefined);
        assert.match(out.stderrOutput ?? '', /RuntimeWarning: divide by zero/, `${compatibility}: the warning is kept apart`);
        if (compatibility === 'reference') {
          assert.equal(out.printOutput, '[inf]\n');
        } else {
          assert.match(out.printOutput, /RuntimeWarning: divide by zero[\s\S]*\[inf\]\n$/);
          assert.equal(out.stdoutOutput, '[inf]\n');
        }
      } finally {
        await episode.close();
      }
    }
  });

  void it('a warning never splits a SAG vote, under either profile (agents.py:1435-1453 votes on print output)', async () => {
    const candidates = [
      'print("other")',
      // Same stdout as the next two, plus a RuntimeWarning on stderr.
      'import numpy as np\nw = np.array([1.0]) / 0\nprint(7)',
      'print(7)',
      'print(3 + 4)',
    ];
    for (const compatibility of ['reference', 'studio'] as const) {
      const episode = await startEpisode({ compatibility, stepCpuSeconds: 10 });
      try {
        const result = await runSagStep({
          settings: { candidates: candidates.length, isolation: 'isolated' },
          episode,
          sample: () => Promise.resolve(chatResult(candidates.map(codeReply))),
          sampling: sagSampling,
          adjust: (_extracted, outcome) => outcome,
          onReply: () => undefined,
        });
        assert.deepEqual(result.vote.groups.map((g) => g.members), [[0], [1, 2, 3]], compatibility);
        assert.equal(result.vote.winner, 1, `${compatibility}: the first member of the largest group`);
        assert.equal(result.candidates[1]?.voteKey, '7\n');
        const shown = result.outcome.printOutput;
        if (compatibility === 'studio') assert.match(shown, /RuntimeWarning/, 'the studio still shows the warning to the model');
        else assert.equal(shown, '7\n');
      } finally {
        await episode.close();
      }
    }
  });
});
