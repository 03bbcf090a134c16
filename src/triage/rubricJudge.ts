import { createHash } from 'node:crypto';
import { startWorkerPool } from '../runs/workerPool';
import { type JudgeModel } from '../scoring/llmJudge';
import { saveTrajectoryEdits } from '../trajectory/jsonlWriters';
import {  observationTextOf } from '../trajectory/observationText';
import { type RubricFinding, type RubricResult, type Trajectory } from '../trajectory/schema';
import { openTrajectoryFile, type TrajectoryFile } from '../trajectory/trajectoryFile';
import { evidenceChars, type TriageFlag } from './flags';
import { criteriaFor, type Rubric } from './rubric';
import { parseRubricReply, rubricJudgeMessages, rubricPromptVersion, rubricReplyTokens } from './rubricPrompt';

/**
 * The optional rubric judge of triage: one chat request per trajectory asks a judge model for a verdict on
 * each criterion of a rubric; the verdicts are stored in `review.rubric` and become flags `rubric:<id>`.
 *
 * ```ts
 * judgeWithRubric(trajectories: readonly Trajectory[], rubric: Rubric, options: RubricJudgeOptions): Promise<RubricJudgeOutcome>
 * judgeTrajectoryFile(path: string, rubric: Rubric, options: RubricJudgeOptions): Promise<RubricFileOutcome>
 * rubricFlagsOf(t: Trajectory): TriageFlag[]
 * applyRubricResults(trajectories: readonly Trajectory[], results: readonly RubricResult[]): { trajectories: Trajectory[]; changed: number[] }
 * rubricContentHash(t: Trajectory, rubricHash: string, model?: string): string
 * isRubricResultCurrent(t: Trajectory): boolean
 * ```
 *
 * Caching lives in the records themselves: a trajectory whose stored result has the content hash of this
 * rubric, judge model and content is not sent again. The hash leaves out the review status, so accepting
 * or rejecting does not re-judge; results with an error are always judged again. (The endpoint's request
 * cache, `src/llm/responseCache.ts`, is not used: a cache in the file travels with it and needs no folder.)
 *
 * A malformed reply or a failed call is stored as `review.rubric.error`, counted, and the batch goes on;
 * only when {@link maxFailedCallsInARow} calls fail in a row does the run stop itself (`stoppedBy`).
 * Cancelling stops new requests and abandons those in flight; what finished before is kept in the outcome.
 */

export interface RubricJudgeOptions {
  judge: JudgeModel;
  /** The judge model's name: stored with each result and part of the content hash. */
  model?: string;
  /** Trajectories judged at once (default 4); the endpoint's own limit applies as well. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called after each trajectory (cache hits are counted at the start). */
  onProgress?(done: number, total: number): void;
  /** The clock for the `at` of each result (injectable for tests). */
  now?: () => Date;
}

export interface RubricJudgeOutcome {
  /** The input trajectories in their order; those judged in this run carry the new `review.rubric`. */
  judged: Trajectory[];
  /** Indexes into `judged` of the trajectories whose `review.rubric` this run wrote (errors included). */
  changed: number[];
  /** Trajectories skipped because their stored result is current. */
  cacheHits: number;
  /** Results written with an error (malformed reply or failed call). */
  errors: number;
  /** Requests sent to the judge. */
  requests: number;
  /** True when the run stopped before every trajectory was judged (the signal, or `stoppedBy`). */
  cancelled: boolean;
  /** Trajectories left as they were because the run stopped first. */
  notJudged: number;
  /** Set when the run stopped itself because the judge endpoint kept failing: why. */
  stoppedBy?: string;
}

export interface RubricFileOutcome extends RubricJudgeOutcome {
  /** Records written back to the file (fewer than `changed` when some changed on disk while being judged). */
  written: number;
  /** Lines of the file that are not valid trajectories (kept as they are, not judged). */
  invalidLines: number;
}

/** Trajectories judged at once when the caller does not say. */
const defaultConcurrency = 4;

/**
 * Failed calls in a row, with no reply in between, after which the run stops: a wrong URL, key or model
 * fails every call, and should not stamp a judge error on every record of the file.
 */
export const maxFailedCallsInARow = 3;

/**
 * The hash that decides whether a stored result is current: prompt version, rubric, judge model and what
 * the judge reads of the trajectory (task, each step's thought, code and observation, the final answer).
 */
export function rubricContentHash(t: Trajectory, rubricHash: string, model?: string): string {
  const judged = {
    task: { question: t.task.question, goldAnswer: t.task.goldAnswer ?? null, domain: t.task.domain },
    steps: t.steps.map((s, i) => ({ thought: s.thought, code: s.code, observation: s.observation ? observationTextOf(s.observation, i) : null })),
    finalAnswer: t.finalAnswer ?? null,
    fromFallback: t.fromFallback ?? false,
  };
  return createHash('sha256')
    .update(JSON.stringify([rubricPromptVersion, rubricHash, model ?? '', judged]))
    .digest('hex');
}

