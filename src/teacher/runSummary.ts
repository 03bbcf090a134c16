import { openTrajectoryFile } from '../trajectory/trajectoryFile';
import { type TaskDomain, type Trajectory } from '../trajectory/schema';
import { type Compatibility, compatibilities, profileLabels } from '../trajectory/compatibility';
import { filterDecisionOf, type TeacherVerdict } from './trajectoryFilter';
import { FileTriage } from '../triage/fileTriage';
import { formatTriageCounts } from '../triage/flags';

/** Success of one domain, with or without the first-thought prefix. */
export interface DomainSummary {
  domain: TaskDomain;
  withPrefix: boolean;
  total: number;
  /** Judged correct (METHOD §6 accuracy: correct / all records, errors count as wrong), under the run's profile. */
  correct: number;
  /**
   * Judged correct under each compatibility profile: the paper's scoring (`reference`) and the corrected one
   * (`studio`). A record with one verdict only counts it for both.
   */
  correctByProfile: Record<Compatibility, number>;
  /** Kept by the filter. */
  accepted: number;
}

/** Correct under each profile, from the record's `judgement.byProfile` (its one verdict for both when absent). */
function correctByProfileOf(t: Trajectory): Record<Compatibility, boolean> {
  const j = t.judgement;
  const single = j?.correct === true;
  return { studio: j?.byProfile ? j.byProfile.studio.correct : single, reference: j?.byProfile ? j.byProfile.reference.correct : single };
}

function emptyGroup(domain: TaskDomain, withPrefix: boolean): DomainSummary {
  return { domain, withPrefix, total: 0, correct: 0, correctByProfile: { studio: 0, reference: 0 }, accepted: 0 };
}

/** What a teacher output file holds, for the end of a run. */
export interface TeacherRunSummary {
  file: string;
  total: number;
  accepted: number;
  byVerdict: Partial<Record<TeacherVerdict, number>>;
  byDomain: DomainSummary[];
  /** Lines that are not valid trajectories. */
  unreadable: number;
  /** Triage: trajectories with a flag, those of them the filter kept, and trajectories per rule. */
  triage: { flagged: number; flaggedAccepted: number; byRule: Record<string, number> };
  /** The profiles the records were judged under (their `judgement.profile`): whose verdict `correct` is. */
  profiles: Compatibility[];
  /** Records whose two profiles' verdicts differ. */
  disagreements: number;
  /** Records with one verdict only (judged before both were stored): it counts for both profiles. */
  withoutBothVerdicts: number;
}

/**
 * Reads the output file and sums it up by domain and by prefix on/off (both appear when runs with and
 * without the prefix wrote to one file). Only questions in `taskIds` count, when given.
 */
export async function summarizeTeacherFile(file: string, taskIds?: ReadonlySet<string>, signal?: AbortSignal): Promise<TeacherRunSummary> {
  const summary: TeacherRunSummary = emptySummary(file);
  const groups = new Map<string, DomainSummary>();
  const triage = new FileTriage();
  const handle = await openTrajectoryFile(file, signal ? { signal } : {});
  try {
    for await (const r of handle.records(signal)) {
      if (!r.ok) {
        summary.unreadable++;
        continue;
      }
      const t = r.trajectory;
      if (taskIds && !taskIds.has(t.task.id)) continue;
      const decision = filterDecisionOf(t);
      summary.total++;
      if (decision?.accepted) summary.accepted++;
      if (decision) summary.byVerdict[decision.verdict] = (summary.byVerdict[decision.verdict] ?? 0) + 1;
      if (triage.add(r.index, t).length > 0 && decision?.accepted) summary.triage.flaggedAccepted++;
      const withPrefix = t.origin.firstThoughtPrefix !== undefined;
      const key = `${t.task.domain}/${withPrefix}`;
      let group = groups.get(key);
      if (!group) {
        group = emptyGroup(t.task.domain, withPrefix);
        groups.set(key, group);
      }
      group.total++;
      if (t.judgement?.correct) group.correct++;
      const byProfile = correctByProfileOf(t);
      for (const p of compatibilities) if (byProfile[p]) group.correctByProfile[p]++;
      if (byProfile.studio !== byProfile.reference) summary.disagreements++;
      if (t.judgement && !t.judgement.byProfile) summary.withoutBothVerdicts++;
      if (t.judgement?.profile && !summary.profiles.includes(t.judgement.profile)) summary.profiles.push(t.judgement.profile);
      if (decision?.accepted) group.accepted++;
    }
  } finally {
    await handle.close();
  }
  summary.byDomain = [...groups.values()].sort((a, b) => a.domain.localeCompare(b.domain) || Number(b.withPrefix) - Number(a.withPrefix));
  summary.triage.flagged = triage.flagged;
  summary.triage.byRule = Object.fromEntries(triage.byRule());
  return summary;
}

