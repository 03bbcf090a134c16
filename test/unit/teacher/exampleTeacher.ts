/**
 * The scripted teacher that produces the example workspace's `examples/trajectories/teacher.traj.jsonl`
 * through the real teacher pipeline (first-thought prefix, agent loop, sandbox, LanceDB full-text index over
 * the example corpus, scoring, filter). It is a test double, not a model: every turn is written out here,
 * and the generated records say so in `origin.meta.scriptedTeacher`. Math questions are solved by real
 * Python (sympy) run in the sandbox; factual questions follow the hops listed in
 * test/fixtures/examples/question-support.json with `web_search`. A few episodes carry the mistakes a
 * teacher makes (a syntax slip, an undefined name, a reply without code, a look-alike confusion), so the example file shows
 * every filter verdict.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type AgentPlan, type AgentTurn, cotResponder, firstAnswering, type ReplyScript, scriptedAgent } from '../../support/fakeModelServer';

export const exampleTeacherLabel =
  'scripted teacher of the Trajectory Studio test suite (test/unit/teacher/exampleTeacher.ts): every turn is written by hand, no model produced this data';

export const repoRoot = path.join(__dirname, '../../..');
export const exampleQuestionsFile = path.join(repoRoot, 'examples/questions/mixed.questions.jsonl');
export const exampleCorpusFile = path.join(repoRoot, 'examples/corpus/passages.jsonl');
export const exampleTrajectoriesFile = path.join(repoRoot, 'examples/trajectories/teacher.traj.jsonl');

interface ExampleQuestion {
  id: string;
  question: string;
  answer: string;
  domain: 'math' | 'factual';
}

interface SupportEntry {
  id: string;
  kind: string;
  answer: string;
  answerEvidence: string[];
  hops: { query: string }[];
}

interface MathScript {
  plan: string;
  work: string;
  steps: AgentTurn[];
}

/** Real code for each math question; the printed values are what the sandbox really prints. */
const mathScripts: Record<string, MathScript> = {
  'math-01': {
    plan: 'The sum of the roots of a monic quadratic is the negative of its linear coefficient, so I can check it by solving the equation.',
    work: 'The roots are 2 and 5, whose sum is 7.',
    steps: [
      { thought: 'I solve the quadratic with sympy and add the roots.', code: "import sympy as sp\nx = sp.symbols('x')\nroots = sp.solve(x**2 - 7*x + 10, x)\nprint(roots, sum(roots))" },
      { thought: 'The roots are 2 and 5 and their sum is 7.', code: 'final_answer("7")' },
    ],
  },
  'math-02': {
    plan: 'Both radicals contain a square factor times 2: 72 = 36·2 and 50 = 25·2.',
    work: 'So the sum is 6√2 + 5√2 = 11√2.',
    steps: [
      { thought: 'I let sympy simplify the sum of the two square roots.', code: 'import sympy as sp\nprint(sp.sqrt(72) + sp.sqrt(50))' },
      { thought: 'sympy gives 11*sqrt(2).', code: 'final_answer("11\\\\sqrt{2}")' },
    ],
  },
  'math-03': {
    plan: 'Choosing 4 of 9 distinct books without regard to order is a binomial coefficient, C(9, 4).',
    work: 'C(9, 4) = 9·8·7·6 / 24 = 126.',
    steps: [
      { thought: 'I compute the binomial coefficient C(9, 4).', code: 'import math\nprint(math.comb(9, 4))' },
      { thought: 'There are 126 ways.', code: 'final_answer("126")' },
    ],
  },
  'math-04': {
    plan: 'The product is a multiple of 3 exactly when at least one die shows 3 or 6; counting the 36 equally likely outcomes settles it.',
    work: 'Outcomes with no 3 or 6: 4·4 = 16, so 20 of 36 qualify, which is 5/9.',
    steps: [
      { thought: 'I count the outcomes whose product is divisible by 3 and reduce the fraction.', code: 'import sympy as sp\ncount = sum(1 for a in range(1, 7) for b in range(1, 7) if (a * b) % 3 == 0)\nprint(count, sp.Rational(count, 36))' },
      { thought: '20 of the 36 outcomes qualify, so the probability is 5/9.', code: 'final_answer("\\\\frac{5}{9}")' },
    ],
  },
  'math-05': {
    plan: 'The hypotenuse is 13, and twice the area equals both leg·leg and hypotenuse·altitude.',
    work: 'So the altitude is 5·12/13 = 60/13.',
    steps: [
      { thought: 'I compute the hypotenuse and the altitude from the area.', code: 'import sympy as sp\nhyp = sp.sqrt(5**2 + 12**2)\nprint(hyp, sp.Rational(5 * 12) / hyp)' },
      { thought: 'The altitude to the hypotenuse is 60/13.', code: 'final_answer("\\\\frac{60}{13}")' },
    ],
  },
  'math-06': {
    plan: 'Modular exponentiation gives the last two digits of 7^2026 directly.',
    work: 'Powers of 7 modulo 100 cycle with period 4 (7, 49, 43, 1), and 2026 leaves remainder 2, so the answer is 49.',
    steps: [
      { thought: 'I compute the power modulo 100.', code: 'print(pow(seven, 2026, 100))' },
      { thought: 'I used a name I had not defined; I write the base directly.', code: 'print(pow(7, 2026, 100))' },
      { thought: 'The remainder is 49.', code: 'final_answer("49")' },
    ],
  },
  'math-07': {
    plan: 'I evaluate the inner functions first: g(2) and f(2), then the outer ones.',
    work: 'g(2) = 5 so f(g(2)) = 10; f(2) = 1 so g(f(2)) = 2; the difference is 8.',
    steps: [
      { thought: 'I define both functions and evaluate the expression.', code: 'def f(x):\n    return 3 * x - 5\n\ndef g(x):\n    return x**2 + 1\n\nprint(f(g(2)) - g(f(2)))' },
      { thought: 'The value is 8.', code: 'final_answer("8")' },
    ],
  },
  'math-08': {
    plan: 'By Vieta, the sum of the squares of the roots is (sum of roots)² − 2·(sum of pairwise products).',
    work: 'That is 6² − 2·11 = 14.',
    steps: [
      { thought: 'I find the roots with sympy and add their squares.', code: "import sympy as sp\nx = sp.symbols('x')\nroots = sp.solve(x**3 - 6*x**2 + 11*x - 6, x)\nprint(roots, sum(r**2 for r in roots))" },
      { thought: 'The roots are 1, 2 and 3, and the sum of their squares is 14.', code: 'final_answer("14")' },
    ],
  },
  'math-09': {
    plan: 'π/12 is 45° − 30°, so the angle-difference formula for cosine gives an exact value.',
    work: 'cos 45° cos 30° + sin 45° sin 30° = (√6 + √2)/4.',
    steps: [
      { thought: 'I let sympy evaluate the cosine exactly.', code: 'import sympy as sp\nprint(sp.nsimplify(sp.cos(sp.pi / 12)), sp.cos(sp.pi / 12).rewrite(sp.sqrt))' },
      { thought: 'sympy confirms (√6 + √2)/4.', code: 'final_answer("\\\\frac{\\\\sqrt{6}+\\\\sqrt{2}}{4}")' },
    ],
  },
  'math-10': {
    plan: 'The inscribed circle has radius 5, so the region is the square minus the disc.',
    work: '100 − 25π.',
    steps: [
      { thought: 'I subtract the area of the disc of radius 5 from the square of side 10.', code: 'import sympy as sp\nprint(10**2 - sp.pi * 5**2)' },
      { thought: 'The area is 100 − 25π.', code: 'final_answer("100-25\\\\pi")' },
    ],
  },
  'math-11': {
    plan: 'A divisor of 7200 = 2^5·3^2·5^2 is a perfect square when every exponent is even: 3·2·2 choices.',
    work: 'So there are 12 such divisors.',
    steps: [
      { thought: 'I list the divisors and keep the perfect squares.', code: 'import sympy as sp\nsquares = [d for d in sp.divisors(7200) if sp.sqrt(d).is_integer\nprint(len(squares))' },
      { thought: 'A bracket was missing; I close it.', code: 'import sympy as sp\nsquares = [d for d in sp.divisors(7200) if sp.sqrt(d).is_integer]\nprint(len(squares), squares)' },
      { thought: 'There are 12 square divisors.', code: 'final_answer("12")' },
    ],
  },
  'math-12': {
    plan: 'From the second equation x = y + 1; substituting into the first gives 5y + 2 = 12.',
    work: 'So y = 2 and x = 3.',
    steps: [
      // A reply without a code block (the model answered in prose): the filter drops it as a parse error.
      { thought: '', raw: 'Thought: From x - y = 1 I get x = y + 1, and 2(y + 1) + 3y = 12 gives y = 2, so x = 3.' },
      { thought: 'I solve the linear system with sympy.', code: "import sympy as sp\nx, y = sp.symbols('x y')\nprint(sp.solve([2*x + 3*y - 12, x - y - 1], [x, y]))" },
      { thought: 'The solution is x = 3, y = 2.', code: 'final_answer("(3, 2)")' },
    ],
  },
};

