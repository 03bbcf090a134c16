import { type Compatibility, compatibilities, profileLabels } from '../trajectory/compatibility';
import { type ProfileVerdict, type Step, type TaskDomain, type Trajectory } from '../trajectory/schema';

/**
 * The numbers of an evaluation (METHOD §8): accuracy per benchmark with a confidence interval and the
 * average over benchmarks (questions that failed to run count as wrong, as the method counts); parse- and
 * execution-error rates of the sampled candidates and of the chosen actions (what SAG changes); vote
 * agreement; retrieval calls; steps; tokens; wall time. Computed from trajectories only, so the metrics of
 * a run folder can always be recomputed from its files.
 *
 * Every accuracy is also given under both compatibility profiles (docs/COMPATIBILITY.md): the paper's way of
 * scoring (`reference`) and the studio's corrected one (`studio`), from each record's `judgement.byProfile`.
 * A record judged before profiles existed has one verdict only: its `correct` counts for both profiles, and
 * the metrics say how many records that was (`withoutBothVerdicts`).
 */

/** What the run engine stores under `meta.eval` of each trajectory. */
export interface EvalTrajectoryMeta {
  benchmark: string;
  /** Wall time of the question (episode and scoring). */
  durationMs: number;
  /** Why the question could not be run or scored (server gave up, sandbox crashed); the question counts as wrong. */
  runError?: string;
}

export function evalMetaOf(t: Trajectory): EvalTrajectoryMeta | undefined {
  const value = t.meta?.eval;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.benchmark !== 'string') return undefined;
  return {
    benchmark: v.benchmark,
    durationMs: typeof v.durationMs === 'number' ? v.durationMs : 0,
    ...(typeof v.runError === 'string' ? { runError: v.runError } : {}),
  };
}

/** A 95 % Wilson score interval for `successes` out of `n` (sound for small n and for 0 % or 100 %). */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // At 0 % and 100 % one bound is exactly the observed rate; rounding must not move it inside.
  return { low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === n ? 1 : Math.min(1, centre + half) };
}

/**
 * A 95 % interval for the difference of two accuracies measured on the same questions (B − A), from the
 * paired counts: `bothRight`, `onlyA` (right in A only), `onlyB`, `bothWrong`. Newcombe's hybrid score
 * method for paired proportions (Newcombe 1998, method 10): Wilson intervals of both accuracies, combined
 * with the correlation of the pairs, so it is sound at 0 % and 100 % and tight when most verdicts agree.
 */
export function pairedDifferenceInterval(bothRight: number, onlyA: number, onlyB: number, bothWrong: number): { low: number; high: number } {
  const n = bothRight + onlyA + onlyB + bothWrong;
  if (n === 0) return { low: -1, high: 1 };
  const pA = (bothRight + onlyA) / n;
  const pB = (bothRight + onlyB) / n;
  const a = wilsonInterval(bothRight + onlyA, n);
  const b = wilsonInterval(bothRight + onlyB, n);
  const margins = (bothRight + onlyA) * (onlyB + bothWrong) * (bothRight + onlyB) * (onlyA + bothWrong);
  const phi = margins > 0 ? (bothRight * bothWrong - onlyA * onlyB) / Math.sqrt(margins) : 0;
  const diff = pB - pA;
  const below = Math.sqrt(Math.max(0, (pB - b.low) ** 2 - 2 * phi * (pB - b.low) * (a.high - pA) + (a.high - pA) ** 2));
  const above = Math.sqrt(Math.max(0, (b.high - pB) ** 2 - 2 * phi * (b.high - pB) * (pA - a.low) + (pA - a.low) ** 2));
  return { low: Math.max(-1, diff - below), high: Math.min(1, diff + above) };
}

/** Counts of actions and how many failed to parse or to execute. */
export interface ErrorCounts {
  actions: number;
  parseErrors: number;
  execErrors: number;
}

export interface ErrorRates extends ErrorCounts {
  parseRate: number;
  execRate: number;
}

function rates(c: ErrorCounts): ErrorRates {
  return { ...c, parseRate: c.actions ? c.parseErrors / c.actions : 0, execRate: c.actions ? c.execErrors / c.actions : 0 };
}

