/** The scripted student of the eval-run benchmark, shared by the bench and its model-server thread. */
import { observedPrintOutput, renderAgentTurn, type ReplyScript } from '../../test/support/fakeModelServer';

/** Question i needs 1 + (i mod 5) steps: it adds one term per step and answers on the last. */
export function stepsOf(i: number): number {
  return 1 + (i % 5);
}

export function questionText(i: number): string {
  return `Benchmark question ${i}: add the numbers 1 to ${stepsOf(i)} times ${i}, one per step.`;
}

export function answerOf(i: number): number {
  const steps = stepsOf(i);
  return (i * steps * (steps + 1)) / 2;
}

/**
 * Step s prints the running sum; the last step calls final_answer with it. Of the `candidates` choices of a
 * step, choices 0 … candidates-distinct share one code and each later choice writes the same step its own way.
 */
export function benchStudent(candidates: number, distinct: number): ReplyScript {
  return (req) => {
    const m = /Benchmark question (\d+):/.exec(req.task);
    if (!m) return undefined;
    const i = Number(m[1]);
    const steps = stepsOf(i);
    const total = answerOf(i);
    if (req.isFinalAnswerCall) return String(total);
    const sofar = req.step === 0 ? 0 : Number(observedPrintOutput(req.lastUser)?.trim() ?? 0);
    const next = sofar + i * (req.step + 1);
    const variant = Math.max(0, req.choiceIndex - (candidates - distinct));
    const note = variant === 0 ? '' : `  # variant ${variant}`;
    const code = req.step + 1 >= steps ? `final_answer(${total})${note}` : `running = ${sofar} + ${i * (req.step + 1)}${note}\nprint(running)`;
    return renderAgentTurn({ thought: `Adding term ${req.step + 1}, which gives ${next}.`, code });
  };
}
