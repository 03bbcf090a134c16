import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import './style.css';
import { el, HostChannel, readInitialState, vscodeApi } from '../shared/hostChannel';
import {
  type EditorAction,
  type EditorState,
  type EditRequest,
  type RunEvent,
  type SlotView,
  trajectoryEditorProtocol,
  type TrajectoryQueryWire,
} from '../../src/protocol/trajectoryEditor';
import { ListPane } from './listPane';
import { compareView, flagsByStep, invalidLineView, type StepCardActions, stepCard, trajectoryHeader } from './trajectoryPane';

/** UI state kept across the page being hidden and recreated (never file content). */
interface PageState {
  slot: number | null;
  step: number | null;
  query: TrajectoryQueryWire;
}

const channel = new HostChannel(trajectoryEditorProtocol);
const initial = readInitialState() as { fileName?: string } | null;
const saved = (vscodeApi().getState() as PageState | undefined) ?? { slot: null, step: null, query: {} };

let editorState: EditorState | undefined;
let current: SlotView | undefined;
let selectedStep: number | null = saved.step;
let editingStep: number | null = null;
let runMessage: RunEvent | undefined;
let lastScanned = -1;
/**
 * True while the selection is the first row the page picked on open: the review queue then starts at its
 * front (the riskiest flagged trajectory), not after that row.
 */
let pickedOnOpen = false;

const app = document.getElementById('app')!;

// ------------------------------------------------------------------------------------------------------
// Filters and search
// ------------------------------------------------------------------------------------------------------

function select(label: string, options: [string, string][], value: string | undefined): HTMLSelectElement {
  const s = el('select', { 'aria-label': label, title: label }, ...options.map(([v, text]) => el('option', { value: v }, text)));
  s.value = value ?? '';
  return s;
}

const searchField = el('vscode-textfield', { placeholder: 'Search questions, answers, thoughts, code…', 'aria-label': 'Search trajectories', class: 'search' });
searchField.value = saved.query.search ?? '';
const statusFilter = select('Review status', [['', 'Any status'], ['unreviewed', 'Unreviewed'], ['accepted', 'Accepted'], ['rejected', 'Rejected'], ['invalid', 'Invalid lines']], saved.query.status?.[0]);
const verdictFilter = select('Verdict', [['', 'Any verdict'], ['correct', 'Correct'], ['incorrect', 'Incorrect'], ['unjudged', 'Not judged']], saved.query.verdict?.[0]);
const domainFilter = select('Domain', [['', 'Any domain'], ['math', 'Math'], ['factual', 'Factual']], saved.query.domain?.[0]);
const contentFilter = select('Errors and edits', [['', 'Any errors, edits'], ['errors', 'With errors'], ['edits', 'Hand-edited'], ['stale', 'With stale steps']], saved.query.hasErrors ? 'errors' : saved.query.hasEdits ? 'edits' : saved.query.hasStale ? 'stale' : '');
// The rules come with the state (those in use in the file), like the reason tags.
const triageFilter = select('Triage flags', [['', 'Flagged or not'], ['any', 'Any flag'], ['none', 'No flag']], saved.query.flag);
const tagFilter = select('Reason tag', [['', 'Any tag']], saved.query.tag);
const sortSelect = select('Sort', [['file', 'File order'], ['risk', 'Risk (flags)'], ['steps', 'Steps'], ['status', 'Review status'], ['verdict', 'Verdict'], ['question', 'Question']], saved.query.sort ?? 'file');
const descending = el('vscode-checkbox', { label: 'Descending', title: 'Reverse the order' });
descending.checked = saved.query.descending === true;
const queueButton = el('vscode-button', { secondary: '', title: 'Next unreviewed trajectory (u)' }, 'Next unreviewed');

function readQuery(): TrajectoryQueryWire {
  const q: TrajectoryQueryWire = {};
  const search = searchField.value.trim();
  if (search) q.search = search;
  if (statusFilter.value) q.status = [statusFilter.value as 'unreviewed'];
  if (verdictFilter.value) q.verdict = [verdictFilter.value as 'correct'];
  if (domainFilter.value) q.domain = [domainFilter.value as 'math'];
  if (contentFilter.value === 'errors') q.hasErrors = true;
  if (contentFilter.value === 'edits') q.hasEdits = true;
  if (contentFilter.value === 'stale') q.hasStale = true;
  if (triageFilter.value) q.flag = triageFilter.value;
  if (tagFilter.value) q.tag = tagFilter.value;
  if (sortSelect.value !== 'file') q.sort = sortSelect.value as 'steps';
  if (descending.checked) q.descending = true;
  return q;
}