function addCounts(into: ErrorCounts, from: ErrorCounts): void {
  into.actions += from.actions;
  into.parseErrors += from.parseErrors;
  into.execErrors += from.execErrors;
}

function countError(c: ErrorCounts, error: { kind: string } | undefined): void {
  c.actions++;
  if (!error) return;
  if (error.kind === 'parse') c.parseErrors++;
  else c.execErrors++;
}

/** One question's result, as the dashboard lists it. */
export interface QuestionResult {
  benchmark: string;
  domain: TaskDomain;
  taskId: string;
  question: string;
  goldAnswer?: string;
  finalAnswer?: string;
  correct: boolean;
  /** How it was judged, or why it counts as wrong. */
  verdict: string;
  /**
   * The verdict under each compatibility profile. A run error or a missing answer is wrong under both; a
   * record scored before both verdicts were stored counts its one verdict for both (`singleVerdict`).
   */
  correctByProfile: Record<Compatibility, boolean>;
  /** True when the record holds one scorer's verdict (no `judgement.byProfile`), counted for both profiles. */
  singleVerdict: boolean;
  runError?: string;
  steps: number;
  /** The step to open: the first whose chosen action failed; else the last; 0 when there are none. */
  focusStep: number;
  /** True when some chosen action failed (parse or execution). */
  hasFailingStep: boolean;
  fromFallback: boolean;
  retrievalCalls: number;
  /** Every token the model generated for the question (all SAG candidates, all rounds, the fallback excluded). */
  completionTokens: number;
  /** Actions sampled: SAG candidates drawn over all steps (greedy: one per step). */
  candidates: number;
  /** Model requests for the steps (adaptive SAG: one per round). */
  modelCalls: number;
  wallMs: number;
  /** `trajectories/<benchmark>.traj.jsonl`, relative to the run folder. */
  file: string;
  /** 0-based record number in that file (the editor's slot). */
  slot: number;
  /** Trajectory id. */
  id: string;
}

/** Accuracy under one compatibility profile. */
export interface ProfileAccuracy {
  correct: number;
  accuracy: number;
  interval: { low: number; high: number };
}

/**
 * A question the two profiles' scorers judged differently: what was answered, what the gold is, and each
 * profile's verdict with the rule that decided.
 */
export interface Disagreement {
  benchmark: string;
  domain: TaskDomain;
  taskId: string;
  question: string;
  prediction?: string;
  gold?: string;
  studio: ProfileVerdict;
  reference: ProfileVerdict;
  /** Where the trajectory lies (as in `QuestionResult`), so it opens like any question of the list. */
  file: string;
  slot: number;
  focusStep: number;
  id: string;
}

export interface BenchmarkMetrics {
  name: string;
  domain?: TaskDomain;
  questions: number;
  /** Under the run's own compatibility profile (the record's `judgement.correct`). */
  correct: number;
  accuracy: number;
  interval: { low: number; high: number };
  /** The accuracy under each profile: the paper's scoring (`reference`) and the corrected one (`studio`). */
  byProfile: Record<Compatibility, ProfileAccuracy>;
  /** Questions whose two profiles' verdicts differ. */
  disagreements: number;
  /** Records with one verdict only (judged before profiles existed): their verdict counts for both profiles. */
  withoutBothVerdicts: number;
  runErrors: number;
  fallbackAnswers: number;
  meanSteps: number;
  meanRetrievalCalls: number;
  meanCompletionTokens: number;
  completionTokens: number;
  promptTokens: number;
  /** Actions sampled per question (SAG candidates drawn; greedy: one per step), and in all. */
  meanCandidates: number;
  candidates: number;
  /** Model requests for the steps, per question and in all. */
  meanModelCalls: number;
  modelCalls: number;
  meanWallMs: number;
  /** Every sampled candidate (greedy: every action). */
  sampled: ErrorRates;
  /** The actions that were executed for the episode (SAG: the vote winners). */
  chosen: ErrorRates;
  /** Mean size of the winning vote group over N, over SAG steps; undefined for greedy runs. */
  voteAgreement?: number;
  /** SAG steps where no candidate was valid (candidate 0 was taken). */
  noValidCandidateSteps: number;
}

