import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '../shared/theme.css';
import './style.css';
import { z } from 'zod';
import { select } from '../shared/components';
import { el, HostChannel, readInitialState, readSavedState, writeSavedState } from '../shared/hostChannel';
import {
  editorKeys,
  type EditorKeyAction,
  type EditorState,
  type EditRequest,
  type RunEvent,
  type SlotView,
  trajectoryEditorProtocol,
  type TrajectoryQueryWire,
  trajectoryQuerySchema,
} from '../../src/protocol/trajectoryEditor';
import { isSubmitKey, shortcutKey } from '../shared/keyboard';
import { LayoutSplitter } from './layoutSplitter';
import { ListPane } from './listPane';
import { mathRenderingOn, setMathRendering } from './mathRender';
import { highlightPython } from './pythonHighlight';
import { compareView, flagsByStep, invalidLineView, type StepCardActions, stepCard, trajectoryHeader } from './trajectoryPane';

/** UI state kept across the page being hidden and recreated (never file content). */
/** What the page keeps across hiding and reloads. */
const pageStateSchema = z.object({
  slot: z.number().int().nonnegative().nullable(),
  step: z.number().int().nonnegative().nullable(),
  query: trajectoryQuerySchema,
  /** The list's share of the editor, set with the splitter. */
  listSize: z.object({ width: z.number(), height: z.number() }).optional(),
  /** "Render math" in the detail's toolbar: off shows questions, thoughts and answers as their raw text. */
  renderMath: z.boolean().optional(),
});
type PageState = z.infer<typeof pageStateSchema>;

const channel = new HostChannel(trajectoryEditorProtocol);
const initial = readInitialState() as { fileName?: string } | null;
const saved: PageState = readSavedState(pageStateSchema, { slot: null, step: null, query: {} });
setMathRendering(saved.renderMath ?? true);

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


const searchField = el('vscode-textfield', { placeholder: 'Search questions, answers, thoughts, code…', 'aria-label': 'Search trajectories', class: 'search' });
searchField.value = saved.query.search ?? '';
const statusFilter = select('Review status', [['', 'Any status'], ['unreviewed', 'Unreviewed'], ['accepted', 'Accepted'], ['rejected', 'Rejected'], ['invalid', 'Invalid lines']], saved.query.status?.[0]);
const verdictFilter = select('Verdict', [['', 'Any verdict'], ['correct', 'Correct'], ['incorrect', 'Incorrect'], ['needs-judging', 'Needs judging'], ['unjudged', 'Not judged']], saved.query.verdict?.[0]);
// The generation filter's decision, in other words than a person's review ("accepted"), so the two never mix.
const generationFilter = select('Generation filter', [['', 'Any filter result'], ['passed', 'Passed the filter'], ['dropped', 'Dropped by the filter'], ['none', 'Not filtered']], saved.query.filter?.[0]);
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
  if (generationFilter.value) q.filter = [generationFilter.value as 'passed'];
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
for (const s of [statusFilter, verdictFilter, generationFilter, domainFilter, contentFilter, triageFilter, tagFilter, sortSelect]) s.addEventListener('change', queryChanged);
descending.addEventListener('change', queryChanged);
queueButton.addEventListener('click', () => void nextUnreviewed());

// Enter on the list goes to the trajectory's detail (which takes focus, so j/k and the step keys follow).
const list = new ListPane(
  channel,
  (slot) => void selectSlot(slot),
  () => detail.focus(),
);
const filters = el('div', { class: 'filters', id: 'list-filters' }, statusFilter, verdictFilter, generationFilter, domainFilter, triageFilter, contentFilter, tagFilter, sortSelect, descending);
/**
 * In the stacked layout (a narrow editor) the filters fold behind this toggle, which says how many are set,
 * so the list keeps its rows and no select is cut off at the edge; the stylesheet shows it only there.
 */
