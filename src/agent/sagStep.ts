import { type ChatResult, type SamplingSettings } from '../llm/types';
import { type SymbolicEquality } from '../scoring/sympyChecker';
import { voteOutputOf } from '../trajectory/observationFormat';
import { type CandidateIsolation, type ExecOutcome, type PythonEpisode } from '../sandbox/types';
import { type SagCandidate, type SagRound, type Step } from '../trajectory/schema';
import { type AdaptiveSag, type AdaptiveStopReason, adaptiveStop, roundSeed, roundSizeOf, type VoteResult, voteOnCandidates } from './candidateVote';
import { type ExtractedCode, extractCode, storedModelOutput } from '../trajectory/replyParsing';
import { type VoteKeyMode, voteKeysOf } from './voteKeys';

/** How one SAG step samples, executes and votes (see `AgentMode`). */
export interface SagSettings {
  /** Candidates per step; with `adaptive`, the most a step may draw. */
  candidates: number;
  isolation: CandidateIsolation;
  executeDuplicates?: boolean;
  adaptive?: AdaptiveSag;
  voteKeys?: VoteKeyMode;
}

export interface SagStepInput {
  settings: SagSettings;
  episode: PythonEpisode;
  /** Sends one request for `n` choices with `seed`; `firstChoice` numbers the round's choices in the step. */
  sample: (n: number, seed: number | undefined, firstChoice: number) => Promise<ChatResult>;
  sampling: SamplingSettings;
  /** Text the replies continue (the first-thought prefix on the first step). */
  prefix?: string;
  /** Applies the loop's rule for a reply without a code block to an outcome. */
  adjust: (extracted: ExtractedCode, outcome: ExecOutcome) => ExecOutcome;
  onReply: (texts: string[]) => void;
  symbolic?: SymbolicEquality;
  signal?: AbortSignal;
}

export interface SagStepResult {
  texts: string[];
  extracted: ExtractedCode[];
  candidates: SagCandidate[];
  vote: VoteResult;
  /** The winner's outcome as the vote saw it. */
  outcome: ExecOutcome;
  tokens: { prompt: number; completion: number };
  /** Adaptive steps only: the rounds drawn and why drawing stopped. */
  adaptive?: { rounds: SagRound[]; stop: AdaptiveStopReason };
}

/** Where a candidate's execution is: which `runCandidates` call, and its place in it. */
interface RunLocation {
  batch: number;
  index: number;
}

/**
 * One SAG step (METHOD §5). Fixed: one request for every candidate. Adaptive: rounds of candidates, each one
 * request with its own derived seed, until `adaptiveStop` says more could not change the vote (or the drawn
 * candidates agree enough), at most `candidates` in all. Each distinct code is executed once across rounds
 * when candidates are isolated (unless `executeDuplicates`), and the vote counts every candidate drawn. The
 * episode then continues from the winner's state: adopted from its process when the winner ran in the last
 * round's execution, otherwise by running the winner's code again from the state before the step (the same
 * assumption that lets identical codes share one run).
 */
