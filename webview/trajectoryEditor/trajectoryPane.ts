import { el } from '../shared/hostChannel';
import { icon } from '../shared/components';
import {
  type CappedText,
  type CompareRow,
  type FlagView,
  type ObservationView,
  type SlotView,
  type StepView,
  type TrajectoryView,
} from '../../src/protocol/trajectoryEditor';
import { mathText } from './mathRender';
import { highlightPython } from './pythonHighlight';

/** What the step cards ask of the page (edits, runs, "show all"). */
export interface StepCardActions {
  selectStep(index: number): void;
  editStep(index: number): void;
  toggleExclude(index: number): void;
  reexecute(index: number): void;
  continueWithTeacher(index: number): void;
  showAll(stepIndex: number, field: 'printOutput' | 'lastValue' | 'error', target: HTMLElement): void;
  canExecute: boolean;
  readOnly: boolean;
}


function button(label: string, iconName: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { class: 'action', type: 'button', ...attrs }, icon(iconName), el('span', {}, label));
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}

/** A capped text: the text, and when it was cut, a note and a "show all" link that fetches the rest. */
function cappedBlock(value: CappedText, cls: string, onShowAll?: (target: HTMLElement) => void): HTMLElement {
  const pre = el('pre', { class: cls }, value.text);
  if (value.totalChars <= value.text.length || !onShowAll) return pre;
  const more = el('button', { class: 'link', type: 'button' }, `Show all ${value.totalChars.toLocaleString()} characters`);
  const wrap = el('div', {}, pre, el('div', { class: 'capped-note' }, `Showing ${value.text.length.toLocaleString()} of ${value.totalChars.toLocaleString()} characters. `, more));
  more.addEventListener('click', () => onShowAll(pre));
  return wrap;
}

function observationBlock(o: ObservationView, stepIndex: number, actions: StepCardActions | undefined, label: string): HTMLElement {
  const parts: HTMLElement[] = [el('div', { class: 'section-label' }, label)];
  if (o.webSearch.length) {
    for (const call of o.webSearch) {
      const summary = el('summary', {}, icon('search'), ` web_search(${JSON.stringify(call.query)}) · ${call.error ? 'failed' : `${call.passages.length} passages`}`);
      const body = el('div', { class: 'passages' });
      if (call.error) body.append(el('div', { class: 'error-text' }, call.error));
      call.passages.forEach((p, i) =>
        body.append(
          el('div', { class: 'passage' }, el('div', { class: 'passage-title' }, `Document ${i} · ${p.title} · similarity ${p.score.toFixed(2)}`), cappedBlock(p.text, 'passage-text')),
        ),
      );
      parts.push(el('details', { class: 'web-search' }, summary, body));
    }
  }
  const showAll = (field: 'printOutput' | 'lastValue' | 'error') => (actions ? (target: HTMLElement) => actions.showAll(stepIndex, field, target) : undefined);
  if (o.printOutput.totalChars > 0) parts.push(el('div', { class: 'field-label' }, 'Printed'), cappedBlock(o.printOutput, 'print-output', showAll('printOutput')));
  if (o.error) {
    const where = o.error.line !== undefined ? ` at line ${o.error.line}` : '';
    parts.push(
      el(
        'div',
        { class: 'error-box', role: 'group', 'aria-label': 'Execution error' },
        el('div', { class: 'error-title' }, icon('error'), ` ${o.error.kind} error${where}: ${o.error.type}`),
        o.error.statement ? el('pre', { class: 'error-statement' }, o.error.statement) : null,
        cappedBlock(o.error.message, 'error-text', showAll('error')),
      ),
    );
  } else {
    parts.push(el('div', { class: 'field-label' }, 'Last output'), cappedBlock(o.lastValue, 'last-value', showAll('lastValue')));
  }
  if (o.finalAnswer !== undefined) parts.push(el('div', { class: 'final-call' }, icon('pass'), ' final_answer(', el('strong', {}, o.finalAnswer), ')'));
  return el('div', { class: `observation${o.error ? ' has-error' : ''}` }, ...parts);
}

