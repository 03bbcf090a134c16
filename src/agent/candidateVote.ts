/**
 * The SAG vote (METHOD §5): valid candidates are grouped by their exact print output (stdout: the reference's
 * logs hold print output only, and a warning on stderr must not split a vote); the largest group
 * wins, ties go to the group seen first, and the group's first member is chosen. When every group has one
 * member the first valid candidate wins (the same rule, stated for clarity). No valid candidate: candidate 0.
 */
export interface VoteInput {
  valid: boolean;
  /** The exact print output (stdout), or its normalised form (`voteKeys.ts`). */
  voteKey: string;
}

export interface VoteResult {
  winner: number;
  /** Groups of valid candidates in order of first appearance; members ascending. */
  groups: { voteKey: string; members: number[] }[];
  /** True when no candidate was valid and candidate 0 was taken by default. */
  noValidCandidate: boolean;
}

export function voteOnCandidates(candidates: readonly VoteInput[]): VoteResult {
  if (candidates.length === 0) throw new Error('voteOnCandidates: no candidates');
  const groups: { voteKey: string; members: number[] }[] = [];
  candidates.forEach((c, index) => {
    if (!c.valid) return;
    const group = groups.find((g) => g.voteKey === c.voteKey);
    if (group) group.members.push(index);
    else groups.push({ voteKey: c.voteKey, members: [index] });
  });
  if (groups.length === 0) return { winner: 0, groups, noValidCandidate: true };
  let best = groups[0];
  for (const g of groups) if (g.members.length > best.members.length) best = g;
  return { winner: best.members[0], groups, noValidCandidate: false };
}

/**
 * Adaptive SAG: candidates are drawn in rounds and the step stops drawing once more candidates could not
 * change the vote, or once the drawn candidates agree enough. The vote itself is {@link voteOnCandidates}.
 */
export interface AdaptiveSag {
  /** Candidates drawn in the first round (one request). */
  firstRound: number;
  /** Candidates drawn in each later round, up to the step's budget. */
  roundSize: number;
  /**
   * Stop once the leading group holds at least this share of the candidates drawn so far (1: every drawn
   * candidate is valid and prints the same). Independently, drawing always stops once the remaining
   * budget could not change the winner.
   */
  agreement: number;
}

/** Adaptive SAG's defaults: a first round of 3, then rounds of 3, stopping early only when every drawn candidate agrees. */
export const adaptiveSagDefaults: AdaptiveSag = { firstRound: 3, roundSize: 3, agreement: 1 };

/** Why a step stopped drawing candidates. */
export type AdaptiveStopReason = 'decided' | 'agreement' | 'budget';

/**
 * Whether an adaptive step may stop after the candidates drawn so far, with `budget` candidates at most.
 *
 * `decided`: no way of filling the remaining budget changes the winner. A group seen before the leader needs
 * strictly fewer members than the leader even with every remaining candidate (ties go to the group seen
 * first); a group seen after it, or a group not seen yet, must not be able to pass it. With no valid
 * candidate yet nothing is decided: a later valid one would win over the all-fail rule.
 */
export function adaptiveStop(drawn: readonly VoteInput[], budget: number, agreement: number): AdaptiveStopReason | undefined {
  const remaining = budget - drawn.length;
  if (remaining <= 0) return 'budget';
  const vote = voteOnCandidates(drawn);
  if (vote.noValidCandidate) return undefined;
  const leaderIndex = vote.groups.findIndex((g) => g.members.includes(vote.winner));
  const leader = vote.groups[leaderIndex].members.length;
  const safeFrom = (g: { members: number[] }, i: number): boolean =>
    i === leaderIndex || (i < leaderIndex ? g.members.length + remaining < leader : g.members.length + remaining <= leader);
  if (vote.groups.every(safeFrom) && remaining <= leader) return 'decided';
  if (leader / drawn.length >= agreement) return 'agreement';
  return undefined;
}

/** Candidates to draw in round `round` (0-based) after `drawn` of a budget of `budget`. */
export function roundSizeOf(adaptive: AdaptiveSag, round: number, drawn: number, budget: number): number {
  return Math.max(0, Math.min(round === 0 ? adaptive.firstRound : adaptive.roundSize, budget - drawn));
}

/**
 * The sampling seed of round `round`: the run's seed for the first round (so a one-round step sends what a
 * fixed run sends), then seeds derived from it, so a resumed or repeated run draws the same candidates.
 */
export function roundSeed(seed: number | undefined, round: number): number | undefined {
  if (seed === undefined || round === 0) return seed;
  // An odd multiplier spreads consecutive rounds apart; the result stays a non-negative 31-bit integer.
  return (((seed + Math.imul(round, 0x9e3779b1)) >>> 0) & 0x7fffffff) >>> 0;
}
