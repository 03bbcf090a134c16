import { type Compatibility, compatibilities, profileLabels } from '../trajectory/compatibility';
import { type BenchmarkMetrics, type Disagreement, formatDisagreements, pairedDifferenceInterval, type QuestionResult, type RunMetrics, type SamplingCost } from './metrics';

/**
 * Two runs side by side: per-benchmark deltas and the questions that flipped either way (paired by
 * benchmark name and question id). Pure data, for the dashboard and the CLI.
 */

export interface BenchmarkDelta {
  name: string;
  a?: BenchmarkMetrics;
  b?: BenchmarkMetrics;
  /** b − a accuracy, when both runs have the benchmark. */
  accuracyDelta?: number;
  chosenParseRateDelta?: number;
  chosenExecRateDelta?: number;
  /** The accuracy difference (B − A) on the questions both runs answered, with its 95 % interval. */
  pairedDelta?: PairedDelta;
  /** B's saving of sampled actions and generated tokens per question against A (0.4: 40 % fewer). */
  candidateSaving?: number;
  tokenSaving?: number;
  /** Both runs' accuracy under each compatibility profile, and B − A under it. */
  byProfile: Record<Compatibility, ProfileDelta>;
}

/** A benchmark's (or the average's) accuracy under one profile in A and in B. */
export interface ProfileDelta {
  a?: number;
  b?: number;
  delta?: number;
}

export interface PairedDelta {
  questions: number;
  delta: number;
  interval: { low: number; high: number };
}



export interface FlippedQuestion {
  benchmark: string;
  taskId: string;
  question: string;
  a: QuestionResult;
  b: QuestionResult;
}

export interface RunComparison {
  benchmarks: BenchmarkDelta[];
  averageAccuracy: { a: number; b: number; delta: number };
  /** Each run's own compatibility profile (whose verdicts `accuracy` is). */
  profiles: { a: Compatibility; b: Compatibility };
  /** The average accuracy under each profile. */
  averageAccuracyByProfile: Record<Compatibility, ProfileDelta>;
  /** The questions each run's two scorings judged differently. */
  disagreements: { a: Disagreement[]; b: Disagreement[] };
  /** Every paired question pooled: B − A with its 95 % interval. */
  pairedDelta?: PairedDelta;
  sampling: { a: SamplingCost; b: SamplingCost; candidateSaving?: number; tokenSaving?: number };
  /** Wrong in A, right in B. */
  fixed: FlippedQuestion[];
  /** Right in A, wrong in B. */
  broken: FlippedQuestion[];
  /** Questions both runs answered, and how many of them agree on the verdict. */
  paired: number;
  unchanged: number;
}

function key(q: Pick<QuestionResult, 'benchmark' | 'taskId'>): string {
  return `${q.benchmark}\u0000${q.taskId}`;
}

/** Paired verdict counts, turned into the difference and its interval. */
class PairCounts {
  bothRight = 0;
  onlyA = 0;
  onlyB = 0;
  bothWrong = 0;
  add(a: boolean, b: boolean): void {
    if (a && b) this.bothRight++;
    else if (a) this.onlyA++;
    else if (b) this.onlyB++;
    else this.bothWrong++;
  }
  delta(): PairedDelta | undefined {
    const n = this.bothRight + this.onlyA + this.onlyB + this.bothWrong;
    if (n === 0) return undefined;
    return { questions: n, delta: (this.onlyB - this.onlyA) / n, interval: pairedDifferenceInterval(this.bothRight, this.onlyA, this.onlyB, this.bothWrong) };
  }
}

/** 1 − b / a: the share B saves against A; undefined when A spent nothing. */
function saving(a: number, b: number): number | undefined {
  return a > 0 ? 1 - b / a : undefined;
}

