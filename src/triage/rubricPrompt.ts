import { z } from 'zod';
import { parseJsonReply } from '../llm/jsonReply';
import { type ChatMessage } from '../llm/types';
import { truncateHeadTail } from '../trajectory/observationFormat';
import {  observationTextOf } from '../trajectory/observationText';
import { type RubricFinding, type Trajectory } from '../trajectory/schema';
import { type Rubric, type RubricCriterion } from './rubric';

/**
 * What the rubric judge is sent and how its reply is read. The trajectory is rendered compactly (long
 * observations and fields cut in the middle) with steps numbered from 1, as a reader counts; the reply's
 * step numbers are turned back into the 0-based indexes the schema stores.
 */

/** Bump when the prompt or the rendering changes in a way that should re-judge everything (it is hashed). */
export const rubricPromptVersion = 1;

/** Characters kept of each observation, and of each thought, code block or answer. */
export const rubricRenderLimits = { observationChars: 1500, fieldChars: 4000 } as const;

const systemPrompt = [
  'You audit the work of a problem-solving agent before its transcripts are used to train a smaller model.',
  'The agent works in numbered steps. In each step it writes a Thought, then Python Code; the code is run and the Observation shows what it printed or the error it raised. It can search a document collection with web_search(query) and ends by calling final_answer(answer).',
  'You are given a rubric: a list of criteria, each with an id and a description of what a good transcript does.',
  'Judge the transcript against each criterion on its own, using only what the transcript shows:',
  '- "pass": the transcript meets the criterion.',
  '- "fail": it does not. Give the number of the step where the problem shows most clearly, or null when it concerns the transcript as a whole.',
  '- "not-applicable": the criterion does not concern this transcript (for example, it is about searching and nothing needed to be looked up).',
  'The reference answer is there to help you follow the reasoning; whether the final answer is correct is checked elsewhere, so do not fail a criterion only because the answer differs from it.',
  'For every verdict write one short sentence of reason that points at the evidence (quote a few words, or name the step).',
  'Reply with one JSON object and nothing else, with one entry per criterion, in the order the criteria are listed:',
  '{"findings": [{"criterion": "<criterion id>", "verdict": "pass" | "fail" | "not-applicable", "step": <step number or null>, "reason": "<one sentence>"}]}',
].join('\n');

function field(text: string): string {
  return truncateHeadTail(text.trim(), rubricRenderLimits.fieldChars);
}

/** The trajectory as the judge reads it: task, reference, each step numbered from 1, the final answer. */
export function renderTrajectoryForJudge(t: Trajectory): string {
  const parts = [`Question (${t.task.domain}):\n${field(t.task.question)}`];
  if (t.task.goldAnswer !== undefined) parts.push(`Reference answer: ${field(t.task.goldAnswer)}`);
  t.steps.forEach((step, i) => {
    const observation = step.observation
      ? truncateHeadTail(observationTextOf(step.observation, i).trimEnd(), rubricRenderLimits.observationChars)
      : '(the code of this step was not run)';
    parts.push(`### Step ${i + 1}\nThought: ${field(step.thought)}\nCode:\n\`\`\`py\n${field(step.code)}\n\`\`\`\n${observation}`);
  });
  if (t.steps.length === 0) parts.push('(the transcript has no steps)');
  const answer = t.finalAnswer === undefined ? '(none)' : field(t.finalAnswer);
  parts.push(`Final answer: ${answer}${t.fromFallback ? ' (given by a last call after the step limit, not by final_answer)' : ''}`);
  return parts.join('\n\n');
}

/** The chat messages of one judge request. */
export function rubricJudgeMessages(rubric: Pick<Rubric, 'name'>, criteria: readonly RubricCriterion[], t: Trajectory): ChatMessage[] {
  const list = criteria.map((c) => `- ${c.id} (${c.severity}): ${c.description.trim()}`).join('\n');
  const user = `Rubric "${rubric.name}", criteria:\n${list}\n\nTranscript:\n\n${renderTrajectoryForJudge(t)}\n\nJudge the transcript against each of the ${criteria.length} criteria. Reply with the JSON object only.`;
  return [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: user },
  ];
}

/** Tokens to allow for the reply: a line of JSON per criterion with a sentence of reason. */
export function rubricReplyTokens(criteria: readonly RubricCriterion[]): number {
  return 200 + 150 * criteria.length;
}

// Models add keys of their own and write step numbers as null; neither is a reason to refuse the reply.
const replySchema = z.object({
  findings: z.array(
    z.object({
      criterion: z.string(),
      verdict: z.enum(['pass', 'fail', 'not-applicable']),
      step: z.int().nullable().optional(),
      reason: z.string(),
    }),
  ),
});

/**
 * Reads the judge's reply: the JSON object in it (also inside a fenced block), every asked criterion
 * exactly once, known ids only, step numbers within the trajectory. Returns the findings in rubric order,
 * or what is wrong with the reply.
 */
export function parseRubricReply(text: string, criteria: readonly RubricCriterion[], stepCount: number): { findings: RubricFinding[] } | { error: string } {
  const read = parseJsonReply(text, replySchema);
  if ('error' in read) return read;
  const byId = new Map(criteria.map((c) => [c.id, c]));
  const found = new Map<string, RubricFinding>();
  const problems: string[] = [];
  for (const [i, f] of read.value.findings.entries()) {
    const criterion = byId.get(f.criterion);
    if (!criterion) {
      problems.push(`findings.${i}.criterion: "${f.criterion}" is not a criterion of the rubric`);
      continue;
    }
    if (found.has(f.criterion)) {
      problems.push(`findings.${i}.criterion: "${f.criterion}" is judged twice`);
      continue;
    }
    const finding: RubricFinding = { criterion: f.criterion, verdict: f.verdict, reason: f.reason.trim(), severity: criterion.severity };
    if (f.step !== undefined && f.step !== null && f.verdict !== 'not-applicable') {
      if (f.step < 1 || f.step > stepCount) {
        problems.push(`findings.${i}.step: step ${f.step} is out of range (the trajectory has ${stepCount} step${stepCount === 1 ? '' : 's'})`);
        continue;
      }
      finding.step = f.step - 1;
    }
    found.set(f.criterion, finding);
  }
  const missing = criteria.filter((c) => !found.has(c.id)).map((c) => c.id);
  if (missing.length) problems.push(`no verdict for ${missing.map((id) => `"${id}"`).join(', ')}`);
  if (problems.length) return { error: `the reply does not fit the rubric: ${problems.join('; ')}` };
  return { findings: criteria.map((c) => found.get(c.id) as RubricFinding) };
}
