import {
  type CompareRow,
  type EditRequest,
  type ListRow,
  type SlotView,
  type TrajectoryQueryWire,
  type TrajectoryView,
} from './editorViewSchema';
import { type Trajectory } from '../trajectory/schema';
import { triageTrajectory } from '../triage/checks';
import { sortFlags, type TriageFlag } from '../triage/flags';
import { NearDuplicateIndex } from '../triage/nearDuplicates';
import { type AppliedEdit, type TrajectoryEditorModel } from './editorDocumentModel';
import { summarise, TrajectoryListIndex, type ListRowSummary } from './trajectoryListIndex';
import { type SlotContent } from './trajectorySource';
import { compareTrajectories, observationField, trajectoryView } from './trajectoryView';

/** How many records are summarised before the first answer, so the first screen never waits for the scan. */
const firstScreenSlots = 200;
/** Progress is reported every this many records during the scan. */
const scanReportEvery = 2_000;

export interface SessionEvents {
  /** The scan advanced or finished, or review counts changed. */
  onIndexProgress?: () => void;
  /** Records changed content (for the page to refetch). */
  onRecordsChanged?: (slots: number[] | 'all') => void;
}

/**
 * One pass over the file: the list index it fills and the near-duplicate detector it feeds. Kept together
 * so a scan that was superseded (reload) cannot feed the next scan's detector out of order.
 */
class FileScan {
  readonly index: TrajectoryListIndex;
  private readonly nearDuplicates = new NearDuplicateIndex();
  /** The near-duplicate flag of each slot, found when the scan reached it (edits keep the question, so it stays). */
  private readonly nearDuplicateOf = new Map<number, TriageFlag>();

  constructor(slotCount: number) {
    this.index = new TrajectoryListIndex(slotCount);
  }

  /** Summarises a record the scan reached, in file order: near duplicates point at an earlier record. */
  add(content: SlotContent): void {
    if (content.valid) {
      const duplicate = this.nearDuplicates.add({ slot: content.slot, id: content.trajectory.id }, content.trajectory);
      if (duplicate) this.nearDuplicateOf.set(content.slot, duplicate);
    }
    this.index.put(summarise(content, this.fileFlagsOf(content.slot)));
  }

  /** Re-summarises a record after an edit, undo or redo: its own flags are re-checked, the file-level ones kept. */
  refresh(content: SlotContent): void {
    this.index.put(summarise(content, this.fileFlagsOf(content.slot)));
  }

  fileFlagsOf(slot: number): TriageFlag[] {
    const duplicate = this.nearDuplicateOf.get(slot);
    return duplicate ? [duplicate] : [];
  }
}

/**
 * Everything the editor page asks of one open document, without VS Code: list pages for a query, one
 * record shaped for display, edits, compare. The VS Code glue wires it to the webview channel and to the
 * custom editor's undo stack; unit tests drive it directly.
 */
export class TrajectoryEditorSession {
  private scan: FileScan;
  private scanAbort = new AbortController();
  private scanDone: Promise<void> = Promise.resolve();
  private lastQueryKey = '';
  private lastQueryResult: number[] = [];
  private lastQueryScanned = -1;
  private lastQueue: number[] | undefined;
  private readonly modelSubscription: { dispose(): void };

  constructor(
    readonly model: TrajectoryEditorModel,
    private readonly events: SessionEvents = {},
  ) {
    this.scan = new FileScan(model.slotCount);
    this.modelSubscription = model.onDidChange((change) => {
      if (change.slots !== 'all') void this.refreshSummaries(change.slots);
      this.invalidateQuery();
      this.events.onRecordsChanged?.(change.slots);
    });
  }

  get listIndex(): TrajectoryListIndex {
    return this.scan.index;
  }

  private get index(): TrajectoryListIndex {
    return this.scan.index;
  }

  /** Resolves when the background scan of the whole file has finished (or was stopped). */
  get indexed(): Promise<void> {
    return this.scanDone;
  }