function voteLabel(group: number, votes: number): string {
  return `group ${group + 1} (${votes} ${votes === 1 ? 'vote' : 'votes'})`;
}

const stopWords: Record<NonNullable<StepView['sagStop']>, string> = {
  decided: 'stopped early: more candidates could not change the winner',
  agreement: 'stopped early: the candidates drawn agreed',
  budget: 'drew every allowed candidate',
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The summary line of a SAG step: candidates, rounds (adaptive), groups and the winner. */
function sagSummary(step: StepView, groups: number): string {
  const count = step.candidates?.length ?? 0;
  const rounds = step.sagRounds;
  const drawn = rounds
    ? `${count}${step.sagBudget !== undefined ? ` of at most ${step.sagBudget}` : ''} SAG candidates in ${plural(rounds.length, 'round')} · ${step.sagStop ? stopWords[step.sagStop] : ''}`
    : `${count} SAG candidates`;
  return ` ${drawn} · ${plural(groups, 'vote group')} · winner #${step.winner ?? 0}`;
}

/** A separator row before the first candidate of each adaptive round. */
function roundRow(round: number, r: NonNullable<StepView['sagRounds']>[number]): HTMLElement {
  const facts = [plural(r.candidates, 'candidate'), r.seed !== undefined ? `seed ${r.seed}` : '', r.completionTokens !== undefined ? `${r.completionTokens} tokens` : ''].filter(Boolean);
  return el('tr', { class: 'round' }, el('th', { colspan: '5', scope: 'rowgroup' }, `Round ${round + 1} · ${facts.join(' · ')}`));
}

/** Candidate outputs and code scroll inside a fixed height, so each is a tab stop: keyboard users can scroll them too. */
function candidatesBlock(step: StepView): HTMLElement | null {
  if (!step.candidates?.length) return null;
  const groups = step.voteGroups ?? [];
  const roundStarts = new Map<number, number>();
  let first = 0;
  step.sagRounds?.forEach((r, i) => {
    roundStarts.set(first, i);
    first += r.candidates;
  });
  const rows = step.candidates.flatMap((c) => {
    const round = roundStarts.get(c.index);
    const row = el(
      'tr',
      { class: `${c.index === step.winner ? 'winner' : ''}${c.valid ? '' : ' invalid'}` },
      el('td', {}, String(c.index), c.index === step.winner ? el('span', { class: 'codicon codicon-star-full', title: 'Winner' }) : null),
      el('td', {}, c.valid ? 'valid' : 'invalid'),
      el('td', {}, c.group >= 0 ? voteLabel(c.group, groups[c.group]?.members.length ?? 0) : '—'),
      // A repeated code ran once: its output and code are those of the earlier candidate, so they are not shown again.
      ...(c.sameCodeAs !== undefined
        ? [el('td', { colspan: '2', class: 'same-code', title: `The same code as candidate ${c.sameCodeAs}: executed once, outcome shared` }, `same code and outcome as #${c.sameCodeAs}`)]
        : [el('td', {}, el('pre', { class: 'candidate-output', tabindex: '0' }, c.error ?? c.printOutput.text)), el('td', { class: 'code-cell' }, el('pre', { class: 'candidate-code', tabindex: '0' }, c.code.text))]),
    );
    return round !== undefined && step.sagRounds ? [roundRow(round, step.sagRounds[round]), row] : [row];
  });
  const table = el(
    'table',
    { class: 'candidates' },
    el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'validity'), el('th', {}, 'vote group'), el('th', {}, 'output / error'), el('th', {}, 'code'))),
    el('tbody', {}, ...rows),
  );
  const columns = candidateColumns(step, groups);
  columns.hidden = true;
  // The table reads down the candidates; columns put N outputs side by side to compare them at a glance.
  const toggle = el('button', { class: 'link candidates-layout', type: 'button', 'aria-pressed': 'false' }, 'Side by side');
  toggle.addEventListener('click', () => {
    const sideBySide = columns.hidden;
    columns.hidden = !sideBySide;
    table.hidden = sideBySide;
    toggle.setAttribute('aria-pressed', String(sideBySide));
    toggle.textContent = sideBySide ? 'As a table' : 'Side by side';
  });
  return el('details', { class: 'sag' }, el('summary', {}, icon('layers'), sagSummary(step, groups.length)), toggle, table, columns);
}