const filtersToggle = el('button', { class: 'link filters-toggle', type: 'button', 'aria-controls': 'list-filters', 'aria-expanded': 'false' });
function updateFiltersToggle(): void {
  const active = [statusFilter, verdictFilter, generationFilter, domainFilter, contentFilter, triageFilter, tagFilter].filter((s) => s.value !== '').length;
  const open = listSideOpen();
  filtersToggle.textContent = `${open ? 'Hide filters' : 'Filters'}${active ? ` (${active} set)` : ''}`;
  filtersToggle.setAttribute('aria-expanded', String(open));
}
/** Shown instead of a blank list when a search or filter leaves nothing, with the way back. */
const emptyResult = el('div', { class: 'list-empty', role: 'status', hidden: '' });
const listSide = el('aside', { class: 'list-side' }, el('div', { class: 'search-row' }, searchField, queueButton), filtersToggle, filters, emptyResult, list.element);
function listSideOpen(): boolean {
  return listSide.classList.contains('filters-open');
}
filtersToggle.addEventListener('click', () => {
  listSide.classList.toggle('filters-open');
  updateFiltersToggle();
});
for (const s of [statusFilter, verdictFilter, generationFilter, domainFilter, contentFilter, triageFilter, tagFilter]) s.addEventListener('change', updateFiltersToggle);
updateFiltersToggle();

/** Clears the search and every filter (the sort stays: it hides nothing). */
function clearFilters(): void {
  searchField.value = '';
  for (const s of [statusFilter, verdictFilter, generationFilter, domainFilter, contentFilter, triageFilter, tagFilter]) s.value = '';
  updateFiltersToggle();
  queryChanged();
}

function renderEmptyResult(): void {
  const q = list.currentQuery;
  const narrowing = Object.keys(q).filter((k) => k !== 'sort' && k !== 'descending' && k !== 'search');
  if (list.resultCount > 0 || !editorState || editorState.slotCount === 0 || (!q.search && narrowing.length === 0)) {
    emptyResult.hidden = true;
    return;
  }
  const what = q.search ? `No trajectory matches "${q.search}"${narrowing.length ? ' with these filters' : ''}.` : 'No trajectory matches these filters.';
  const scanning = editorState.complete ? '' : ' (the file is still being indexed)';
  const clear = el('button', { class: 'link clear-filters', type: 'button' }, 'Clear search and filters');
  clear.addEventListener('click', clearFilters);
  emptyResult.replaceChildren(el('span', { class: 'codicon codicon-search', 'aria-hidden': 'true' }), ` ${what}${scanning} `, clear);
  emptyResult.hidden = false;
}

// ------------------------------------------------------------------------------------------------------
// Detail pane
// ------------------------------------------------------------------------------------------------------

const banner = el('div', { class: 'banner', role: 'alert', hidden: '' });
const runBar = el('div', { class: 'run-bar', role: 'status', hidden: '' });
const detail = el('main', { class: 'detail', tabindex: '-1' });
const keysHelp = el('footer', { class: 'keys-help', id: 'keys-help' });
// In a narrow editor the key hints would take a third of the detail pane: they fold behind this toggle.
const keysToggle = el('button', { class: 'link keys-toggle', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'keys-help' }, 'Keyboard shortcuts');
const layout = el('div', { class: 'layout' });
keysToggle.addEventListener('click', () => keysToggle.setAttribute('aria-expanded', String(layout.classList.toggle('keys-open'))));
const splitter = new LayoutSplitter(layout, saved.listSize, () => persist());
layout.append(listSide, splitter.element, el('div', { class: 'detail-side' }, banner, runBar, detail, keysToggle, keysHelp));
app.append(layout);

