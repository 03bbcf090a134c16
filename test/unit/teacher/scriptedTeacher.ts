/**
 * The scripted teacher the teacher-generation tests run against, and the 30-question mixed set it knows:
 * arithmetic questions solved in two steps, lookups answered from a small corpus through `web_search`, and
 * episodes with a parse error or an execution error, each with the verdict the run must give it.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  type AgentPlan,
  arithmeticAgent,
  arithmeticCot,
  cotResponder,
  evaluateIntegerExpression,
  firstAnswering,
  lookupAgent,
  type ReplyScript,
  scriptedAgent,
} from '../../support/fakeModelServer';
import { type TeacherVerdict } from '../../../src/teacher/trajectoryFilter';

export interface MixedQuestion {
  id: string;
  question: string;
  answer: string;
  domain: 'math' | 'factual';
  /** The verdict the teacher filter must give this question's trajectory. */
  expected: TeacherVerdict;
}

const lookups: { id: string; question: string; query: string; answer: string; gold: string; expected: TeacherVerdict }[] = [
  { id: 'f1', question: 'What is the capital city of Zorbia?', query: 'capital of Zorbia', answer: 'Quellen', gold: 'Quellen', expected: 'correct' },
  { id: 'f2', question: 'Which architect completed the cathedral of Quellen?', query: 'cathedral of Quellen architect', answer: 'Ilse Varga', gold: 'Ilse Varga', expected: 'correct' },
  { id: 'f3', question: 'In which town was Ilse Varga born?', query: 'Ilse Varga born', answer: 'Brenn', gold: 'Brenn', expected: 'correct' },
  { id: 'f4', question: 'Into which lake does the Amsel flow?', query: 'Amsel river flows', answer: 'Lake Morrow', gold: 'Lake Morrow', expected: 'correct' },
  { id: 'f5', question: 'Which peak is the highest of the Tarn Hills?', query: 'Tarn Hills highest peak', answer: 'Mount Sella', gold: 'Mount Sella', expected: 'correct' },
  { id: 'f6', question: 'Who founded the Quellen Observatory?', query: 'Quellen Observatory founded', answer: 'Piet Lorrin', gold: 'Piet Lorrin', expected: 'correct' },
  // The corpus does not hold these answers: the agent says so, and the verdict is a wrong answer.
  { id: 'f7', question: 'What is the national bird of Zorbia?', query: 'national bird of Zorbia', answer: 'golden eagle', gold: 'golden eagle', expected: 'wrong-answer' },
  { id: 'f8', question: 'Who was the first president of Zorbia?', query: 'first president of Zorbia', answer: 'Anton Reis', gold: 'Anton Reis', expected: 'wrong-answer' },
];

const arithmetic: { expression: string; gold?: string }[] = [
  { expression: '12 * 7 + 3' }, { expression: '45 - 17' }, { expression: '(8 + 5) * 6' }, { expression: '99 * 99' },
  { expression: '1000 - 1' }, { expression: '17 * 23' }, { expression: '(4 + 4) * (3 + 3)' }, { expression: '250 + 750' },
  { expression: '81 * 9 - 9' }, { expression: '3 * 3 * 3 * 3' }, { expression: '(100 - 1) * 2' }, { expression: '64 + 36 * 2' },
  { expression: '7 * 8 * 9' }, { expression: '512 - 256 + 128' },
  // Wrong golds: the teacher computes the true value, so these are wrong answers.
  { expression: '11 * 11', gold: '122' }, { expression: '6 * 7', gold: '43' },
];

const parseErrorQuestions = ['What is the product of the first three primes, written with a syntax slip?', 'What is two squared plus one, after a typo?', 'What is half of ten, after a missing bracket?'];
const parseErrorAnswers = ['30', '5', '5'];
const execErrorQuestions = ['How many sides do two hexagons have in total?', 'What is the square of nine, after a name slip?', 'How many minutes are in three hours?'];
const execErrorAnswers = ['12', '81', '180'];

