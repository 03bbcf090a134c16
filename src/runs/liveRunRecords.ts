import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { openTrajectoryFile } from '../trajectory/trajectoryFile';
import { fileExists } from './runFiles';

/** The fields of a finished record a live view needs, read without keeping the records. */
export interface FinishedRecord {
  taskId: string;
  teacherFilter?: { verdict?: string; accepted?: boolean; reason?: string };
  runError?: string;
  correct?: boolean;
  judgementDetail?: string;
  steps: number;
}

/**
 * The records already in a run's output file, by task id (the last record of a task wins, as in the run's
 * own resume). A missing file has none; unreadable lines are skipped (the run itself reports them).
 */
export async function finishedRecords(file: string): Promise<Map<string, FinishedRecord>> {
  const found = new Map<string, FinishedRecord>();
  if (!(await fileExists(file))) return found;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let value: {
      task?: { id?: unknown };
      steps?: unknown;
      judgement?: { correct?: unknown; detail?: unknown };
      meta?: { teacherFilter?: { verdict?: unknown; accepted?: unknown; reason?: unknown }; runError?: unknown; eval?: { runError?: unknown } };
    };
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      continue;
    }
    if (typeof value.task?.id !== 'string') continue;
    const filter = value.meta?.teacherFilter;
    const runError = typeof value.meta?.runError === 'string' ? value.meta.runError : typeof value.meta?.eval?.runError === 'string' ? value.meta.eval.runError : undefined;
    found.set(value.task.id, {
      taskId: value.task.id,
      ...(filter
        ? {
            teacherFilter: {
              ...(typeof filter.verdict === 'string' ? { verdict: filter.verdict } : {}),
              ...(typeof filter.accepted === 'boolean' ? { accepted: filter.accepted } : {}),
              ...(typeof filter.reason === 'string' ? { reason: filter.reason } : {}),
            },
          }
        : {}),
      ...(runError !== undefined ? { runError } : {}),
      ...(typeof value.judgement?.correct === 'boolean' ? { correct: value.judgement.correct } : {}),
      ...(typeof value.judgement?.detail === 'string' ? { judgementDetail: value.judgement.detail } : {}),
      steps: Array.isArray(value.steps) ? value.steps.length : 0,
    });
  }
  return found;
}

/** The record number of a task's newest trajectory in a file (what the trajectory editor opens at), if any. */
export async function recordSlotOfTask(file: string, taskId: string): Promise<number | undefined> {
  if (!(await fileExists(file))) return undefined;
  const handle = await openTrajectoryFile(file);
  let slot: number | undefined;
  try {
    for await (const r of handle.records()) if (r.ok && r.trajectory.task.id === taskId) slot = r.index;
  } finally {
    await handle.close();
  }
  return slot;
}
