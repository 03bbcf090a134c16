import { type ReviewStatus, type Trajectory } from '../trajectory/schema';
import { triageTrajectory } from '../triage/checks';
import { countByRule, type FlagSeverity, riskOf, sortFlags, type TriageFlag } from '../triage/flags';
import { hasErrors, hasHandEdits, hasStaleSteps } from './trajectoryEdits';
import { type SlotContent } from './trajectorySource';
import { filterVerdictView, type VerdictState, verdictStateOf } from './verdicts';

/**
 * The list pane's view of a file: one small summary per line (never the whole record), filters, search
 * and sort. Built by a scan of the file that may still be running while the user looks at the first
 * records, so every query says how much of the file it covered.
 */

export type Verdict = VerdictState;
/** The generation filter's decision as the list filters on it; `none`: the record carries no decision. */
export type FilterOutcome = 'passed' | 'dropped' | 'none';

/** A triage flag as the list keeps it: no message or evidence, so a summary stays small on huge files. */
export interface SummaryFlag {
  rule: string;
  severity: FlagSeverity;
  step?: number;
}

/**
 * What the editor's list shows, sorts and filters on for one line of the file (invalid lines included, with
 * the verdict, the filter's decision, triage flags and search text). Not the file-level record summary of
 * `src/trajectory/trajectoryFile.ts` (`TrajectorySummary`), which counts steps and bytes for `stats` and the
 * review counts.
 */
export interface ListRowSummary {
  slot: number;
  /** Absent for an invalid line. */
  id?: string;
  taskId?: string;
  /** The question, cut to {@link questionPreviewChars}. */
  question: string;
  domain?: 'math' | 'factual';
  steps: number;
  verdict: Verdict;
  /** The generation filter's decision (`meta.teacherFilter`), apart from the person's review status. */
  filter: FilterOutcome;
  status: ReviewStatus | 'invalid';
  reasonTags: string[];
  hasErrors: boolean;
  hasEdits: boolean;
  hasStale: boolean;
  /** Triage flags in reading order ({@link sortFlags}). */
  flags: SummaryFlag[];
  /** {@link riskOf} the flags: 0 when clean. */
  risk: number;
  /** Lower-case text the search matches against: question, answers, ids, tags, note. */
  searchText: string;
}

export const questionPreviewChars = 240;
/** How much of each step's thought and code goes into the search text (keeps memory bounded on huge files). */
const searchCharsPerStep = 400;

/**
 * `fileFlags` are flags that need the rest of the file (a near duplicate of an earlier record); the
 * per-record triage runs here, so a summary re-made after an edit has flags that follow the edit.
 */
export function summarise(content: SlotContent, fileFlags: readonly TriageFlag[] = []): ListRowSummary {
  if (!content.valid) {
    return {
      slot: content.slot,
      question: `Line ${content.line} is not a valid trajectory: ${content.issues[0] ? `${content.issues[0].path}: ${content.issues[0].message}` : 'unreadable'}`,
      steps: 0,
      verdict: 'unjudged',
      filter: 'none',
      status: 'invalid',
      reasonTags: [],
      hasErrors: false,
      hasEdits: false,
      hasStale: false,
      flags: [],
      risk: 0,
      searchText: content.preview.toLowerCase(),
    };
  }
  return summariseTrajectory(content.slot, content.trajectory, fileFlags);
}

export function summariseTrajectory(slot: number, t: Trajectory, fileFlags: readonly TriageFlag[] = []): ListRowSummary {
  const flags = sortFlags([...triageTrajectory(t), ...fileFlags]).map((f): SummaryFlag => (f.step === undefined ? { rule: f.rule, severity: f.severity } : { rule: f.rule, severity: f.severity, step: f.step }));
  const searchParts = [t.id, t.task.id, t.task.question, t.task.goldAnswer ?? '', t.finalAnswer ?? '', t.review.note ?? '', ...t.review.reasonTags];
  for (const s of t.steps) searchParts.push(s.thought.slice(0, searchCharsPerStep), s.code.slice(0, searchCharsPerStep));
  return {
    slot,
    id: t.id,
    taskId: t.task.id,
    question: t.task.question.length > questionPreviewChars ? `${t.task.question.slice(0, questionPreviewChars)}…` : t.task.question,
    domain: t.task.domain,
    steps: t.steps.length,
    verdict: verdictStateOf(t),
    filter: filterOutcomeOf(t),
    status: t.review.status,
    reasonTags: [...t.review.reasonTags],
    hasErrors: hasErrors(t),
    hasEdits: hasHandEdits(t),
    hasStale: hasStaleSteps(t),
    flags,
    risk: riskOf(flags),
    searchText: searchParts.join('\n').toLowerCase(),
  };
}

function filterOutcomeOf(t: Trajectory): FilterOutcome {
  const view = filterVerdictView(t);
  return view ? (view.passed ? 'passed' : 'dropped') : 'none';
}

export interface TrajectoryQuery {
  status?: (ReviewStatus | 'invalid')[];
  verdict?: Verdict[];
  domain?: ('math' | 'factual')[];
  hasErrors?: boolean;
  hasEdits?: boolean;
  hasStale?: boolean;
  tag?: string;
  filter?: FilterOutcome[];
  /** `any`: flagged by some triage rule; `none`: by none; otherwise the id of the rule. */
  flag?: string;
  /** Case-insensitive; every whitespace-separated word must occur. */
  search?: string;
  /** `risk`: highest triage risk first (ties in file order). */
  sort?: 'file' | 'steps' | 'status' | 'verdict' | 'question' | 'risk';
  descending?: boolean;
}