function persist(): void {
  writeSavedState({ slot: list.selectedSlot, step: selectedStep, query: list.currentQuery, listSize: splitter.current, renderMath: mathRenderingOn() } satisfies PageState);
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
  const slot = list.selectedSlot;
  if (slot === null) return;
  const view = await channel.request('open', { slot });
  // The selection may have moved on meanwhile (Accept advances at once); an old answer must not replace it.
  if (list.selectedSlot !== slot) return;
  current = view;
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

/**
 * "Render math": on, LaTeX in the question, thoughts and answers is typeset; off, the page shows the text
 * as the file holds it. The choice is kept in the page's state, so it survives the editor being hidden.
 */
function mathToggle(): HTMLElement {
  const toggle = el('vscode-checkbox', { label: 'Render math', class: 'math-toggle', title: 'Typeset LaTeX in questions, thoughts and answers; off shows the raw text' });
  toggle.checked = mathRenderingOn();
  toggle.addEventListener('change', () => {
    setMathRendering(toggle.checked);
    persist();
    renderDetail();
    detail.querySelector<HTMLElement>('.math-toggle')?.focus();
  });
  return toggle;
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
  reviewBar.append(compare, asText, mathToggle());
  const stepFlags = flagsByStep(t).steps;
  const steps = t.steps.map((s) => (s.index === editingStep ? stepEditor(s.index, s.thought, s.code) : stepCard(s, s.index === selectedStep, actions, stepFlags.get(s.index))));
  // A button that had focus (Accept, a step's Exclude) is replaced below: keep focus in the detail, not on the body.
  const hadFocus = detail.contains(document.activeElement);
  detail.replaceChildren(
    trajectoryHeader(t),
    reviewBar,
    el('div', { class: 'slot-forms' }),
    el('div', { class: 'steps' }, ...(steps.length ? steps : [el('div', { class: 'muted' }, 'No steps.')])),
  );
  renderRunBar();
  // Synchronous, so the key after `e` already lands in the thought field.
  if (editingStep !== null) detail.querySelector<HTMLTextAreaElement>('.edit-thought')?.focus();
  else if (hadFocus && !detail.contains(document.activeElement)) detail.focus({ preventScroll: true });
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

/** Applies an edit to the selected trajectory; false when nothing changed (or the user declined, or it failed). */
async function edit(request: EditRequest): Promise<boolean> {
  if (list.selectedSlot === null) return false;
  try {
    return (await channel.request('edit', { slot: list.selectedSlot, edit: request })).changed;
  } catch (err) {
    showError(err);
    return false;
  }
}

/** After a verdict the review moves on to the next unreviewed trajectory, unless the setting turns it off. */
async function advanceAfterVerdict(changed: boolean): Promise<void> {
  if (changed && editorState?.advanceAfterVerdict) await nextUnreviewed();
}

/**
 * Asks, inside an open form, before its changes are thrown away. The safe answer has focus, so a second
 * Escape or Enter keeps editing; only "Discard changes" discards.
 */
function confirmDiscard(form: HTMLElement, what: string, discard: () => void): void {
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  form.querySelector('.discard-prompt')?.remove();
  const drop = el('button', { class: 'action discard-changes', type: 'button' }, 'Discard changes');
  const keep = el('button', { class: 'action keep-editing', type: 'button' }, 'Keep editing');
  const message = el('span', { id: 'discard-message' }, `Discard your changes to ${what}?`);
  const prompt = el('div', { class: 'discard-prompt', role: 'alertdialog', 'aria-modal': 'false', 'aria-describedby': 'discard-message', 'aria-label': 'Unsaved changes' }, message, drop, keep);
  const keepEditing = () => {
    prompt.remove();
    returnTo?.focus();
  };
  keep.addEventListener('click', keepEditing);
  drop.addEventListener('click', discard);
  prompt.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    e.stopPropagation();
    keepEditing();
  });
  form.append(prompt);
  keep.focus();
}

function startEditing(index: number): void {
  if (editorState?.readOnly || !current?.valid) return;
  editingStep = index;
  selectedStep = index;
  renderDetail();
}

/**
 * The code field highlighted like the read-only view: the textarea's text is transparent over a layer
 * that shows the same text highlighted, redrawn on every input and scrolled with the textarea, so the
 * caret, selection, undo and IME stay the browser's own. The layer is hidden from screen readers.
 */
