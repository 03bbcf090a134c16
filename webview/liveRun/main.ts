import '@vscode-elements/elements/dist/vscode-button/index.js';
import '../shared/theme.css';
import '../shared/page.css';
import './style.css';
import { el, HostChannel, readInitialState } from '../shared/hostChannel';
import { type LiveQuestion, type LiveRunState, liveRunInitialStateSchema, liveRunProtocol } from '../../src/protocol/liveRun';
import { formatDuration } from '../shared/durationText';
import { button, PageActions, stat } from '../shared/components';

const channel = new HostChannel(liveRunProtocol);
const initial = liveRunInitialStateSchema.safeParse(readInitialState());
const app = document.getElementById('app')!;

let state: LiveRunState | undefined = initial.success ? initial.data.state : undefined;
const actions = new PageActions(() => render());
let filter: 'all' | 'active' | 'failed' | 'done' = 'all';

const statusWords: Record<LiveQuestion['status'], { text: string; icon: string }> = {
  queued: { text: 'queued', icon: 'circle-large-outline' },
  running: { text: 'running', icon: 'loading codicon-modifier-spin' },
  accepted: { text: 'accepted', icon: 'pass' },
  rejected: { text: 'rejected', icon: 'circle-slash' },
  correct: { text: 'correct', icon: 'pass' },
  wrong: { text: 'wrong', icon: 'close' },
  failed: { text: 'failed', icon: 'error' },
  cancelled: { text: 'cancelled', icon: 'debug-stop' },
};

const phaseWords: Record<LiveRunState['phase'], string> = {
  starting: 'starting',
  running: 'running',
  cancelling: 'cancelling…',
  finished: 'finished',
  cancelled: 'cancelled',
  failed: 'failed',
};





function openQuestion(q: LiveQuestion): void {
  if (!q.canOpen) return;
  void channel.request('openQuestion', { key: q.key }).then(
    (r) => {
      if (!r.opened) {
        actions.notice = `${q.taskId} is not in the output yet.`;
        render();
      }
    },
    (err: unknown) => {
      actions.notice = `Cannot open ${q.taskId}: ${err instanceof Error ? err.message : String(err)}`;
      render();
    },
  );
}

function stats(s: LiveRunState): HTMLElement {
  const c = s.counts;
  const finished = c.total - c.queued - c.running - c.cancelled;
  const teacher = s.kind === 'teacher';
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Questions finished', 'aria-valuemin': '0', 'aria-valuemax': String(c.total), 'aria-valuenow': String(finished) }, el('div', { class: 'progress-fill' }));
  (bar.firstElementChild as HTMLElement).style.width = `${c.total ? ((100 * finished) / c.total).toFixed(1) : 0}%`;
  return el(
    'div',
    { class: 'stats' },
    stat('Finished', `${finished} / ${c.total}`, 'stat-finished'),
    teacher ? stat('Accepted', String(c.accepted), 'stat-accepted') : stat('Correct', String(c.correct), 'stat-correct'),
    teacher ? stat('Rejected', String(c.rejected), 'stat-rejected') : stat('Wrong', String(c.wrong), 'stat-wrong'),
    stat('Failed', String(c.failed), 'stat-failed'),
    stat('Running', String(c.running), 'stat-running'),
    stat('Queued', String(c.queued + c.cancelled), 'stat-queued'),
    stat('Throughput', `${s.questionsPerMinute.toFixed(1)} q/min · ${Math.round(s.tokensPerSecond)} tok/s`, 'stat-throughput'),
    stat('ETA', s.phase === 'running' ? formatDuration(s.etaMs) : '—', 'stat-eta'),
    stat('Elapsed', formatDuration(s.elapsedMs), 'stat-elapsed'),
    el('div', { class: 'stat wide' }, el('div', { class: 'stat-label' }, c.earlier ? `Progress (${c.earlier} finished by earlier runs)` : 'Progress'), bar),
  );
}

function matches(q: LiveQuestion): boolean {
  if (filter === 'all') return true;
  if (filter === 'active') return q.status === 'running' || q.status === 'queued' || q.status === 'cancelled';
  if (filter === 'failed') return q.status === 'failed';
  return !['running', 'queued', 'cancelled', 'failed'].includes(q.status);
}