const statusOrder: Record<ListRowSummary['status'], number> = { unreviewed: 0, rejected: 1, accepted: 2, invalid: 3 };
const verdictOrder: Record<Verdict, number> = { incorrect: 0, 'needs-judging': 1, unjudged: 2, correct: 3 };

export function matchesQuery(s: ListRowSummary, q: TrajectoryQuery, words: readonly string[]): boolean {
  if (q.status?.length && !q.status.includes(s.status)) return false;
  if (q.verdict?.length && !q.verdict.includes(s.verdict)) return false;
  if (q.domain?.length && (s.domain === undefined || !q.domain.includes(s.domain))) return false;
  if (q.hasErrors !== undefined && s.hasErrors !== q.hasErrors) return false;
  if (q.hasEdits !== undefined && s.hasEdits !== q.hasEdits) return false;
  if (q.hasStale !== undefined && s.hasStale !== q.hasStale) return false;
  if (q.tag && !s.reasonTags.includes(q.tag)) return false;
  if (q.filter?.length && !q.filter.includes(s.filter)) return false;
  if (q.flag === 'any' && s.flags.length === 0) return false;
  if (q.flag === 'none' && s.flags.length > 0) return false;
  if (q.flag && q.flag !== 'any' && q.flag !== 'none' && !s.flags.some((f) => f.rule === q.flag)) return false;
  for (const w of words) if (!s.searchText.includes(w)) return false;
  return true;
}

export function searchWords(search: string | undefined): string[] {
  return (search ?? '').toLowerCase().split(/\s+/).filter((w) => w.length > 0);
}

/** Summaries of every line scanned so far, in file order, with queries over them. */
export class TrajectoryListIndex {
  private readonly summaries: (ListRowSummary | undefined)[];
  private scannedCount = 0;

  constructor(readonly slotCount: number) {
    this.summaries = new Array<ListRowSummary | undefined>(slotCount);
  }

  /** Records (or replaces, after an edit) the summary of one line. */
  put(summary: ListRowSummary): void {
    if (this.summaries[summary.slot] === undefined) this.scannedCount++;
    this.summaries[summary.slot] = summary;
  }

  get(slot: number): ListRowSummary | undefined {
    return this.summaries[slot];
  }

  /** How many lines have a summary; equal to `slotCount` once the scan finished. */
  get scanned(): number {
    return this.scannedCount;
  }

  get complete(): boolean {
    return this.scannedCount === this.slotCount;
  }

  /** Trajectory ids by slot (for matching records after the file changed on disk). */
  idsBySlot(): (string | undefined)[] {
    return Array.from({ length: this.slotCount }, (_, i) => this.summaries[i]?.id);
  }

  /** Slots matching the query, in the requested order. Lines not yet scanned are not included. */
  query(q: TrajectoryQuery): number[] {
    const words = searchWords(q.search);
    const out: ListRowSummary[] = [];
    for (const s of this.summaries) if (s && matchesQuery(s, q, words)) out.push(s);
    const sort = q.sort ?? 'file';
    if (sort !== 'file') {
      const key = (s: ListRowSummary): number | string =>
        sort === 'steps'
          ? s.steps
          : sort === 'status'
            ? statusOrder[s.status]
            : sort === 'verdict'
              ? verdictOrder[s.verdict]
              : sort === 'risk'
                ? -s.risk
                : s.question.toLowerCase();
      // Array.prototype.sort is stable, so ties keep file order.
      out.sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
    }
    if (q.descending) out.reverse();
    return out.map((s) => s.slot);
  }

  /** Counts by review status over the scanned lines (the tree view and the status bar show these). */
  countsByStatus(): Record<ListRowSummary['status'], number> {
    const counts = { unreviewed: 0, accepted: 0, rejected: 0, invalid: 0 };
    for (const s of this.summaries) if (s) counts[s.status]++;
    return counts;
  }

  /** Counts by the generation filter's decision over the scanned lines (apart from the review counts). */
  countsByFilter(): Record<FilterOutcome, number> {
    const counts = { passed: 0, dropped: 0, none: 0 };
    for (const s of this.summaries) if (s) counts[s.filter]++;
    return counts;
  }

  /**
   * The review queue over a query's result: flagged trajectories first, highest risk first (ties keep the
   * result's order), then the unflagged ones in the result's order.
   */
  reviewQueue(result: readonly number[]): number[] {
    const flagged: { slot: number; risk: number }[] = [];
    const rest: number[] = [];
    for (const slot of result) {
      const risk = this.summaries[slot]?.risk ?? 0;
      if (risk > 0) flagged.push({ slot, risk });
      else rest.push(slot);
    }
    // Stable, so equal risks keep the order the user sorted the list in.
    flagged.sort((a, b) => b.risk - a.risk);
    return [...flagged.map((f) => f.slot), ...rest];
  }

  /** How many scanned trajectories each triage rule flags, in rule order (for the flag filter). */
  flagCounts(): Map<string, number> {
    const lists: SummaryFlag[][] = [];
    for (const s of this.summaries) if (s?.flags.length) lists.push(s.flags);
    return countByRule(lists);
  }

  /** Every reason tag in use, for the tag filter. */
  tagsInUse(): string[] {
    const tags = new Set<string>();
    for (const s of this.summaries) for (const t of s?.reasonTags ?? []) tags.add(t);
    return [...tags].sort();
  }
}
