import { type ChatRequest, type ChatResult, type SamplingSettings } from '../llm/types';
import { type EndpointProfile, greedySampling, sagSampling } from '../llm/profiles';
import { DEFAULT_ALLOWED_IMPORTS } from '../sandbox/prepare';
import { formatErrorText } from '../trajectory/observationFormat';
import { type Compatibility } from '../trajectory/compatibility';
import { observationTextOf, observationTurn } from '../trajectory/observationText';
import { MISSING_CODE_BLOCK_TYPE } from '../trajectory/stepErrors';
import { type CandidateIsolation, type ExecError, type ExecOutcome, type PythonEpisode } from '../sandbox/types';
import { type SymbolicEquality } from '../scoring/sympyChecker';
import {
  newTrajectory,
  observationFromOutcome,
  type Origin,
  type OriginKind,
  type SagCandidate,
  type SagRound,
  type SamplingParams,
  type Step,
  type Task,
  type Trajectory,
} from '../trajectory/schema';
import { actionMessages, fallbackMessages, type StepTurns } from './agentMessages';
import { type AdaptiveSag, type AdaptiveStopReason } from './candidateVote';
import { ACTION_STOP_SEQUENCES, type ExtractedCode, extractCode, extractThought, storedModelOutput } from '../trajectory/replyParsing';
import { runSagStep, sagStepFields } from './sagStep';
import { type VoteKeyMode } from './voteKeys';
import { type PromptProfile, promptProfileHash, renderSystemPrompt } from './promptProfiles';
import { defaultAgentTools, type ToolDescription } from './tools';

/** What the loop needs of a model endpoint (a `ModelEndpoint` fits). */
export interface ChatCompleter {
  readonly profile: Pick<EndpointProfile, 'name' | 'model' | 'sampling'>;
  complete(request: ChatRequest): Promise<ChatResult>;
}

/**
 * How actions are chosen. Greedy: one reply per step. SAG (METHOD §5): one request with `n = candidates`,
 * every candidate executed (each in its own copy of the state with `isolated`, one after another in the
 * episode state with `shared`, as the reference did), a vote on print output, the winner's state kept.
 */
export type AgentMode =
  | { kind: 'greedy' }
  | {
      kind: 'sag';
      candidates: number;
      isolation: CandidateIsolation;
      /**
       * With `isolated` candidates, code identical to an earlier candidate's is run once and its outcome
       * shared (recorded as `sameCodeAs`): both would run the same code from the same state, and at the
       * method's temperature 0.4 most steps repeat one code several times. Only code reading a clock or
       * an unseeded random source could print differently; set this to run every copy anyway.
       */
      executeDuplicates?: boolean;
      /**
       * Draw candidates in rounds and stop once more could not change the vote or the drawn ones agree enough
       * (`candidates` is then the most a step draws). Absent: all candidates in one request, the method's way.
       */
      adaptive?: AdaptiveSag;
      /** What the vote compares (default `exact`, the method's rule). */
      voteKeys?: VoteKeyMode;
    };

/** The default SAG mode of the method: 8 isolated candidates. */
export const defaultSagMode: AgentMode = { kind: 'sag', candidates: 8, isolation: 'isolated' };

export interface AgentEpisodeOptions {
  task: Task;
  endpoint: ChatCompleter;
  /** The episode's Python state; the caller starts it and closes it. */
  episode: PythonEpisode;
  prompt: PromptProfile;
  /** Who produces the trajectory (recorded in its origin). */
  originKind: OriginKind;
  /** Tools listed in the system prompt (default: `web_search`, `final_answer`). */
  tools?: readonly ToolDescription[];
  /** Imports listed in the system prompt (default: the sandbox's allowlist). */
  authorizedImports?: readonly string[];
  mode?: AgentMode;
  /** Action steps before the fallback answer call (default 5). */
  maxSteps?: number;
  /**
   * Sampling for every call of the episode. Unset fields: greedy decoding (SAG: temperature 0.4, top_p 0.8),
   * seed 42, max_tokens 1024 — sent explicitly, never left to the server's defaults.
   */
  sampling?: Partial<SamplingSettings>;
  /**
   * First-thought prefix (METHOD §4): on the first call only, sent as an assistant message that the server
   * continues; the prefix is prepended to what comes back.
   */
  firstThoughtPrefix?: string;
  /** The chain-of-thought reply the prefix was cut from (recorded in the origin). */
  cotReply?: string;
  /** Steps already taken (continuing a trajectory); their turns are replayed into the conversation. */
  priorSteps?: readonly Step[];
  /** Re-execute the prior steps' code first, to rebuild the Python state they left. */
  replayPriorCode?: boolean;
  /** Stream model text as `model-text` events. */
  streamText?: boolean;
  /** Compares expressions for `normalized` SAG vote keys; without one only the textual normalisation applies. */
  symbolic?: SymbolicEquality;
  /** Id of the new trajectory (default: a random UUID). */
  trajectoryId?: string;
  /**
   * Whose rules the observations follow where the studio and the reference differ (the parse-error text;
   * the episode decides the last value and the logs, so it must have been started with the same profile).
   * Default: the episode's, else `studio`. Recorded as `origin.compatibility`.
   */
  compatibility?: Compatibility;
  signal?: AbortSignal;
}

