import { type CappedText, type CompareRow, type ObservationView, type StepView, type TrajectoryView } from './editorViewSchema';
import { type Observation, type Step, type Trajectory } from '../trajectory/schema';
import { type TriageFlag } from '../triage/flags';
import { previousObservation } from './reexecution';
import { flagView } from './trajectoryTriage';
import { filterVerdictView, needsJudgingOf, verdictStateOf } from './verdicts';

/**
 * Shapes records for the webview: long texts are capped (an observation of megabytes would stall the page
 * and the message channel), with their full length so the page can offer "show all".
 */

/** Characters of one observation field sent by default. */
export const observationDisplayChars = 20_000;
/** Characters of one retrieved passage or candidate field. */
const passageDisplayChars = 4_000;

export function capText(text: string, max: number): CappedText {
  return text.length <= max ? { text, totalChars: text.length } : { text: text.slice(0, max), totalChars: text.length };
}

function observationView(o: Observation): ObservationView {
  const view: ObservationView = {
    printOutput: capText(o.printOutput, observationDisplayChars),
    lastValue: capText(o.lastValue, observationDisplayChars),
    webSearch: o.webSearchCalls.map((c) => ({
      query: c.query,
      ...(c.error !== undefined ? { error: c.error } : {}),
      passages: c.passages.map((p) => ({ title: p.title, text: capText(p.text, passageDisplayChars), score: p.score })),
    })),
  };
  if (o.error) {
    view.error = {
      kind: o.error.kind,
      type: o.error.type,
      message: capText(o.error.message, observationDisplayChars),
      ...(o.error.line !== undefined ? { line: o.error.line } : {}),
      ...(o.error.statement !== undefined ? { statement: o.error.statement } : {}),
    };
  }
  if (o.finalAnswer !== undefined) view.finalAnswer = o.finalAnswer;
  return view;
}

export function stepView(step: Step, index: number, previous?: Observation, sagBudget?: number): StepView {
  const view: StepView = {
    index,
    thought: step.thought,
    code: step.code,
    stale: step.stale === true,
    excluded: step.excludeFromTraining === true,
  };
  if (step.observation) view.observation = observationView(step.observation);
  if (previous) view.previousObservation = observationView(previous);
  if (step.candidates) {
    const groups = step.voteGroups ?? [];
    view.candidates = step.candidates.map((c, i) => ({
      index: i,
      code: capText(c.code, passageDisplayChars),
      valid: c.valid,
      ...(c.error ? { error: `${c.error.type}: ${c.error.message}` } : {}),
      printOutput: capText(c.printOutput, passageDisplayChars),
      ...(c.finalAnswer !== undefined ? { finalAnswer: c.finalAnswer } : {}),
      group: groups.findIndex((g) => g.members.includes(i)),
      ...(c.sameCodeAs !== undefined ? { sameCodeAs: c.sameCodeAs } : {}),
    }));
    view.voteGroups = groups.map((g) => ({ voteKey: capText(g.voteKey, passageDisplayChars), members: [...g.members] }));
    if (step.winner !== undefined) view.winner = step.winner;
    if (step.sagRounds) {
      view.sagRounds = step.sagRounds.map((r) => ({
        candidates: r.candidates,
        ...(r.seed !== undefined ? { seed: r.seed } : {}),
        ...(r.tokens?.completion !== undefined ? { completionTokens: r.tokens.completion } : {}),
      }));
      if (step.sagStop) view.sagStop = step.sagStop;
      if (sagBudget !== undefined) view.sagBudget = sagBudget;
    }
  }
  return view;
}

/** `flags` are the record's triage flags in reading order (none in the compare view, which shows steps only). */
export function trajectoryView(slot: number, t: Trajectory, dirty: boolean, flags: readonly TriageFlag[] = []): TrajectoryView {
  const origin = [t.origin.kind, t.origin.model].filter((x) => x).join(' · ');
  const view: TrajectoryView = {
    slot,
    id: t.id,
    taskId: t.task.id,
    question: t.task.question,
    domain: t.task.domain,
    origin,
    steps: t.steps.map((step, i) => stepView(step, i, previousObservation(t, i), t.origin.sag?.candidates)),
    fromFallback: t.fromFallback === true,
    verdict: verdictStateOf(t),
    review: { status: t.review.status, reasonTags: [...t.review.reasonTags], ...(t.review.note ? { note: t.review.note } : {}) },
    revisions: t.revisions.length,
    dirty,
    flags: flags.map(flagView),
  };
  if (t.task.goldAnswer !== undefined) view.goldAnswer = t.task.goldAnswer;
  if (t.finalAnswer !== undefined) view.finalAnswer = t.finalAnswer;
  if (t.judgement?.detail) view.judgementDetail = t.judgement.detail;
  const waiting = needsJudgingOf(t);
  if (waiting) view.needsJudging = waiting.reason;
  const filter = filterVerdictView(t);
  if (filter) view.filterVerdict = { passed: filter.passed, text: filter.text };
  return view;
}

/** The full text of an observation field (the "show all" request). */
export function observationField(t: Trajectory, stepIndex: number, field: 'printOutput' | 'lastValue' | 'error'): string {
  const o = t.steps[stepIndex]?.observation;
  if (!o) throw new Error(`step ${stepIndex + 1} of trajectory ${t.id} has no observation`);
  if (field === 'error') return o.error ? o.error.message : '';
  return o[field];
}

function observationKey(step: Step | undefined): string {
  const o = step?.observation;
  if (!o) return '';
  return JSON.stringify([o.printOutput, o.lastValue, o.error?.type ?? null, o.error?.message ?? null, o.finalAnswer ?? null]);
}

/**
 * Two trajectories side by side, aligned by step position (both are runs of the same task, so step k of
 * one answers to step k of the other), with which parts differ.
 */
export function compareTrajectories(left: Trajectory, right: Trajectory): CompareRow[] {
  const rows: CompareRow[] = [];
  const n = Math.max(left.steps.length, right.steps.length);
  for (let i = 0; i < n; i++) {
    const l = left.steps[i];
    const r = right.steps[i];
    const row: CompareRow = {
      stepIndex: i,
      thoughtDiffers: l?.thought !== r?.thought,
      codeDiffers: l?.code !== r?.code,
      observationDiffers: observationKey(l) !== observationKey(r),
    };
    if (l) row.left = stepView(l, i);
    if (r) row.right = stepView(r, i);
    rows.push(row);
  }
  return rows;
}
