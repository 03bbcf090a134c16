import { adaptiveSagDefaults, type AdaptiveSag } from '../agent/candidateVote';
import { type VoteKeyMode } from '../agent/voteKeys';
import { adaptiveSagSchema } from '../eval/evalConfig';
import { type CliOptionSpecs, CliUsageError, optionalIntOption, type ParsedCliArgs, stringOption } from './command';

/** The SAG flags `ask` and `eval` share beside `--sag N`: adaptive rounds and the vote key. */
export const sagCliOptions = {
  adaptive: { type: 'boolean', help: 'SAG in rounds: stop drawing once more candidates could not change the vote (--sag N is then the most per step)' },
  'first-round': { type: 'string', value: 'K', help: `with --adaptive: candidates of the first round (default ${adaptiveSagDefaults.firstRound})` },
  'round-size': { type: 'string', value: 'K', help: `with --adaptive: candidates of each further round (default ${adaptiveSagDefaults.roundSize})` },
  agreement: { type: 'string', value: 'X', help: `with --adaptive: stop once the leading group holds this share of the candidates drawn (default ${adaptiveSagDefaults.agreement}: all agree)` },
  'vote-keys': { type: 'string', value: 'exact|normalized', help: 'what the vote compares (default exact print output; normalized also groups 7 / 7.0, trailing spaces and equal expressions)' },
} as const satisfies CliOptionSpecs;

/** `adaptive` and `voteKeys` of a SAG mode from the flags; a usage error for flags that do not fit together. */
export function sagExtrasFromArgs(args: ParsedCliArgs, sag: boolean): { adaptive?: AdaptiveSag; voteKeys?: VoteKeyMode } {
  const roundFlags = (['first-round', 'round-size', 'agreement'] as const).filter((k) => args.values[k] !== undefined);
  const voteKeys = stringOption(args, 'vote-keys');
  const adaptive = args.values.adaptive === true;
  if (!sag && (adaptive || roundFlags.length || voteKeys !== undefined)) {
    throw new CliUsageError(`--${adaptive ? 'adaptive' : (roundFlags[0] ?? 'vote-keys')} applies to SAG, not to greedy decoding`);
  }
  if (!adaptive && roundFlags.length) throw new CliUsageError(`--${roundFlags[0]} applies to --adaptive`);
  if (voteKeys !== undefined && voteKeys !== 'exact' && voteKeys !== 'normalized') throw new CliUsageError(`--vote-keys must be exact or normalized, got "${voteKeys}"`);
  const out: { adaptive?: AdaptiveSag; voteKeys?: VoteKeyMode } = {};
  if (voteKeys === 'normalized') out.voteKeys = voteKeys;
  if (!adaptive) return out;
  const agreement = stringOption(args, 'agreement');
  const parsed = adaptiveSagSchema.safeParse({
    firstRound: optionalIntOption(args, 'first-round'),
    roundSize: optionalIntOption(args, 'round-size'),
    agreement: agreement === undefined ? undefined : Number(agreement),
  });
  if (!parsed.success) {
    const flag: Record<string, string> = { firstRound: '--first-round', roundSize: '--round-size', agreement: '--agreement' };
    throw new CliUsageError(parsed.error.issues.map((i) => `${flag[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`).join('; '));
  }
  out.adaptive = parsed.data;
  return out;
}
