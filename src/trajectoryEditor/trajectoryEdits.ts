import { type ReviewStatus, type Revision, type Step, type Trajectory } from '../trajectory/schema';

/**
 * The edits a curator can make to one trajectory in the editor, as data. Each edit is applied by
 * {@link applyTrajectoryEdit}, a pure function that returns a new record (the input is never mutated), so
 * the document model can keep the record before and after for undo and redo.
 */
export type TrajectoryEdit =
  | { kind: 'setThought'; stepIndex: number; text: string }
  | { kind: 'setCode'; stepIndex: number; text: string }
  | { kind: 'setStepExcluded'; stepIndex: number; excluded: boolean }
  | { kind: 'setReview'; status: ReviewStatus; reasonTags: string[]; note?: string }
  /** Replaces the whole record, e.g. from the `.traj` text form or a finished re-execution. */
  | { kind: 'replace'; trajectory: Trajectory; label: string };

/** Thrown when an edit does not fit the record, e.g. a step index past the last step. */
export class TrajectoryEditError extends Error {
  override readonly name = 'TrajectoryEditError';
}

/** A short human label for the undo stack and revision history. */
export function describeEdit(edit: TrajectoryEdit): string {
  switch (edit.kind) {
    case 'setThought':
      return `Edit thought of step ${edit.stepIndex + 1}`;
    case 'setCode':
      return `Edit code of step ${edit.stepIndex + 1}`;
    case 'setStepExcluded':
      return `${edit.excluded ? 'Exclude' : 'Include'} step ${edit.stepIndex + 1} ${edit.excluded ? 'from' : 'in'} training`;
    case 'setReview':
      return edit.status === 'unreviewed' ? 'Clear review' : `${edit.status === 'accepted' ? 'Accept' : 'Reject'} trajectory`;
    case 'replace':
      return edit.label;
  }
}

function stepAt(trajectory: Trajectory, stepIndex: number): Step {
  const step = trajectory.steps[stepIndex];
  if (!Number.isInteger(stepIndex) || !step) {
    throw new TrajectoryEditError(`trajectory ${trajectory.id} has ${trajectory.steps.length} steps; there is no step ${stepIndex + 1}`);
  }
  return step;
}

/**
 * Marks every step after `stepIndex` stale: their observations followed from text that has changed, so
 * they must be re-run (or the trajectory accepted as is) before export.
 */
function markLaterStepsStale(steps: Step[], stepIndex: number): void {
  for (let i = stepIndex + 1; i < steps.length; i++) steps[i] = { ...steps[i], stale: true };
}

/**
 * Applies one edit and returns the new record. Text edits record a revision (before/after) so the history
 * of hand changes travels with the trajectory, and a changed code marks the step's own observation and
 * every later step stale.
 */
export function applyTrajectoryEdit(trajectory: Trajectory, edit: TrajectoryEdit, now: () => Date = () => new Date()): Trajectory {
  const at = now().toISOString();
  const revision = (what: string, stepIndex: number | undefined, before: string, after: string): Revision =>
    stepIndex === undefined ? { at, what, before, after } : { at, what, stepIndex, before, after };
  switch (edit.kind) {
    case 'setThought':
    case 'setCode': {
      const step = stepAt(trajectory, edit.stepIndex);
      const field = edit.kind === 'setThought' ? 'thought' : 'code';
      if (step[field] === edit.text) return trajectory;
      const steps = [...trajectory.steps];
      const changed: Step = { ...step, [field]: edit.text };
      // A new thought does not change what the code printed, but the model's later steps were written
      // after the old text; a new code makes the step's own observation stale too.
      if (field === 'code' && step.observation) changed.stale = true;
      steps[edit.stepIndex] = changed;
      markLaterStepsStale(steps, edit.stepIndex);
      return {
        ...trajectory,
        steps,
        revisions: [...trajectory.revisions, revision(field, edit.stepIndex, step[field], edit.text)],
      };
    }
    case 'setStepExcluded': {
      const step = stepAt(trajectory, edit.stepIndex);
      if ((step.excludeFromTraining ?? false) === edit.excluded) return trajectory;
      const steps = [...trajectory.steps];
      const changed: Step = { ...step };
      if (edit.excluded) changed.excludeFromTraining = true;
      else delete changed.excludeFromTraining;
      steps[edit.stepIndex] = changed;
      return { ...trajectory, steps };
    }
    case 'setReview': {
      const review: Trajectory['review'] = { status: edit.status, reasonTags: [...edit.reasonTags], at };
      const note = edit.note?.trim();
      if (note) review.note = note;
      // The rubric judge's findings describe the content, not the verdict: they outlive a status change.
      if (trajectory.review.rubric) review.rubric = trajectory.review.rubric;
      const before = trajectory.review;
      const summary = (r: Trajectory['review']) => [r.status, ...r.reasonTags].join(' ');
      return {
        ...trajectory,
        review,
        revisions: [...trajectory.revisions, revision('review', undefined, summary(before), summary(review))],
      };
    }
    case 'replace':
      return edit.trajectory;
  }
}

/** True when some step is stale: export refuses such a trajectory until it is re-run or accepted. */
export function hasStaleSteps(trajectory: Trajectory): boolean {
  return trajectory.steps.some((s) => s.stale === true);
}

/** True when any step's observation carries an error. */
export function hasErrors(trajectory: Trajectory): boolean {
  return trajectory.steps.some((s) => s.observation?.error !== undefined);
}

/** True when the record carries hand edits (thought or code revisions). */
export function hasHandEdits(trajectory: Trajectory): boolean {
  return trajectory.revisions.some((r) => r.what === 'thought' || r.what === 'code' || r.what === 'text-form');
}