function highlightedCodeEditor(input: HTMLTextAreaElement): HTMLElement {
  const layer = el('pre', { class: 'code-highlight', 'aria-hidden': 'true' });
  // The trailing newline keeps the layer as tall as the textarea when the code ends with a new line.
  const redraw = () => layer.replaceChildren(highlightPython(`${input.value}\n`));
  const follow = () => {
    layer.scrollTop = input.scrollTop;
    layer.scrollLeft = input.scrollLeft;
  };
  input.addEventListener('input', () => {
    redraw();
    follow();
  });
  input.addEventListener('scroll', follow);
  redraw();
  return el('div', { class: 'code-editor' }, layer, input);
}

function stepEditor(index: number, thought: string, code: string): HTMLElement {
  const thoughtInput = el('textarea', { class: 'edit-thought', 'aria-label': `Thought of step ${index + 1}`, rows: '5' });
  thoughtInput.value = thought;
  const codeInput = el('textarea', { class: 'edit-code', 'aria-label': `Code of step ${index + 1}`, rows: String(Math.min(30, code.split('\n').length + 2)), spellcheck: 'false', wrap: 'off' });
  codeInput.value = code;
  const codeEditor = highlightedCodeEditor(codeInput);
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
    detail.focus();
  };
  const changed = () => thoughtInput.value !== thought || codeInput.value !== code;
  // Escape leaves the edit, but never silently drops what was typed.
  const leave = () => (changed() ? confirmDiscard(form, `step ${index + 1}`, abandon) : abandon());
  save.addEventListener('click', () => void apply().then(() => detail.focus()));
  cancel.addEventListener('click', leave);
  const onKey = (e: KeyboardEvent) => {
    if (isSubmitKey(e)) {
      e.preventDefault();
      void apply().then(() => detail.focus());
    } else if (e.key === 'Escape' && !e.isComposing) {
      e.preventDefault();
      leave();
    } else if (e.key === 'Tab' && e.target === codeInput && !e.shiftKey) {
      // Indentation matters in Python: Tab inserts four spaces in the code field.
      e.preventDefault();
      codeInput.setRangeText('    ', codeInput.selectionStart, codeInput.selectionEnd, 'end');
      codeInput.dispatchEvent(new Event('input'));
    }
  };
  thoughtInput.addEventListener('keydown', onKey);
  codeInput.addEventListener('keydown', onKey);
  // data-keys="form": single-key shortcuts stay off anywhere in the open edit (see webview/shared/keyboard.ts).
  const form: HTMLElement = el(
    'section',
    { class: 'step editing selected', 'data-step': String(index), 'data-keys': 'form', role: 'group', 'aria-label': `Editing step ${index + 1}` },
    el('div', { class: 'step-header' }, el('span', { class: 'step-title' }, `Step ${index + 1} · editing`)),
    el('label', { class: 'section-label' }, 'Thought'),
    thoughtInput,
    el('label', { class: 'section-label' }, 'Code (Python)'),
    codeEditor,
    el('div', { class: 'muted' }, 'Changing the code marks this step and every later step stale until they are re-executed.'),
    el('div', { class: 'edit-buttons' }, save, cancel),
  );
  return form;
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
  await advanceAfterVerdict(await edit({ kind: 'setReview', status: 'accepted', reasonTags: r.reasonTags, ...(r.note ? { note: r.note } : {}) }));
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
  const confirm = el('vscode-button', { class: 'confirm-reject', title: 'Reject (Ctrl+Enter)' }, 'Reject');
  const cancel = el('vscode-button', { secondary: '', title: 'Cancel (Escape)' }, 'Cancel');
  // data-keys="form": single-key shortcuts stay off while focus is anywhere in the form.
  const form = el(
    'div',
    { class: 'reject-form', role: 'dialog', 'aria-label': 'Reject trajectory', 'data-keys': 'form' },
    el('div', { class: 'section-label', id: 'reject-reasons' }, 'Reasons'),
    el('div', { class: 'tag-boxes', role: 'group', 'aria-labelledby': 'reject-reasons' }, ...boxes),
    note,
    el('div', { class: 'muted' }, 'Ctrl+Enter rejects, Escape cancels.'),
    el('div', { class: 'edit-buttons' }, confirm, cancel),
  );
  // Focus goes back where it came from (the list or the detail) when the form closes.
  const returnTo = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : detail;
  const close = () => {
    form.remove();
    (returnTo.isConnected ? returnTo : detail).focus();
  };
  const submit = async () => {
    const tags = [...chosen];
    const text = note.value.trim();
    const changed = await edit({ kind: 'setReview', status: 'rejected', reasonTags: tags, ...(text ? { note: text } : {}) });
    close();
    await advanceAfterVerdict(changed);
  };
  const original = { tags: [...chosen].sort().join('\n'), note: note.value };
  const edited = () => [...chosen].sort().join('\n') !== original.tags || note.value !== original.note;
  confirm.addEventListener('click', () => void submit());
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (e) => {
    if (isSubmitKey(e)) {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape' && !e.isComposing && !e.defaultPrevented) {
      e.preventDefault();
      if (edited()) confirmDiscard(form, 'the rejection', close);
      else close();
    }
  });
  detail.querySelector('.slot-forms')?.replaceChildren(form);
  // The checkboxes and the note render their insides a microtask after they connect; focusing then still
  // happens before the next key event is dispatched.
  const first = boxes[0] ?? note;
  void first.updateComplete.then(() => first.focus());
}

