import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, type Plugin, Tooltip } from 'chart.js';
import '../shared/theme.css';
import './style.css';
import { z } from 'zod';
import { button, icon, select, themeColor } from '../shared/components';
import { el, HostChannel, readSavedState, writeSavedState } from '../shared/hostChannel';
import {
  type BenchmarkRow,
  type ComparisonView,
  type DisagreementRow,
  type Profile,
  type ProfileVerdictRow,
  evalDashboardProtocol,
  type FlippedRow,
  type QuestionRow,
  type RunListEntry,
  type RunView,
  type TrajectoryPane,
} from '../../src/protocol/evalDashboard';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** UI state kept while the page is hidden and recreated (never results: those come from the host). */
/** What the page keeps across hiding and reloads: the view and its filters. */
const pageStateSchema = z.object({
  view: z.enum(['run', 'compare']),
  runFolder: z.string().optional(),
  compareWith: z.string().optional(),
  filters: z.object({ benchmark: z.string(), verdict: z.string(), search: z.string(), failingOnly: z.boolean() }),
});
type PageState = z.infer<typeof pageStateSchema>;

const channel = new HostChannel(evalDashboardProtocol);
const saved = readSavedState(pageStateSchema, { view: 'run', filters: { benchmark: '', verdict: '', search: '', failingOnly: false } });
const state: PageState = { ...saved, filters: { ...saved.filters } };

const app = document.getElementById('app')!;
let runs: RunListEntry[] = [];
let current: RunView | undefined;
let comparison: ComparisonView | undefined;
const charts: Chart[] = [];
let reloadTimer: ReturnType<typeof setTimeout> | undefined;

function saveState(): void {
  writeSavedState(state);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function signed(x: number | undefined): string {
  if (x === undefined) return '—';
  const p = 100 * x;
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}`;
}

/** How the two compatibility profiles are named everywhere on the page (the CLI uses the same words). */
const profileLabels: Record<Profile, string> = { reference: "Paper's scoring (reference)", studio: 'Corrected (studio)' };
/** Reference first: the paper's number, then the studio's correction of it. */
const profileOrder: readonly Profile[] = ['reference', 'studio'];

/** A profile's name with a badge when it is the run's own profile (the one its headline accuracy counts). */
function profileHeading(p: Profile, own: Profile | undefined, ownText = 'this run'): HTMLElement {
  return el('span', { class: 'profile-heading' }, profileLabels[p], own === p ? el('span', { class: 'badge', title: `The profile ${ownText === 'this run' ? 'this run follows' : ownText}: its verdicts make the headline accuracy` }, ownText) : null);
}



/** A translucent variant of a theme colour, when it is a plain #rrggbb value (otherwise the colour itself). */
function translucent(color: string, alphaHex: string): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}${alphaHex}` : color;
}

function destroyCharts(): void {
  for (const c of charts.splice(0)) c.destroy();
}



function showError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  const banner = el('div', { class: 'banner error', role: 'alert' }, icon('error'), ` ${message}`);
  app.prepend(banner);
}

// ------------------------------------------------------------------------------------------------------
// Toolbar
// ------------------------------------------------------------------------------------------------------

function toolbar(): HTMLElement {
  const runOptions: [string, string][] = runs.map((r) => [r.runFolder, r.label]);
  if (state.runFolder && !runs.some((r) => r.runFolder === state.runFolder)) runOptions.unshift([state.runFolder, state.runFolder]);
  const runSelect = select('Run', runOptions.length ? runOptions : [['', 'No evaluation runs yet']], state.runFolder ?? '', (v) => {
    state.runFolder = v;
    state.view = 'run';
    void refresh();
  });
  runSelect.classList.add('run-select');
  const otherOptions: [string, string][] = [['', 'Compare with…'], ...runs.filter((r) => r.runFolder !== state.runFolder).map((r): [string, string] => [r.runFolder, r.label])];
  const compareSelect = select('Compare with another run', otherOptions, state.view === 'compare' ? (state.compareWith ?? '') : '', (v) => {
    if (!v) {
      state.view = 'run';
    } else {
      state.view = 'compare';
      state.compareWith = v;
    }
    void refresh();
  });
  const addButton = button('Add Run Folder…', () => {
    void channel.request('addRun', {}).then(async (r) => {
      if (!r.runFolder) return;
      state.runFolder = r.runFolder;
      state.view = 'run';
      await loadRuns();
      await refresh();
    }, showError);
  }, { title: 'Show a run folder that is not listed', secondary: true });
  const reload = button('', () => void refresh(), { title: 'Reload', secondary: true, icon: 'refresh' });
  return el('div', { class: 'toolbar' }, el('label', {}, 'Run '), runSelect, compareSelect, addButton, reload);
}