/**
 * The candidates of a SAG step in columns, one per candidate, ordered by vote group (the winning group
 * first) so agreeing candidates stand together: each with its group, validity, output or error, and code.
 */
function candidateColumns(step: StepView, groups: NonNullable<StepView['voteGroups']>): HTMLElement {
  const candidates = step.candidates ?? [];
  const winnerGroup = candidates.find((c) => c.index === step.winner)?.group ?? -1;
  const rank = (group: number) => (group === winnerGroup ? -1 : group < 0 ? Number.MAX_SAFE_INTEGER : group);
  const ordered = [...candidates].sort((a, b) => rank(a.group) - rank(b.group) || a.index - b.index);
  const columns = ordered.map((c) =>
    el(
      'section',
      {
        class: `candidate-column${c.index === step.winner ? ' winner' : ''}${c.valid ? '' : ' invalid'}`,
        'data-candidate': String(c.index),
        'aria-label': `Candidate ${c.index}${c.index === step.winner ? ', winner' : ''}`,
      },
      el(
        'div',
        { class: 'candidate-head' },
        el('span', { class: 'step-title' }, `#${c.index}`),
        c.index === step.winner ? el('span', { class: 'badge verdict-correct' }, icon('star-full'), ' winner') : null,
        el('span', { class: 'badge' }, c.valid ? 'valid' : 'invalid'),
      ),
      el('div', { class: 'candidate-group' }, c.group >= 0 ? voteLabel(c.group, groups[c.group]?.members.length ?? 0) : 'in no vote group'),
      ...(c.sameCodeAs !== undefined
        ? [el('div', { class: 'same-code' }, `same code and outcome as #${c.sameCodeAs}`)]
        : [
            el('div', { class: 'section-label' }, c.error ? 'Error' : 'Output'),
            el('pre', { class: `candidate-output${c.error ? ' error-text' : ''}`, tabindex: '0' }, c.error ?? (c.printOutput.text || (c.finalAnswer !== undefined ? `final_answer(${c.finalAnswer})` : '—'))),
            el('div', { class: 'section-label' }, 'Code'),
            el('pre', { class: 'candidate-code', tabindex: '0' }, highlightPython(c.code.text)),
          ]),
    ),
  );
  return el('div', { class: 'candidate-columns', role: 'group', 'aria-label': `${plural(candidates.length, 'SAG candidate')} side by side` }, ...columns);
}

const severityIcons: Record<FlagView['severity'], string> = { high: 'error', medium: 'warning', low: 'info' };
const severityWords: Record<FlagView['severity'], string> = { high: 'High', medium: 'Medium', low: 'Low' };

/**
 * One triage flag: severity icon and colour, the rule's title, the message, and the evidence as code.
 * Everything is set as text (the evidence is a span of model output), and the accessible name says all
 * of it, severity first, so a screen reader hears what the colour shows.
 */
