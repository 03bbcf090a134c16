import { newTrajectory, type SagCandidate, type Step, type Trajectory } from '../../src/trajectory/schema';

/**
 * Small trajectories for the triage tests, written step by step: what the model thought, the code it ran and
 * what came back. Only the fields the rules read are filled; everything is schema-valid.
 */

export interface StepSpec {
  thought?: string;
  code: string;
  print?: string;
  last?: string;
  /** Retrieved passages of a `web_search` call made by the step (query, passage texts). */
  search?: { query: string; passages: string[] };
  error?: { type: string; message: string };
  finalAnswer?: string;
  stale?: boolean;
  /** SAG: print outputs of the candidates (the step's code is candidate `winner`'s). */
  candidates?: { outputs: string[]; winner: number; codes?: string[] };
}

export function step(spec: StepSpec): Step {
  const s: Step = {
    thought: spec.thought ?? 'I will run the code.',
    code: spec.code,
    modelOutput: `Thought: ${spec.thought ?? ''}\nCode:\n\`\`\`py\n${spec.code}\n\`\`\`<end_code>`,
    observation: {
      printOutput: spec.print ?? '',
      lastValue: spec.last ?? 'None',
      webSearchCalls: spec.search
        ? [{ query: spec.search.query, passages: spec.search.passages.map((text, i) => ({ id: `p${i}`, title: `Passage ${i}`, text, score: 0.8 })) }]
        : [],
    },
  };
  if (spec.error && s.observation) s.observation.error = { kind: 'execution', type: spec.error.type, message: spec.error.message };
  if (spec.finalAnswer !== undefined && s.observation) s.observation.finalAnswer = spec.finalAnswer;
  if (spec.stale) s.stale = true;
  if (spec.candidates) {
    const { outputs, winner, codes } = spec.candidates;
    const candidates: SagCandidate[] = outputs.map((out, i) => ({
      text: `candidate ${i}`,
      code: codes?.[i] ?? (i === winner ? spec.code : `${spec.code}  # candidate ${i}`),
      valid: true,
      voteKey: out,
      printOutput: out,
    }));
    const groups = new Map<string, number[]>();
    outputs.forEach((out, i) => groups.set(out, [...(groups.get(out) ?? []), i]));
    s.candidates = candidates;
    s.winner = winner;
    s.voteGroups = [...groups].map(([voteKey, members]) => ({ voteKey, members }));
  }
  return s;
}

export interface TrajectorySpec {
  domain: 'math' | 'factual';
  question: string;
  gold?: string;
  steps: StepSpec[];
  /** Defaults to the last step's final answer. */
  finalAnswer?: string;
  id?: string;
}

let counter = 0;

export function trajectory(spec: TrajectorySpec): Trajectory {
  counter++;
  const t = newTrajectory({
    id: spec.id ?? `t${counter}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    task: { id: `q${counter}`, question: spec.question, domain: spec.domain, ...(spec.gold !== undefined ? { goldAnswer: spec.gold } : {}) },
    origin: { kind: 'teacher', model: 'test-teacher' },
    steps: spec.steps.map(step),
  });
  const answer = spec.finalAnswer ?? [...spec.steps].reverse().find((s) => s.finalAnswer !== undefined)?.finalAnswer;
  if (answer !== undefined) t.finalAnswer = answer;
  return t;
}

/** A clean factual trajectory: searches, reads the answer in a passage, reports it. */
export function groundedFactual(): TrajectorySpec {
  return {
    domain: 'factual',
    question: 'Which harbour town was the painter Ilse Varn born in?',
    gold: 'Kestrel Bay',
    steps: [
      {
        thought: 'I need the painter’s birthplace.',
        code: 'print(web_search("Ilse Varn painter born"))',
        search: { query: 'Ilse Varn painter born', passages: ['Ilse Varn (born 1911 in Kestrel Bay) was a painter of the Ostrand coast.'] },
        print: 'Ilse Varn (born 1911 in Kestrel Bay) was a painter of the Ostrand coast.',
      },
      { thought: 'The passage says she was born in Kestrel Bay.', code: 'final_answer("Kestrel Bay")', last: 'Kestrel Bay', finalAnswer: 'Kestrel Bay' },
    ],
  };
}

/** A clean math trajectory: computes with sympy, then reports the printed value boxed. */
export function computedMath(): TrajectorySpec {
  return {
    domain: 'math',
    question: 'What is the product of 17 and 23?',
    gold: '391',
    steps: [
      { thought: 'Multiply the two numbers.', code: 'print(17 * 23)', print: '391\n' },
      { thought: 'The product is 391.', code: 'final_answer("\\\\boxed{391}")', last: '\\boxed{391}', finalAnswer: '\\boxed{391}' },
    ],
  };
}