// ------------------------------------------------------------------------------------------------------
// One run
// ------------------------------------------------------------------------------------------------------

function summaryCards(run: RunView): HTMLElement {
  const perQuestion = (x: number): string => (run.sampling.questions ? x.toFixed(x < 10 ? 1 : 0) : '—');
  return el(
    'div',
    { class: 'cards' },
    card('Average accuracy', pct(run.averageAccuracy), `${profileLabels[run.profile]} · ${run.pooled.correct}/${run.pooled.questions} pooled, 95% CI ${pct(run.pooled.interval.low)}–${pct(run.pooled.interval.high)}`),
    ...profileOrder.map((p) =>
      card(
        `${profileLabels[p]}${p === run.profile ? ' · this run' : ''}`,
        pct(run.averageAccuracyByProfile[p]),
        `average over benchmarks · ${run.disagreements.length} question(s) scored differently`,
      ),
    ),
    card('Parse errors', `${pct(run.sampled.parseRate)} → ${pct(run.chosen.parseRate)}`, 'sampled candidates → chosen actions'),
    card('Execution errors', `${pct(run.sampled.execRate)} → ${pct(run.chosen.execRate)}`, 'sampled candidates → chosen actions'),
    card('Vote agreement', run.voteAgreement === undefined ? '—' : run.voteAgreement.toFixed(2), 'winning group / candidates drawn, mean over steps'),
    card(
      'Sampled per question',
      `${perQuestion(run.sampling.candidatesPerQuestion)} actions`,
      `${perQuestion(run.sampling.tokensPerQuestion)} tokens generated · ${perQuestion(run.sampling.modelCallsPerQuestion)} model calls · ${run.mode}`,
    ),
    card('Status', run.status, `${run.pending} pending · ${(run.wallMs / 1000).toFixed(1)} s wall`),
  );
}

function benchmarkTable(run: RunView): HTMLElement {
  const head: (string | HTMLElement)[] = ['Benchmark', 'n', ...profileOrder.map((p) => profileHeading(p, run.profile)), 'Differ', '95% CI', 'Parse err. sampled → chosen', 'Exec err. sampled → chosen', 'Vote agr.', 'Steps', 'Searches', 'Actions/q', 'Tokens/q', 'Errors'];
  const row = (b: BenchmarkRow): HTMLElement =>
    el(
      'tr',
      {},
      el('td', {}, b.name, b.domain ? el('span', { class: 'muted' }, ` ${b.domain}`) : null),
      el('td', { class: 'num' }, String(b.questions)),
      ...profileOrder.map((p) => el('td', { class: `num${p === run.profile ? ' strong' : ''}`, title: `${b.byProfile[p].correct}/${b.questions} correct` }, pct(b.byProfile[p].accuracy))),
      el('td', { class: 'num' }, String(b.disagreements)),
      el('td', { class: 'num' }, `${pct(b.interval.low)}–${pct(b.interval.high)}`),
      el('td', { class: 'num' }, `${pct(b.sampled.parseRate)} → ${pct(b.chosen.parseRate)}`),
      el('td', { class: 'num' }, `${pct(b.sampled.execRate)} → ${pct(b.chosen.execRate)}`),
      el('td', { class: 'num' }, b.voteAgreement === undefined ? '—' : b.voteAgreement.toFixed(2)),
      el('td', { class: 'num' }, b.meanSteps.toFixed(2)),
      el('td', { class: 'num' }, b.meanRetrievalCalls.toFixed(2)),
      el('td', { class: 'num' }, b.meanCandidates.toFixed(1)),
      el('td', { class: 'num' }, b.meanCompletionTokens.toFixed(0)),
      el('td', { class: 'num' }, String(b.runErrors)),
    );
  const average = el(
    'tr',
    { class: 'average' },
    el('td', {}, 'Average'),
    el('td', { class: 'num' }, String(run.pooled.questions)),
    ...profileOrder.map((p) => el('td', { class: `num${p === run.profile ? ' strong' : ''}` }, pct(run.averageAccuracyByProfile[p]))),
    el('td', { class: 'num' }, String(run.disagreements.length)),
    el('td', { class: 'num' }, `${pct(run.pooled.interval.low)}–${pct(run.pooled.interval.high)}`),
    el('td', { class: 'num' }, `${pct(run.sampled.parseRate)} → ${pct(run.chosen.parseRate)}`),
    el('td', { class: 'num' }, `${pct(run.sampled.execRate)} → ${pct(run.chosen.execRate)}`),
    el('td', { class: 'num' }, run.voteAgreement === undefined ? '—' : run.voteAgreement.toFixed(2)),
    el('td', {}),
    el('td', {}),
    el('td', {}),
    el('td', {}),
    el('td', { class: 'num' }, String(run.benchmarks.reduce((n, b) => n + b.runErrors, 0))),
  );
  const table = el('table', { class: 'grid benchmarks', 'aria-label': 'Scores per benchmark' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...run.benchmarks.map(row), average));
  const notes = [
    `Accuracy under both scorings: the paper's (reference) and the studio's corrected one; the 95% CI is of the ${run.profile} profile's accuracy, which this run counts.`,
    run.withoutBothVerdicts ? ` ${run.withoutBothVerdicts} record(s) hold one verdict only (scored before both profiles were stored): it counts for both.` : '',
  ].join('');
  return el('div', {}, table, el('div', { class: 'muted table-note' }, notes));
}