/** What a run sampled per question, over every benchmark (what adaptive SAG saves shows here). */
export interface SamplingCost {
  questions: number;
  candidatesPerQuestion: number;
  tokensPerQuestion: number;
  modelCallsPerQuestion: number;
}

export interface RunMetrics {
  metricsVersion: 1;
  generatedAt: string;
  /** The run's own compatibility profile: the one whose verdicts `accuracy` and `averageAccuracy` are. */
  profile: Compatibility;
  benchmarks: BenchmarkMetrics[];
  /** Mean of the benchmarks' accuracies (the method's headline average). */
  averageAccuracy: number;
  /** The same mean under each profile. */
  averageAccuracyByProfile: Record<Compatibility, number>;
  /** Records with one verdict only, over every benchmark: their verdict counts for both profiles. */
  withoutBothVerdicts: number;
  /** Every question the two profiles judged differently, in benchmark order. */
  disagreements: Disagreement[];
  /** All questions pooled. */
  pooled: { questions: number; correct: number; accuracy: number; interval: { low: number; high: number } };
  sampled: ErrorRates;
  chosen: ErrorRates;
  voteAgreement?: number;
  sampling: SamplingCost;
  /** Questions the run selected but has not finished (a cancelled or running run). */
  pending: number;
  questions: QuestionResult[];
}

function stepErrors(step: Step): { sampled: ErrorCounts; chosen: ErrorCounts; agreement?: number; noValid: boolean } {
  const chosen: ErrorCounts = { actions: 0, parseErrors: 0, execErrors: 0 };
  countError(chosen, step.observation?.error);
  if (!step.candidates?.length) return { sampled: { ...chosen }, chosen, noValid: false };
  const sampled: ErrorCounts = { actions: 0, parseErrors: 0, execErrors: 0 };
  for (const c of step.candidates) countError(sampled, c.valid ? undefined : (c.error ?? { kind: 'execution' }));
  const winning = step.voteGroups?.find((g) => g.members.includes(step.winner ?? 0));
  const noValid = !step.candidates.some((c) => c.valid);
  return { sampled, chosen, agreement: noValid ? 0 : (winning?.members.length ?? 1) / step.candidates.length, noValid };
}

/** The first step whose chosen action failed, if any. */
export function firstFailingStep(t: Trajectory): number | undefined {
  const index = t.steps.findIndex((s) => s.observation?.error !== undefined);
  return index < 0 ? undefined : index;
}

/** Judgement methods that record why there is no scorer verdict: the same (wrong) under every profile. */
const unscoredMethods = new Set(['run-error', 'no-answer']);

/** A question's row from its trajectory. */
export function questionResult(t: Trajectory, file: string, slot: number): QuestionResult {
  const meta = evalMetaOf(t);
  const failing = firstFailingStep(t);
  const counts = meta?.runError === undefined;
  const byProfile = t.judgement?.byProfile;
  const single = t.judgement?.correct === true;
  const row: QuestionResult = {
    benchmark: meta?.benchmark ?? t.task.source ?? '',
    domain: t.task.domain,
    taskId: t.task.id,
    question: t.task.question,
    correct: t.judgement?.correct === true && meta?.runError === undefined,
    verdict: meta?.runError !== undefined ? `run error: ${meta.runError}` : (t.judgement?.detail ?? (t.judgement ? t.judgement.method : 'not judged')),
    correctByProfile: {
      studio: counts && (byProfile ? byProfile.studio.correct : single),
      reference: counts && (byProfile ? byProfile.reference.correct : single),
    },
    singleVerdict: counts && byProfile === undefined && t.judgement !== undefined && !unscoredMethods.has(t.judgement.method),
    steps: t.steps.length,
    focusStep: failing ?? Math.max(0, t.steps.length - 1),
    hasFailingStep: failing !== undefined,
    fromFallback: t.fromFallback === true,
    retrievalCalls: t.steps.reduce((n, s) => n + (s.observation?.webSearchCalls.length ?? 0), 0),
    completionTokens: t.steps.reduce((n, s) => n + (s.tokens?.completion ?? 0), 0),
    candidates: t.steps.reduce((n, s) => n + (s.candidates?.length || 1), 0),
    modelCalls: t.steps.reduce((n, s) => n + (s.sagRounds?.length || 1), 0),
    wallMs: meta?.durationMs ?? 0,
    file,
    slot,
    id: t.id,
  };
  if (t.task.goldAnswer !== undefined) row.goldAnswer = t.task.goldAnswer;
  if (t.finalAnswer !== undefined) row.finalAnswer = t.finalAnswer;
  if (meta?.runError !== undefined) row.runError = meta.runError;
  return row;
}

