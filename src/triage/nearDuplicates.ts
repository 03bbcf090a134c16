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

interface Seen {
  id: string;
  /** 1-based position of the earlier trajectory in the file (its line when every line is a record). */
  slot: number;
  sketch: Uint32Array;
}

/** Feed trajectories in file order; each `add` says whether an earlier one duplicates it. */
export class NearDuplicateIndex {
  private readonly questions = new Map<number, { id: string; slot: number }>();
  private readonly byHash = new Map<number, Seen[]>();
  private readonly threshold: number;

  constructor(options: NearDuplicateOptions = {}) {
    this.threshold = options.threshold ?? 0.8;
  }

  /** `slot`: the record's 0-based position in the file, used in the message as a 1-based line. */
  add(key: { slot: number; id: string }, t: Trajectory): TriageFlag | undefined {
    const severity = triageRuleInfo('near-duplicate')?.severity ?? 'low';
    const question = normalizeQuestion(t.task.question);
    const questionKey = hashText(question);
    const sameQuestion = question !== '' ? this.questions.get(questionKey) : undefined;
    if (question !== '' && !sameQuestion) this.questions.set(questionKey, { id: key.id, slot: key.slot });

    const sketch = trajectorySketch(t);
    let best: { seen: Seen; similarity: number } | undefined;
    if (sketch.length >= lookupHashes) {
      const candidates = new Set<Seen>();
      for (let i = 0; i < lookupHashes; i++) for (const s of this.byHash.get(sketch[i]) ?? []) candidates.add(s);
      for (const seen of candidates) {
        const similarity = sketchSimilarity(sketch, seen.sketch);
        if (similarity >= this.threshold && (!best || similarity > best.similarity)) best = { seen, similarity };
      }
      const entry: Seen = { id: key.id, slot: key.slot, sketch };
      for (let i = 0; i < lookupHashes; i++) {
        const list = this.byHash.get(sketch[i]);
        if (list) {
          // A hash shared by many trajectories (boilerplate code) is a weak signal; a few entries are enough.
          if (list.length < 8) list.push(entry);
        } else this.byHash.set(sketch[i], [entry]);
      }
    }
    if (sameQuestion) {
      return { rule: 'near-duplicate', severity, message: `Same question as trajectory ${sameQuestion.id} (record ${sameQuestion.slot + 1})`, evidence: t.task.question.slice(0, 120) };
    }
    if (best) {
      const share = Math.round(best.similarity * 100);
      return { rule: 'near-duplicate', severity, message: `Shares about ${share}% of its thought and code with trajectory ${best.seen.id} (record ${best.seen.slot + 1})` };
    }
    return undefined;
  }
}
