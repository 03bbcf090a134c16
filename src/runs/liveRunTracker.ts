import { type LiveQuestion, type LiveQuestionStatus, type LiveRunCounts, type LiveRunError, type LiveRunPhase, type LiveRunState } from './liveRunState';

/** A question of the run as the glue knows it before the run starts. */
export interface LiveQuestionSeed {
  key: string;
  taskId: string;
  group?: string;
  question: string;
  /** Set when an earlier run of the same output already finished it. */
  earlier?: { status: Exclude<LiveQuestionStatus, 'queued' | 'running' | 'cancelled'>; detail?: string };
}

/** How one question ended in this run. */
export interface LiveQuestionOutcome {
  status: Exclude<LiveQuestionStatus, 'queued' | 'running' | 'cancelled'>;
  detail?: string;
  /** Steps the trajectory has. */
  steps?: number;
}

/** Figures the core's snapshot gives (the ETA counts what remains in the whole file or folder). */
export interface LiveRunFigures {
  etaMs?: number;
  tokensPerSecond: number;
}

const maxErrors = 5;
const questionTextLength = 160;
const finishedPhases: readonly LiveRunPhase[] = ['finished', 'cancelled', 'failed'];

/**
 * The state of one teacher generation or evaluation run as its live view shows it, kept by the host from
 * the run's events: every question's status, counts, throughput, ETA and the latest errors. It outlives the
 * view, so a view opened late or reloaded gets the whole state from `state()`. No `vscode` here: the glue
 * feeds it, tests drive it directly.
 */
export class LiveRunTracker {
  private readonly questions = new Map<string, LiveQuestion>();
  private readonly errors: LiveRunError[] = [];
  private readonly notes: string[] = [];
  private readonly listeners = new Set<() => void>();
  private phase: LiveRunPhase = 'starting';
  private failure: string | undefined;
  private summary: string | undefined;
  private figures: LiveRunFigures = { tokensPerSecond: 0 };
  private readonly startedMs: number;
  private endedMs: number | undefined;
  private doneThisRun = 0;

  constructor(
    readonly kind: LiveRunState['kind'],
    readonly title: string,
    readonly output: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startedMs = now();
  }

  /** Hears every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get ended(): boolean {
    return finishedPhases.includes(this.phase);
  }

  /**
   * The run's questions in order. Questions an event already reported keep their status (the list may be
   * read while the first questions are running).
   */
  setQuestions(seeds: readonly LiveQuestionSeed[]): void {
    const known = new Map(this.questions);
    this.questions.clear();
    for (const seed of seeds) {
      const existing = known.get(seed.key);
      known.delete(seed.key);
      this.questions.set(seed.key, {
        key: seed.key,
        taskId: seed.taskId,
        ...(seed.group !== undefined ? { group: seed.group } : {}),
        question: seed.question.length > questionTextLength ? `${seed.question.slice(0, questionTextLength - 1)}…` : seed.question,
        ...(existing && existing.status !== 'queued'
          ? { status: existing.status, earlier: false, canOpen: existing.canOpen, ...(existing.step !== undefined ? { step: existing.step } : {}), ...(existing.detail !== undefined ? { detail: existing.detail } : {}) }
          : seed.earlier
            ? { status: seed.earlier.status, earlier: true, canOpen: true, ...(seed.earlier.detail !== undefined ? { detail: seed.earlier.detail } : {}) }
            : { status: 'queued', earlier: false, canOpen: false }),
      });
    }
    for (const rest of known.values()) this.questions.set(rest.key, rest);
    this.changed();
  }

  addNotes(notes: readonly string[]): void {
    this.notes.push(...notes);
    this.changed();
  }

  /** The run is under way (its start event arrived). */
  running(figures?: LiveRunFigures): void {
    if (this.phase === 'starting') this.phase = 'running';
    if (figures) this.figures = figures;
    this.changed();
  }

  /** Cancel was asked for; questions in flight stop shortly. */
  cancelling(): void {
    if (!this.ended) this.phase = 'cancelling';
    this.changed();
  }

  questionStarted(key: string, taskId = key): void {
    const q = this.question(key, taskId);
    q.status = 'running';
    q.earlier = false;
    q.canOpen = false;
    delete q.step;
    delete q.detail;
    this.changed();
  }

  /** The agent began step `stepIndex` (0-based) of a question. */
  stepStarted(key: string, stepIndex: number, taskId = key): void {
    const q = this.question(key, taskId);
    if (q.status !== 'running' && q.status !== 'queued') return; // a late event of a finished question
    q.status = 'running';
    q.step = stepIndex + 1;
    this.changed();
  }

  questionFinished(key: string, outcome: LiveQuestionOutcome, figures?: LiveRunFigures, taskId = key): void {
    const q = this.question(key, taskId);
    q.status = outcome.status;
    q.earlier = false;
    q.canOpen = true;
    if (outcome.steps !== undefined) q.step = outcome.steps;
    else delete q.step;
    if (outcome.detail !== undefined) q.detail = outcome.detail;
    else delete q.detail;
    this.doneThisRun++;
    if (outcome.status === 'failed') {
      this.errors.unshift({ key, taskId: q.taskId, message: outcome.detail ?? 'failed', at: new Date(this.now()).toISOString() });
      this.errors.splice(maxErrors);
    }
    if (figures) this.figures = figures;
    this.changed();
  }

  /** The run ended: questions still running were stopped (cancelled), queued ones stay queued. */
  end(result: { cancelled: boolean; summary?: string; failure?: string }): void {
    this.phase = result.failure !== undefined ? 'failed' : result.cancelled ? 'cancelled' : 'finished';
    if (result.failure !== undefined) this.failure = result.failure;
    if (result.summary !== undefined) this.summary = result.summary;
    this.endedMs = this.now();
    for (const q of this.questions.values()) {
      if (q.status === 'running') {
        q.status = 'cancelled';
        delete q.step;
      }
    }
    this.changed();
  }

  state(): LiveRunState {
    const questions = [...this.questions.values()].map((q) => ({ ...q }));
    const counts: LiveRunCounts = { total: questions.length, queued: 0, running: 0, done: this.doneThisRun, earlier: 0, accepted: 0, rejected: 0, correct: 0, wrong: 0, failed: 0, cancelled: 0 };
    for (const q of questions) {
      counts[q.status]++;
      if (q.earlier) counts.earlier++;
    }
    const elapsedMs = Math.max(0, (this.endedMs ?? this.now()) - this.startedMs);
    return {
      kind: this.kind,
      title: this.title,
      output: this.output,
      phase: this.phase,
      ...(this.failure !== undefined ? { failure: this.failure } : {}),
      counts,
      elapsedMs,
      etaMs: this.ended || this.figures.etaMs === undefined || !Number.isFinite(this.figures.etaMs) ? null : Math.max(0, this.figures.etaMs),
      questionsPerMinute: elapsedMs > 0 ? (this.doneThisRun * 60_000) / elapsedMs : 0,
      tokensPerSecond: Math.max(0, this.figures.tokensPerSecond),
      errors: this.errors.map((e) => ({ ...e })),
      notes: [...this.notes],
      ...(this.summary !== undefined ? { summary: this.summary } : {}),
      canCancel: this.phase === 'starting' || this.phase === 'running',
      canRetryFailed: this.ended && counts.failed > 0,
      questions,
    };
  }

  private question(key: string, taskId: string): LiveQuestion {
    let q = this.questions.get(key);
    if (!q) {
      q = { key, taskId, question: '', status: 'queued', earlier: false, canOpen: false };
      this.questions.set(key, q);
    }
    return q;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