export function flagNote(flag: FlagView): HTMLElement {
  const where = flag.step === undefined ? '' : ` on step ${flag.step + 1}`;
  return el(
    'div',
    {
      class: `flag severity-${flag.severity}`,
      role: 'note',
      'data-rule': flag.rule,
      'aria-label': `${severityWords[flag.severity]}-severity flag${where}: ${flag.title}. ${flag.message}${flag.evidence ? `. Evidence: ${flag.evidence}` : ''}`,
      ...(flag.description ? { title: flag.description } : {}),
    },
    el('span', { class: `codicon codicon-${severityIcons[flag.severity]} flag-icon`, 'aria-hidden': 'true' }),
    el(
      'div',
      { class: 'flag-body' },
      el('span', { class: 'flag-title' }, flag.title),
      el('span', { class: 'flag-message' }, flag.message),
      flag.evidence ? el('code', { class: 'flag-evidence' }, flag.evidence) : null,
    ),
  );
}

function flagsBlock(flags: readonly FlagView[], label: string): HTMLElement | null {
  return flags.length ? el('div', { class: 'flags', role: 'group', 'aria-label': label }, ...flags.map(flagNote)) : null;
}

/**
 * One step as a card: thought, highlighted code, observation (errors distinct), candidates, actions, and
 * the triage flags that point at the step, under its header where the eye lands first.
 */
export function stepCard(step: StepView, selected: boolean, actions?: StepCardActions, flags: readonly FlagView[] = []): HTMLElement {
  const badges: HTMLElement[] = [];
  if (step.stale) badges.push(el('span', { class: 'badge stale', title: 'An earlier step changed; re-run this step or accept as is' }, icon('history'), ' stale'));
  if (step.excluded) badges.push(el('span', { class: 'badge excluded', title: 'Kept as context, no training loss' }, icon('eye-closed'), ' excluded from training'));
  if (step.observation?.error) badges.push(el('span', { class: 'badge error' }, icon('error'), ` ${step.observation.error.type}`));
  if (flags.length) badges.push(el('span', { class: `badge flag-badge severity-${worstSeverity(flags)}`, 'aria-hidden': 'true' }, icon(severityIcons[worstSeverity(flags)]), ` ${plural(flags.length, 'flag')}`));
  const toolbar = el('div', { class: 'step-actions' });
  if (actions && !actions.readOnly) {
    toolbar.append(
      button('Edit', 'edit', () => actions.editStep(step.index), { title: 'Edit thought and code (e)' }),
      button(step.excluded ? 'Include' : 'Exclude', step.excluded ? 'eye' : 'eye-closed', () => actions.toggleExclude(step.index), { title: 'Exclude from training (x)' }),
    );
    if (actions.canExecute) {
      toolbar.append(
        button('Re-execute', 'play', () => actions.reexecute(step.index), { title: 'Re-execute from this step (Shift+R)' }),
        button('Continue', 'sparkle', () => actions.continueWithTeacher(step.index), { title: 'Continue with the teacher from this step (Shift+C)' }),
      );
    }
  }
  const header = el('div', { class: 'step-header' }, el('span', { class: 'step-title' }, `Step ${step.index + 1}`), ...badges, toolbar);
  const body: (HTMLElement | null)[] = [
    flagsBlock(flags, `Triage flags of step ${step.index + 1}`),
    el('div', { class: 'section-label' }, 'Thought'),
    el('div', { class: 'thought' }, mathText(step.thought)),
    el('div', { class: 'section-label' }, 'Code'),
    el('pre', { class: 'code' }, highlightPython(step.code)),
  ];
  if (step.observation && step.previousObservation) {
    body.push(
      el(
        'div',
        { class: 'observation-pair' },
        observationBlock(step.previousObservation, step.index, undefined, 'Before re-execution'),
        observationBlock(step.observation, step.index, actions, 'Observation (re-executed)'),
      ),
    );
  } else if (step.observation) body.push(observationBlock(step.observation, step.index, actions, 'Observation'));
  else body.push(el('div', { class: 'muted' }, 'Not executed.'));
  body.push(candidatesBlock(step));
  const card = el(
    'section',
    {
      class: `step${selected ? ' selected' : ''}${step.stale ? ' is-stale' : ''}${step.excluded ? ' is-excluded' : ''}${flags.length ? ` is-flagged severity-${worstSeverity(flags)}` : ''}`,
      'data-step': String(step.index),
      'aria-label': `Step ${step.index + 1}${flags.length ? `, ${plural(flags.length, 'triage flag')}` : ''}`,
    },
    header,
    ...body,
  );
  if (actions) card.addEventListener('click', () => actions.selectStep(step.index));
  return card;
}

