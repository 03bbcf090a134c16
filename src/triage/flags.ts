/**
 * Triage flags: the defects a careful reviewer looks for in a trajectory that may be correct by the scorer
 * and still teach a student the wrong behaviour. A flag names its rule, how much it matters, the step it
 * points at and the text that triggered it, so the editor can put it on the right step card and the
 * export can leave flagged trajectories out by rule.
 *
 * Deterministic rules live in `checks.ts` (per trajectory) and `nearDuplicates.ts` (across a file); a
 * rubric judge adds flags whose rule is `rubric:<criterion id>`.
 */

export type FlagSeverity = 'high' | 'medium' | 'low';

/** Ids of the deterministic rules, in the order they are listed to users. */
export const TRIAGE_RULE_IDS = [
  'no-search',
  'ungrounded-answer',
  'answer-not-computed',
  'unchecked-thought-number',
  'ignored-error',
  'repeated-search',
  'silent-step',
  'missing-boxed',
  'answer-format-drift',
  'over-length',
  'low-agreement',
  'winner-overridden',
  'stale-step',
  'near-duplicate',
] as const;
export type TriageRuleId = (typeof TRIAGE_RULE_IDS)[number];

export interface TriageFlag {
  /** A {@link TriageRuleId}, or `rubric:<criterion id>` for a rubric judge's finding. */
  rule: string;
  severity: FlagSeverity;
  /** 0-based index of the step the flag points at; absent when it concerns the whole trajectory. */
  step?: number;
  /** One line, written for the annotator. */
  message: string;
  /** The span of text that triggered the flag (cut to {@link evidenceChars}). */
  evidence?: string;
}

export interface TriageRuleInfo {
  id: TriageRuleId;
  severity: FlagSeverity;
  /** A short label for lists and filters. */
  title: string;
  /** What the rule looks for and why it matters for training. */
  description: string;
}

export const triageRules: readonly TriageRuleInfo[] = [
  {
    id: 'no-search',
    severity: 'high',
    title: 'Answered without searching',
    description: 'A factual question answered without any web_search call: the answer came from the model’s memory, which the scorer cannot tell from a grounded one.',
  },
  {
    id: 'ungrounded-answer',
    severity: 'high',
    title: 'Answer not in any passage',
    description: 'The final answer of a factual question appears in no retrieved passage and no printed output.',
  },
  {
    id: 'answer-not-computed',
    severity: 'medium',
    title: 'Answer typed, not computed',
    description: 'final_answer(...) is given a literal that no earlier observation produced: the code did not compute the answer it reports.',
  },
  {
    id: 'unchecked-thought-number',
    severity: 'medium',
    title: 'Number only in the thought',
    description: 'A thought states a number that no observation shows: arithmetic done in the head that the code never checked, or that the code contradicted.',
  },
  {
    id: 'ignored-error',
    severity: 'high',
    title: 'Error ignored',
    description: 'A step raised an error and the next step ran the same code again, or failed with the same error.',
  },
  {
    id: 'repeated-search',
    severity: 'low',
    title: 'Repeated search',
    description: 'The same web_search query was sent again in a later step.',
  },
  {
    id: 'silent-step',
    severity: 'low',
    title: 'Step shows nothing',
    description: 'The step’s code printed nothing, returned nothing and raised nothing: the model saw an empty observation.',
  },
  {
    id: 'missing-boxed',
    severity: 'medium',
    title: 'Math answer not boxed',
    description: 'A math answer without \\boxed{}, which the task instruction asks for.',
  },
  {
    id: 'answer-format-drift',
    severity: 'low',
    title: 'Answer in another form than the gold',
    description: 'The answer is written in a different form from the gold (a decimal for an exact fraction or root, extra words, a variable prefix).',
  },
  {
    id: 'over-length',
    severity: 'high',
    title: 'Longer than the training max length',
    description: 'The training text has more tokens than the export’s max length, so the trainer would cut it.',
  },
  {
    id: 'low-agreement',
    severity: 'medium',
    title: 'Low SAG agreement',
    description: 'The winning group of a SAG step holds at most half of the candidates: the student was unsure.',
  },
  {
    id: 'winner-overridden',
    severity: 'medium',
    title: 'Step differs from the SAG majority',
    description: 'After an edit or a re-execution the step’s action is no longer the one the vote chose.',
  },
  {
    id: 'stale-step',
    severity: 'high',
    title: 'Stale step',
    description: 'An earlier step was edited, so this step’s observation may no longer follow from it.',
  },
  {
    id: 'near-duplicate',
    severity: 'low',
    title: 'Near duplicate',
    description: 'Another trajectory in the file has the same question, or shares most of its text.',
  },
];

const ruleInfo = new Map<string, TriageRuleInfo>(triageRules.map((r) => [r.id, r]));

/** The rule's description, or undefined for a rubric criterion or an unknown id. */
export function triageRuleInfo(id: string): TriageRuleInfo | undefined {
  return ruleInfo.get(id);
}

const rubricPrefix = 'rubric:';

/** The short label of a rule: its title, or `Rubric: <criterion>` for a rubric judge's finding. */
export function flagTitle(rule: string): string {
  const info = ruleInfo.get(rule);
  if (info) return info.title;
  return rule.startsWith(rubricPrefix) ? `Rubric: ${rule.slice(rubricPrefix.length)}` : rule;
}

export function isTriageRuleId(id: string): id is TriageRuleId {
  return ruleInfo.has(id);
}

/** Characters of evidence kept per flag. */
export const evidenceChars = 160;

export const severityWeight: Readonly<Record<FlagSeverity, number>> = { high: 3, medium: 2, low: 1 };

/** How risky a trajectory looks: the sum of its flags' severity weights (0 when clean). */
export function riskOf(flags: readonly Pick<TriageFlag, 'severity'>[]): number {
  let risk = 0;
  for (const f of flags) risk += severityWeight[f.severity];
  return risk;
}

/** Flags in reading order: by step (whole-trajectory flags last), then by severity. */
export function sortFlags<T extends Pick<TriageFlag, 'severity' | 'step'>>(flags: readonly T[]): T[] {
  return [...flags].sort((a, b) => (a.step ?? Infinity) - (b.step ?? Infinity) || severityWeight[b.severity] - severityWeight[a.severity]);
}

/** Trajectories per rule: a trajectory counts once per rule, however many steps the rule flagged. */
export function countByRule(flagLists: Iterable<readonly Pick<TriageFlag, 'rule'>[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const flags of flagLists) for (const rule of new Set(flags.map((f) => f.rule))) counts.set(rule, (counts.get(rule) ?? 0) + 1);
  return orderedByRule(counts);
}

/** Counts keyed by rule id in {@link TRIAGE_RULE_IDS} order, then rubric rules by name. */
export function orderedByRule(counts: ReadonlyMap<string, number>): Map<string, number> {
  const order = (id: string): number => {
    const i = (TRIAGE_RULE_IDS as readonly string[]).indexOf(id);
    return i < 0 ? TRIAGE_RULE_IDS.length : i;
  };
  return new Map([...counts].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b)));
}

/** Triage counts as lines of text (CLI reports, output channels): one line per rule with its title. */
export function formatTriageCounts(flagged: number, total: number, byRule: ReadonlyMap<string, number>): string[] {
  if (total === 0) return [];
  const lines = [`  triage: ${flagged} of ${total} trajectories flagged`];
  for (const [rule, n] of orderedByRule(byRule)) lines.push(`    ${rule.padEnd(26)}${String(n).padStart(6)}  ${flagTitle(rule)}`);
  return lines;
}