function emptySummary(file: string): TeacherRunSummary {
  return { file, total: 0, accepted: 0, byVerdict: {}, byDomain: [], unreadable: 0, triage: { flagged: 0, flaggedAccepted: 0, byRule: {} }, profiles: [], disagreements: 0, withoutBothVerdicts: 0 };
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** The summary as lines of text (CLI output, output channel). */
export function formatTeacherSummary(s: TeacherRunSummary): string[] {
  // "passed the filter", never "accepted": that word is the annotator's review in the editor.
  const lines = [`${s.file}: ${s.total} trajectories, ${s.accepted} passed the filter (${percent(s.accepted, s.total)})`];
  const showPrefix = new Set(s.byDomain.map((d) => d.withPrefix)).size > 1 || s.byDomain.some((d) => d.withPrefix);
  for (const d of s.byDomain) {
    const label = `${d.domain}${showPrefix ? (d.withPrefix ? ' with prefix' : ' without prefix') : ''}`;
    lines.push(`  ${label}: ${d.correct}/${d.total} correct (${percent(d.correct, d.total)}), ${d.accepted} passed the filter`);
    const own = s.profiles.length === 1 ? s.profiles[0] : undefined;
    const byProfile = (['reference', 'studio'] as const).map((p) => `${profileLabels[p]}${p === own ? ' ◀ this run' : ''} ${d.correctByProfile[p]}/${d.total} (${percent(d.correctByProfile[p], d.total)})`);
    lines.push(`    ${byProfile.join(' · ')}`);
  }
  if (s.total) lines.push(`  ${s.disagreements} trajectory(ies) judged differently by the two profiles`);
  if (s.withoutBothVerdicts) lines.push(`  ${s.withoutBothVerdicts} record(s) hold one verdict only (scored before both profiles were stored): it counts for both`);
  const verdicts = Object.entries(s.byVerdict).map(([v, n]) => `${v} ${n}`).join(', ');
  if (verdicts) lines.push(`  verdicts: ${verdicts}`);
  if (s.unreadable) lines.push(`  ${s.unreadable} line(s) are not valid trajectories`);
  const triage = formatTriageCounts(s.triage.flagged, s.total, new Map(Object.entries(s.triage.byRule)));
  if (triage.length) triage[0] += `, ${s.triage.flaggedAccepted} of them passed the filter (trajectory-studio triage lists them)`;
  lines.push(...triage);
  return lines;
}

/**
 * Sums several teacher output files up together, e.g. a run with the first-thought prefix and one without
 * over the same questions, so success by domain can be compared with and without the prefix.
 */
export async function summarizeTeacherFiles(files: readonly string[], signal?: AbortSignal): Promise<TeacherRunSummary> {
  const combined: TeacherRunSummary = emptySummary(files.join(' + '));
  const groups = new Map<string, DomainSummary>();
  for (const file of files) {
    const one = await summarizeTeacherFile(file, undefined, signal);
    combined.total += one.total;
    combined.accepted += one.accepted;
    combined.unreadable += one.unreadable;
    combined.disagreements += one.disagreements;
    combined.withoutBothVerdicts += one.withoutBothVerdicts;
    for (const p of one.profiles) if (!combined.profiles.includes(p)) combined.profiles.push(p);
    combined.triage.flagged += one.triage.flagged;
    combined.triage.flaggedAccepted += one.triage.flaggedAccepted;
    for (const [rule, n] of Object.entries(one.triage.byRule)) combined.triage.byRule[rule] = (combined.triage.byRule[rule] ?? 0) + n;
    for (const [verdict, n] of Object.entries(one.byVerdict) as [TeacherVerdict, number][]) combined.byVerdict[verdict] = (combined.byVerdict[verdict] ?? 0) + n;
    for (const d of one.byDomain) {
      const key = `${d.domain}/${d.withPrefix}`;
      const group = groups.get(key) ?? emptyGroup(d.domain, d.withPrefix);
      group.total += d.total;
      group.correct += d.correct;
      for (const p of compatibilities) group.correctByProfile[p] += d.correctByProfile[p];
      group.accepted += d.accepted;
      groups.set(key, group);
    }
  }
  combined.byDomain = [...groups.values()].sort((a, b) => a.domain.localeCompare(b.domain) || Number(b.withPrefix) - Number(a.withPrefix));
  return combined;
}