function verdictText(v: ProfileVerdictRow): string {
  return v.error !== undefined ? 'not judged' : v.correct ? 'correct' : 'wrong';
}

/** One profile's verdict in the disagreements list: an icon, the word, and the rule that decided. */
function verdictCell(v: ProfileVerdictRow): HTMLElement {
  const word = verdictText(v);
  return el(
    'td',
    { class: `profile-verdict ${v.correct ? 'good' : 'bad'}`, title: v.detail ?? v.error ?? v.rule },
    icon(v.correct ? 'pass' : 'error'),
    ` ${word}`,
    el('div', { class: 'rule' }, `${v.method} · ${v.rule}`),
  );
}

/** The questions the two profiles' scorers judged differently; each opens in the editor like a question row. */
function disagreementList(run: RunView): HTMLElement {
  const title = el('h2', {}, `Scored differently by the two profiles (${run.disagreements.length})`);
  if (run.disagreements.length === 0) return el('section', { class: 'disagreements' }, title, el('div', { class: 'muted' }, 'The paper\'s scoring and the corrected one agree on every question.'));
  const head: (string | HTMLElement)[] = ['Benchmark', 'Id', 'Question', 'Answer', 'Gold', ...profileOrder.map((p) => profileHeading(p, run.profile))];
  const rows = run.disagreements.map((d: DisagreementRow) => {
    const tr = el(
      'tr',
      { class: 'question disagreement openable', tabindex: '0', title: `Open in the editor at step ${d.focusStep + 1}`, 'data-task': d.taskId },
      el('td', {}, d.benchmark),
      el('td', {}, d.taskId),
      el('td', { class: 'question-text' }, d.question),
      answerCell(d.prediction),
      answerCell(d.gold),
      ...profileOrder.map((p) => verdictCell(d[p])),
    );
    const open = (): void => {
      void channel.request('openQuestion', { runFolder: run.runFolder, file: d.file, slot: d.slot, step: d.focusStep }).catch(showError);
    };
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') open();
    });
    return tr;
  });
  return el(
    'section',
    { class: 'disagreements' },
    title,
    el('table', { class: 'grid disagreement-list', 'aria-label': 'Questions scored differently by the two profiles' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows)),
  );
}

function chartBox(label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { role: 'img', 'aria-label': label });
  return { box: el('div', { class: 'chart' }, el('div', { class: 'chart-title' }, label), el('div', { class: 'chart-body' }, canvas)), canvas };
}

function chartDefaults() {
  const fg = themeColor('--vscode-foreground', '#888');
  const grid = themeColor('--vscode-panel-border', 'rgba(128,128,128,0.3)');
  return {
    fg,
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false as const,
      plugins: { legend: { labels: { color: fg } } },
      scales: {
        x: { ticks: { color: fg }, grid: { color: grid } },
        y: { ticks: { color: fg, callback: (v: string | number) => `${v}%` }, grid: { color: grid }, beginAtZero: true },
      },
    },
  };
}

/**
 * Draws each bar's 95 % interval as an error bar (a whisker with caps) over the first dataset, so the
 * interval reads as uncertainty around the value rather than as a second quantity.
 */