  /**
   * Summarises the first records at once, then the rest of the file in the background. Called on open
   * and after the file was replaced (reload, revert).
   */
  async startIndexing(): Promise<void> {
    this.scanAbort.abort();
    this.scanAbort = new AbortController();
    const signal = this.scanAbort.signal;
    const scan = new FileScan(this.model.slotCount);
    this.scan = scan;
    this.invalidateQuery();
    const first = Math.min(firstScreenSlots, this.model.slotCount);
    for (let slot = 0; slot < first; slot++) {
      const content = await this.model.read(slot);
      if (signal.aborted) return;
      scan.add(content);
    }
    this.events.onIndexProgress?.();
    this.scanDone = this.scanRest(signal, scan);
  }

  private async scanRest(signal: AbortSignal, scan: FileScan): Promise<void> {
    let sinceReport = 0;
    try {
      for await (const content of this.model.fileSource.scan(signal)) {
        if (signal.aborted) return;
        if (scan.index.get(content.slot) !== undefined) continue;
        // An edited record is summarised from its edited version, not the file's.
        const shown = this.model.editedSlots().length ? await this.model.read(content.slot) : content;
        if (signal.aborted) return;
        scan.add(shown);
        if (++sinceReport >= scanReportEvery) {
          sinceReport = 0;
          this.invalidateQuery();
          this.events.onIndexProgress?.();
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    this.invalidateQuery();
    this.events.onIndexProgress?.();
  }

  private async refreshSummaries(slots: number[]): Promise<void> {
    const scan = this.scan;
    for (const slot of slots) {
      const content = await this.model.read(slot);
      // A record the scan has not reached yet is summarised (with its near-duplicate check) when it gets there.
      if (scan !== this.scan || scan.index.get(slot) === undefined) continue;
      scan.refresh(content);
    }
    this.invalidateQuery();
    this.events.onIndexProgress?.();
  }

  private invalidateQuery(): void {
    this.lastQueryKey = '';
    this.lastQueue = undefined;
  }

  private resultOf(query: TrajectoryQueryWire): number[] {
    const key = JSON.stringify(query);
    if (key !== this.lastQueryKey || this.lastQueryScanned !== this.index.scanned) {
      this.lastQueryResult = this.index.query(query);
      this.lastQueue = undefined;
      this.lastQueryKey = key;
      this.lastQueryScanned = this.index.scanned;
    }
    return this.lastQueryResult;
  }

  rows(query: TrajectoryQueryWire, offset: number, limit: number): { total: number; offset: number; rows: ListRow[] } {
    const result = this.resultOf(query);
    const edited = new Set(this.model.editedSlots());
    const rows: ListRow[] = [];
    for (const slot of result.slice(offset, offset + limit)) {
      const s = this.index.get(slot);
      if (!s) continue;
      const row: ListRow = {
        slot,
        question: s.question,
        steps: s.steps,
        verdict: s.verdict,
        status: s.status,
        reasonTags: s.reasonTags,
        hasErrors: s.hasErrors,
        hasEdits: s.hasEdits,
        hasStale: s.hasStale,
        flags: s.flags,
        risk: s.risk,
        dirty: edited.has(slot),
      };
      if (s.id !== undefined) row.id = s.id;
      if (s.domain !== undefined) row.domain = s.domain;
      if (s.filter !== 'none') row.filter = s.filter;
      rows.push(row);
    }
    return { total: result.length, offset, rows };
  }

  positionOf(query: TrajectoryQueryWire, slot: number): number {
    return this.resultOf(query).indexOf(slot);
  }

  /** Type-ahead: the first position from `from` on (wrapping) whose question starts with `prefix`, or -1. */
  findByPrefix(query: TrajectoryQueryWire, from: number, prefix: string): number {
    const result = this.resultOf(query);
    const wanted = prefix.toLocaleLowerCase();
    for (let i = 0; i < result.length; i++) {
      const position = (from + i) % result.length;
      const question = this.index.get(result[position])?.question.trimStart().toLocaleLowerCase();
      if (question?.startsWith(wanted)) return position;
    }
    return -1;
  }

  async open(slot: number): Promise<SlotView> {
    const content = await this.model.read(slot);
    if (!content.valid) {
      return { valid: false, invalid: { slot, line: content.line, issues: content.issues.map((i) => ({ path: i.path, message: i.message })), preview: content.preview } };
    }
    return { valid: true, trajectory: trajectoryView(slot, content.trajectory, this.model.editedSlots().includes(slot), this.flagsOfTrajectory(slot, content.trajectory)) };
  }

  /** The triage flags of a record as it is now (edits included), in reading order. */
  async flagsOf(slot: number): Promise<TriageFlag[]> {
    return this.flagsOfTrajectory(slot, await this.model.readTrajectory(slot));
  }

  private flagsOfTrajectory(slot: number, t: Trajectory): TriageFlag[] {
    return sortFlags([...triageTrajectory(t), ...this.scan.fileFlagsOf(slot)]);
  }

  async fullText(slot: number, stepIndex: number, field: 'printOutput' | 'lastValue' | 'error'): Promise<string> {
    return observationField(await this.model.readTrajectory(slot), stepIndex, field);
  }

  /** Applies a page's edit request; the caller puts the returned edit on the undo stack. */
  async edit(slot: number, request: EditRequest): Promise<AppliedEdit | undefined> {
    return this.model.apply(slot, request);
  }

  /**
   * The review queue's next unreviewed record after `after`, or -1 when nothing in the query's result is
   * unreviewed. The queue holds flagged records first, highest risk first (a reviewer's time goes where a
   * defect is likely), then the unflagged ones in the list's order; the walk goes on from `after`'s place
   * in it and wraps around. `fromQueueStart` starts at the front instead, passing over `after` (the page
   * asks so when the selected record was picked for the user on open, not by them).
   */
  nextUnreviewed(query: TrajectoryQueryWire, after: number, fromQueueStart = false): number {
    const result = this.resultOf(query);
    this.lastQueue ??= this.index.reviewQueue(result);
    const order = this.lastQueue;
    const unreviewed = (slot: number) => this.index.get(slot)?.status === 'unreviewed';
    if (fromQueueStart) {
      const next = order.find((slot) => slot !== after && unreviewed(slot));
      if (next !== undefined) return next;
      return order.includes(after) && unreviewed(after) ? after : -1;
    }
    const start = order.indexOf(after);
    for (let k = 1; k <= order.length; k++) {
      const slot = order[(start + k + order.length) % order.length];
      if (unreviewed(slot)) return slot;
    }
    return -1;
  }

  /** Other records of the same task (teacher vs student, before vs after), for the compare picker. */
  async sameTask(slot: number): Promise<{ slot: number; label: string }[]> {
    const t = await this.model.readTrajectory(slot);
    const out: { slot: number; label: string }[] = [];
    for (let other = 0; other < this.index.slotCount; other++) {
      const s = this.index.get(other);
      if (other === slot || !s || s.taskId !== t.task.id) continue;
      out.push({ slot: other, label: `#${other + 1} · ${s.id ?? ''} · ${s.status} · ${s.verdict} · ${s.steps} steps` });
    }
    return out;
  }

  async compare(left: number, right: number): Promise<{ left: TrajectoryView; right: TrajectoryView; rows: CompareRow[] }> {
    const a = await this.model.readTrajectory(left);
    const b = await this.model.readTrajectory(right);
    const edited = new Set(this.model.editedSlots());
    return { left: trajectoryView(left, a, edited.has(left)), right: trajectoryView(right, b, edited.has(right)), rows: compareTrajectories(a, b) };
  }

  /**
   * A record of this file beside a trajectory read from another file (record `otherRecord` there), e.g. a
   * teacher trajectory beside the student's from an eval run.
   */
  async compareWithOther(left: number, other: Trajectory, otherRecord: number): Promise<{ left: TrajectoryView; right: TrajectoryView; rows: CompareRow[] }> {
    const a = await this.model.readTrajectory(left);
    return { left: trajectoryView(left, a, this.model.editedSlots().includes(left)), right: trajectoryView(otherRecord, other, false), rows: compareTrajectories(a, other) };
  }

  /** Summary of a record as the list shows it (after an edit), for tests and the tree view. */
  summaryOf(slot: number): ListRowSummary | undefined {
    return this.index.get(slot);
  }

  dispose(): void {
    this.scanAbort.abort();
    this.modelSubscription.dispose();
  }
}