/** The question as a disagreement between the profiles, or undefined when both verdicts agree (or only one exists). */
export function disagreementOf(t: Trajectory, row: QuestionResult): Disagreement | undefined {
  const byProfile = t.judgement?.byProfile;
  if (!byProfile || row.runError !== undefined || byProfile.studio.correct === byProfile.reference.correct) return undefined;
  return {
    benchmark: row.benchmark,
    domain: row.domain,
    taskId: row.taskId,
    question: row.question,
    ...(row.finalAnswer !== undefined ? { prediction: row.finalAnswer } : {}),
    ...(row.goldAnswer !== undefined ? { gold: row.goldAnswer } : {}),
    studio: byProfile.studio,
    reference: byProfile.reference,
    file: row.file,
    slot: row.slot,
    focusStep: row.focusStep,
    id: row.id,
  };
}

/** Accumulates one benchmark's metrics as trajectories stream by. */
export class BenchmarkAccumulator {
  private questions = 0;
  private correct = 0;
  private readonly correctByProfile: Record<Compatibility, number> = { studio: 0, reference: 0 };
  private disagreements = 0;
  private withoutBothVerdicts = 0;
  private runErrors = 0;
  private fallbackAnswers = 0;
  private steps = 0;
  private retrievalCalls = 0;
  private completionTokens = 0;
  private promptTokens = 0;
  private candidates = 0;
  private modelCalls = 0;
  private wallMs = 0;
  private agreementSum = 0;
  private sagSteps = 0;
  private noValidSteps = 0;
  private readonly sampled: ErrorCounts = { actions: 0, parseErrors: 0, execErrors: 0 };
  private readonly chosen: ErrorCounts = { actions: 0, parseErrors: 0, execErrors: 0 };

  constructor(
    readonly name: string,
    readonly domain?: TaskDomain,
  ) {}

  add(t: Trajectory, row: QuestionResult): void {
    this.questions++;
    if (row.correct) this.correct++;
    for (const p of compatibilities) if (row.correctByProfile[p]) this.correctByProfile[p]++;
    if (row.correctByProfile.studio !== row.correctByProfile.reference) this.disagreements++;
    if (row.singleVerdict) this.withoutBothVerdicts++;
    if (row.runError !== undefined) this.runErrors++;
    if (row.fromFallback) this.fallbackAnswers++;
    this.steps += t.steps.length;
    this.retrievalCalls += row.retrievalCalls;
    this.completionTokens += row.completionTokens;
    this.promptTokens += t.steps.reduce((n, s) => n + (s.tokens?.prompt ?? 0), 0);
    this.candidates += row.candidates;
    this.modelCalls += row.modelCalls;
    this.wallMs += row.wallMs;
    for (const step of t.steps) {
      const e = stepErrors(step);
      addCounts(this.sampled, e.sampled);
      addCounts(this.chosen, e.chosen);
      if (e.agreement !== undefined) {
        this.sagSteps++;
        this.agreementSum += e.agreement;
      }
      if (e.noValid) this.noValidSteps++;
    }
  }