async function openComparePicker(): Promise<void> {
  if (!current?.valid) return;
  const slot = current.trajectory.slot;
  const holder = detail.querySelector('.slot-forms');
  if (!holder) return;
  // Same-file runs come at once; the workspace search streams through other files (eval runs included)
  // under a time budget, so the picker opens immediately and fills in when the search is done.
  const picker = el('select', { 'aria-label': 'Compare with', title: 'Compare with', class: 'compare-select' });
  const go = el('vscode-button', { class: 'compare-go' }, 'Compare');
  const progress = el('span', { class: 'muted compare-progress', role: 'status' }, 'Searching the other trajectory files in the workspace…');
  const form = el('div', { class: 'compare-picker' }, el('span', {}, 'Compare with '), picker, go, progress);
  holder.replaceChildren(form);
  go.addEventListener('click', () => {
    const [kind, value] = picker.value.split(':', 2);
    if (kind === 'slot') void showCompare(slot, Number(value)).catch(showError);
    else if (kind === 'ref') void showCompareAcross(slot, value).catch(showError);
  });
  const inFile = await channel.request('sameTask', { slot });
  if (inFile.length) picker.append(el('optgroup', { label: 'This file' }, ...inFile.map((o) => el('option', { value: `slot:${o.slot}` }, o.label))));
  const across = await channel.request('sameTaskInFiles', { slot }).catch((err: unknown) => {
    showError(err);
    return undefined;
  });
  // The user may have moved on while the search ran.
  if (!form.isConnected || current?.valid !== true || current.trajectory.slot !== slot) return;
  if (across?.matches.length) picker.append(el('optgroup', { label: 'Other files and eval runs' }, ...across.matches.map((m) => el('option', { value: `ref:${m.ref}` }, m.label))));
  const unfinished = across?.unfinished.length ? ` · not searched to the end: ${across.unfinished.join(', ')}` : '';
  const searched = across ? `${across.filesSearched} other trajectory ${across.filesSearched === 1 ? 'file' : 'files'}` : 'other files';
  if (!picker.options.length) {
    holder.replaceChildren(el('div', { class: 'muted compare-none' }, `No other trajectory of this task, in this file or in ${searched}${unfinished}.`));
    return;
  }
  const n = picker.options.length;
  progress.textContent = `${n} ${n === 1 ? 'run' : 'runs'} of this task (searched this file and ${searched})${unfinished}`;
}

