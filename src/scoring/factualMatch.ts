import { answerFromText } from './boxedAnswer';

/**
 * Offline scoring of factual answers: normalised exact match and token F1, with the normalisation that
 * reading-comprehension benchmarks use (lower case, no punctuation, no articles, single spaces). It is
 * the fallback when no judge model is configured; the verdict names which of the two decided.
 */

export type FactualRule = 'exact-match' | 'f1' | 'no-answer' | 'no-match' | 'llm-judge' | 'judge-error';

export interface FactualVerdict {
  correct: boolean;
  rule: FactualRule;
  /** Best token F1 against the gold answers, in [0, 1] (also reported for judge verdicts). */
  f1: number;
  /** The answer taken from the prediction (last `\boxed{}` content, or the whole text). */
  predAnswer: string;
  /** The gold answer (or alias) the prediction came closest to. */
  goldAnswer: string;
  /** The judge's explanation, or what the offline rule compared. */
  detail: string;
  /**
   * Set when the verdict could not be reached normally, e.g. the judge's reply could not be read: what
   * went wrong, for the user to see. Such a verdict counts as incorrect (`correct: false`).
   */
  error?: string;
}

export interface FactualMatchOptions {
  /** Accept a prediction whose token F1 reaches this value even without an exact match. Default: exact match only. */
  f1Threshold?: number;
}

/** Lower case, punctuation removed, articles (`a`, `an`, `the`) removed, whitespace collapsed. */
export function normalizeFactualAnswer(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(?:a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Token-level F1 between two answers after normalisation (bag of words, counted with multiplicity). */
export function tokenF1(prediction: string, gold: string): number {
  const predTokens = normalizeFactualAnswer(prediction).split(' ').filter(Boolean);
  const goldTokens = normalizeFactualAnswer(gold).split(' ').filter(Boolean);
  if (predTokens.length === 0 || goldTokens.length === 0) return predTokens.length === goldTokens.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of goldTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of predTokens) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      common++;
      counts.set(t, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predTokens.length;
  const recall = common / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Splits a gold field into its aliases: a JSON array of strings, or `a | b | c`, or one answer. */
export function goldAliases(gold: string | readonly string[]): string[] {
  if (typeof gold !== 'string') return gold.map((g) => g.trim()).filter(Boolean);
  const trimmed = gold.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return (parsed).map((g) => g.trim()).filter(Boolean);
    } catch {
      // not JSON: an answer that starts with a bracket
    }
  }
  if (trimmed.includes(' | ')) return trimmed.split(' | ').map((g) => g.trim()).filter(Boolean);
  return [trimmed];
}

/** Judges a factual answer offline: exact match after normalisation, optionally F1 above a threshold. */
export function judgeFactualOffline(prediction: string, gold: string | readonly string[], options: FactualMatchOptions = {}): FactualVerdict {
  const predAnswer = answerFromText(prediction).answer;
  const aliases = goldAliases(gold);
  if (aliases.length === 0) throw new Error('the gold answer is empty');
  let best = { alias: aliases[0], f1: -1 };
  for (const alias of aliases) {
    const f1 = tokenF1(predAnswer, alias);
    if (f1 > best.f1) best = { alias, f1 };
  }
  const base = { predAnswer, goldAnswer: best.alias, f1: best.f1 };
  if (normalizeFactualAnswer(predAnswer) === '') {
    return { ...base, f1: 0, correct: false, rule: 'no-answer', detail: 'the prediction has no answer to compare' };
  }
  const exact = aliases.find((a) => normalizeFactualAnswer(a) === normalizeFactualAnswer(predAnswer));
  if (exact !== undefined) {
    return { ...base, goldAnswer: exact, f1: 1, correct: true, rule: 'exact-match', detail: `both normalise to "${normalizeFactualAnswer(exact)}"` };
  }
  if (options.f1Threshold !== undefined && best.f1 >= options.f1Threshold) {
    return { ...base, correct: true, rule: 'f1', detail: `token F1 ${best.f1.toFixed(3)} ≥ ${options.f1Threshold}` };
  }
  return {
    ...base,
    correct: false,
    rule: options.f1Threshold !== undefined ? 'f1' : 'no-match',
    detail: `"${normalizeFactualAnswer(predAnswer)}" is not "${normalizeFactualAnswer(best.alias)}" (token F1 ${best.f1.toFixed(3)})`,
  };
}
