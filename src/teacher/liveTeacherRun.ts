import { type LiveQuestionOutcome, type LiveQuestionSeed } from '../runs/liveRunTracker';
import { finishedRecords } from '../runs/liveRunRecords';
import { readQuestionSet, sampleTasks } from '../trajectory/questionSet';
import { type TeacherRunConfig } from './runConfig';
import { type FilterDecision, teacherVerdictSchema } from './trajectoryFilter';

/** A teacher question's end as the live view shows it: failed (run error), accepted or rejected by the filter. */
export function teacherOutcome(decision: Pick<FilterDecision, 'verdict' | 'accepted' | 'reason'>, runError?: string, steps?: number): LiveQuestionOutcome {
  const withSteps = steps !== undefined ? { steps } : {};
  if (decision.verdict === 'run-error') return { status: 'failed', detail: runError ?? decision.reason, ...withSteps };
  return { status: decision.accepted ? 'accepted' : 'rejected', detail: decision.reason, ...withSteps };
}

/**
 * The questions a teacher run covers, in order (the same limit and seeded sample as the run), with what an
 * earlier run of the same output file already wrote for them. Read when the run starts, after the run has
 * set aside the failed records it retries, so those show as queued.
 */
export async function teacherQuestionSeeds(config: TeacherRunConfig): Promise<LiveQuestionSeed[]> {
  const questionSet = await readQuestionSet(config.questionFile, { defaultDomain: config.defaultDomain });
  let tasks = questionSet.tasks;
  if (config.limit !== undefined) tasks = tasks.slice(0, config.limit);
  if (config.sample !== undefined) tasks = sampleTasks(tasks, config.sample, config.seed);
  const earlier = await finishedRecords(config.outputFile);
  return tasks.map((t) => {
    const record = earlier.get(t.id);
    const seed: LiveQuestionSeed = { key: t.id, taskId: t.id, question: t.question };
    if (!record) return seed;
    const f = record.teacherFilter;
    const verdict = teacherVerdictSchema.safeParse(f?.verdict);
    const outcome: LiveQuestionOutcome = verdict.success
      ? teacherOutcome({ verdict: verdict.data, accepted: f?.accepted ?? false, reason: f?.reason ?? verdict.data }, record.runError)
      : { status: 'rejected', detail: 'no filter decision recorded' };
    return { ...seed, earlier: { status: outcome.status, ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}) } };
  });
}