function errorBars(intervals: [number, number][], color: string): Plugin<'bar'> {
  return {
    id: 'errorBars',
    afterDatasetsDraw(chart) {
      const meta = chart.getDatasetMeta(0);
      const y = chart.scales.y;
      const { ctx } = chart;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      meta.data.forEach((bar, i) => {
        const interval = intervals[i];
        if (!interval) return;
        const x = bar.x;
        const top = y.getPixelForValue(interval[1]);
        const bottom = y.getPixelForValue(interval[0]);
        const { width } = bar.getProps(['width'], true) as { width: number };
        const cap = Math.min(12, width / 4);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - cap, top);
        ctx.lineTo(x + cap, top);
        ctx.moveTo(x - cap, bottom);
        ctx.lineTo(x + cap, bottom);
        ctx.stroke();
      });
      ctx.restore();
    },
  };
}

function otherProfile(p: Profile): Profile {
  return p === 'studio' ? 'reference' : 'studio';
}

function runCharts(run: RunView): HTMLElement {
  const accuracy = chartBox(`Accuracy per benchmark under both scorings · 95% CI of ${profileLabels[run.profile]}, this run's`);
  const errors = chartBox('Error rates: sampled candidates vs chosen actions');
  const { options } = chartDefaults();
  const blue = themeColor('--vscode-charts-blue', '#3794ff');
  const red = themeColor('--vscode-charts-red', '#f14c4c');
  const purple = themeColor('--vscode-charts-purple', '#b180d7');
  const names = run.benchmarks.map((b) => b.name);
  charts.push(
    new Chart(accuracy.canvas, {
      type: 'bar',
      plugins: [errorBars(run.benchmarks.map((b) => [100 * b.interval.low, 100 * b.interval.high]), themeColor('--vscode-foreground', '#ccc'))],
      data: {
        labels: names,
        datasets: [
          { label: `${profileLabels[run.profile]} (this run)`, data: run.benchmarks.map((b) => 100 * b.accuracy), backgroundColor: blue },
          { label: profileLabels[otherProfile(run.profile)], data: run.benchmarks.map((b) => 100 * b.byProfile[otherProfile(run.profile)].accuracy), backgroundColor: themeColor('--vscode-charts-orange', '#d18616') },
        ],
      },
      options: { ...options, scales: { ...options.scales, y: { ...options.scales.y, max: 100 } } },
    }),
  );
  charts.push(
    new Chart(errors.canvas, {
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          { label: 'Parse, sampled', data: run.benchmarks.map((b) => 100 * b.sampled.parseRate), backgroundColor: translucent(red, '88') },
          { label: 'Parse, chosen', data: run.benchmarks.map((b) => 100 * b.chosen.parseRate), backgroundColor: red },
          { label: 'Exec, sampled', data: run.benchmarks.map((b) => 100 * b.sampled.execRate), backgroundColor: translucent(purple, '88') },
          { label: 'Exec, chosen', data: run.benchmarks.map((b) => 100 * b.chosen.execRate), backgroundColor: purple },
        ],
      },
      options,
    }),
  );
  return el('div', { class: 'charts' }, accuracy.box, errors.box);
}

function matchesFilters(q: QuestionRow): boolean {
  const f = state.filters;
  if (f.benchmark && q.benchmark !== f.benchmark) return false;
  if (f.verdict === 'correct' && !q.correct) return false;
  if (f.verdict === 'wrong' && q.correct) return false;
  if (f.verdict === 'run-error' && q.runError === undefined) return false;
  if (f.failingOnly && !q.hasFailingStep) return false;
  if (f.search) {
    const needle = f.search.toLowerCase();
    if (![q.taskId, q.question, q.finalAnswer ?? '', q.goldAnswer ?? ''].some((s) => s.toLowerCase().includes(needle))) return false;
  }
  return true;
}

/** An answer in the question list: at most three lines, the whole text on hover (long answers must not widen the table). */
function answerCell(text: string | undefined): HTMLElement {
  return el('td', { class: 'answer', ...(text ? { title: text } : {}) }, el('div', { class: 'clamp' }, text ?? '—'));
}

function openInEditor(runFolder: string, q: QuestionRow): void {
  void channel.request('openQuestion', { runFolder, file: q.file, slot: q.slot, step: q.focusStep }).catch(showError);
}