export function compareRuns(a: RunMetrics, b: RunMetrics): RunComparison {
  const names = [...a.benchmarks.map((x) => x.name), ...b.benchmarks.map((x) => x.name).filter((n) => !a.benchmarks.some((x) => x.name === n))];
  const benchmarks = names.map((name): BenchmarkDelta => {
    const ma = a.benchmarks.find((x) => x.name === name);
    const mb = b.benchmarks.find((x) => x.name === name);
    const profileDelta = (p: Compatibility): ProfileDelta => {
      const pa = ma?.byProfile[p].accuracy;
      const pb = mb?.byProfile[p].accuracy;
      return { ...(pa !== undefined ? { a: pa } : {}), ...(pb !== undefined ? { b: pb } : {}), ...(pa !== undefined && pb !== undefined ? { delta: pb - pa } : {}) };
    };
    const delta: BenchmarkDelta = { name, byProfile: { studio: profileDelta('studio'), reference: profileDelta('reference') } };
    if (ma) delta.a = ma;
    if (mb) delta.b = mb;
    if (ma && mb) {
      delta.accuracyDelta = mb.accuracy - ma.accuracy;
      delta.chosenParseRateDelta = mb.chosen.parseRate - ma.chosen.parseRate;
      delta.chosenExecRateDelta = mb.chosen.execRate - ma.chosen.execRate;
      const candidateSaving = saving(ma.meanCandidates, mb.meanCandidates);
      const tokenSaving = saving(ma.meanCompletionTokens, mb.meanCompletionTokens);
      if (candidateSaving !== undefined) delta.candidateSaving = candidateSaving;
      if (tokenSaving !== undefined) delta.tokenSaving = tokenSaving;
    }
    return delta;
  });
  const byKey = new Map(a.questions.map((q) => [key(q), q]));
  const fixed: FlippedQuestion[] = [];
  const broken: FlippedQuestion[] = [];
  const pooled = new PairCounts();
  const perBenchmark = new Map<string, PairCounts>();
  let paired = 0;
  for (const qb of b.questions) {
    const qa = byKey.get(key(qb));
    if (!qa) continue;
    paired++;
    pooled.add(qa.correct, qb.correct);
    let counts = perBenchmark.get(qb.benchmark);
    if (!counts) perBenchmark.set(qb.benchmark, (counts = new PairCounts()));
    counts.add(qa.correct, qb.correct);
    if (qa.correct === qb.correct) continue;
    const flip: FlippedQuestion = { benchmark: qb.benchmark, taskId: qb.taskId, question: qb.question, a: qa, b: qb };
    (qb.correct ? fixed : broken).push(flip);
  }
  for (const d of benchmarks) {
    const pairedDelta = perBenchmark.get(d.name)?.delta();
    if (pairedDelta) d.pairedDelta = pairedDelta;
  }
  const costA = a.sampling;
  const costB = b.sampling;
  const sampling: RunComparison['sampling'] = { a: costA, b: costB };
  const candidateSaving = saving(costA.candidatesPerQuestion, costB.candidatesPerQuestion);
  const tokenSaving = saving(costA.tokensPerQuestion, costB.tokensPerQuestion);
  if (candidateSaving !== undefined) sampling.candidateSaving = candidateSaving;
  if (tokenSaving !== undefined) sampling.tokenSaving = tokenSaving;
  const pooledDelta = pooled.delta();
  return {
    benchmarks,
    averageAccuracy: { a: a.averageAccuracy, b: b.averageAccuracy, delta: b.averageAccuracy - a.averageAccuracy },
    profiles: { a: a.profile, b: b.profile },
    averageAccuracyByProfile: Object.fromEntries(
      compatibilities.map((p) => [p, { a: a.averageAccuracyByProfile[p], b: b.averageAccuracyByProfile[p], delta: b.averageAccuracyByProfile[p] - a.averageAccuracyByProfile[p] }]),
    ) as Record<Compatibility, ProfileDelta>,
    disagreements: { a: a.disagreements, b: b.disagreements },
    ...(pooledDelta ? { pairedDelta: pooledDelta } : {}),
    sampling,
    fixed,
    broken,
    paired,
    unchanged: paired - fixed.length - broken.length,
  };
}

function signedPoints(x: number | undefined): string {
  if (x === undefined) return '—';
  const points = 100 * x;
  return `${points >= 0 ? '+' : ''}${points.toFixed(1)}`;
}

