import { type Compatibility, compatibilityOfTrajectory } from '../trajectory/compatibility';
import { type RetrievedPassage } from '../retrieval/types';
import { formatObservation } from '../trajectory/observationFormat';
import { type PythonEpisode, type WebSearchHandler } from '../sandbox/types';
import { observationFromOutcome, type Observation, type Trajectory } from '../trajectory/schema';
import { answerFromSteps } from './verdicts';

/**
 * Re-execution of an edited step: a fresh sandbox episode replays steps 1..k-1 to rebuild the Python
 * state the step ran in, then runs step k's (possibly edited) code. The new observation replaces the old
 * one, whose value is kept in the revision history so the editor can show both; every later step is
 * marked stale because it was written after the old observation.
 */

export type ReexecutionEvent =
  | { kind: 'rebuilding'; stepIndex: number; of: number }
  | { kind: 'running'; stepIndex: number }
  | { kind: 'done'; observation: Observation };

/** Starts an episode whose `web_search` calls are answered by `webSearch`. */
/** Starts a Python episode that answers `web_search` with `webSearch`, under the trajectory's compatibility profile. */
export type EpisodeStarter = (webSearch: WebSearchHandler, signal: AbortSignal, compatibility: Compatibility) => Promise<PythonEpisode>;

/**
 * A `web_search` that answers with the passages this trajectory recorded for the same query, so replaying
 * earlier steps sees what the model saw. A query the trajectory never made gets an error the code can read.
 */
export function recordedWebSearch(t: Trajectory): WebSearchHandler {
  const byQuery = new Map<string, RetrievedPassage[]>();
  for (const step of t.steps) {
    for (const call of step.observation?.webSearchCalls ?? []) {
      if (!byQuery.has(call.query) && call.error === undefined) {
        byQuery.set(
          call.query,
          call.passages.map((p) => ({ id: p.id, title: p.title, text: p.text, score: p.score })),
        );
      }
    }
  }
  return (query: string) => {
    const passages = byQuery.get(query);
    if (passages) return Promise.resolve(passages);
    return Promise.reject(
      new Error(`web_search: the query ${JSON.stringify(query)} was not made in this trajectory, and re-execution in the editor answers only recorded queries`),
    );
  };
}

/**
 * Runs `work` in a fresh Python episode set up the way the trajectory was made: its compatibility profile's
 * observation rules, and `web_search` answered from its own recorded searches. The episode is always closed,
 * also when `signal` aborts. Re-execution and continuation both run in one.
 */
export async function inRecordedEpisode<R>(t: Trajectory, startEpisode: EpisodeStarter, signal: AbortSignal, work: (episode: PythonEpisode, compatibility: Compatibility) => Promise<R>): Promise<R> {
  const compatibility = compatibilityOfTrajectory(t);
  const episode = await startEpisode(recordedWebSearch(t), signal, compatibility);
  try {
    return await work(episode, compatibility);
  } finally {
    await episode.close();
  }
}

/**
 * Rebuilds the state and runs step `stepIndex` again. Returns the updated trajectory (the input is not
 * changed). The episode is always closed, also when `signal` aborts.
 */
export async function reexecuteStep(
  t: Trajectory,
  stepIndex: number,
  startEpisode: EpisodeStarter,
  signal: AbortSignal,
  onEvent: (event: ReexecutionEvent) => void = () => undefined,
  now: () => Date = () => new Date(),
): Promise<Trajectory> {
  const step = t.steps[stepIndex];
  if (!step) throw new Error(`trajectory ${t.id} has ${t.steps.length} steps; there is no step ${stepIndex + 1} to re-execute`);
  // Run again under the rules it was made with, so its observations keep their shape.
  return inRecordedEpisode(t, startEpisode, signal, async (episode, compatibility) => {
    for (let i = 0; i < stepIndex; i++) {
      signal.throwIfAborted();
      onEvent({ kind: 'rebuilding', stepIndex: i, of: stepIndex });
      // The outcome is not compared: an earlier step may have failed originally too, and its error is part
      // of the state the model saw.
      await episode.exec(t.steps[i].code, signal);
    }
    signal.throwIfAborted();
    onEvent({ kind: 'running', stepIndex });
    const outcome = await episode.exec(step.code, signal);
    const observation = observationFromOutcome(outcome, formatObservation(outcome, stepIndex + 1, { compatibility }));
    onEvent({ kind: 'done', observation });

    const steps = t.steps.map((s, i) => {
      if (i < stepIndex) return s;
      if (i === stepIndex) {
        const { stale: _stale, ...rest } = s;
        return { ...rest, observation };
      }
      return { ...s, stale: true };
    });
    const updated: Trajectory = {
      ...t,
      steps,
      revisions: [
        ...t.revisions,
        {
          at: now().toISOString(),
          what: 'observation',
          stepIndex,
          ...(step.observation ? { before: JSON.parse(JSON.stringify(step.observation)) as Observation } : {}),
          after: JSON.parse(JSON.stringify(observation)) as Observation,
        },
      ],
    };
    followAnswer(updated, t, stepIndex, observation, now);
    return updated;
  });
}

/**
 * Makes the record's final answer follow the re-executed step. The episode's answer is the value of its
 * `final_answer` call: when step k now calls it, that is the answer (a fallback answer no longer applies);
 * when step k made the answer before (or ended the episode, whose fallback call saw its old output) and no
 * longer does, the answer is what a later recorded step gives, or none. An earlier step re-executed
 * without an answer leaves the later steps' answer, which stays visibly stale with them. The change goes
 * into the revision history; the verdict is judged again from the new answer by the host.
 */
function followAnswer(updated: Trajectory, t: Trajectory, stepIndex: number, observation: Observation, now: () => Date): void {
  const oldStep = t.steps[stepIndex];
  const endedEpisode = stepIndex === t.steps.length - 1 || oldStep.observation?.finalAnswer !== undefined;
  if (observation.finalAnswer === undefined && !endedEpisode) return;
  const answer = observation.finalAnswer ?? answerFromSteps(t, stepIndex + 1);
  delete updated.finalAnswer;
  delete updated.fromFallback;
  delete updated.fallbackOutput;
  if (answer !== undefined) updated.finalAnswer = answer;
  if (answer !== t.finalAnswer || t.fromFallback) {
    updated.revisions = [...updated.revisions, { at: now().toISOString(), what: 'answer', stepIndex, ...(t.finalAnswer !== undefined ? { before: t.finalAnswer } : {}), ...(answer !== undefined ? { after: answer } : {}) }];
  }
}

/** The observation step `stepIndex` had before its latest re-execution, for showing old beside new. */
export function previousObservation(t: Trajectory, stepIndex: number): Observation | undefined {
  for (let i = t.revisions.length - 1; i >= 0; i--) {
    const r = t.revisions[i];
    if (r.what === 'observation' && r.stepIndex === stepIndex) {
      return r.before === undefined ? undefined : (r.before as Observation);
    }
  }
  return undefined;
}
