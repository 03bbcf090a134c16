import { type ChatCompleter, runAgentEpisode } from '../agent/agentLoop';
import { type PromptProfile } from '../agent/promptProfiles';
import { type Step, type Trajectory } from '../trajectory/schema';
import { type EpisodeStarter, inRecordedEpisode } from './reexecution';
import { stepView } from './trajectoryView';
import { type StepView } from './editorViewSchema';

/**
 * "Continue with the teacher from step k": steps 1..k are kept as they are (the user may have edited and
 * re-executed step k), everything after is dropped into the revision history, and the teacher writes the
 * rest of the episode through the agent loop, which replays the kept steps' code to rebuild the state.
 * The record keeps its id, task, origin and review; the judgement is dropped, since the answer may change,
 * and the host judges the new answer with the run's scorer (see `verdicts.ts`).
 */

export type ContinuationEvent =
  /** Model text of step `stepIndex` so far (the whole text, not a delta, so a late page can catch up). */
  | { kind: 'text'; stepIndex: number; text: string }
  | { kind: 'step'; step: StepView }
  | { kind: 'answer'; answer: string; fromFallback: boolean };

export interface ContinuationDeps {
  endpoint: ChatCompleter;
  prompt: PromptProfile;
  startEpisode: EpisodeStarter;
  maxSteps?: number;
}

/** Thrown when the kept steps cannot be continued as they are. */
export class ContinuationRefusedError extends Error {
  override readonly name = 'ContinuationRefusedError';
}

export async function continueWithTeacher(
  t: Trajectory,
  stepIndex: number,
  deps: ContinuationDeps,
  signal: AbortSignal,
  onEvent: (event: ContinuationEvent) => void = () => undefined,
  now: () => Date = () => new Date(),
): Promise<Trajectory> {
  if (stepIndex < 0 || stepIndex >= t.steps.length) throw new ContinuationRefusedError(`trajectory ${t.id} has no step ${stepIndex + 1} to continue from`);
  const kept = t.steps.slice(0, stepIndex + 1);
  const staleKept = kept.findIndex((s) => s.stale === true || s.observation === undefined);
  if (staleKept >= 0) {
    throw new ContinuationRefusedError(`step ${staleKept + 1} has no up-to-date observation; re-execute it before letting the teacher continue`);
  }
  const dropped: Step[] = t.steps.slice(stepIndex + 1);
  const maxSteps = Math.max(deps.maxSteps ?? 5, kept.length + 1);
  const texts = new Map<number, string>();
  return await inRecordedEpisode(t, deps.startEpisode, signal, async (episode) => {
    const result = await runAgentEpisode(
      {
        task: t.task,
        endpoint: deps.endpoint,
        episode,
        prompt: deps.prompt,
        originKind: t.origin.kind,
        maxSteps,
        priorSteps: kept,
        replayPriorCode: true,
        streamText: true,
        trajectoryId: t.id,
        signal,
      },
      (event) => {
        if (event.type === 'model-text' && event.choice === 0) {
          const text = (event.restarted ? '' : (texts.get(event.step) ?? '')) + event.delta;
          texts.set(event.step, text);
          onEvent({ kind: 'text', stepIndex: event.step, text });
        } else if (event.type === 'step-finished' && event.step > stepIndex) {
          onEvent({ kind: 'step', step: stepView(event.record, event.step) });
        } else if (event.type === 'final-answer') {
          onEvent({ kind: 'answer', answer: event.answer, fromFallback: event.fromFallback });
        }
      },
    );
    const updated: Trajectory = {
      ...t,
      steps: result.steps,
      revisions: [
        ...t.revisions,
        {
          at: now().toISOString(),
          what: 'continued',
          stepIndex,
          before: JSON.parse(JSON.stringify(dropped)) as Step[],
          after: `${result.steps.length - kept.length} steps by ${deps.endpoint.profile.model}`,
        },
      ],
    };
    delete updated.judgement;
    delete updated.finalAnswer;
    delete updated.fromFallback;
    delete updated.fallbackOutput;
    if (result.finalAnswer !== undefined) updated.finalAnswer = result.finalAnswer;
    if (result.fromFallback) updated.fromFallback = true;
    if (result.fallbackOutput !== undefined) updated.fallbackOutput = result.fallbackOutput;
    return updated;
  });
}