/** Where the scripted teacher goes wrong on purpose (a look-alike confusion), for the filter to catch. */
const wrongFactualAnswers: Record<string, { answer: string; thought: string }> = {
  'fact-09': { answer: 'Tomas Quell the painter', thought: 'The painter\'s passage came first, so I take him to be the earlier one.' },
};

function readExampleQuestions(): ExampleQuestion[] {
  return readFileSync(exampleQuestionsFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ExampleQuestion);
}

function readSupport(): Map<string, SupportEntry> {
  const file = path.join(repoRoot, 'test/fixtures/examples/question-support.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { questions: SupportEntry[] };
  return new Map(data.questions.map((q) => [q.id, q]));
}

function factualPlan(entry: SupportEntry): AgentPlan {
  const wrong = wrongFactualAnswers[entry.id];
  const steps: AgentTurn[] = entry.hops.map((hop, i) => ({
    thought: i === 0 ? `I start by searching for ${hop.query}.` : `The previous result leads me to ${hop.query}; I search for it next.`,
    code: `print(web_search(query=${JSON.stringify(hop.query)}))`,
  }));
  if (entry.kind === 'bridge-arithmetic' && entry.answerEvidence.length === 2) {
    const [from, to] = entry.answerEvidence;
    steps.push({ thought: `The passages give the years ${from} and ${to}; I take the difference.`, code: `print(${to} - ${from})` });
  }
  const answer = wrong?.answer ?? entry.answer;
  steps.push({
    thought: wrong?.thought ?? `The documents give the answer: ${answer}.`,
    code: `final_answer(${JSON.stringify(answer)})`,
  });
  return { steps, fallbackAnswer: answer };
}

/** The scripted teacher for the example questions: chain-of-thought replies and agent turns. */
export function exampleTeacherScript(): ReplyScript {
  const questions = readExampleQuestions();
  const support = readSupport();
  const cot: Record<string, { paragraphs: string[]; answer: string }> = {};
  const plans: Record<string, AgentPlan> = {};
  for (const q of questions) {
    if (q.domain === 'math') {
      const script = mathScripts[q.id];
      if (!script) throw new Error(`no scripted solution for ${q.id}`);
      cot[q.question] = { paragraphs: [script.plan, script.work], answer: q.answer };
      plans[q.question] = { steps: script.steps };
    } else {
      const entry = support.get(q.id);
      if (!entry) throw new Error(`no retrieval hops for ${q.id} in question-support.json`);
      cot[q.question] = {
        paragraphs: [
          `This needs a chain of facts from the corpus: ${entry.hops.map((h) => h.query).join(', then ')}.`,
          'Each search result should name the next thing to look up.',
        ],
        answer: wrongFactualAnswers[q.id]?.answer ?? entry.answer,
      };
      plans[q.question] = factualPlan(entry);
    }
  }
  // Chain-of-thought requests have no system message; agent requests do.
  const cotScript = cotResponder(cot);
  const agentScript = scriptedAgent(plans);
  return firstAnswering(
    (req) => (req.messages[0]?.role === 'system' ? undefined : cotScript(req)),
    (req) => (req.messages[0]?.role === 'system' ? agentScript(req) : undefined),
  );
}