function questionList(run: RunView): HTMLElement {
  const body = el('tbody', {});
  const count = el('span', { class: 'muted', 'aria-live': 'polite' });
  const render = (): void => {
    const rows = run.questions.filter(matchesFilters);
    count.textContent = `${rows.length} of ${run.questions.length} questions`;
    body.replaceChildren(
      ...rows.map((q) => {
        const verdictIcon = q.runError !== undefined ? icon('warning', 'run error') : q.correct ? icon('pass', 'correct') : icon('error', 'wrong');
        const tr = el(
          'tr',
          { class: `question openable ${q.correct ? 'correct' : 'wrong'}`, tabindex: '0', title: `Open in the editor at step ${q.focusStep + 1}${q.hasFailingStep ? ' (the first failing step)' : ''}`, 'data-task': q.taskId },
          el('td', {}, verdictIcon),
          el('td', {}, q.benchmark),
          el('td', {}, q.taskId),
          el('td', { class: 'question-text' }, q.question),
          answerCell(q.finalAnswer),
          answerCell(q.goldAnswer),
          el('td', { class: 'num' }, `${q.steps}${q.hasFailingStep ? ` (fails at ${q.focusStep + 1})` : ''}`),
          el('td', { class: 'num', title: `${q.modelCalls} model ${q.modelCalls === 1 ? 'call' : 'calls'}` }, String(q.candidates)),
          el('td', { class: 'num' }, String(q.completionTokens)),
          el(
            'td',
            { class: 'verdict' },
            q.verdict,
            q.correctByProfile.studio !== q.correctByProfile.reference
              ? el('span', { class: 'badge differ', title: `${profileLabels.reference}: ${q.correctByProfile.reference ? 'correct' : 'wrong'}; ${profileLabels.studio}: ${q.correctByProfile.studio ? 'correct' : 'wrong'}` }, 'scorings differ')
              : null,
          ),
          el('td', {}, teacherButton(run, q)),
        );
        const open = (): void => openInEditor(run.runFolder, q);
        tr.addEventListener('click', (e) => {
          if ((e.target as HTMLElement).closest('vscode-button')) return;
          open();
        });
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') open();
        });
        return tr;
      }),
    );
    saveState();
  };
  const benchmarkFilter = select('Benchmark', [['', 'All benchmarks'], ...run.benchmarks.map((b): [string, string] => [b.name, b.name])], state.filters.benchmark, (v) => {
    state.filters.benchmark = v;
    render();
  });
  const verdictFilter = select('Verdict', [['', 'Any verdict'], ['correct', 'Correct'], ['wrong', 'Wrong'], ['run-error', 'Run errors']], state.filters.verdict, (v) => {
    state.filters.verdict = v;
    render();
  });
  const search = el('vscode-textfield', { placeholder: 'Search id, question, answer…', 'aria-label': 'Search questions', class: 'search' });
  search.value = state.filters.search;
  search.addEventListener('input', () => {
    state.filters.search = search.value;
    render();
  });
  const failing = el('vscode-checkbox', { label: 'With a failing step' });
  failing.checked = state.filters.failingOnly;
  failing.addEventListener('change', () => {
    state.filters.failingOnly = failing.checked;
    render();
  });
  render();
  const head = ['', 'Benchmark', 'Id', 'Question', 'Answer', 'Gold', 'Steps', 'Actions', 'Tokens', 'Verdict', ''];
  return el(
    'section',
    { class: 'questions' },
    el('h2', {}, 'Questions'),
    el('div', { class: 'filters' }, benchmarkFilter, verdictFilter, search, failing, count),
    el('table', { class: 'grid question-list', 'aria-label': 'Questions' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), body),
  );
}

function teacherButton(run: RunView, q: QuestionRow): HTMLElement {
  return button('Teacher…', () => {
    void channel.request('sideBySideWithTeacher', { runFolder: run.runFolder, file: q.file, slot: q.slot }).then((panes) => {
      if (panes) showSideBySide(panes.a, panes.b);
    }, showError);
  }, { title: 'Side by side with the teacher\'s trajectory of this question (asks for the teacher file)', secondary: true });
}

function renderRun(run: RunView): void {
  destroyCharts();
  const problems = run.problems.length ? el('div', { class: 'banner warning' }, icon('warning'), ` ${run.problems.length} line(s) of the trajectory files are not valid trajectories: ${run.problems.slice(0, 3).join('; ')}`) : null;
  app.replaceChildren(
    toolbar(),
    el('h1', {}, run.label),
    el('div', { class: 'muted' }, `${run.model} · ${run.mode} · ${run.runFolder}`),
    run.adapter
      ? el('div', { class: 'muted', id: 'adapter-lineage' }, `Adapter ${run.adapter.path}${run.adapter.trainingRun ? ` from training run ${run.adapter.trainingRun}` : ''} · trained on ${run.adapter.dataSnapshot ?? 'an unknown data snapshot (the adapter has no manifest naming it)'}`)
      : '',
    problems ?? '',
    summaryCards(run),
    benchmarkTable(run),
    runCharts(run),
    disagreementList(run),
    questionList(run),
    el('section', { id: 'side-by-side', class: 'side-by-side' }),
  );
}

