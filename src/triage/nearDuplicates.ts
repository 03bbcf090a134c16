import { normalizeQuestion } from '../trajectory/leakageCheck';
import { type Trajectory } from '../trajectory/schema';
import { type TriageFlag, triageRuleInfo } from './flags';

/**
 * The `near-duplicate` rule across a file: a trajectory is flagged when an earlier one has the same question
 * (after normalising case, punctuation and spacing), or when their thoughts and code share most word
 * 4-grams. Two copies of one episode teach the student the same thing twice and weigh it double.
 *
 * The text comparison uses bottom-k sketches (the k smallest hashes of a trajectory's 4-grams estimate the
 * Jaccard similarity of two sets) and finds candidates through the few smallest hashes, so a file of 100,000
 * trajectories is checked in one pass with a few numbers per trajectory in memory.
 */

export interface NearDuplicateOptions {
  /** Estimated share of shared 4-grams from which two trajectories are near duplicates (default 0.8). */
  threshold?: number;
}

const sketchSize = 32;
/** How many of the smallest hashes index a trajectory for candidate lookup. */
const lookupHashes = 4;
const shingleWords = 4;
/** Words of each trajectory that are read (keeps the pass linear in a bounded prefix of huge records). */
const maxWords = 2000;

/** FNV-1a over a string, 32 bits. */
function hashWord(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A 53-bit hash of a string (two FNV variants), for keying questions without keeping their text. */
function hashText(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) & 0x1fffff);
}

/** The k smallest 4-gram hashes of the trajectory's thoughts and code, ascending (fewer for short texts). */
export function trajectorySketch(t: Trajectory): Uint32Array {
  const words: number[] = [];
  for (const s of t.steps) {
    for (const text of [s.thought, s.code]) {
      for (const w of text.toLowerCase().split(/[^\p{L}\p{N}_]+/u)) {
        if (w !== '' && words.length < maxWords) words.push(hashWord(w));
      }
    }
  }
  const hashes = new Uint32Array(Math.max(0, words.length - shingleWords + 1));
  for (let i = 0; i + shingleWords <= words.length; i++) {
    let h = 0x9e3779b1;
    for (let k = 0; k < shingleWords; k++) h = Math.imul(h ^ words[i + k], 0x85ebca6b) ^ (h >>> 13);
    hashes[i] = h >>> 0;
  }
  hashes.sort();
  // The k smallest distinct values.
  const out: number[] = [];
  for (let i = 0; i < hashes.length && out.length < sketchSize; i++) if (i === 0 || hashes[i] !== hashes[i - 1]) out.push(hashes[i]);
  return Uint32Array.from(out);
}

/** Estimated Jaccard similarity of two sets from their bottom-k sketches. */
export function sketchSimilarity(a: Uint32Array, b: Uint32Array): number {
  const k = Math.min(sketchSize, Math.max(a.length, b.length));
  if (k === 0) return 0;
  // Walk the union's k smallest hashes; count those in both sketches.
  let i = 0;
  let j = 0;
  let taken = 0;
  let both = 0;
  while (taken < k && (i < a.length || j < b.length)) {
    const x = i < a.length ? a[i] : Infinity;
    const y = j < b.length ? b[j] : Infinity;
    if (x === y) {
      both++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
    taken++;
  }
  return both / k;
}

/**
 * Feed trajectories in file order; each `add` says whether an earlier one duplicates it. What is kept per
 * trajectory is packed (its id, its position, its sketch in one pool, a few small-integer map entries), about
 * 300 bytes, so a file of a million trajectories fits in a few hundred MB.
 */
export class NearDuplicateIndex {
  private readonly ids: string[] = [];
  private readonly slots: number[] = [];
  private pool = new Uint32Array(sketchSize * 1024);
  private lengths = new Uint8Array(1024);
  /** Question hash → entry. */
  private readonly questions = new Map<number, number>();
  /** Sketch hash (30 bits, a small integer) → the first entry with it; later ones in `more`, up to 8. */
  private readonly byHash = new Map<number, number>();
  private readonly more = new Map<number, number[]>();
  private readonly threshold: number;

  constructor(options: NearDuplicateOptions = {}) {
    this.threshold = options.threshold ?? 0.8;
  }

  private sketchOf(entry: number): Uint32Array {
    return this.pool.subarray(entry * sketchSize, entry * sketchSize + this.lengths[entry]);
  }

  private store(sketch: Uint32Array): number {
    const entry = this.ids.length;
    if ((entry + 1) * sketchSize > this.pool.length) {
      const pool = new Uint32Array(this.pool.length * 2);
      pool.set(this.pool);
      this.pool = pool;
      const lengths = new Uint8Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.pool.set(sketch, entry * sketchSize);
    this.lengths[entry] = sketch.length;
    return entry;
  }

  private index(hash: number, entry: number): void {
    const key = hash >>> 2;
    if (!this.byHash.has(key)) {
      this.byHash.set(key, entry);
      return;
    }
    // A hash shared by many trajectories (boilerplate code) is a weak signal; a few entries are enough.
    const list = this.more.get(key);
    if (!list) this.more.set(key, [entry]);
    else if (list.length < 7) list.push(entry);
  }

  /** `slot`: the record's 0-based position in the file, used in the message as a 1-based line. */
  add(key: { slot: number; id: string }, t: Trajectory): TriageFlag | undefined {
    const severity = triageRuleInfo('near-duplicate')?.severity ?? 'low';
    const question = normalizeQuestion(t.task.question);
    const questionKey = hashText(question);
    const sameQuestion = question !== '' ? this.questions.get(questionKey) : undefined;

    const sketch = trajectorySketch(t);
    let best: { entry: number; similarity: number } | undefined;
    if (sketch.length >= lookupHashes) {
      const candidates = new Set<number>();
      for (let i = 0; i < lookupHashes; i++) {
        const k = sketch[i] >>> 2;
        const first = this.byHash.get(k);
        if (first !== undefined) candidates.add(first);
        for (const e of this.more.get(k) ?? []) candidates.add(e);
      }
      for (const entry of candidates) {
        const similarity = sketchSimilarity(sketch, this.sketchOf(entry));
        if (similarity >= this.threshold && (!best || similarity > best.similarity)) best = { entry, similarity };
      }
    }
    const entry = this.store(sketch);
    this.ids.push(key.id);
    this.slots.push(key.slot);
    if (question !== '' && sameQuestion === undefined) this.questions.set(questionKey, entry);
    if (sketch.length >= lookupHashes) for (let i = 0; i < lookupHashes; i++) this.index(sketch[i], entry);

    if (sameQuestion !== undefined) {
      return { rule: 'near-duplicate', severity, message: `Same question as trajectory ${this.ids[sameQuestion]} (record ${this.slots[sameQuestion] + 1})`, evidence: t.task.question.slice(0, 120) };
    }
    if (best) {
      const share = Math.round(best.similarity * 100);
      return { rule: 'near-duplicate', severity, message: `Shares about ${share}% of its thought and code with trajectory ${this.ids[best.entry]} (record ${this.slots[best.entry] + 1})` };
    }
    return undefined;
  }
}