let queryTimer: ReturnType<typeof setTimeout> | undefined;
function queryChanged(): void {
  clearTimeout(queryTimer);
  // The status line counts what the query shows, so it is redrawn with the new result.
  queryTimer = setTimeout(
    () =>
      void list.setQuery(readQuery()).then(() => {
        refreshStatus();
        persist();
      }),
    150,
  );
}
searchField.addEventListener('input', queryChanged);
for (const s of [statusFilter, verdictFilter, domainFilter, contentFilter, triageFilter, tagFilter, sortSelect]) s.addEventListener('change', queryChanged);
descending.addEventListener('change', queryChanged);
queueButton.addEventListener('click', () => void nextUnreviewed());

const list = new ListPane(channel, (slot) => void selectSlot(slot));
const filters = el('div', { class: 'filters' }, statusFilter, verdictFilter, domainFilter, triageFilter, contentFilter, tagFilter, sortSelect, descending);
const listSide = el('aside', { class: 'list-side' }, el('div', { class: 'search-row' }, searchField, queueButton), filters, list.element);

// ------------------------------------------------------------------------------------------------------
// Detail pane
// ------------------------------------------------------------------------------------------------------

const banner = el('div', { class: 'banner', role: 'alert', hidden: '' });
const runBar = el('div', { class: 'run-bar', role: 'status', hidden: '' });
const detail = el('main', { class: 'detail', tabindex: '-1' });
const keysHelp = el('footer', { class: 'keys-help' });
app.append(el('div', { class: 'layout' }, listSide, el('div', { class: 'detail-side' }, banner, runBar, detail, keysHelp)));

function persist(): void {
  vscodeApi().setState({ slot: list.selectedSlot, step: selectedStep, query: list.currentQuery } satisfies PageState);
  channel.notify('selection', { slot: list.selectedSlot, stepIndex: selectedStep });
}

const actions: StepCardActions = {
  selectStep: (index) => setStep(index, false),
  editStep: (index) => startEditing(index),
  toggleExclude: (index) => void toggleExclude(index),
  reexecute: (index) => void runStep('reexecute', index),
  continueWithTeacher: (index) => void runStep('continueWithTeacher', index),
  showAll: (stepIndex, field, target) => {
    if (list.selectedSlot === null) return;
    void channel.request('fullText', { slot: list.selectedSlot, stepIndex, field }).then((text) => {
      target.textContent = text;
      target.parentElement?.querySelector('.capped-note')?.remove();
    });
  },
  get canExecute() {
    return editorState?.canExecute === true && !editorState.readOnly;
  },
  get readOnly() {
    return editorState?.readOnly === true;
  },
};

function showError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  banner.textContent = message;
  banner.hidden = false;
  banner.classList.add('error');
}

async function selectSlot(slot: number, step: number | null = 0): Promise<void> {
  editingStep = null;
  pickedOnOpen = false;
  const changed = list.selectedSlot !== slot;
  if (changed) runMessage = undefined;
  await list.select(slot);
  current = await channel.request('open', { slot });
  selectedStep = current.valid && current.trajectory.steps.length ? Math.min(step ?? 0, current.trajectory.steps.length - 1) : null;
  renderDetail();
  if (changed) detail.scrollTop = 0;
  persist();
}

async function reopenCurrent(): Promise<void> {
  if (list.selectedSlot === null) return;
  current = await channel.request('open', { slot: list.selectedSlot });
  renderDetail();
}

function setStep(index: number, scroll = true): void {
  if (!current?.valid) return;
  const n = current.trajectory.steps.length;
  if (n === 0) return;
  selectedStep = Math.max(0, Math.min(n - 1, index));
  for (const card of detail.querySelectorAll<HTMLElement>('.step')) card.classList.toggle('selected', card.dataset.step === String(selectedStep));
  if (scroll) detail.querySelector(`.step[data-step="${selectedStep}"]`)?.scrollIntoView({ block: 'nearest' });
  persist();
}

