import * as path from 'node:path';
import { ModelEndpoint } from '../llm/modelEndpoint';
import { environmentApiKeys, profileFromEnvironment } from '../llm/profiles';
import { type CliIo, type CliOptionSpecs, CliUsageError } from './command';

/** The judge model from the environment, for a command whose `flag` needs it; a clear error when it is not set. */
export function judgeEndpointFromEnvironment(io: CliIo, flag: string): ModelEndpoint {
  const profile = profileFromEnvironment('judge', io.env);
  if (profile.baseUrls.length === 0) {
    throw new CliUsageError(`${flag} needs the judge endpoint: set TRAJECTORY_STUDIO_JUDGE_BASE_URLS (and _MODEL, and the API key variable)`);
  }
  return new ModelEndpoint(profile, { apiKeys: environmentApiKeys(io.env) });
}

/** How a run scores factual answers, as its config records it, and a line saying why. */
export interface FactualScoringChoice {
  factual: 'judge' | 'exact-match';
  /** The judge model's name, when the judge is used (kept in the run manifest). */
  judgeModel?: string;
  /** `--judge-prompt FILE`, resolved: the user's judge prompt for the run's profile. */
  judgePrompt?: string;
  note: string;
}

/** The factual-scoring flags of `eval` and `generate`, read by {@link factualScoringFromFlags} (and `--f1-threshold` by the commands). */
export const factualScoringCliOptions = {
  judge: { type: 'boolean', help: 'insist on the judge model for factual answers: fail when no judge endpoint is set (by default it judges them whenever its endpoint, TRAJECTORY_STUDIO_JUDGE_BASE_URLS and _MODEL, is set; the manifest records which scoring was used)' },
  'no-judge': { type: 'boolean', help: 'score factual answers by exact match even when a judge endpoint is set' },
  'judge-prompt': { type: 'string', value: 'FILE', help: "a judge prompt file (.judge.txt) in place of the built-in one of the run's profile" },
  'f1-threshold': { type: 'string', value: 'X', help: 'exact-match scoring: also accept an answer with token F1 ≥ X' },
} as const satisfies CliOptionSpecs;

/**
 * Factual scoring for `eval` and `generate`: the judge model whenever its endpoint is configured
 * (METHOD §6 scores factual answers with an LLM judge), exact match when it is not or when `--no-judge`
 * opts out. `--judge` insists on the judge: without an endpoint that is an error, not a silent fallback.
 */
export function factualScoringFromFlags(io: CliIo, flags: { judge: boolean; noJudge: boolean; judgePrompt?: string }): FactualScoringChoice {
  if (flags.judge && flags.noJudge) throw new CliUsageError('pass either --judge or --no-judge');
  if (flags.judgePrompt !== undefined && flags.noJudge) throw new CliUsageError('--judge-prompt gives the judge its prompt: it cannot go with --no-judge');
  const profile = profileFromEnvironment('judge', io.env);
  const configured = profile.baseUrls.length > 0;
  if (flags.noJudge) return { factual: 'exact-match', note: 'factual answers are scored by exact match (--no-judge)' };
  if (!configured) {
    if (flags.judge) judgeEndpointFromEnvironment(io, '--judge');
    if (flags.judgePrompt !== undefined) judgeEndpointFromEnvironment(io, '--judge-prompt'); // throws the error that names the variables
    return { factual: 'exact-match', note: 'factual answers are scored by exact match: no judge endpoint is set (TRAJECTORY_STUDIO_JUDGE_BASE_URLS)' };
  }
  const judgePrompt = flags.judgePrompt === undefined ? undefined : path.resolve(io.cwd, flags.judgePrompt);
  return {
    factual: 'judge',
    judgeModel: profile.model,
    ...(judgePrompt !== undefined ? { judgePrompt } : {}),
    note: `factual answers are judged by ${profile.model} at ${profile.baseUrls.join(', ')}${judgePrompt !== undefined ? ` with the prompt ${judgePrompt}` : ''} (--no-judge scores by exact match)`,
  };
}
