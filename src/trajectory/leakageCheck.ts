/**
 * Leakage check between training questions and benchmark questions: a question that also appears in an
 * evaluation set (verbatim or nearly) inflates the student's scores. Questions are normalised (Unicode
 * NFKC, lower case, punctuation to spaces, whitespace collapsed); equal normalised text is an exact
 * duplicate; otherwise word n-grams are compared and a pair whose shared n-grams cover at least
 * `nearThreshold` of the shorter question's n-grams is a near duplicate.
 */

export interface LeakageQuestion {
  /** Id of the trajectory (training side) or of the question (benchmark side). */
  id: string;
  question: string;
  /** Which benchmark file it came from (benchmark side). */
  source?: string;
}

export interface LeakageMatch {
  trainingId: string;
  benchmarkId: string;
  benchmarkSource?: string;
  kind: 'exact' | 'near';
  /** Share of the shorter question's n-grams found in the other (1 for exact duplicates). */
  overlap: number;
  trainingQuestion: string;
  benchmarkQuestion: string;
}

export interface LeakageOptions {
  /** Words per n-gram (default 3). */
  ngram?: number;
  /** Overlap from which a pair is a near duplicate (default 0.6). */
  nearThreshold?: number;
}

export function normalizeQuestion(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function ngramsOf(normalized: string, n: number): Set<string> {
  const words = normalized.split(' ').filter((w) => w !== '');
  const grams = new Set<string>();
  if (words.length < n) {
    // Short questions are compared as one gram; they can only match near-exactly.
    if (words.length > 0) grams.add(words.join(' '));
    return grams;
  }
  for (let i = 0; i + n <= words.length; i++) grams.add(words.slice(i, i + n).join(' '));
  return grams;
}

/**
 * Compares every training question with every benchmark question (through an n-gram index, so the cost
 * grows with the number of shared n-grams, not with the product of the set sizes). Returns the best
 * match per training question that has one.
 */
export function findLeakage(training: readonly LeakageQuestion[], benchmarks: readonly LeakageQuestion[], options: LeakageOptions = {}): LeakageMatch[] {
  const n = options.ngram ?? 3;
  const threshold = options.nearThreshold ?? 0.6;
  const exact = new Map<string, LeakageQuestion>();
  const index = new Map<string, number[]>();
  const benchGrams: Set<string>[] = [];
  benchmarks.forEach((b, i) => {
    const norm = normalizeQuestion(b.question);
    if (!exact.has(norm)) exact.set(norm, b);
    const grams = ngramsOf(norm, n);
    benchGrams.push(grams);
    for (const g of grams) {
      const list = index.get(g);
      if (list) list.push(i);
      else index.set(g, [i]);
    }
  });

  const matches: LeakageMatch[] = [];
  for (const t of training) {
    const norm = normalizeQuestion(t.question);
    const same = exact.get(norm);
    if (same && norm !== '') {
      matches.push({ trainingId: t.id, benchmarkId: same.id, ...(same.source !== undefined ? { benchmarkSource: same.source } : {}), kind: 'exact', overlap: 1, trainingQuestion: t.question, benchmarkQuestion: same.question });
      continue;
    }
    const grams = ngramsOf(norm, n);
    if (grams.size === 0) continue;
    const shared = new Map<number, number>();
    for (const g of grams) for (const i of index.get(g) ?? []) shared.set(i, (shared.get(i) ?? 0) + 1);
    let best: { i: number; overlap: number } | undefined;
    for (const [i, count] of shared) {
      const overlap = count / Math.min(grams.size, benchGrams[i].size);
      if (overlap >= threshold && (!best || overlap > best.overlap)) best = { i, overlap };
    }
    if (best) {
      const b = benchmarks[best.i];
      matches.push({ trainingId: t.id, benchmarkId: b.id, ...(b.source !== undefined ? { benchmarkSource: b.source } : {}), kind: 'near', overlap: Math.round(best.overlap * 1000) / 1000, trainingQuestion: t.question, benchmarkQuestion: b.question });
    }
  }
  return matches;
}

/** One line for people: what kind of duplicate, and of which benchmark question. */
export function describeLeak(m: LeakageMatch): string {
  return `${m.kind === 'exact' ? 'exact duplicate' : `near duplicate (${Math.round(m.overlap * 100)}% shared word trigrams)`} of ${m.benchmarkSource ?? 'benchmark'} question ${m.benchmarkId}`;
}