function renderDetail(): void {
  if (!current) {
    detail.replaceChildren(el('div', { class: 'empty' }, editorState?.slotCount === 0 ? 'This file holds no trajectories.' : 'Select a trajectory.'));
    return;
  }
  if (!current.valid) {
    detail.replaceChildren(invalidLineView(current));
    return;
  }
  const t = current.trajectory;
  const reviewBar = el('div', { class: 'review-actions' });
  if (!editorState?.readOnly) {
    const accept = el('vscode-button', { title: 'Accept (a)', class: 'accept' }, 'Accept');
    const reject = el('vscode-button', { secondary: '', title: 'Reject with reasons (r)', class: 'reject' }, 'Reject…');
    accept.addEventListener('click', () => void acceptCurrent());
    reject.addEventListener('click', () => openRejectForm());
    reviewBar.append(accept, reject);
  }
  const compare = el('vscode-button', { secondary: '', title: 'Compare with another trajectory of the same task', class: 'compare' }, 'Compare…');
  compare.addEventListener('click', () => void openComparePicker());
  const asText = el('vscode-button', { secondary: '', title: 'Open as .traj text (t)', class: 'open-text' }, 'Open as text');
  asText.addEventListener('click', () => void channel.request('openTextForm', { slot: t.slot }).catch(showError));
  reviewBar.append(compare, asText);
  const stepFlags = flagsByStep(t).steps;
  const steps = t.steps.map((s) => (s.index === editingStep ? stepEditor(s.index, s.thought, s.code) : stepCard(s, s.index === selectedStep, actions, stepFlags.get(s.index))));
  detail.replaceChildren(
    trajectoryHeader(t),
    reviewBar,
    el('div', { class: 'slot-forms' }),
    el('div', { class: 'steps' }, ...(steps.length ? steps : [el('div', { class: 'muted' }, 'No steps.')])),
  );
  renderRunBar();
  if (editingStep !== null) detail.querySelector<HTMLTextAreaElement>('.edit-thought')?.focus();
}

// The header's flag summary links to the flagged step cards.
detail.addEventListener('click', (e) => {
  const link = (e.target as Element | null)?.closest<HTMLElement>('[data-goto-step]');
  if (link) setStep(Number(link.dataset.gotoStep));
});

function renderRunBar(): void {
  if (!runMessage || runMessage.slot !== list.selectedSlot) {
    runBar.hidden = true;
    return;
  }
  runBar.hidden = false;
  runBar.className = `run-bar run-${runMessage.kind}`;
  const cancel = el('button', { class: 'link', type: 'button' }, 'Cancel');
  cancel.addEventListener('click', () => void channel.request('cancelRun', { slot: runMessage!.slot }));
  const running = runMessage.kind !== 'failed' && runMessage.kind !== 'finished';
  runBar.replaceChildren(el('span', { class: `codicon codicon-${runMessage.kind === 'failed' ? 'error' : running ? 'loading codicon-modifier-spin' : 'pass'}` }), ` ${runMessage.message ?? ''} `, running ? cancel : '');
}

// ------------------------------------------------------------------------------------------------------
// Editing
// ------------------------------------------------------------------------------------------------------

async function edit(request: EditRequest): Promise<void> {
  if (list.selectedSlot === null) return;
  try {
    await channel.request('edit', { slot: list.selectedSlot, edit: request });
  } catch (err) {
    showError(err);
  }
}

function startEditing(index: number): void {
  if (editorState?.readOnly || !current?.valid) return;
  editingStep = index;
  selectedStep = index;
  renderDetail();
}

function stepEditor(index: number, thought: string, code: string): HTMLElement {
  const thoughtInput = el('textarea', { class: 'edit-thought', 'aria-label': `Thought of step ${index + 1}`, rows: '5' });
  thoughtInput.value = thought;
  const codeInput = el('textarea', { class: 'edit-code', 'aria-label': `Code of step ${index + 1}`, rows: String(Math.min(30, code.split('\n').length + 2)), spellcheck: 'false' });
  codeInput.value = code;
  const save = el('vscode-button', { class: 'save-edit', title: 'Apply (Ctrl+Enter)' }, 'Apply');
  const cancel = el('vscode-button', { secondary: '', class: 'cancel-edit', title: 'Cancel (Escape)' }, 'Cancel');
  const apply = async () => {
    editingStep = null;
    if (thoughtInput.value !== thought) await edit({ kind: 'setThought', stepIndex: index, text: thoughtInput.value });
    if (codeInput.value !== code) await edit({ kind: 'setCode', stepIndex: index, text: codeInput.value });
    await reopenCurrent();
  };
  const abandon = () => {
    editingStep = null;
    renderDetail();
  };
  save.addEventListener('click', () => void apply());
  cancel.addEventListener('click', abandon);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void apply();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      abandon();
    } else if (e.key === 'Tab' && e.target === codeInput && !e.shiftKey) {
      // Indentation matters in Python: Tab inserts four spaces in the code field.
      e.preventDefault();
      codeInput.setRangeText('    ', codeInput.selectionStart, codeInput.selectionEnd, 'end');
    }
  };
  thoughtInput.addEventListener('keydown', onKey);
  codeInput.addEventListener('keydown', onKey);
  return el(
    'section',
    { class: 'step editing selected', 'data-step': String(index) },
    el('div', { class: 'step-header' }, el('span', { class: 'step-title' }, `Step ${index + 1} · editing`)),
    el('label', { class: 'section-label' }, 'Thought'),
    thoughtInput,
    el('label', { class: 'section-label' }, 'Code (Python)'),
    codeInput,
    el('div', { class: 'muted' }, 'Changing the code marks this step and every later step stale until they are re-executed.'),
    el('div', { class: 'edit-buttons' }, save, cancel),
  );
}