function intervalPoints(i: { low: number; high: number }): string {
  return `${signedPoints(i.low)} … ${signedPoints(i.high)}`;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** What each run sampled per question, B's saving, and the accuracy difference on the paired questions. */
export function formatSampling(c: RunComparison): string[] {
  const cost = (label: string, s: SamplingCost): string =>
    `${label}: ${s.candidatesPerQuestion.toFixed(1)} actions sampled, ${s.tokensPerQuestion.toFixed(0)} tokens generated, ${s.modelCallsPerQuestion.toFixed(1)} model calls per question`;
  const lines = [cost('A', c.sampling.a), cost('B', c.sampling.b)];
  if (c.sampling.tokenSaving !== undefined && c.sampling.candidateSaving !== undefined) {
    const word = (x: number): string => (x >= 0 ? `${percent(x)} fewer` : `${percent(-x)} more`);
    lines.push(`B samples ${word(c.sampling.candidateSaving)} actions and generates ${word(c.sampling.tokenSaving)} tokens than A`);
  }
  if (c.pairedDelta) {
    const d = c.pairedDelta;
    const within = d.interval.low <= 0 && d.interval.high >= 0;
    lines.push(
      `accuracy B − A on ${d.questions} paired questions: ${signedPoints(d.delta)} points, 95% CI ${intervalPoints(d.interval)}` +
        (within ? ' (the interval includes 0: no difference shown)' : d.delta > 0 ? ' (B is better)' : ' (B is worse)'),
    );
  }
  return lines;
}

/** The comparison as text lines (CLI). */
export function formatComparison(c: RunComparison, labels: { a: string; b: string }): string[] {
  const lines = [`A = ${labels.a} (counts the ${c.profiles.a} profile)`, `B = ${labels.b} (counts the ${c.profiles.b} profile)`, ''];
  if (c.profiles.a !== c.profiles.b) {
    lines.push('note: A and B count different profiles, so the table below compares different scorings; the tables under each profile compare like with like', '');
  }
  const rows = c.benchmarks.map((d) => [
    d.name,
    d.a ? (100 * d.a.accuracy).toFixed(1) : '—',
    d.b ? (100 * d.b.accuracy).toFixed(1) : '—',
    signedPoints(d.accuracyDelta),
    d.pairedDelta ? intervalPoints(d.pairedDelta.interval) : '—',
    signedPoints(d.chosenParseRateDelta),
    signedPoints(d.chosenExecRateDelta),
    d.tokenSaving === undefined ? '—' : percent(d.tokenSaving),
  ]);
  rows.push(['average', (100 * c.averageAccuracy.a).toFixed(1), (100 * c.averageAccuracy.b).toFixed(1), signedPoints(c.averageAccuracy.delta), '', '', '', '']);
  const header = ['benchmark', 'A acc %', 'B acc %', 'Δ points', 'Δ 95% CI (paired)', 'Δ parse err (chosen)', 'Δ exec err (chosen)', 'B saves tokens'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  lines.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) lines.push(line(r));
  lines.push('', ...formatProfileComparison(c));
  lines.push('', ...formatSampling(c));
  lines.push('', `${c.paired} questions in both runs: ${c.fixed.length} fixed (wrong in A, right in B), ${c.broken.length} broken (right in A, wrong in B), ${c.unchanged} unchanged`);
  for (const f of c.fixed) lines.push(`  fixed   ${f.benchmark}/${f.taskId}`);
  for (const f of c.broken) lines.push(`  broken  ${f.benchmark}/${f.taskId}`);
  for (const run of ['a', 'b'] as const) {
    lines.push('', `${run.toUpperCase()}: ${formatDisagreements(c.disagreements[run]).join('\n')}`);
  }
  return lines;
}

function accuracyPoints(x: number | undefined): string {
  return x === undefined ? '—' : (100 * x).toFixed(1);
}

/** Both runs' accuracy under each profile, one small table per profile, each run's own profile marked. */
export function formatProfileComparison(c: RunComparison): string[] {
  const lines: string[] = [];
  for (const p of ['reference', 'studio'] as const) {
    const own = [c.profiles.a === p ? 'A' : '', c.profiles.b === p ? 'B' : ''].filter(Boolean);
    lines.push(`${profileLabels[p]}: accuracy %${own.length ? ` (the profile ${own.join(' and ')} ${own.length > 1 ? 'run' : 'runs'} under)` : ''}`);
    const rows = c.benchmarks.map((d) => [d.name, accuracyPoints(d.byProfile[p].a), accuracyPoints(d.byProfile[p].b), signedPoints(d.byProfile[p].delta)]);
    const avg = c.averageAccuracyByProfile[p];
    rows.push(['average', accuracyPoints(avg.a), accuracyPoints(avg.b), signedPoints(avg.delta)]);
    const header = ['benchmark', 'A', 'B', 'Δ points'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
    lines.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) lines.push(line(r));
    lines.push('');
  }
  lines.pop();
  return lines;
}