/** True when the trajectory has a rubric result that was made from its present content. */
export function isRubricResultCurrent(t: Trajectory): boolean {
  const result = t.review.rubric;
  return result !== undefined && rubricContentHash(t, result.rubricHash, result.model) === result.contentHash;
}

/** The trajectory with `result` as its rubric result (a new object; the input is not changed). */
export function withRubricResult(t: Trajectory, result: RubricResult): Trajectory {
  return { ...t, review: { ...t.review, rubric: result } };
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What one judged trajectory reports to the batch about the call it made. */
interface CallReport {
  requested(): void;
  replied(): void;
  failed(message: string): void;
}

/** Judges one trajectory; undefined when the signal stopped it before a reply came. */
async function judgeOne(t: Trajectory, rubric: Rubric, contentHash: string, options: RubricJudgeOptions, signal: AbortSignal, calls: CallReport): Promise<RubricResult | undefined> {
  const base = {
    rubric: rubric.name,
    rubricHash: rubric.hash,
    ...(options.model !== undefined ? { model: options.model } : {}),
    at: (options.now ?? (() => new Date()))().toISOString(),
    contentHash,
  };
  const applicable = criteriaFor(rubric, t.task.domain);
  // Criteria for another domain get their verdict here, so every criterion has one and none costs tokens.
  const withSkipped = (answered: readonly RubricFinding[]): RubricFinding[] =>
    rubric.criteria.map(
      (c) =>
        answered.find((f) => f.criterion === c.id) ?? {
          criterion: c.id,
          verdict: 'not-applicable',
          reason: `The criterion applies to ${c.appliesTo ?? 'other'} questions; this one is ${t.task.domain}.`,
          severity: c.severity,
        },
    );
  if (applicable.length === 0) return { ...base, findings: withSkipped([]) };
  let text: string;
  let cut = false;
  try {
    calls.requested();
    const result = await options.judge.complete({
      messages: rubricJudgeMessages(rubric, applicable, t),
      sampling: { temperature: 0, maxTokens: rubricReplyTokens(applicable) },
      signal,
    });
    text = result.choices[0]?.text ?? '';
    cut = result.choices[0]?.finishReason === 'length';
    calls.replied();
  } catch (err) {
    if (signal.aborted) return undefined;
    calls.failed(describeError(err));
    return { ...base, findings: [], error: `the judge call failed: ${describeError(err)}` };
  }
  const parsed = parseRubricReply(text, applicable, t.steps.length);
  if ('error' in parsed) {
    const why = `${parsed.error}${cut ? ' (the reply was cut at the token limit)' : ''}`;
    return { ...base, findings: [], error: `${why} (reply: ${JSON.stringify(text.slice(0, 300))})` };
  }
  return { ...base, findings: withSkipped(parsed.findings) };
}

/** Judges every trajectory whose stored result is not current; see the file comment for the contract. */
export async function judgeWithRubric(trajectories: readonly Trajectory[], rubric: Rubric, options: RubricJudgeOptions): Promise<RubricJudgeOutcome> {
  const total = trajectories.length;
  const judged = [...trajectories];
  const hashes = trajectories.map((t) => rubricContentHash(t, rubric.hash, options.model));
  const todo: number[] = [];
  let cacheHits = 0;
  trajectories.forEach((t, i) => {
    const stored = t.review.rubric;
    if (stored && stored.error === undefined && stored.contentHash === hashes[i]) cacheHits++;
    else todo.push(i);
  });
  const changed: number[] = [];
  let errors = 0;
  let requests = 0;
  let failedInARow = 0;
  let stoppedBy: string | undefined;
  let done = cacheHits;
  options.onProgress?.(done, total);

  // The pool stops on its own controller; the caller's signal is forwarded to it.
  const controller = new AbortController();
  const forward = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener('abort', forward, { once: true });
  const calls: CallReport = {
    requested: () => void requests++,
    replied: () => void (failedInARow = 0),
    failed: (message) => {
      failedInARow++;
      if (failedInARow < maxFailedCallsInARow || stoppedBy !== undefined) return;
      stoppedBy = `the judge endpoint failed ${failedInARow} calls in a row (last: ${message})`;
      controller.abort(new Error(stoppedBy));
    },
  };
  try {
    const pool = startWorkerPool(todo, Math.max(1, options.concurrency ?? defaultConcurrency), controller, async (i) => {
      const result = await judgeOne(trajectories[i], rubric, hashes[i], options, controller.signal, calls);
      if (!result) return;
      judged[i] = withRubricResult(trajectories[i], result);
      changed.push(i);
      if (result.error !== undefined) errors++;
      done++;
      options.onProgress?.(done, total);
    }, () => undefined);
    await pool.all;
  } finally {
    options.signal?.removeEventListener('abort', forward);
  }
  changed.sort((a, b) => a - b);
  const notJudged = todo.length - changed.length;
  return { judged, changed, cacheHits, errors, requests, cancelled: notJudged > 0, notJudged, ...(stoppedBy !== undefined ? { stoppedBy } : {}) };
}

/**
 * Puts results on the trajectories whose present content they were made from (matched by content hash,
 * so records that moved are found and records edited meanwhile are left alone). Returns the trajectories
 * in their order and the indexes that changed.
 */
export function applyRubricResults(trajectories: readonly Trajectory[], results: readonly RubricResult[]): { trajectories: Trajectory[]; changed: number[] } {
  const byHash = new Map(results.map((r) => [r.contentHash, r]));
  const identities = new Map(results.map((r) => [`${r.rubricHash}\n${r.model ?? ''}`, r]));
  const out = [...trajectories];
  const changed: number[] = [];
  trajectories.forEach((t, i) => {
    for (const { rubricHash, model } of identities.values()) {
      const result = byHash.get(rubricContentHash(t, rubricHash, model));
      if (result && t.review.rubric !== result) {
        out[i] = withRubricResult(t, result);
        changed.push(i);
        break;
      }
    }
  });
  return { trajectories: out, changed };
}

/** Valid records of a file with their record indexes; invalid lines are counted, not judged. */
async function readValid(file: TrajectoryFile): Promise<{ indexes: number[]; trajectories: Trajectory[] }> {
  const indexes: number[] = [];
  const trajectories: Trajectory[] = [];
  for await (const record of file.records()) {
    if (!record.ok) continue;
    indexes.push(record.index);
    trajectories.push(record.trajectory);
  }
  return { indexes, trajectories };
}

/**
 * Judges the trajectories of a JSONL file and writes the results back atomically (other lines byte for
 * byte). A cancelled run still writes what finished. When the file changed on disk while the judge ran,
 * the results go to the records that still have the judged content.
 */
export async function judgeTrajectoryFile(path: string, rubric: Rubric, options: RubricJudgeOptions): Promise<RubricFileOutcome> {
  const file = await openTrajectoryFile(path);
  let current: TrajectoryFile | undefined;
  try {
    const read = await readValid(file);
    const outcome = await judgeWithRubric(read.trajectories, rubric, options);
    const invalidLines = file.count - read.trajectories.length;
    const results = outcome.changed.map((i) => outcome.judged[i].review.rubric).filter((r): r is RubricResult => r !== undefined);
    if (results.length === 0) return { ...outcome, written: 0, invalidLines };
    let target = file;
    let records = read;
    if (await file.hasChangedOnDisk()) {
      current = await openTrajectoryFile(path);
      target = current;
      records = await readValid(current);
    }
    const applied = applyRubricResults(records.trajectories, results);
    const replace = new Map(applied.changed.map((k) => [records.indexes[k], applied.trajectories[k]]));
    // Not given the signal: a cancelled run keeps what finished.
    if (replace.size) await saveTrajectoryEdits(target, { replace });
    return { ...outcome, written: replace.size, invalidLines };
  } finally {
    await file.close();
    await current?.close();
  }
}

/** One line for a flag message. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The trajectory's rubric findings as triage flags: each failed criterion a flag `rubric:<id>` on its step
 * with its severity and the judge's reason; an unreadable reply one low flag `rubric:judge-error`; a result
 * made before the trajectory was edited one low flag `rubric:outdated` (its step numbers may no longer fit).
 */
export function rubricFlagsOf(t: Trajectory): TriageFlag[] {
  const result = t.review.rubric;
  if (!result) return [];
  if (result.error !== undefined) {
    return [
      {
        rule: 'rubric:judge-error',
        severity: 'low',
        message: `The rubric judge's reply (rubric "${result.rubric}") could not be read; judge the trajectory again.`,
        evidence: result.error.slice(0, evidenceChars),
      },
    ];
  }
  if (!isRubricResultCurrent(t)) {
    return [{ rule: 'rubric:outdated', severity: 'low', message: `The findings of rubric "${result.rubric}" were made before the trajectory changed; judge it again.` }];
  }
  return result.findings
    .filter((f) => f.verdict === 'fail')
    .map((f) => ({
      rule: `rubric:${f.criterion}`,
      severity: f.severity,
      ...(f.step !== undefined ? { step: f.step } : {}),
      message: oneLine(f.reason) || `Fails the rubric criterion "${f.criterion}".`,
    }));
}
