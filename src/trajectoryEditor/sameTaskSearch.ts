import { openTrajectoryFile } from '../trajectory/trajectoryFile';

/**
 * Finds trajectories of one task in other trajectory files (curated files, evaluation runs), for the
 * compare picker: a teacher trajectory beside the student's from an eval run. Files can be hundreds of
 * megabytes, so nothing is loaded whole: each file is indexed in one streaming pass, each record's raw
 * bytes are checked for the task id or question before anything is parsed, and the whole search stops at
 * a time budget (reporting which files it did not finish) so the picker never hangs on a huge file.
 */

/** A file to search, with the label the picker shows for it (relative path, eval run name). */
export interface SearchedFile {
  path: string;
  label: string;
}

export interface SameTaskMatch {
  path: string;
  fileLabel: string;
  /** 0-based record index in that file. */
  record: number;
  id: string;
  /** What the picker shows: where it is, who wrote it and how it ended. */
  label: string;
}

export interface SameTaskSearchResult {
  matches: SameTaskMatch[];
  /** Labels of files not searched to the end (the time budget ran out or they could not be read). */
  unfinished: string[];
}

export interface SameTaskSearchOptions {
  /** Stop after this long; what was found so far is returned. */
  budgetMs?: number;
  /** Stop after this many matches (a picker of hundreds helps nobody). */
  maxMatches?: number;
  signal?: AbortSignal;
  /** Called after each file with the files done so far. */
  onProgress?: (filesDone: number, filesTotal: number) => void;
  /** Injectable clock for tests. */
  now?: () => number;
}

const defaultBudgetMs = 8_000;
const defaultMaxMatches = 50;

/** Questions match as written, ends trimmed: the raw-byte pre-filter could not see other differences. */
function normaliseQuestion(q: string): string {
  return q.trim();
}

/**
 * Searches `files` in order for records of the task `taskId` or with the same question text (runs of one
 * benchmark question can carry different task ids across tools). Unreadable files are reported in
 * `unfinished`, not thrown: one broken file must not hide the matches in the others.
 */
export async function findSameTaskInFiles(
  files: readonly SearchedFile[],
  target: { taskId: string; question: string },
  options: SameTaskSearchOptions = {},
): Promise<SameTaskSearchResult> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.budgetMs ?? defaultBudgetMs);
  const maxMatches = options.maxMatches ?? defaultMaxMatches;
  const question = normaliseQuestion(target.question);
  // Cheap byte pre-filters, so only likely records are parsed: the task id as it appears JSON-encoded, and
  // the question's first 40 characters (the parsed record has the last word).
  const idNeedle = Buffer.from(JSON.stringify(target.taskId));
  // An empty question would match every record: then the task id alone decides.
  const questionNeedle = question ? Buffer.from(JSON.stringify(question).slice(1, -1).slice(0, 40)) : undefined;
  const matches: SameTaskMatch[] = [];
  const unfinished: string[] = [];
  let done = 0;
  // The index pass over a huge file is one await: a timer aborts it when the budget runs out.
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(), Math.max(0, deadline - now()));
  const signal = options.signal ? AbortSignal.any([options.signal, budget.signal]) : budget.signal;
  try {
    for (const f of files) {
      if (signal.aborted || now() > deadline || matches.length >= maxMatches) {
        unfinished.push(f.label);
        continue;
      }
      let finished = false;
      try {
        const file = await openTrajectoryFile(f.path, { signal });
        try {
          let i = 0;
          for (; i < file.count; i++) {
            if (signal.aborted || now() > deadline || matches.length >= maxMatches) break;
            const raw = await file.readRaw(i);
            if (!raw.includes(idNeedle) && !(questionNeedle && raw.includes(questionNeedle))) continue;
            const r = await file.read(i);
            if (!r.ok) continue;
            const t = r.trajectory;
            if (t.task.id !== target.taskId && (!question || normaliseQuestion(t.task.question) !== question)) continue;
            const verdict = t.judgement ? (t.judgement.correct ? 'correct' : 'incorrect') : 'not judged';
            const origin = [t.origin.kind, t.origin.model].filter(Boolean).join(' ');
            matches.push({
              path: f.path,
              fileLabel: f.label,
              record: i,
              id: t.id,
              label: `${f.label} #${i + 1} · ${t.id} · ${origin} · ${verdict} · ${t.steps.length} steps`,
            });
          }
          finished = i >= file.count;
        } finally {
          await file.close();
        }
      } catch {
        // An unreadable or vanished file is reported as unfinished below; the others are still searched.
      }
      if (!finished) unfinished.push(f.label);
      options.onProgress?.(++done, files.length);
    }
  } finally {
    clearTimeout(timer);
  }
  return { matches, unfinished };
}