async function toggleExclude(index: number): Promise<void> {
  if (!current?.valid) return;
  const step = current.trajectory.steps[index];
  if (!step) return;
  await edit({ kind: 'setStepExcluded', stepIndex: index, excluded: !step.excluded });
}

async function acceptCurrent(): Promise<void> {
  if (!current?.valid) return;
  const r = current.trajectory.review;
  await edit({ kind: 'setReview', status: 'accepted', reasonTags: r.reasonTags, ...(r.note ? { note: r.note } : {}) });
}

function openRejectForm(): void {
  if (!current?.valid || editorState?.readOnly) return;
  const t = current.trajectory;
  const chosen = new Set(t.review.reasonTags);
  const boxes = (editorState?.reasonTaxonomy ?? []).map((tag) => {
    const box = el('vscode-checkbox', { label: tag, 'data-tag': tag });
    box.checked = chosen.has(tag);
    box.addEventListener('change', () => (box.checked ? chosen.add(tag) : chosen.delete(tag)));
    return box;
  });
  const note = el('vscode-textarea', { class: 'reject-note', placeholder: 'Note (optional): what is wrong, what would fix it', rows: '3', 'aria-label': 'Note' });
  note.value = t.review.note ?? '';
  const confirm = el('vscode-button', { class: 'confirm-reject' }, 'Reject');
  const cancel = el('vscode-button', { secondary: '' }, 'Cancel');
  const form = el('div', { class: 'reject-form', role: 'dialog', 'aria-label': 'Reject trajectory' }, el('div', { class: 'section-label' }, 'Reasons'), el('div', { class: 'tag-boxes' }, ...boxes), note, el('div', { class: 'edit-buttons' }, confirm, cancel));
  confirm.addEventListener('click', () => {
    const tags = [...chosen];
    const text = note.value.trim();
    void edit({ kind: 'setReview', status: 'rejected', reasonTags: tags, ...(text ? { note: text } : {}) });
  });
  cancel.addEventListener('click', () => form.remove());
  detail.querySelector('.slot-forms')?.replaceChildren(form);
  (boxes[0] ?? note).focus();
}

async function openComparePicker(): Promise<void> {
  if (!current?.valid) return;
  const slot = current.trajectory.slot;
  const others = await channel.request('sameTask', { slot });
  const holder = detail.querySelector('.slot-forms');
  if (!holder) return;
  if (!others.length) {
    holder.replaceChildren(el('div', { class: 'muted compare-none' }, 'No other trajectory in this file has the same task.'));
    return;
  }
  const picker = select('Compare with', others.map((o) => [String(o.slot), o.label]), String(others[0].slot));
  const go = el('vscode-button', { class: 'compare-go' }, 'Compare');
  go.addEventListener('click', () => void showCompare(slot, Number(picker.value)));
  holder.replaceChildren(el('div', { class: 'compare-picker' }, el('span', {}, 'Compare with '), picker, go));
}

async function showCompare(left: number, right: number): Promise<void> {
  const result = await channel.request('compare', { left, right });
  detail.replaceChildren(compareView(result.left, result.right, result.rows, () => renderDetail()));
  detail.scrollTop = 0;
}

async function runStep(kind: 'reexecute' | 'continueWithTeacher', index: number): Promise<void> {
  if (list.selectedSlot === null) return;
  try {
    await channel.request(kind, { slot: list.selectedSlot, stepIndex: index });
  } catch (err) {
    showError(err);
  }
}