// ------------------------------------------------------------------------------------------------------
// Two runs
// ------------------------------------------------------------------------------------------------------

function paneView(pane: TrajectoryPane): HTMLElement {
  const verdict = pane.correct === undefined ? null : el('span', { class: pane.correct ? 'good' : 'bad' }, pane.correct ? ' correct' : ' wrong');
  return el(
    'div',
    { class: 'pane' },
    el('h3', {}, pane.title, verdict),
    el('div', { class: 'muted' }, `Answer: ${pane.finalAnswer ?? '—'}${pane.verdict ? ` · ${pane.verdict}` : ''}`),
    ...pane.steps.map((s, i) =>
      el(
        'div',
        { class: `step${s.error ? ' failed' : ''}` },
        el('div', { class: 'step-title' }, `Step ${i + 1}`, s.candidates !== undefined ? el('span', { class: 'muted' }, ` · ${s.validCandidates}/${s.candidates} valid candidates, winner #${s.winner}`) : null),
        el('div', { class: 'thought' }, s.thought),
        el('pre', { class: 'code' }, s.code),
        el('pre', { class: `observation${s.error ? ' error' : ''}` }, s.error ?? s.observation),
      ),
    ),
  );
}

function showSideBySide(a: TrajectoryPane, b: TrajectoryPane): void {
  let section = document.getElementById('side-by-side');
  if (!section) {
    section = el('section', { id: 'side-by-side', class: 'side-by-side' });
    app.append(section);
  }
  section.replaceChildren(el('h2', {}, 'Side by side'), el('div', { class: 'panes' }, paneView(a), paneView(b)));
  section.scrollIntoView({ block: 'start' });
}

function flippedList(title: string, rows: FlippedRow[], view: ComparisonView): HTMLElement {
  return el(
    'section',
    { class: 'flipped' },
    el('h2', {}, `${title} (${rows.length})`),
    rows.length === 0
      ? el('div', { class: 'muted' }, 'None.')
      : el(
          'ul',
          { class: 'flip-list' },
          ...rows.map((f) => {
            const item = el(
              'li',
              { tabindex: '0', title: 'Show both trajectories side by side' },
              el('span', { class: 'flip-id' }, `${f.benchmark}/${f.taskId}`),
              ' ',
              el('span', { class: 'question-text' }, f.question),
              el('span', { class: 'muted' }, ` — A: ${f.a.finalAnswer ?? '—'}, B: ${f.b.finalAnswer ?? '—'}`),
            );
            const show = (): void => {
              void channel
                .request('sideBySide', { a: { runFolder: view.a.runFolder, file: f.a.file, slot: f.a.slot }, b: { runFolder: view.b.runFolder, file: f.b.file, slot: f.b.slot } })
                .then((panes) => showSideBySide(panes.a, panes.b), showError);
            };
            item.addEventListener('click', show);
            item.addEventListener('keydown', (e) => {
              if (e.key === 'Enter') show();
            });
            return item;
          }),
        ),
  );
}

/** `40.0% fewer` / `12.5% more`. */
function savingWords(x: number): string {
  return x >= 0 ? `${pct(x)} fewer` : `${pct(-x)} more`;
}

function card(title: string, value: string, detail: string): HTMLElement {
  return el('div', { class: 'card' }, el('div', { class: 'card-title' }, title), el('div', { class: 'card-value' }, value), el('div', { class: 'card-detail' }, detail));
}

/** What B costs against A, and whether the accuracy difference is more than noise. */
function comparisonCards(view: ComparisonView): HTMLElement {
  const { a, b, tokenSaving, candidateSaving } = view.sampling;
  const d = view.pairedDelta;
  const verdict = !d ? 'no question in both runs' : d.interval.low <= 0 && d.interval.high >= 0 ? 'the interval includes 0: no difference shown' : d.delta > 0 ? 'B is better' : 'B is worse';
  return el(
    'div',
    { class: 'cards' },
    card('Tokens generated per question', `${a.tokensPerQuestion.toFixed(0)} → ${b.tokensPerQuestion.toFixed(0)}`, tokenSaving === undefined ? 'A generated no tokens' : `B generates ${savingWords(tokenSaving)}`),
    card('Actions sampled per question', `${a.candidatesPerQuestion.toFixed(1)} → ${b.candidatesPerQuestion.toFixed(1)}`, candidateSaving === undefined ? '' : `B samples ${savingWords(candidateSaving)}; model calls ${a.modelCallsPerQuestion.toFixed(1)} → ${b.modelCallsPerQuestion.toFixed(1)}`),
    card('Accuracy B − A', d ? signed(d.delta) : '—', d ? `95% CI ${signed(d.interval.low)} … ${signed(d.interval.high)} points on ${d.questions} paired questions; ${verdict}` : verdict),
  );
}