export async function runSagStep(input: SagStepInput): Promise<SagStepResult> {
  const { settings, episode, signal } = input;
  const budget = settings.candidates;
  const adaptive = settings.adaptive;
  const share = settings.isolation === 'isolated' && settings.executeDuplicates !== true;
  const texts: string[] = [];
  const extracted: ExtractedCode[] = [];
  const sameCodeAs: (number | undefined)[] = [];
  const location: RunLocation[] = [];
  const batches: ExecOutcome[][] = [];
  const firstWithCode = new Map<string, number>();
  const rounds: SagRound[] = [];
  const tokens = { prompt: 0, completion: 0 };
  let outcomes: ExecOutcome[] = [];
  let candidates: SagCandidate[] = [];
  let stop: AdaptiveStopReason | undefined;

  for (let round = 0; ; round += 1) {
    const size = adaptive ? roundSizeOf(adaptive, round, texts.length, budget) : budget;
    const seed = adaptive ? roundSeed(input.sampling.seed, round) : input.sampling.seed;
    const result = await input.sample(size, seed, texts.length);
    tokens.prompt += result.usage.promptTokens;
    tokens.completion += result.usage.completionTokens;
    const first = texts.length;
    for (const choice of result.choices) {
      const text = storedModelOutput((input.prefix ?? '') + choice.text);
      texts.push(text);
      extracted.push(extractCode(text));
    }
    input.onReply([...texts]);

    const toRun: string[] = [];
    for (let i = first; i < texts.length; i += 1) {
      const code = extracted[i].code;
      const earlier = share ? firstWithCode.get(code) : undefined;
      sameCodeAs.push(earlier);
      if (earlier !== undefined) {
        location.push(location[earlier]);
        continue;
      }
      if (share) firstWithCode.set(code, i);
      location.push({ batch: batches.length, index: toRun.length });
      toRun.push(code);
    }
    if (toRun.length > 0) batches.push((await episode.runCandidates(toRun, settings.isolation, signal)).map((e) => e.outcome));

    outcomes = extracted.map((e, i) => input.adjust(e, batches[location[i].batch][location[i].index]));
    // The vote compares what each candidate printed to stdout: warnings on stderr never split it.
    const keys = await voteKeysOf(outcomes.map(voteOutputOf), settings.voteKeys ?? 'exact', input.symbolic, signal);
    candidates = outcomes.map((o, i) => {
      const candidate: SagCandidate = { text: texts[i], code: extracted[i].code, valid: !o.error, voteKey: keys[i], printOutput: o.printOutput, lastValue: o.lastValue };
      if (o.error) candidate.error = { ...o.error };
      if (o.finalAnswer !== undefined) candidate.finalAnswer = o.finalAnswer;
      const same = sameCodeAs[i];
      if (same !== undefined) candidate.sameCodeAs = same;
      return candidate;
    });
    if (adaptive) {
      const drawn: SagRound = { candidates: result.choices.length, tokens: { prompt: result.usage.promptTokens, completion: result.usage.completionTokens } };
      if (seed !== undefined) drawn.seed = seed;
      rounds.push(drawn);
    }
    if (!adaptive) break;
    // A server that returns fewer choices than asked must not make the loop spin: the budget counts requests' worth.
    stop = result.choices.length === 0 ? 'budget' : adaptiveStop(candidates, budget, adaptive.agreement);
    if (stop) break;
    signal?.throwIfAborted();
  }

  const vote = voteOnCandidates(candidates);
  const winner = location[vote.winner];
  const outcome = outcomes[vote.winner];
  if (winner.batch === batches.length - 1) {
    await episode.adoptCandidate(winner.index);
  } else if (settings.isolation === 'isolated' && !lostItsProcess(outcome)) {
    await episode.runCandidates([extracted[vote.winner].code], 'isolated', signal);
    await episode.adoptCandidate(0);
  }
  const out: SagStepResult = { texts, extracted, candidates, vote, outcome, tokens };
  if (adaptive && stop) out.adaptive = { rounds, stop };
  return out;
}

/** A candidate killed or crashed left no state; running it again would only cost its time limit again. */
function lostItsProcess(outcome: ExecOutcome): boolean {
  return outcome.error?.kind === 'killed' || outcome.error?.kind === 'crash' || outcome.error?.kind === 'timeout';
}

/** The step fields a SAG step records. */
export function sagStepFields(result: SagStepResult): Pick<Step, 'candidates' | 'winner' | 'voteGroups' | 'sagRounds' | 'sagStop'> {
  const fields: Pick<Step, 'candidates' | 'winner' | 'voteGroups' | 'sagRounds' | 'sagStop'> = {
    candidates: result.candidates,
    winner: result.vote.winner,
    voteGroups: result.vote.groups,
  };
  if (result.adaptive) {
    fields.sagRounds = result.adaptive.rounds;
    fields.sagStop = result.adaptive.stop;
  }
  return fields;
}
