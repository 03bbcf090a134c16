import { createReadStream } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import { AsyncEventQueue } from './asyncEventQueue';
import { fileExists } from './runFiles';
import { startWorkerPool } from './workerPool';

/**
 * The part every run over questions shares (teacher generation, evaluation): the questions are worked on by
 * a pool of workers, each result is written as it arrives, progress comes out as one ordered event stream,
 * and a stop (the caller's signal, or the consumer leaving the loop) aborts the questions in flight, whose
 * half-done work is not written, so running again resumes where it stopped.
 */

/** What a worker gets for one question: the run's signal (aborted on a stop) and the way to report progress. */
export interface QuestionWork<E> {
  signal: AbortSignal;
  emit: (event: E) => void;
}

export interface QuestionRunOptions<T, E> {
  /** The questions still to do, in the order they start. */
  pending: readonly T[];
  concurrency: number;
  /** The caller's stop. */
  signal: AbortSignal;
  /**
   * Works on one question and writes its result. It must not throw for a failed question (that is a result
   * to record); a throw means the result could not be written, and it stops the whole run with that error.
   */
  runOne(item: T, work: QuestionWork<E>): Promise<void>;
  /** Runs once every worker has stopped, also when the consumer left early or a write failed: close files, save the manifest. */
  settle(cancelled: boolean): Promise<void>;
}

/**
 * Runs the questions and yields the workers' events in order; returns whether the run was cancelled. A failed
 * write is rethrown after `settle`, so nothing is lost silently.
 */
export async function* runQuestions<T, E>(options: QuestionRunOptions<T, E>): AsyncGenerator<E, { cancelled: boolean }> {
  const { signal: outerSignal } = options;
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(outerSignal.reason);
  if (outerSignal.aborted) controller.abort(outerSignal.reason);
  outerSignal.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  // Every question in flight listens on this signal (model requests, Python steps): many listeners are expected.
  setMaxListeners(Math.max(10, options.concurrency * 8), signal);
  const queue = new AsyncEventQueue<E>();
  const work: QuestionWork<E> = { signal, emit: (event) => queue.push(event) };
  const pool = startWorkerPool(options.pending, options.concurrency, controller, (item) => options.runOne(item, work), () => queue.end());

  let cancelled = false;
  try {
    for await (const event of queue.drain()) yield event;
    await pool.all;
  } finally {
    // Also reached when the consumer stops iterating early: stop the workers and settle the files.
    ({ cancelled } = await pool.settle());
    outerSignal.removeEventListener('abort', onOuterAbort);
    await options.settle(cancelled);
  }
  const workerError = pool.firstError();
  if (workerError !== undefined) throw workerError instanceof Error ? workerError : new Error(`a question's result could not be written: ${JSON.stringify(workerError)}`);
  return { cancelled };
}

/** The time left at the pace of this run so far; undefined before the first question of this run finished. */
export function remainingMs(remaining: number, doneThisRun: number, elapsedMs: number): number | undefined {
  return doneThisRun > 0 ? (remaining * elapsedMs) / doneThisRun : undefined;
}

/** One record of an output file as far as resuming needs it: its task id and what `describe` took from it. */
export interface WrittenRecord<X> {
  taskId: string;
  info: X;
}

/**
 * The records already in an output file, read line by line without keeping them (a file of any size), for
 * resuming: lines that are not JSON or carry no task id are counted, never dropped from the file.
 */
export async function writtenRecords<X = undefined>(file: string, describe: (value: Record<string, unknown>) => X = () => undefined as X): Promise<{ records: WrittenRecord<X>[]; unreadable: number }> {
  const records: WrittenRecord<X>[] = [];
  let unreadable = 0;
  if (!(await fileExists(file))) return { records, unreadable };
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as { task?: { id?: unknown } } & Record<string, unknown>;
      if (typeof value.task?.id === 'string') records.push({ taskId: value.task.id, info: describe(value) });
      else unreadable++;
    } catch {
      // A torn last line is set aside by the appender; others stay in the file for the user to see.
      unreadable++;
    }
  }
  return { records, unreadable };
}