function worstSeverity(flags: readonly Pick<FlagView, 'severity'>[]): FlagView['severity'] {
  return flags.some((f) => f.severity === 'high') ? 'high' : flags.some((f) => f.severity === 'medium') ? 'medium' : 'low';
}

/** The flags of each step card, by step index; flags with no step (or past the last step) go in the header. */
export function flagsByStep(t: TrajectoryView): { steps: Map<number, FlagView[]>; whole: FlagView[] } {
  const steps = new Map<number, FlagView[]>();
  const whole: FlagView[] = [];
  for (const f of t.flags) {
    if (f.step === undefined || f.step >= t.steps.length) whole.push(f);
    else steps.set(f.step, [...(steps.get(f.step) ?? []), f]);
  }
  return { steps, whole };
}

/**
 * One line in the header counting the flags on step cards, so they are not missed below the fold; each
 * step number is a link to its card (`data-goto-step`, handled by the page).
 */
function stepFlagsLine(steps: Map<number, FlagView[]>): HTMLElement | null {
  if (steps.size === 0) return null;
  const all = [...steps.values()].flat();
  const where = [...steps.keys()].sort((a, b) => a - b);
  const links = where.flatMap((i, k) => [k > 0 ? ', ' : '', el('button', { class: 'link', type: 'button', 'data-goto-step': String(i), title: `Go to step ${i + 1}` }, String(i + 1))]);
  return el(
    'div',
    { class: `flag-summary severity-${worstSeverity(all)}` },
    icon(severityIcons[worstSeverity(all)]),
    el('span', {}, `${plural(all.length, 'triage flag')} on ${where.length === 1 ? 'step' : 'steps'} `, ...links, `: ${[...new Set(all.map((f) => f.title))].join(', ')}`),
  );
}

/** The header of a trajectory: task, gold answer, origin, final answer, verdict, review, and its triage flags. */
export function trajectoryHeader(t: TrajectoryView): HTMLElement {
  // No answer is not the same as an answer nobody judged: the steps end without final_answer.
  const verdictText = t.finalAnswer === undefined ? 'no answer' : t.verdict === 'unjudged' ? 'not judged' : t.verdict === 'needs-judging' ? 'needs judging' : t.verdict;
  const verdictClass = t.finalAnswer === undefined ? 'unjudged' : t.verdict;
  const { steps: stepFlags, whole } = flagsByStep(t);
  const filter = t.filterVerdict;
  return el(
    'header',
    { class: 'trajectory-header' },
    el('div', { class: 'task-meta' }, `#${t.slot + 1} · ${t.id} · task ${t.taskId} · ${t.domain} · ${t.origin}`, t.dirty ? el('span', { class: 'dirty-note' }, ' · unsaved changes') : null),
    el('h2', { class: 'question' }, mathText(t.question)),
    el('div', { class: 'answers' }, el('span', { class: 'field-label' }, 'Gold answer: '), el('span', { class: 'gold' }, t.goldAnswer === undefined ? '—' : mathText(t.goldAnswer, { answer: true }))),
    el(
      'div',
      { class: 'answers' },
      el('span', { class: 'field-label' }, 'Final answer: '),
      el('span', { class: 'final' }, t.finalAnswer === undefined ? '—' : mathText(t.finalAnswer, { answer: true })),
      t.fromFallback ? el('span', { class: 'muted' }, ' (fallback call after the last step)') : null,
      el('span', { class: `badge verdict-${verdictClass}${filter && !filter.passed ? ' verdict-muted' : ''}` }, verdictText),
    ),
    t.needsJudging ? el('div', { class: 'needs-judging-note' }, icon('warning'), ` ${t.needsJudging}`) : t.judgementDetail && t.finalAnswer !== undefined ? el('div', { class: 'muted judgement-detail' }, t.judgementDetail) : null,
    // The generation filter and the person's review in separate words, so "accepted" means one thing.
    filter
      ? el('div', { class: `filter-line ${filter.passed ? 'filter-passed' : 'filter-dropped'}` }, el('span', { class: 'field-label' }, 'Generation: '), icon(filter.passed ? 'filter' : 'filter-filled'), ` ${filter.text}`)
      : null,
    el(
      'div',
      { class: 'review-line' },
      el('span', { class: 'field-label' }, 'Review: '),
      el('span', { class: `badge status-${t.review.status}` }, t.review.status === 'accepted' ? 'accepted by a person' : t.review.status === 'rejected' ? 'rejected by a person' : t.review.status),
      t.review.reasonTags.length ? el('span', { class: 'tags' }, ...t.review.reasonTags.map((tag) => el('span', { class: 'tag' }, tag))) : null,
      t.review.note ? el('span', { class: 'note' }, t.review.note) : null,
    ),
    flagsBlock(whole, 'Triage flags of the whole trajectory'),
    stepFlagsLine(stepFlags),
  );
}