async function nextUnreviewed(): Promise<void> {
  const slot = await channel.request('nextUnreviewed', { query: list.currentQuery, after: list.selectedSlot ?? -1, ...(pickedOnOpen ? { fromQueueStart: true } : {}) });
  if (slot >= 0) await selectSlot(slot);
  else {
    banner.textContent = 'No unreviewed trajectory left in this view.';
    banner.hidden = false;
    banner.classList.remove('error');
  }
}

// ------------------------------------------------------------------------------------------------------
// Keyboard: the contributed keybindings arrive as actions from the host
// ------------------------------------------------------------------------------------------------------

async function perform(action: EditorAction): Promise<void> {
  const step = selectedStep ?? 0;
  switch (action) {
    case 'nextStep':
      return setStep(step + (selectedStep === null ? 0 : 1));
    case 'previousStep':
      return setStep(step - 1);
    case 'nextTrajectory':
    case 'previousTrajectory': {
      const slot = await list.neighbour(action === 'nextTrajectory' ? 1 : -1);
      if (slot !== undefined) await selectSlot(slot);
      return;
    }
    case 'nextUnreviewed':
      return nextUnreviewed();
    case 'accept':
      return acceptCurrent();
    case 'reject':
      return openRejectForm();
    case 'editStep':
      return startEditing(step);
    case 'toggleExcludeStep':
      return toggleExclude(step);
    case 'focusSearch':
      searchField.focus();
      return;
  }
}

function isTextInput(node: Element | null): boolean {
  if (!node) return false;
  const tag = node.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'VSCODE-TEXTFIELD' || tag === 'VSCODE-TEXTAREA' || (node as HTMLElement).isContentEditable;
}

let keysActive: boolean | undefined;
function updateKeysActive(): void {
  const active = document.hasFocus() && !isTextInput(document.activeElement);
  if (active === keysActive) return;
  keysActive = active;
  channel.notify('keysActive', { active });
}
window.addEventListener('focus', updateKeysActive);
window.addEventListener('blur', updateKeysActive);
document.addEventListener('focusin', () => setTimeout(updateKeysActive, 0));
document.addEventListener('focusout', () => setTimeout(updateKeysActive, 0));

const actionLabels: Record<string, string> = {
  nextStep: 'next step',
  previousStep: 'previous step',
  nextTrajectory: 'next trajectory',
  previousTrajectory: 'previous trajectory',
  nextUnreviewed: 'next unreviewed',
  accept: 'accept',
  reject: 'reject',
  editStep: 'edit',
  toggleExcludeStep: 'exclude step',
  focusSearch: 'search',
  openTextForm: 'as text',
  reexecuteStep: 're-execute',
  continueWithTeacher: 'continue',
};

function renderKeys(): void {
  keysHelp.replaceChildren(
    ...(editorState?.keys ?? []).map((k) => el('span', { class: 'key-hint' }, el('kbd', {}, k.key), ` ${actionLabels[k.action] ?? k.action}`)),
  );
}

// ------------------------------------------------------------------------------------------------------
// Host notifications
// ------------------------------------------------------------------------------------------------------

channel.on('state', (state) => {
  const first = editorState === undefined;
  editorState = state;
  const counts = state.counts;
  const scanning = state.complete ? '' : ` · indexing ${Math.floor((100 * state.scanned) / Math.max(1, state.slotCount))}%`;
  list.setStatus(`${list.resultCount.toLocaleString()} shown · ${state.slotCount.toLocaleString()} in file · ${counts.unreviewed} unreviewed · ${counts.accepted} accepted · ${counts.rejected} rejected${counts.invalid ? ` · ${counts.invalid} invalid` : ''}${scanning}`);
  // The first state brings the options, so the saved filters can be shown only now.
  const tagValue = first ? (saved.query.tag ?? '') : tagFilter.value;
  tagFilter.replaceChildren(el('option', { value: '' }, 'Any tag'), ...state.tagsInUse.map((t) => el('option', { value: t }, t)));
  tagFilter.value = state.tagsInUse.includes(tagValue) ? tagValue : '';
  const flagValue = first ? (saved.query.flag ?? '') : triageFilter.value;
  triageFilter.replaceChildren(
    el('option', { value: '' }, 'Flagged or not'),
    el('option', { value: 'any' }, 'Any flag'),
    el('option', { value: 'none' }, 'No flag'),
    ...state.flagRules.map((r) => el('option', { value: r.rule }, `${r.title} (${r.count})`)),
  );
  // A rule that no longer flags anything (after edits) stays selectable until the filter is changed, so the list does not jump.
  if (flagValue && !['any', 'none'].includes(flagValue) && !state.flagRules.some((r) => r.rule === flagValue)) triageFilter.append(el('option', { value: flagValue }, `${list.flagTitle(flagValue)} (0)`));
  triageFilter.value = flagValue;
  list.setFlagTitles(new Map(state.flagRules.map((r) => [r.rule, r.title])));
  if (state.banner) {
    banner.textContent = state.banner;
    banner.hidden = false;
    banner.classList.remove('error');
  } else if (!banner.classList.contains('error')) banner.hidden = true;
  renderKeys();
  if (first) void start();
  else if (state.scanned !== lastScanned) void list.reload().then(() => refreshStatus());
  lastScanned = state.scanned;
});