  result(): BenchmarkMetrics {
    const n = this.questions;
    const mean = (x: number): number => (n ? x / n : 0);
    const m: BenchmarkMetrics = {
      name: this.name,
      questions: n,
      correct: this.correct,
      accuracy: mean(this.correct),
      interval: wilsonInterval(this.correct, n),
      byProfile: {
        studio: { correct: this.correctByProfile.studio, accuracy: mean(this.correctByProfile.studio), interval: wilsonInterval(this.correctByProfile.studio, n) },
        reference: { correct: this.correctByProfile.reference, accuracy: mean(this.correctByProfile.reference), interval: wilsonInterval(this.correctByProfile.reference, n) },
      },
      disagreements: this.disagreements,
      withoutBothVerdicts: this.withoutBothVerdicts,
      runErrors: this.runErrors,
      fallbackAnswers: this.fallbackAnswers,
      meanSteps: mean(this.steps),
      meanRetrievalCalls: mean(this.retrievalCalls),
      meanCompletionTokens: mean(this.completionTokens),
      completionTokens: this.completionTokens,
      promptTokens: this.promptTokens,
      meanCandidates: mean(this.candidates),
      candidates: this.candidates,
      meanModelCalls: mean(this.modelCalls),
      modelCalls: this.modelCalls,
      meanWallMs: mean(this.wallMs),
      sampled: rates(this.sampled),
      chosen: rates(this.chosen),
      noValidCandidateSteps: this.noValidSteps,
    };
    if (this.domain) m.domain = this.domain;
    if (this.sagSteps) m.voteAgreement = this.agreementSum / this.sagSteps;
    return m;
  }

  /** Raw counts, for pooling over benchmarks. */
  counts(): { sampled: ErrorCounts; chosen: ErrorCounts; agreementSum: number; sagSteps: number } {
    return { sampled: { ...this.sampled }, chosen: { ...this.chosen }, agreementSum: this.agreementSum, sagSteps: this.sagSteps };
  }
}

