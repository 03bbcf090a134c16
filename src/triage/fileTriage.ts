import { type LineDiagnostic } from '../trajectory/jsonlIndex';
import { type Trajectory } from '../trajectory/schema';
import { openTrajectoryFile } from '../trajectory/trajectoryFile';
import { triageTrajectory, type TriageOptions } from './checks';
import { orderedByRule, riskOf, type TriageFlag } from './flags';
import { NearDuplicateIndex, type NearDuplicateOptions } from './nearDuplicates';

/**
 * Triage over a sequence of trajectories (a file, an export's inputs, a run's output): every per-trajectory
 * rule, the file-level near-duplicate rule, and counts by rule. Feed records in file order.
 */
export class FileTriage {
  private readonly duplicates: NearDuplicateIndex;
  private readonly ruleCounts = new Map<string, number>();
  private triaged = 0;
  private flaggedCount = 0;

  constructor(private readonly options: TriageOptions & NearDuplicateOptions = {}) {
    this.duplicates = new NearDuplicateIndex(options);
  }

  /** The flags of one trajectory; `slot` is its 0-based position in the sequence. */
  add(slot: number, t: Trajectory): TriageFlag[] {
    const flags = triageTrajectory(t, this.options);
    const duplicate = this.duplicates.add({ slot, id: t.id }, t);
    if (duplicate) flags.push(duplicate);
    this.triaged++;
    if (flags.length) this.flaggedCount++;
    for (const rule of new Set(flags.map((f) => f.rule))) this.ruleCounts.set(rule, (this.ruleCounts.get(rule) ?? 0) + 1);
    return flags;
  }

  /** Trajectories triaged so far. */
  get count(): number {
    return this.triaged;
  }

  /** Trajectories with at least one flag. */
  get flagged(): number {
    return this.flaggedCount;
  }

  /** Trajectories per rule (a trajectory counts once per rule), in the rules' listing order. */
  byRule(): Map<string, number> {
    return orderedByRule(this.ruleCounts);
  }
}

/** One triaged record of a file. */
export interface TriagedRecord {
  /** 0-based record index and its 1-based line. */
  index: number;
  line: number;
  id: string;
  taskId: string;
  flags: TriageFlag[];
  risk: number;
}

export interface TriageFileResult {
  file: string;
  records: number;
  valid: number;
  flagged: number;
  byRule: Map<string, number>;
  /** Lines that are not valid trajectories (not triaged, never dropped silently). */
  invalid: LineDiagnostic[];
}

export interface TriageFileOptions extends TriageOptions, NearDuplicateOptions {
  signal?: AbortSignal;
  /** Called for every valid record, in file order (flagged or not), with the trajectory it read. */
  onRecord?(record: TriagedRecord, trajectory: Trajectory): void;
  onProgress?(done: number, total: number): void;
}

/** Triages every record of a trajectory file in one streaming pass (one record in memory at a time). */
export async function triageFile(path: string, options: TriageFileOptions = {}): Promise<TriageFileResult> {
  const file = await openTrajectoryFile(path, options.signal ? { signal: options.signal } : {});
  const triage = new FileTriage(options);
  const invalid: LineDiagnostic[] = [];
  try {
    for await (const r of file.records(options.signal)) {
      if (!r.ok) {
        invalid.push(...r.diagnostics);
        continue;
      }
      const flags = triage.add(r.index, r.trajectory);
      options.onRecord?.({ index: r.index, line: r.line, id: r.trajectory.id, taskId: r.trajectory.task.id, flags, risk: riskOf(flags) }, r.trajectory);
      if ((r.index & 1023) === 0) options.onProgress?.(r.index, file.count);
    }
    options.onProgress?.(file.count, file.count);
    return { file: path, records: file.count, valid: triage.count, flagged: triage.flagged, byRule: triage.byRule(), invalid };
  } finally {
    await file.close();
  }
}