/** An invalid line: where it is and why, plus its first characters, as text. */
export function invalidLineView(view: Extract<SlotView, { valid: false }>): HTMLElement {
  const v = view.invalid;
  return el(
    'div',
    { class: 'invalid-line' },
    el('h2', {}, icon('warning'), ` Line ${v.line} is not a valid trajectory`),
    el('p', {}, 'It is kept byte for byte when the file is saved. Fix it in a text editor to review it here.'),
    el('ul', {}, ...v.issues.map((i) => el('li', {}, el('code', {}, i.path), `: ${i.message}`))),
    el('pre', { class: 'raw-preview' }, v.preview),
  );
}

/** Two trajectories side by side, step by step, with differing parts highlighted. */
export function compareView(left: TrajectoryView, right: TrajectoryView, rows: CompareRow[], onClose: () => void, rightSource?: string): HTMLElement {
  const close = button('Close compare', 'close', onClose, { class: 'action compare-close' });
  // A trajectory from another file is named by that file, since its record number means nothing here.
  const where = (t: TrajectoryView) => (t === right && rightSource ? rightSource : `#${t.slot + 1}`);
  const side = (t: TrajectoryView) =>
    el('div', { class: 'compare-side' }, el('div', { class: 'task-meta' }, `${where(t)} · ${t.id} · ${t.origin}`), el('div', {}, `Final answer: ${t.finalAnswer ?? '—'} (${t.verdict})`));
  const grid = el('div', { class: 'compare-grid' }, side(left), side(right));
  for (const row of rows) {
    const cell = (step: StepView | undefined) => {
      if (!step) return el('div', { class: 'compare-cell missing' }, `No step ${row.stepIndex + 1}`);
      const card = stepCard(step, false);
      if (row.thoughtDiffers) card.querySelector('.thought')?.classList.add('differs');
      if (row.codeDiffers) card.querySelector('.code')?.classList.add('differs');
      if (row.observationDiffers) card.querySelector('.observation')?.classList.add('differs');
      return el('div', { class: 'compare-cell' }, card);
    };
    grid.append(cell(row.left), cell(row.right));
  }
  const differing = rows.filter((r) => r.thoughtDiffers || r.codeDiffers || r.observationDiffers).length;
  return el(
    'div',
    { class: 'compare-view', role: 'region', 'aria-label': 'Compare trajectories' },
    el('div', { class: 'compare-toolbar' }, el('span', {}, `Comparing #${left.slot + 1} with ${where(right)}: ${differing} of ${rows.length} steps differ`), close),
    grid,
  );
}
