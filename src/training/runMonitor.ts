import { type MetricsEvent } from './metricsLog';
import { type RunRecord, type RunStore, finalRunStates } from './runRecord';
import { type RunStatus, type TrainingLauncher } from './trainingLauncher';

/** Something that happened to a followed run. */
export interface MonitorUpdate {
  run: RunRecord;
  events: MetricsEvent[];
  /** For new metrics: where each event's line starts in the metrics file, and where the next read starts. */
  metrics?: { eventOffsets: number[]; nextOffset: number };
  problems: string[];
  status?: RunStatus;
  /** Set when the host could not be reached; following retries on its own. */
  connectionProblem?: string;
}

export interface RunMonitorOptions {
  intervalMs?: number;
  /** Wait before reconnecting after an SSH failure. */
  retryMs?: number;
  log?: (line: string) => void;
}

/**
 * Follows every unfinished run in the background, so the Training Runs view and any open run view see
 * metrics as they arrive and a run re-attaches after a restart (from the offset in its local record). A
 * lost connection is reported and retried; the run itself is unaffected, it runs detached on the host.
 */
export class RunMonitor {
  private readonly followers = new Map<string, AbortController>();
  private readonly listeners = new Set<(u: MonitorUpdate) => void>();
  private disposed = false;

  constructor(
    private readonly launcher: TrainingLauncher,
    private readonly store: RunStore,
    private readonly options: RunMonitorOptions = {},
  ) {}

  onUpdate(listener: (u: MonitorUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(update: MonitorUpdate): void {
    for (const l of this.listeners) l(update);
  }

  isFollowing(runId: string): boolean {
    return this.followers.has(runId);
  }

  /** Starts following every recorded run that has not ended. */
  async attachAll(): Promise<number> {
    const { runs, problems } = await this.store.list();
    for (const p of problems) this.options.log?.(`training runs: ${p}`);
    const open = runs.filter((r) => !finalRunStates.includes(r.state));
    for (const r of open) this.watch(r);
    return open.length;
  }

  /** Follows a run until it ends (no-op when it is already followed or has ended). */
  watch(run: RunRecord): void {
    if (this.disposed || this.followers.has(run.id) || finalRunStates.includes(run.state)) return;
    const controller = new AbortController();
    this.followers.set(run.id, controller);
    void this.follow(run.id, controller.signal).finally(() => {
      if (this.followers.get(run.id) === controller) this.followers.delete(run.id);
    });
  }

  /** Stops following (the run keeps running on the host). */
  unwatch(runId: string): void {
    this.followers.get(runId)?.abort(new Error('stopped following'));
    this.followers.delete(runId);
  }

  private async follow(runId: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const run = await this.store.get(runId);
      if (!run) return;
      try {
        for await (const event of this.launcher.follow(run, { signal, intervalMs: this.options.intervalMs })) {
          const latest = (await this.store.get(runId)) ?? run;
          if (event.kind === 'metrics') this.emit({ run: latest, events: event.chunk.events, problems: event.chunk.problems, metrics: { eventOffsets: event.chunk.eventOffsets, nextOffset: event.chunk.nextOffset } });
          else this.emit({ run: latest, events: [], problems: [], status: event.status });
        }
        return;
      } catch (err) {
        if (signal.aborted) return;
        const message = err instanceof Error ? err.message : String(err);
        this.options.log?.(`following ${runId}: ${message}`);
        this.emit({ run, events: [], problems: [], connectionProblem: message });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.retryMs ?? 30_000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.followers.values()) c.abort(new Error('disposed'));
    this.followers.clear();
    this.listeners.clear();
  }
}
