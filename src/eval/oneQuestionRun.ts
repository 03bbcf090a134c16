import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { type AgentEvent } from '../agent/agentLoop';
import { runQuestions } from '../runs/questionRun';
import { writeTrajectoryFile } from '../trajectory/jsonlWriters';
import { newTrajectory, type Origin, type Step, type Task, type Trajectory } from '../trajectory/schema';
import { type EvalEpisodeRunner } from './evalRun';

/**
 * One question, watched as it is answered: Quick Eval's typed question and the CLI's `ask`. It is the run over
 * questions (`runQuestions`) with one pending task and one worker, so a stop works as it does for teacher
 * generation and evaluation, and the live file plays the part of their output file.
 */

export interface OneQuestionRunOptions {
  task: Task;
  /** The agent's episode, already configured (endpoint, prompt, mode, sampling, retrieval, sandbox). */
  runEpisode: EvalEpisodeRunner;
  /** Who answers, for the live file's record before the first step finished. */
  origin: Origin;
  /**
   * Rewritten after the start, after every finished step and at the end (atomically: temp file and rename), so
   * an editor watching it shows the trajectory growing. A stop leaves the steps finished so far in it.
   */
  liveFile?: string;
  signal: AbortSignal;
}

/**
 * The agent's events as they happen, and `live-file-written` once the live file holds `steps` finished steps
 * (0 at the start; `final` for the finished trajectory, answer included).
 */
export type OneQuestionEvent = AgentEvent | { type: 'live-file-written'; file: string; steps: number; final: boolean };

/**
 * Runs the question and yields its events in order; returns the trajectory, or undefined when the signal
 * stopped it. A failure of the episode (the server, the sandbox) or of a live-file write is thrown once the
 * live file is settled.
 */
export async function* runOneQuestion(options: OneQuestionRunOptions): AsyncGenerator<OneQuestionEvent, Trajectory | undefined> {
  const { liveFile } = options;
  let result: Trajectory | undefined;
  let failure: { error: unknown } | undefined;
  if (liveFile) await mkdir(path.dirname(liveFile), { recursive: true });

  yield* runQuestions<Task, OneQuestionEvent>({
    pending: [options.task],
    concurrency: 1,
    signal: options.signal,
    runOne: async (task, { signal, emit }) => {
      // Writes go one after another, each a whole file, so the file never goes back to fewer steps.
      let writing: Promise<void> = Promise.resolve();
      const writeLive = (trajectory: Trajectory, final: boolean): void => {
        if (!liveFile) return;
        writing = writing.then(async () => {
          await writeTrajectoryFile(liveFile, [trajectory]);
          emit({ type: 'live-file-written', file: liveFile, steps: trajectory.steps.length, final });
        });
        // Awaited below; this only keeps a failed write from counting as unhandled meanwhile.
        writing.catch(() => undefined);
      };
      const started = newTrajectory({ task, origin: options.origin });
      const steps: Step[] = [];
      writeLive(started, false);
      try {
        const trajectory = await options.runEpisode({
          task,
          signal,
          onEvent: (event) => {
            emit(event);
            if (event.type === 'step-finished') {
              steps.push(event.record);
              writeLive({ ...started, steps: [...steps] }, false);
            }
          },
        });
        writeLive(trajectory, true);
        await writing;
        result = trajectory;
      } catch (err) {
        // The steps finished before a stop or a failure are in the file once this returns.
        await writing;
        if (!signal.aborted) failure = { error: err };
      }
    },
    settle: () => Promise.resolve(),
  });
  if (failure) throw failure.error;
  return result;
}
