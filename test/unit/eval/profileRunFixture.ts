import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { evalRunConfigSchema, type EvalManifest, manifestFile, trajectoryFileName } from '../../../src/eval/evalConfig';
import { type Compatibility } from '../../../src/trajectory/compatibility';
import { writeTrajectoryFile } from '../../../src/trajectory/jsonlWriters';
import { type Judgement, newTrajectory, type ProfileVerdict, type TaskDomain, type Trajectory } from '../../../src/trajectory/schema';

/**
 * Evaluation run folders written by hand, whose records the two compatibility profiles judged differently
 * (and one record from before both verdicts were stored, and one run error), so the numbers each profile
 * gives are known without running anything. The expected figures are worked out in the tests by hand.
 */

/** One question's record: the answer, the gold, and each profile's verdict (`single`: one verdict only). */
export interface FixtureQuestion {
  benchmark: string;
  domain: TaskDomain;
  id: string;
  question: string;
  answer: string;
  gold: string;
  studio?: Pick<ProfileVerdict, 'correct' | 'rule' | 'method'>;
  reference?: Pick<ProfileVerdict, 'correct' | 'rule' | 'method'>;
  /** Judged before profiles: this one verdict only. */
  single?: boolean;
  runError?: string;
}

const math = (correct: boolean, rule: string) => ({ correct, rule, method: 'math-equivalence' });
const factual = (correct: boolean, rule: string, method = 'llm-judge') => ({ correct, rule, method });

/** Run A's records (a run under the `studio` profile). */
export const runAQuestions: readonly FixtureQuestion[] = [
  { benchmark: 'math-mini', domain: 'math', id: 'm1', question: 'What is 2 + 3?', answer: '\\boxed{5}', gold: '5', studio: math(true, 'string-equal'), reference: math(true, 'string-equal') },
  { benchmark: 'math-mini', domain: 'math', id: 'm2', question: 'How large is a right angle?', answer: '\\boxed{90}', gold: '90^\\circ', studio: math(true, 'normalized-equal'), reference: math(false, 'gold-as-written') },
  { benchmark: 'math-mini', domain: 'math', id: 'm3', question: 'What is 7 * 6?', answer: '\\boxed{41}', gold: '42', studio: math(false, 'not-equal'), reference: math(false, 'not-equal') },
  { benchmark: 'math-mini', domain: 'math', id: 'm4', question: 'What is 10 - 4?', answer: '\\boxed{6}', gold: '6', single: true, studio: math(true, 'string-equal') },
  { benchmark: 'factual-mini', domain: 'factual', id: 'f1', question: 'Who wrote the first program?', answer: 'Lovelace', gold: 'Ada Lovelace', studio: factual(false, 'not-exact', 'exact-match'), reference: factual(true, 'judge-yes') },
  { benchmark: 'factual-mini', domain: 'factual', id: 'f2', question: 'What is the capital of France?', answer: 'Paris', gold: 'Paris', studio: factual(true, 'exact'), reference: factual(true, 'judge-yes') },
  { benchmark: 'factual-mini', domain: 'factual', id: 'f3', question: 'Which river flows through Vienna?', answer: '', gold: 'Danube', runError: 'the student server gave up after 3 attempts' },
];

/** Run B's records: A's, with m3 now answered right under both profiles. */
export const runBQuestions: readonly FixtureQuestion[] = runAQuestions.map((q) =>
  q.id === 'm3' ? { ...q, answer: '\\boxed{42}', studio: math(true, 'string-equal'), reference: math(true, 'string-equal') } : q,
);

function judgementOf(q: FixtureQuestion, profile: Compatibility): Judgement {
  if (q.runError !== undefined) return { correct: false, method: 'run-error', detail: q.runError };
  const own = (profile === 'reference' && !q.single ? q.reference : q.studio)!;
  const base = { correct: own.correct, method: own.method, detail: `${own.rule}: as the fixture says` };
  if (q.single) return base;
  return { ...base, profile, byProfile: { studio: { ...q.studio! }, reference: { ...q.reference! } } };
}

function trajectoryOf(q: FixtureQuestion, profile: Compatibility): Trajectory {
  const t = newTrajectory({
    id: `${q.id}-${profile}`,
    createdAt: '2026-03-01T00:00:00.000Z',
    task: { id: q.id, question: q.question, domain: q.domain, goldAnswer: q.gold, source: q.benchmark },
    origin: { kind: 'student', model: 'student-lora' },
    steps: q.runError !== undefined ? [] : [{ thought: 'I know this.', code: `final_answer(${JSON.stringify(q.answer)})`, modelOutput: `Thought: I know this.\nCode:\n\`\`\`py\nfinal_answer(${JSON.stringify(q.answer)})\n\`\`\`<end_code>` }],
  });
  if (q.runError === undefined) t.finalAnswer = q.answer;
  t.judgement = judgementOf(q, profile);
  t.meta = { eval: { benchmark: q.benchmark, durationMs: 100, ...(q.runError !== undefined ? { runError: q.runError } : {}) } };
  return t;
}

/** Writes a finished run folder holding `questions`, made under `profile`. */
export async function writeProfileRun(runFolder: string, profile: Compatibility, questions: readonly FixtureQuestion[]): Promise<void> {
  const names = [...new Set(questions.map((q) => q.benchmark))];
  await mkdir(path.join(runFolder, 'trajectories'), { recursive: true });
  const manifest: EvalManifest = {
    kind: 'eval-run',
    manifestVersion: 1,
    config: evalRunConfigSchema.parse({ runFolder, benchmarks: names.map((n) => `/benchmarks/${n}.json`), student: { model: 'student-lora' }, mode: { kind: 'greedy' }, compatibility: profile }),
    benchmarks: names.map((name) => ({
      name,
      file: `/benchmarks/${name}.json`,
      sha256: 'fixture',
      domain: questions.find((q) => q.benchmark === name)!.domain,
      questions: questions.filter((q) => q.benchmark === name).length,
      trajectories: trajectoryFileName(name),
    })),
    promptProfile: { name: 'student', hash: '0123456789abcdef' },
    environment: {},
    sessions: [{ startedAt: '2026-03-01T00:00:00.000Z', finishedAt: '2026-03-01T00:01:00.000Z', attempted: questions.length, failures: 1, cancelled: false, wallMs: 60_000 }],
  };
  await writeFile(manifestFile(runFolder), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const name of names) {
    await writeTrajectoryFile(path.join(runFolder, trajectoryFileName(name)), questions.filter((q) => q.benchmark === name).map((q) => trajectoryOf(q, profile)));
  }
}