function questionRow(q: LiveQuestion, index: number): HTMLElement {
  const words = statusWords[q.status];
  const statusText = q.status === 'running' && q.step ? `step ${q.step}` : words.text;
  const row = el(
    'tr',
    { class: `question status-${q.status}${q.canOpen ? ' openable' : ''}`, 'data-key': q.key, 'data-status': q.status, ...(q.canOpen ? { tabindex: '0', title: 'Open in the trajectory editor' } : {}) },
    el('td', { class: 'num' }, String(index + 1)),
    el('td', { class: 'task' }, q.group ? el('span', { class: 'muted' }, `${q.group}/`) : null, q.taskId),
    el('td', { class: 'status' }, el('span', { class: `codicon codicon-${words.icon}`, 'aria-hidden': 'true' }), ` ${statusText}`, q.earlier ? el('span', { class: 'muted' }, ' (earlier run)') : null),
    el('td', { class: 'text' }, q.question),
    el('td', { class: 'detail', ...(q.detail ? { title: q.detail } : {}) }, el('div', { class: 'clamp' }, q.detail ?? '')),
    el('td', { class: 'open' }, q.canOpen ? el('span', { class: 'codicon codicon-go-to-file', 'aria-hidden': 'true' }) : null),
  );
  if (q.canOpen) {
    row.addEventListener('click', () => openQuestion(q));
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openQuestion(q);
      }
    });
  }
  return row;
}

function render(): void {
  const focusedKey = (document.activeElement as HTMLElement | null)?.closest?.('tr.question')?.getAttribute('data-key');
  const scroll = document.scrollingElement?.scrollTop ?? 0;
  app.replaceChildren();
  if (!state) {
    app.append(el('p', { class: 'error' }, 'This view was opened without a run.'));
    return;
  }
  const s = state;
  const filterSelect = el(
    'select',
    { 'aria-label': 'Show questions', id: 'filter' },
    ...(
      [
        ['all', 'All questions'],
        ['active', 'Running and queued'],
        ['failed', 'Failed'],
        ['done', 'Finished'],
      ] as const
    ).map(([value, label]) => {
      const o = el('option', { value }, label);
      if (value === filter) o.setAttribute('selected', '');
      return o;
    }),
  );
  filterSelect.addEventListener('change', () => {
    filter = filterSelect.value as typeof filter;
    render();
  });
  const shown = s.questions.map((q, i) => ({ q, i })).filter(({ q }) => matches(q));
  app.append(
    ...[
      el('header', {}, el('h1', {}, s.title), el('span', { class: `badge phase-${s.phase}`, id: 'phase', role: 'status' }, phaseWords[s.phase])),
      el('div', { class: 'muted output' }, `${s.kind === 'teacher' ? 'Output file' : 'Run folder'}: ${s.output}`),
      s.failure ? el('div', { class: 'banner error-banner', role: 'alert' }, `The run failed: ${s.failure}`) : null,
      s.summary ? el('div', { class: 'notice', id: 'summary' }, s.summary) : null,
      actions.notice ? el('div', { class: 'notice', role: 'status', id: 'notice' }, actions.notice) : null,
      stats(s),
      el(
        'div',
        { class: 'actions' },
        button('Cancel', () => void actions.run('Cancel', async () => (await channel.request('cancel', {})).message), { icon: 'debug-stop', id: 'cancel', secondary: true, disabled: !s.canCancel || actions.busy !== '' }),
        // Primary only when it can be used: a disabled primary button reads as the thing to press.
        button('Retry Failed', () => void actions.run('Retry Failed', async () => (await channel.request('retryFailed', {})).message), { icon: 'refresh', id: 'retry-failed', secondary: !s.canRetryFailed, disabled: !s.canRetryFailed || actions.busy !== '' }),
      ),
      s.notes.length ? el('ul', { class: 'notes' }, ...s.notes.map((n) => el('li', {}, n))) : null,
      el('h2', {}, 'Latest errors'),
      s.errors.length
        ? el('ul', { class: 'errors', id: 'errors' }, ...s.errors.map((e) => el('li', {}, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), ' ', el('strong', {}, e.taskId), `: ${e.message}`)))
        : el('p', { class: 'muted', id: 'errors' }, 'No errors.'),
      el('div', { class: 'questions-header' }, el('h2', {}, `Questions (${shown.length} of ${s.questions.length})`), filterSelect),
      el(
        'table',
        { class: 'questions', 'aria-label': 'Questions of the run' },
        el('thead', {}, el('tr', {}, el('th', { class: 'num' }, '#'), el('th', {}, 'Task'), el('th', {}, 'Status'), el('th', {}, 'Question'), el('th', {}, s.kind === 'teacher' ? 'Reason or error' : 'Verdict or error'), el('th', { 'aria-label': 'Open' }))),
        el('tbody', {}, ...shown.map(({ q, i }) => questionRow(q, i))),
      ),
    ].filter((p): p is HTMLElement => p !== null),
  );
  if (document.scrollingElement) document.scrollingElement.scrollTop = scroll;
  if (focusedKey) app.querySelector<HTMLElement>(`tr.question[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

channel.on('state', (s) => {
  // A notice about an action belongs to the run it was about.
  if (state && (s.phase !== state.phase || s.summary !== state.summary)) actions.notice = '';
  state = s;
  render();
});

channel.start();
render();