async function showCompare(left: number, right: number): Promise<void> {
  const result = await channel.request('compare', { left, right });
  detail.replaceChildren(compareView(result.left, result.right, result.rows, () => renderDetail()));
  detail.scrollTop = 0;
}

async function showCompareAcross(left: number, ref: string): Promise<void> {
  const result = await channel.request('compareAcross', { left, ref });
  detail.replaceChildren(compareView(result.left, result.right, result.rows, () => renderDetail(), result.rightSource));
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
// Keyboard: single keys are handled here (see webview/shared/keyboard.ts); commands arrive as actions
// ------------------------------------------------------------------------------------------------------

async function perform(action: EditorKeyAction): Promise<void> {
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
    case 'openTextForm':
      if (list.selectedSlot !== null) await channel.request('openTextForm', { slot: list.selectedSlot });
      return;
    case 'reexecuteStep':
      if (actions.canExecute && current?.valid) return runStep('reexecute', step);
      return;
    case 'continueWithTeacher':
      if (actions.canExecute && current?.valid) return runStep('continueWithTeacher', step);
      return;
  }
}

/** The keys this file offers: a read-only file offers none that would change it. */
function keysOffered(): typeof editorKeys {
  return editorState?.readOnly ? editorKeys.filter((k) => !k.edits) : editorKeys;
}

// Capture phase, so the decision is made before any other listener could move focus.
document.addEventListener(
  'keydown',
  (e) => {
    const key = shortcutKey(e);
    const binding = key === undefined ? undefined : keysOffered().find((k) => k.key === key);
    if (!binding || list.wantsKey(e)) return;
    // The key must not also type itself into a field this action focuses (edit, search, reject note).
    e.preventDefault();
    // Runs synchronously up to its first await: a field it opens has focus before the next key arrives.
    void perform(binding.action).catch(showError);
  },
  true,
);

/** Escape in the search box clears it; a second Escape (or Escape in an empty box) leaves it for the list. */
searchField.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || e.isComposing) return;
  e.preventDefault();
  if (searchField.value) {
    searchField.value = '';
    queryChanged();
  } else list.focus();
});
// Escape in a filter leaves it for the list, as in the search box.
filters.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || e.isComposing) return;
  e.preventDefault();
  list.focus();
});

function renderKeys(): void {
  keysHelp.replaceChildren(...keysOffered().map((k) => el('span', { class: 'key-hint' }, el('kbd', {}, k.key === k.key.toLowerCase() ? k.key : `Shift+${k.key}`), ` ${k.label}`)));
}

// ------------------------------------------------------------------------------------------------------
// Host notifications
// ------------------------------------------------------------------------------------------------------

channel.on('state', (state) => {
  const first = editorState === undefined;
  editorState = state;
  refreshStatus();
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
  updateFiltersToggle();
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

/**
 * The status line: what the query shows against what the file holds, then the people's review counts and,
 * apart, the generation filter's (its own words: "passed"/"dropped", never "accepted").
 */
function refreshStatus(): void {
  if (!editorState) return;
  const s = editorState;
  const scanning = s.complete ? '' : ` · indexing ${Math.floor((100 * s.scanned) / Math.max(1, s.slotCount))}%`;
  const f = s.filterCounts;
  const filter = f.passed + f.dropped ? ` · filter: ${f.passed} passed, ${f.dropped} dropped` : '';
  list.setStatus(
    `${list.resultCount.toLocaleString()} shown · ${s.slotCount.toLocaleString()} in file · review: ${s.counts.unreviewed} unreviewed, ${s.counts.accepted} accepted, ${s.counts.rejected} rejected${s.counts.invalid ? ` · ${s.counts.invalid} invalid` : ''}${filter}${scanning}`,
  );
  renderEmptyResult();
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
}

channel.start();
