/**
 * A scripted student whose SAG candidates agree with each other as often as a chosen profile says, so the
 * cost and accuracy of fixed and adaptive SAG can be measured (bench/eval-run) and checked (unit tests).
 *
 * Question i ("Sampling question i: …") is solved in `stepsOf(i)` steps: each step adds the next term of a
 * sum and prints the running total, the last calls `final_answer` with it. Every candidate is an independent
 * draw, seeded by the request's `seed`, the question, the step and the choice index, so a request sent again
 * gets the same candidates (a resumed run is reproducible) and a request with another seed gets new ones:
 *
 * - with probability `wrongRate` the candidate adds a wrong term (one of `wrongOutputs` different ones), and
 *   the question's answer is then wrong unless a later vote is lost the same way (it never is);
 * - otherwise it adds the right term, written in one of `codeVariants` ways that print the same (the first
 *   way most often), as a student sampled at temperature 0.4 repeats itself with small differences.
 */
import { observedPrintOutput, renderAgentTurn, type ReplyScript, seededRandom } from './fakeModelServer';

export interface AgreementProfile {
  /** Share of candidates that take a wrong step. */
  wrongRate: number;
  /** How many different wrong steps there are (wrong candidates split among them evenly). */
  wrongOutputs: number;
  /** How many textually different codes the right step comes in (all print the same). */
  codeVariants: number;
  /** What it stands for, for reports. */
  description: string;
}

export const agreementProfiles = {
  always: { wrongRate: 0, wrongOutputs: 0, codeVariants: 1, description: 'every candidate writes the same code' },
  default: { wrongRate: 0, wrongOutputs: 0, codeVariants: 3, description: 'about 3 distinct codes among 8, all printing the same' },
  'some-split': { wrongRate: 0.15, wrongOutputs: 2, codeVariants: 3, description: '15 % of candidates take one of 2 wrong steps' },
  'mostly-split': { wrongRate: 0.4, wrongOutputs: 3, codeVariants: 3, description: '40 % of candidates take one of 3 wrong steps' },
} as const satisfies Record<string, AgreementProfile>;
export type AgreementProfileName = keyof typeof agreementProfiles;

/** Question i needs 1 + (i mod 5) steps. */
export function stepsOf(i: number): number {
  return 1 + (i % 5);
}

export function samplingQuestion(i: number): string {
  return `Sampling question ${i}: add ${i}, ${2 * i}, … up to ${stepsOf(i)} times ${i}, one term per step.`;
}

/** The right answer: i · (1 + 2 + … + steps). */
export function samplingAnswer(i: number): number {
  const steps = stepsOf(i);
  return (i * steps * (steps + 1)) / 2;
}

/** A 32-bit hash of the numbers that make one candidate's draw. */
function drawSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** What one candidate does: the right term (in code variant `variant`) or wrong step `wrong` (1-based). */
export function candidateDraw(profile: AgreementProfile, question: number, step: number, seed: number, choice: number): { wrong: number; variant: number } {
  const random = seededRandom(drawSeed(question, step, seed, choice));
  if (random() < profile.wrongRate) return { wrong: 1 + Math.floor(random() * profile.wrongOutputs), variant: 0 };
  // The first way of writing the step three times as often as each other way.
  const weights = Array.from({ length: profile.codeVariants }, (_v, k) => (k === 0 ? 3 : 1));
  let pick = random() * weights.reduce((a, b) => a + b, 0);
  let variant = 0;
  while (variant < weights.length - 1 && pick >= weights[variant]) pick -= weights[variant++];
  return { wrong: 0, variant };
}

export function samplingStudent(profile: AgreementProfile): ReplyScript {
  return (req) => {
    const m = /Sampling question (\d+):/.exec(req.task);
    if (!m) return undefined;
    const i = Number(m[1]);
    const steps = stepsOf(i);
    const sofar = req.step === 0 ? 0 : Number(observedPrintOutput(req.lastUser)?.trim() ?? 0);
    if (req.isFinalAnswerCall) return String(sofar);
    const draw = candidateDraw(profile, i, req.step, req.body.seed ?? 0, req.choiceIndex);
    const term = i * (req.step + 1) + draw.wrong;
    const note = draw.variant === 0 ? '' : `  # written another way (${draw.variant})`;
    const code = req.step + 1 >= steps ? `final_answer(${sofar + term})${note}` : `running = ${sofar} + ${term}${note}\nprint(running)`;
    return renderAgentTurn({ thought: `Adding term ${req.step + 1}.`, code });
  };
}