/** What the loop reports while it runs. */
export type AgentEvent =
  | { type: 'step-started'; step: number }
  | { type: 'model-text'; step: number; choice: number; delta: string; restarted?: boolean }
  /** The full replies of the step (one for greedy, all candidates for SAG), as stored. */
  | { type: 'model-reply'; step: number; texts: string[] }
  /** The code about to run (for SAG: the winner's, after the vote). */
  | { type: 'code'; step: number; code: string }
  | {
      type: 'vote';
      step: number;
      winner: number;
      candidates: SagCandidate[];
      groups: { voteKey: string; members: number[] }[];
      /** Adaptive SAG: the rounds drawn and why drawing stopped. */
      rounds?: SagRound[];
      stop?: AdaptiveStopReason;
    }
  | { type: 'observation'; step: number; text: string; outcome: ExecOutcome }
  | { type: 'step-finished'; step: number; record: Step }
  | { type: 'fallback-started' }
  | { type: 'final-answer'; answer: string; fromFallback: boolean };

/** Error text the model reads when a reply had no code block and was not Python either. */
export const MISSING_CODE_MESSAGE =
  'No code was found in your reply. After "Code:", write one block that starts with ```py on its own line and ends with ```<end_code>.';

function missingCodeError(): ExecError {
  return { kind: 'parse', type: MISSING_CODE_BLOCK_TYPE, message: MISSING_CODE_MESSAGE };
}

/**
 * A reply without a code block is run as a whole when it parses; when it does not, the model is told that
 * the code block is missing rather than shown a syntax error in its prose.
 */
function adjustForMissingBlock(extracted: ExtractedCode, outcome: ExecOutcome): ExecOutcome {
  if (extracted.kind === 'whole-text' && outcome.error?.kind === 'parse') return { ...outcome, error: missingCodeError() };
  return outcome;
}

/** The profile of an episode: the caller's, which must agree with the Python episode's when both say. */
function compatibilityOf(options: Pick<AgentEpisodeOptions, 'compatibility' | 'episode'>): Compatibility | undefined {
  const fromEpisode = options.episode.compatibility;
  if (options.compatibility !== undefined && fromEpisode !== undefined && options.compatibility !== fromEpisode) {
    throw new Error(
      `The agent runs under the ${options.compatibility} compatibility profile but its Python episode was started under ${fromEpisode}: start the sandbox with the same profile`,
    );
  }
  return options.compatibility ?? fromEpisode;
}

function storedSampling(sampling: SamplingSettings, n: number): SamplingParams {
  const stored: SamplingParams = {
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
    maxTokens: sampling.maxTokens,
    repetitionPenalty: sampling.repetitionPenalty,
    n,
    stop: [...ACTION_STOP_SEQUENCES],
  };
  if (sampling.seed !== undefined) stored.seed = sampling.seed;
  return stored;
}

function stepTurns(step: Step, callNumber: number, compatibility: Compatibility): StepTurns {
  const text = step.observation ? observationTextOf(step.observation, callNumber - 1, compatibility) : undefined;
  return { modelOutput: step.modelOutput, observationText: text };
}