/** Both runs under each profile, so runs made under different profiles still compare like with like. */
function profileComparisonTable(view: ComparisonView): HTMLElement {
  const cells = (d: { a?: number; b?: number; delta?: number }): HTMLElement[] => [
    el('td', { class: 'num' }, d.a === undefined ? '—' : pct(d.a)),
    el('td', { class: 'num' }, d.b === undefined ? '—' : pct(d.b)),
    el('td', { class: `num strong ${(d.delta ?? 0) > 0 ? 'good' : (d.delta ?? 0) < 0 ? 'bad' : ''}` }, signed(d.delta)),
  ];
  const runsUnder = (p: Profile): string => [view.profiles.a === p ? 'A' : '', view.profiles.b === p ? 'B' : ''].filter(Boolean).join(', ');
  const groupHead = el(
    'tr',
    {},
    el('th', {}, ''),
    ...profileOrder.map((p) => {
      const own = runsUnder(p);
      return el('th', { colspan: '3', class: 'group' }, profileHeading(p, own ? p : undefined, own ? `${own} ${own.includes(',') ? 'count' : 'counts'} this` : ''));
    }),
  );
  const subHead = el('tr', {}, el('th', {}, 'Benchmark'), ...profileOrder.flatMap(() => [el('th', {}, 'A'), el('th', {}, 'B'), el('th', {}, 'Δ points')]));
  const rows = view.benchmarks.map((d) => el('tr', {}, el('td', {}, d.name), ...profileOrder.flatMap((p) => cells(d.byProfile[p]))));
  rows.push(el('tr', { class: 'average' }, el('td', {}, 'Average'), ...profileOrder.flatMap((p) => cells(view.averageAccuracyByProfile[p]))));
  const note =
    view.profiles.a === view.profiles.b
      ? `Both runs count the ${view.profiles.a} profile.`
      : `A counts the ${view.profiles.a} profile and B the ${view.profiles.b} profile: the table above compares different scorings, this one like with like.`;
  const differ = `Scored differently by the two profiles: ${view.disagreements.a.length} question(s) in A, ${view.disagreements.b.length} in B.`;
  return el(
    'section',
    { class: 'profile-comparison' },
    el('h2', {}, 'Accuracy under each scoring'),
    el('table', { class: 'grid by-profile', 'aria-label': 'Accuracy under each profile' }, el('thead', {}, groupHead, subHead), el('tbody', {}, ...rows)),
    el('div', { class: 'muted table-note' }, `${note} ${differ}`),
  );
}