function refreshStatus(): void {
  if (editorState) {
    const s = editorState;
    const scanning = s.complete ? '' : ` · indexing ${Math.floor((100 * s.scanned) / Math.max(1, s.slotCount))}%`;
    list.setStatus(`${list.resultCount.toLocaleString()} shown · ${s.slotCount.toLocaleString()} in file · ${s.counts.unreviewed} unreviewed · ${s.counts.accepted} accepted · ${s.counts.rejected} rejected${s.counts.invalid ? ` · ${s.counts.invalid} invalid` : ''}${scanning}`);
  }
}

channel.on('changed', ({ slots }) => {
  void list.reload().then(refreshStatus);
  if (list.selectedSlot !== null && (slots === 'all' || slots.includes(list.selectedSlot)) && editingStep === null) {
    detail.querySelector('.reject-form')?.remove();
    void reopenCurrent();
  }
});

channel.on('action', ({ action }) => void perform(action).catch(showError));

/** Shows a continuation as it happens: later steps leave, new ones stream in as the teacher writes them. */
function showRunProgress(event: RunEvent): void {
  const steps = detail.querySelector('.steps');
  if (!steps || event.slot !== list.selectedSlot || !current?.valid) return;
  if (event.kind === 'truncated' && event.stepIndex !== undefined) {
    for (const card of steps.querySelectorAll<HTMLElement>('.step')) {
      if (Number(card.dataset.step) > event.stepIndex) card.remove();
    }
  } else if (event.kind === 'text' && event.stepIndex !== undefined) {
    let live = steps.querySelector<HTMLElement>(`.step.live[data-step="${event.stepIndex}"]`);
    if (!live) {
      live = el(
        'section',
        { class: 'step live', 'data-step': String(event.stepIndex), 'aria-live': 'polite' },
        el('div', { class: 'step-header' }, el('span', { class: 'step-title' }, `Step ${event.stepIndex + 1}`), el('span', { class: 'badge streaming' }, el('span', { class: 'codicon codicon-loading codicon-modifier-spin' }), ' the teacher is writing')),
        el('pre', { class: 'live-text' }),
      );
      steps.append(live);
    }
    const pre = live.querySelector('.live-text');
    if (pre) pre.textContent = event.text ?? '';
  } else if (event.kind === 'step' && event.step) {
    const card = stepCard(event.step, false);
    card.classList.add('streamed');
    const live = steps.querySelector(`.step.live[data-step="${event.step.index}"]`);
    if (live) live.replaceWith(card);
    else steps.append(card);
  } else if (event.kind === 'failed') {
    void reopenCurrent();
  }
}

channel.on('run', (event) => {
  runMessage = event;
  renderRunBar();
  showRunProgress(event);
});

/** A reveal that arrived before the first state (the host queues it ahead of the state). */
let pendingReveal: { slot: number; stepIndex?: number | undefined } | undefined;
channel.on('reveal', ({ slot, stepIndex }) => {
  if (!editorState) {
    pendingReveal = { slot, stepIndex };
    return;
  }
  void selectSlot(slot, stepIndex ?? 0).then(() => setStep(stepIndex ?? 0));
});

async function start(): Promise<void> {
  document.title = initial?.fileName ?? 'Trajectories';
  await list.setQuery(saved.query);
  refreshStatus();
  const chosen = pendingReveal?.slot ?? saved.slot;
  const first = chosen ?? (await list.neighbour(0));
  const firstStep = pendingReveal ? (pendingReveal.stepIndex ?? 0) : saved.step;
  pendingReveal = undefined;
  if (first !== undefined && first !== null && first < (editorState?.slotCount ?? 0)) {
    await selectSlot(first, firstStep);
    if (firstStep !== null) setStep(firstStep);
    pickedOnOpen = chosen === null || chosen === undefined;
  }
  else renderDetail();
  updateKeysActive();
}

channel.start();