/** The 30 questions, in the order of the question file. */
export function mixedQuestions(): MixedQuestion[] {
  const out: MixedQuestion[] = [];
  arithmetic.forEach((a, i) => {
    const value = String(evaluateIntegerExpression(a.expression));
    out.push({ id: `m${i + 1}`, question: `What is ${a.expression}?`, answer: a.gold ?? value, domain: 'math', expected: a.gold && a.gold !== value ? 'wrong-answer' : 'correct' });
  });
  for (const l of lookups) out.push({ id: l.id, question: l.question, answer: l.gold, domain: 'factual', expected: l.expected });
  parseErrorQuestions.forEach((q, i) => out.push({ id: `p${i + 1}`, question: q, answer: parseErrorAnswers[i], domain: 'math', expected: 'parse-error' }));
  execErrorQuestions.forEach((q, i) => out.push({ id: `e${i + 1}`, question: q, answer: execErrorAnswers[i], domain: 'math', expected: 'correct' }));
  return out;
}

/** Writes the mixed set as JSONL (id, question, answer, domain) and returns its path. */
export function writeMixedQuestions(dir: string): string {
  const file = path.join(dir, 'mixed.questions.jsonl');
  writeFileSync(file, mixedQuestions().map(({ id, question, answer, domain }) => JSON.stringify({ id, question, answer, domain })).join('\n') + '\n');
  return file;
}

/** Only for chain-of-thought requests (no system message), or only for agent requests. */
function onlyCot(script: ReplyScript): ReplyScript {
  return (req) => (req.messages[0]?.role === 'system' ? undefined : script(req));
}
function onlyAgent(script: ReplyScript): ReplyScript {
  return (req) => (req.messages[0]?.role === 'system' ? script(req) : undefined);
}

/** The teacher: chain-of-thought replies for every question, and the agent turns. */
export function scriptedTeacher(): ReplyScript {
  const cot: Record<string, { paragraphs: string[]; answer: string }> = {};
  for (const l of lookups) cot[l.question] = { paragraphs: [`I need to find out about ${l.query}.`, `Looking it up should give the answer.`], answer: l.answer };
  [...parseErrorQuestions, ...execErrorQuestions].forEach((q, i) => {
    cot[q] = { paragraphs: ['I will compute this directly with a short program.', 'The computation is simple.'], answer: [...parseErrorAnswers, ...execErrorAnswers][i] };
  });
  const plans: Record<string, AgentPlan> = {};
  parseErrorQuestions.forEach((q, i) => {
    plans[q] = {
      steps: [
        // A reply without a code block: the one failure the method's filter drops (a Python SyntaxError is kept).
        { thought: 'Let me compute it.', raw: 'Thought: Let me compute it: 2 * 3 * 5 is small enough to do by hand.' },
        { thought: 'I fix the bracket and answer.', code: `final_answer(${parseErrorAnswers[i]})` },
      ],
    };
  });
  execErrorQuestions.forEach((q, i) => {
    plans[q] = {
      steps: [
        { thought: 'Let me use the total.', code: 'print(total_count + 1)' },
        { thought: 'The name was not defined; I compute it directly.', code: `total_count = ${execErrorAnswers[i]}\nprint(total_count)` },
        { thought: 'Now I answer.', code: 'final_answer(total_count)' },
      ],
    };
  });
  const facts: Record<string, { query: string; answer: string }> = {};
  for (const l of lookups) facts[l.question] = { query: l.query, answer: l.answer };
  return firstAnswering(
    onlyCot(firstAnswering(arithmeticCot(), cotResponder(cot))),
    onlyAgent(firstAnswering(scriptedAgent(plans), arithmeticAgent(), lookupAgent(facts))),
  );
}

/** The small corpus the lookups are answered from (JSONL with id, title, text). */
export const corpusFixture = path.join(__dirname, '../../fixtures/teacher/corpus.jsonl');