/** The run's metrics from its benchmarks' accumulators and question rows. */
export function combineMetrics(
  accumulators: readonly BenchmarkAccumulator[],
  questions: QuestionResult[],
  pending: number,
  now: Date = new Date(),
  profiles: { profile?: Compatibility; disagreements?: Disagreement[] } = {},
): RunMetrics {
  const benchmarks = accumulators.map((a) => a.result());
  const sampled: ErrorCounts = { actions: 0, parseErrors: 0, execErrors: 0 };
  const chosen: ErrorCounts = { actions: 0, parseErrors: 0, execErrors: 0 };
  let agreementSum = 0;
  let sagSteps = 0;
  for (const a of accumulators) {
    const c = a.counts();
    addCounts(sampled, c.sampled);
    addCounts(chosen, c.chosen);
    agreementSum += c.agreementSum;
    sagSteps += c.sagSteps;
  }
  const total = benchmarks.reduce((n, b) => n + b.questions, 0);
  const correct = benchmarks.reduce((n, b) => n + b.correct, 0);
  const perQuestion = (pick: (b: BenchmarkMetrics) => number): number => (total ? benchmarks.reduce((n, b) => n + pick(b), 0) / total : 0);
  const scored = benchmarks.filter((b) => b.questions > 0);
  const average = (pick: (b: BenchmarkMetrics) => number): number => (scored.length ? scored.reduce((s, b) => s + pick(b), 0) / scored.length : 0);
  const metrics: RunMetrics = {
    metricsVersion: 1,
    generatedAt: now.toISOString(),
    profile: profiles.profile ?? 'studio',
    benchmarks,
    averageAccuracy: average((b) => b.accuracy),
    averageAccuracyByProfile: { studio: average((b) => b.byProfile.studio.accuracy), reference: average((b) => b.byProfile.reference.accuracy) },
    withoutBothVerdicts: benchmarks.reduce((n, b) => n + b.withoutBothVerdicts, 0),
    disagreements: profiles.disagreements ?? [],
    pooled: { questions: total, correct, accuracy: total ? correct / total : 0, interval: wilsonInterval(correct, total) },
    sampled: rates(sampled),
    chosen: rates(chosen),
    sampling: {
      questions: total,
      candidatesPerQuestion: perQuestion((b) => b.candidates),
      tokensPerQuestion: perQuestion((b) => b.completionTokens),
      modelCallsPerQuestion: perQuestion((b) => b.modelCalls),
    },
    pending,
    questions,
  };
  if (sagSteps) metrics.voteAgreement = agreementSum / sagSteps;
  return metrics;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}`;
}

/** The per-benchmark table as text (CLI output, logs), one row per benchmark and the average. */
export function formatMetricsTable(m: RunMetrics): string[] {
  const header = ['benchmark', 'n', 'acc %', '95% CI', 'parse err % (sampled→chosen)', 'exec err % (sampled→chosen)', 'vote agr.', 'steps', 'searches', 'cand./q', 'tokens/q', 'errors'];
  const rows = m.benchmarks.map((b) => [
    b.name,
    String(b.questions),
    pct(b.accuracy),
    `${pct(b.interval.low)}–${pct(b.interval.high)}`,
    `${pct(b.sampled.parseRate)} → ${pct(b.chosen.parseRate)}`,
    `${pct(b.sampled.execRate)} → ${pct(b.chosen.execRate)}`,
    b.voteAgreement === undefined ? '—' : b.voteAgreement.toFixed(2),
    b.meanSteps.toFixed(2),
    b.meanRetrievalCalls.toFixed(2),
    b.meanCandidates.toFixed(1),
    b.meanCompletionTokens.toFixed(0),
    String(b.runErrors),
  ]);
  rows.push([
    'average',
    String(m.pooled.questions),
    pct(m.averageAccuracy),
    `${pct(m.pooled.interval.low)}–${pct(m.pooled.interval.high)} (pooled)`,
    `${pct(m.sampled.parseRate)} → ${pct(m.chosen.parseRate)}`,
    `${pct(m.sampled.execRate)} → ${pct(m.chosen.execRate)}`,
    m.voteAgreement === undefined ? '—' : m.voteAgreement.toFixed(2),
    '',
    '',
    '',
    '',
    String(m.benchmarks.reduce((n, b) => n + b.runErrors, 0)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  if (m.pending) out.push(`${m.pending} question(s) not run yet; run the same command again to resume`);
  out.push('', ...formatProfileAccuracy(m), '', ...formatDisagreements(m.disagreements));
  return out;
}

/** A profile's label, marked when it is the run's own profile. */
export function profileHeading(p: Compatibility, runProfile: Compatibility): string {
  return p === runProfile ? `${profileLabels[p]} ◀ this run` : profileLabels[p];
}

/** Shown beside the two accuracies when some records hold one verdict only. */
export function singleVerdictNote(records: number): string {
  return `${records} record(s) hold one verdict only (scored before both profiles were stored): it counts for both`;
}

/** Both profiles' accuracy per benchmark and on average, the run's own profile marked (CLI, logs). */
export function formatProfileAccuracy(m: RunMetrics): string[] {
  const header = ['benchmark', 'n', profileHeading('reference', m.profile), profileHeading('studio', m.profile), 'differ'];
  const rows = m.benchmarks.map((b) => [b.name, String(b.questions), pct(b.byProfile.reference.accuracy), pct(b.byProfile.studio.accuracy), String(b.disagreements)]);
  rows.push(['average', String(m.pooled.questions), pct(m.averageAccuracyByProfile.reference), pct(m.averageAccuracyByProfile.studio), String(m.disagreements.length)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = ['Accuracy % under both scorings:', line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  if (m.withoutBothVerdicts) out.push(singleVerdictNote(m.withoutBothVerdicts));
  return out;
}

function verdictWords(v: ProfileVerdict): string {
  return `${v.error !== undefined ? 'not judged' : v.correct ? 'correct' : 'wrong'} (${v.rule})`;
}

/** The questions the two profiles judged differently, one line each (CLI, logs). */
export function formatDisagreements(disagreements: readonly Disagreement[]): string[] {
  if (disagreements.length === 0) return ['The two scorings agree on every question.'];
  const out = [`${disagreements.length} question(s) scored differently by the two profiles:`];
  for (const d of disagreements) {
    out.push(
      `  ${d.benchmark}/${d.taskId}: answer ${JSON.stringify(d.prediction ?? '')}, gold ${JSON.stringify(d.gold ?? '')}; ` +
        `${profileLabels.reference}: ${verdictWords(d.reference)}; ${profileLabels.studio}: ${verdictWords(d.studio)}`,
    );
  }
  return out;
}