function renderComparison(view: ComparisonView): void {
  destroyCharts();
  const head = ['Benchmark', 'A accuracy', 'B accuracy', 'Δ points', 'Δ 95% CI (paired)', 'Δ parse err. (chosen)', 'Δ exec err. (chosen)', 'Tokens/q A → B'];
  const rows = view.benchmarks.map((d) =>
    el(
      'tr',
      {},
      el('td', {}, d.name),
      el('td', { class: 'num' }, d.a ? pct(d.a.accuracy) : '—'),
      el('td', { class: 'num' }, d.b ? pct(d.b.accuracy) : '—'),
      el('td', { class: `num strong ${(d.accuracyDelta ?? 0) > 0 ? 'good' : (d.accuracyDelta ?? 0) < 0 ? 'bad' : ''}` }, signed(d.accuracyDelta)),
      el('td', { class: 'num' }, d.pairedDelta ? `${signed(d.pairedDelta.interval.low)} … ${signed(d.pairedDelta.interval.high)}` : '—'),
      el('td', { class: 'num' }, signed(d.chosenParseRateDelta)),
      el('td', { class: 'num' }, signed(d.chosenExecRateDelta)),
      el('td', { class: 'num' }, d.a && d.b ? `${d.a.meanCompletionTokens.toFixed(0)} → ${d.b.meanCompletionTokens.toFixed(0)}${d.tokenSaving !== undefined ? ` (${savingWords(d.tokenSaving)})` : ''}` : '—'),
    ),
  );
  rows.push(
    el(
      'tr',
      { class: 'average' },
      el('td', {}, 'Average'),
      el('td', { class: 'num' }, pct(view.averageAccuracy.a)),
      el('td', { class: 'num' }, pct(view.averageAccuracy.b)),
      el('td', { class: `num strong ${view.averageAccuracy.delta > 0 ? 'good' : view.averageAccuracy.delta < 0 ? 'bad' : ''}` }, signed(view.averageAccuracy.delta)),
      el('td', { class: 'num' }, view.pairedDelta ? `${signed(view.pairedDelta.interval.low)} … ${signed(view.pairedDelta.interval.high)}` : '—'),
      el('td', {}),
      el('td', {}),
      el('td', { class: 'num' }, `${view.sampling.a.tokensPerQuestion.toFixed(0)} → ${view.sampling.b.tokensPerQuestion.toFixed(0)}`),
    ),
  );
  const chart = chartBox('Accuracy per benchmark: A vs B');
  const { options } = chartDefaults();
  app.replaceChildren(
    toolbar(),
    el('h1', {}, 'Comparison'),
    el('div', { class: 'legend-ab' }, el('div', {}, el('strong', {}, 'A '), view.a.label), el('div', {}, el('strong', {}, 'B '), view.b.label)),
    comparisonCards(view),
    el('table', { class: 'grid comparison', 'aria-label': 'Per-benchmark deltas' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows)),
    el('div', { class: 'muted' }, `${view.paired} questions in both runs: ${view.fixed.length} fixed, ${view.broken.length} broken, ${view.unchanged} unchanged.`),
    profileComparisonTable(view),
    el('div', { class: 'charts single' }, chart.box),
    flippedList('Fixed: wrong in A, right in B', view.fixed, view),
    flippedList('Broken: right in A, wrong in B', view.broken, view),
    el('section', { id: 'side-by-side', class: 'side-by-side' }),
  );
  charts.push(
    new Chart(chart.canvas, {
      type: 'bar',
      data: {
        labels: view.benchmarks.map((d) => d.name),
        datasets: [
          { label: 'A', data: view.benchmarks.map((d) => 100 * (d.a?.accuracy ?? 0)), backgroundColor: themeColor('--vscode-charts-blue', '#3794ff') },
          { label: 'B', data: view.benchmarks.map((d) => 100 * (d.b?.accuracy ?? 0)), backgroundColor: themeColor('--vscode-charts-green', '#89d185') },
        ],
      },
      options: { ...options, scales: { ...options.scales, y: { ...options.scales.y, max: 100 } } },
    }),
  );
}

// ------------------------------------------------------------------------------------------------------
// Loading
// ------------------------------------------------------------------------------------------------------

async function loadRuns(): Promise<void> {
  runs = (await channel.request('listRuns', {})).runs;
  if (!state.runFolder && runs.length) state.runFolder = runs[0].runFolder;
}

/** Counts refreshes, so that an answer arriving after a newer choice (another run, a comparison) is dropped. */
let refreshes = 0;

async function refresh(): Promise<void> {
  saveState();
  const mine = ++refreshes;
  const stillWanted = (): boolean => mine === refreshes;
  try {
    if (!state.runFolder) {
      destroyCharts();
      app.replaceChildren(toolbar(), el('div', { class: 'empty' }, icon('graph'), ' No evaluation run yet. Run "Trajectory Studio: Run Evaluation…" or "Quick Eval…" from the Command Palette.'));
      return;
    }
    if (state.view === 'compare' && state.compareWith) {
      const view = await channel.request('compare', { a: state.runFolder, b: state.compareWith });
      if (!stillWanted()) return;
      comparison = view;
      renderComparison(comparison);
    } else {
      const view = await channel.request('loadRun', { runFolder: state.runFolder });
      if (!stillWanted()) return;
      current = view;
      renderRun(current);
    }
  } catch (err) {
    if (!stillWanted()) return;
    app.replaceChildren(toolbar());
    showError(err);
  }
}

// The host says what to show as soon as the page is ready (a run, a comparison, or what it showed last).
channel.on('showRun', ({ runFolder }) => {
  if (runFolder) {
    state.runFolder = runFolder;
    state.view = 'run';
  }
  void loadRuns().then(refresh, showError);
});
channel.on('showComparison', ({ a, b }) => {
  state.runFolder = a;
  state.compareWith = b;
  state.view = 'compare';
  void loadRuns().then(refresh, showError);
});
channel.on('runProgress', ({ runFolder }) => {
  if (state.view !== 'run' || state.runFolder !== runFolder) return;
  // Many questions finish close together: reload at most twice a second.
  reloadTimer ??= setTimeout(() => {
    reloadTimer = undefined;
    void refresh();
  }, 500);
});
channel.start();
