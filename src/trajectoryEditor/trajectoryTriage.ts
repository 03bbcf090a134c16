import { type FlagView } from './editorViewSchema';
import { flagTitle, triageRuleInfo, type TriageFlag } from '../triage/flags';

/**
 * How the editor words triage flags: rule titles for the list's tooltips and the flag filter, flags shaped
 * for the step cards, and the question asked before a flagged trajectory is accepted. No `vscode`, so the
 * wording is unit-tested.
 */

export function flagView(flag: TriageFlag): FlagView {
  const view: FlagView = { rule: flag.rule, severity: flag.severity, title: flagTitle(flag.rule), message: flag.message };
  const description = triageRuleInfo(flag.rule)?.description;
  if (description !== undefined) view.description = description;
  if (flag.step !== undefined) view.step = flag.step;
  if (flag.evidence !== undefined) view.evidence = flag.evidence;
  return view;
}

/** The rows of the flag filter: each rule in use with its title, severity and how many trajectories it flags. */
export function flagRulesInUse(counts: ReadonlyMap<string, number>): { rule: string; title: string; severity?: TriageFlag['severity']; count: number }[] {
  return [...counts].map(([rule, count]) => {
    const severity = triageRuleInfo(rule)?.severity;
    return severity === undefined ? { rule, title: flagTitle(rule), count } : { rule, title: flagTitle(rule), severity, count };
  });
}

/** What the accept confirmation says; undefined when there is nothing to ask about. */
export interface AcceptQuestion {
  message: string;
  /** The flags one per line, with their steps, for the dialog's detail text. */
  detail: string;
}

/**
 * The question asked before accepting a trajectory that still has flags: "N open flags: <titles>. Accept
 * anyway?", titles once each in reading order. Accepting teaches the student whatever the trajectory
 * does, so a flagged one deserves a second look; the setting turns the question off.
 */
export function acceptQuestion(flags: readonly TriageFlag[]): AcceptQuestion | undefined {
  if (flags.length === 0) return undefined;
  const titles = [...new Set(flags.map((f) => flagTitle(f.rule)))];
  const message = `${flags.length} open ${flags.length === 1 ? 'flag' : 'flags'}: ${titles.join(', ')}. Accept anyway?`;
  const detail = flags.map((f) => `${f.step === undefined ? 'Trajectory' : `Step ${f.step + 1}`} · ${flagTitle(f.rule)}: ${f.message}`).join('\n');
  return { message, detail };
}

/** The answers the accept confirmation offers (Cancel is the dialog's own). */
export const acceptAnyway = 'Accept';
export const acceptAndStopAsking = "Accept and Don't Ask Again";