/**
 * Runs one CodeAct episode (METHOD §2) and returns its trajectory; `onEvent` hears every step as it happens.
 * Ends when the code calls `final_answer`, or after `maxSteps` with the fallback answer call.
 */
export async function runAgentEpisode(options: AgentEpisodeOptions, onEvent: (event: AgentEvent) => void = () => undefined): Promise<Trajectory> {
  const { endpoint, episode, prompt, task, signal } = options;
  const mode = options.mode ?? { kind: 'greedy' };
  const maxSteps = options.maxSteps ?? 5;
  const n = mode.kind === 'sag' ? mode.candidates : 1;
  const sampling: SamplingSettings = { ...(mode.kind === 'sag' ? sagSampling : greedySampling), ...options.sampling };
  const systemPrompt = renderSystemPrompt(prompt, options.tools ?? defaultAgentTools, options.authorizedImports ?? DEFAULT_ALLOWED_IMPORTS);
  const declaredCompatibility = compatibilityOf(options);
  const compatibility = declaredCompatibility ?? 'studio';

  const origin: Origin = {
    kind: options.originKind,
    model: endpoint.profile.model,
    endpoint: endpoint.profile.name,
    sampling: storedSampling(sampling, n),
    promptProfile: prompt.name,
    promptHash: promptProfileHash(prompt),
    startedAt: new Date().toISOString(),
  };
  if (options.firstThoughtPrefix !== undefined) origin.firstThoughtPrefix = options.firstThoughtPrefix;
  if (options.cotReply !== undefined) origin.cotReply = options.cotReply;
  if (mode.kind === 'sag') {
    origin.sag = { candidates: mode.candidates, isolation: mode.isolation };
    if (mode.adaptive) origin.sag.adaptive = { ...mode.adaptive };
    if (mode.voteKeys === 'normalized') origin.sag.voteKeys = 'normalized';
  }
  if (declaredCompatibility !== undefined) origin.compatibility = declaredCompatibility;
  const trajectory = newTrajectory({ task, origin, ...(options.trajectoryId ? { id: options.trajectoryId } : {}) });

  const steps: Step[] = [...(options.priorSteps ?? [])];
  const turns: StepTurns[] = steps.map((s, i) => stepTurns(s, i + 1, compatibility));
  if (options.replayPriorCode) {
    for (const prior of steps) await episode.exec(prior.code, signal);
  }

  const finish = (answer: string, fromFallback: boolean, fallbackOutput?: string): Trajectory => {
    trajectory.steps = steps;
    trajectory.finalAnswer = answer;
    if (fromFallback) {
      trajectory.fromFallback = true;
      if (fallbackOutput !== undefined) trajectory.fallbackOutput = fallbackOutput;
    }
    onEvent({ type: 'final-answer', answer, fromFallback });
    return trajectory;
  };

  for (let index = steps.length; index < maxSteps; index += 1) {
    signal?.throwIfAborted();
    onEvent({ type: 'step-started', step: index });
    const startedAt = new Date().toISOString();
    const prefix = index === 0 ? options.firstThoughtPrefix : undefined;
    const messages = actionMessages(systemPrompt, task.question, prompt, turns);
    const stepStarted = performance.now();
    let modelMs = 0;
    const sample = async (count: number, seed: number | undefined, firstChoice: number): Promise<ChatResult> => {
      const started = performance.now();
      const result = await endpoint.complete({
        messages: prefix !== undefined ? [...messages, { role: 'assistant', content: prefix }] : messages,
        continueFinalMessage: prefix !== undefined,
        stop: ACTION_STOP_SEQUENCES,
        n: count,
        sampling: seed === sampling.seed ? sampling : { ...sampling, seed },
        signal,
        ...(options.streamText
          ? { onText: (e) => onEvent({ type: 'model-text', step: index, choice: firstChoice + e.choiceIndex, delta: e.delta, ...(e.restarted ? { restarted: true } : {}) }) }
          : {}),
      });
      modelMs += performance.now() - started;
      return result;
    };
    const callNumber = index + 1;

    let outcome: ExecOutcome;
    let chosen = 0;
    let texts: string[];
    let extracted: ExtractedCode[];
    let tokens: { prompt: number; completion: number };
    let sagFields: Partial<Step> = {};
    if (mode.kind === 'greedy') {
      const result = await sample(1, sampling.seed, 0);
      texts = result.choices.map((c) => storedModelOutput((prefix ?? '') + c.text));
      onEvent({ type: 'model-reply', step: index, texts });
      extracted = texts.map(extractCode);
      tokens = { prompt: result.usage.promptTokens, completion: result.usage.completionTokens };
      onEvent({ type: 'code', step: index, code: extracted[0].code });
      outcome = adjustForMissingBlock(extracted[0], await episode.exec(extracted[0].code, signal));
    } else {
      const sag = await runSagStep({
        settings: mode,
        episode,
        sample,
        sampling,
        ...(prefix !== undefined ? { prefix } : {}),
        adjust: adjustForMissingBlock,
        onReply: (replies) => onEvent({ type: 'model-reply', step: index, texts: replies }),
        ...(options.symbolic ? { symbolic: options.symbolic } : {}),
        ...(signal ? { signal } : {}),
      });
      ({ texts, extracted, tokens, outcome } = sag);
      chosen = sag.vote.winner;
      if (mode.isolation === 'shared' && !sag.vote.noValidCandidate) {
        // The reference runs the winner once more in the shared state, after every candidate's side effects;
        // that run is what the model is shown.
        outcome = adjustForMissingBlock(extracted[chosen], await episode.exec(extracted[chosen].code, signal));
      }
      sagFields = sagStepFields(sag);
      onEvent({ type: 'vote', step: index, winner: chosen, candidates: sag.candidates, groups: sag.vote.groups, ...(sag.adaptive ? { rounds: sag.adaptive.rounds, stop: sag.adaptive.stop } : {}) });
      onEvent({ type: 'code', step: index, code: extracted[chosen].code });
    }
    // Adaptive SAG interleaves requests and executions: execution time is the step's time less the model's.
    const execMs = Math.max(0, performance.now() - stepStarted - modelMs);
    const observationText = observationTurn(outcome, callNumber, compatibility);
    onEvent({ type: 'observation', step: index, text: observationText, outcome });
    const record: Step = {
      thought: extractThought(texts[chosen]),
      code: extracted[chosen].code,
      modelOutput: texts[chosen],
      observation: observationFromOutcome(outcome, observationText),
      ...sagFields,
      timings: { modelMs, execMs, startedAt },
      tokens,
    };
    steps.push(record);
    turns.push({ modelOutput: record.modelOutput, observationText });
    onEvent({ type: 'step-finished', step: index, record });
    if (outcome.finalAnswer !== undefined) return finish(outcome.finalAnswer, false);
  }

  signal?.throwIfAborted();
  onEvent({ type: 'fallback-started' });
  const fallback = await endpoint.complete({
    messages: fallbackMessages(task.question, prompt, turns),
    n: 1,
    sampling: mode.kind === 'sag' ? { ...sampling, temperature: greedySampling.temperature, topP: greedySampling.topP, ...options.sampling } : sampling,
    signal,
    ...(options.streamText ? { onText: (e) => onEvent({ type: 'model-text', step: maxSteps, choice: e.choiceIndex, delta: e.delta, ...(e.restarted ? { restarted: true } : {}) }) } : {}),
  });
  const reply = fallback.choices[0]?.text ?? '';
  return finish(reply.trim(), true, reply);
}

/**
 * The episode as an async iterable of events; the generator's return value is the trajectory. Breaking
 * out of the loop does not stop the episode: abort its `signal` for that.
 */
export async function* agentEpisodeEvents(options: AgentEpisodeOptions): AsyncGenerator<AgentEvent, Trajectory, undefined> {
  const queue: AgentEvent[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  const run = runAgentEpisode(options, (event) => {
    queue.push(event);
    wake?.();
  });
  // The rejection is delivered by the `await run` below; this only keeps it from being reported as unhandled meanwhile.
  const markSettled = (): void => {
    settled = true;
    wake?.();
  };
  run.then(markSettled, markSettled);
  for (;;) {
    while (queue.length > 0) yield queue.shift() as AgentEvent;
    if (settled) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  return await run;
}

/** The text of an error outcome, for one-line displays (CLI, logs). */
export function describeStepError(error: ExecError): string {
  return error.type === MISSING_CODE_BLOCK_TYPE ? error.message : formatErrorText(error);
}
