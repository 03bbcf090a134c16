import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import '../shared/theme.css';
import '../shared/page.css';
import './style.css';
import { z } from 'zod';
import { el, HostChannel, readInitialState, readSavedState, writeSavedState } from '../shared/hostChannel';
import { type MetricPoint, type RunSnapshot, type RunSummary, trainingRunInitialStateSchema, trainingRunProtocol } from '../../src/protocol/trainingRun';
import { formatDuration } from '../shared/durationText';
import { button, PageActions, stat, themeColor } from '../shared/components';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/** The serve form's fields, kept across hiding and reloads. */
const pageStateSchema = z.object({ moduleName: z.string(), remotePort: z.string(), localPort: z.string() });
type PageState = z.infer<typeof pageStateSchema>;

const channel = new HostChannel(trainingRunProtocol);
const initial = trainingRunInitialStateSchema.safeParse(readInitialState());
const saved = readSavedState(pageStateSchema, { moduleName: 'student', remotePort: '8001', localPort: '8001' });
const form: PageState = { ...saved };
const app = document.getElementById('app')!;

let run: RunSummary | undefined;
let points: MetricPoint[] = [];
let totalSteps: number | null = null;
let worldSize: number | null = null;
let gpus: RunSnapshot['gpus'] = [];
let events: string[] = [];
let log = '';
let chart: Chart<'line', { x: number; y: number }[]> | undefined;
const pageActions = new PageActions(() => render());
let serveOutput: { serve: string; forward: string; baseUrl: string; model: string; started: boolean } | undefined;



function num(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}




function stats(): HTMLElement {
  const last = points.at(-1);
  const total = last?.totalSteps ?? totalSteps;
  const progress = last && total ? Math.min(1, last.step / total) : 0;
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Training progress', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(progress * 100)) }, el('div', { class: 'progress-fill' }));
  (bar.firstElementChild as HTMLElement).style.width = `${(progress * 100).toFixed(1)}%`;
  return el(
    'div',
    { class: 'stats' },
    stat('Step', last ? `${last.step}${total ? ` / ${total}` : ''}` : '—', 'stat-step'),
    stat('Epoch', num(last?.epoch, 2), 'stat-epoch'),
    stat('Loss', num(last?.loss, 4), 'stat-loss'),
    stat('Learning rate', last ? last.lr.toExponential(2) : '—', 'stat-lr'),
    stat('Grad norm', num(last?.gradNorm, 3), 'stat-grad'),
    stat('Tokens / s', last?.tokensPerS ? Math.round(last.tokensPerS).toLocaleString() : '—', 'stat-throughput'),
    stat('GPU memory', last?.gpuMemGb ? `${last.gpuMemGb.toFixed(1)} GB` : '—', 'stat-memory'),
    stat('ETA', run && ['running', 'queued'].includes(run.state) ? formatDuration(last?.etaS === undefined || last.etaS === null ? undefined : last.etaS * 1000) : '—', 'stat-eta'),
    el('div', { class: 'stat wide' }, el('div', { class: 'stat-label' }, 'Progress'), bar),
  );
}

function chartSection(): HTMLElement {
  const canvas = el('canvas', { id: 'loss-chart', 'aria-label': 'Training loss and learning rate per step', role: 'img' });
  const box = el('div', { class: 'chart' }, canvas);
  chart?.destroy();
  const fg = themeColor('--vscode-foreground', '#888');
  const grid = themeColor('--vscode-panel-border', 'rgba(128,128,128,0.3)');
  const blue = themeColor('--vscode-charts-blue', '#3794ff');
  const orange = themeColor('--vscode-charts-orange', '#d18616');
  chart = new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'loss', data: points.map((p) => ({ x: p.step, y: p.loss })), borderColor: blue, backgroundColor: blue, yAxisID: 'y', pointRadius: 0, borderWidth: 2 },
        { label: 'learning rate', data: points.map((p) => ({ x: p.step, y: p.lr })), borderColor: orange, backgroundColor: orange, yAxisID: 'lr', pointRadius: 0, borderWidth: 1.5, borderDash: [6, 3] },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      plugins: { legend: { labels: { color: fg } } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step', color: fg }, ticks: { color: fg, precision: 0 }, grid: { color: grid } },
        y: { type: 'linear', position: 'left', title: { display: true, text: 'loss', color: fg }, ticks: { color: fg }, grid: { color: grid } },
        lr: { type: 'linear', position: 'right', title: { display: true, text: 'learning rate', color: fg }, ticks: { color: fg, callback: (v) => Number(v).toExponential(1) }, grid: { drawOnChartArea: false }, min: 0 },
      },
    },
  });
  return box;
}

/** A button of the run's actions: none can start while another runs. */
function actionButton(label: string, iconName: string, onClick: () => void, options: { secondary?: boolean; id?: string } = {}): HTMLElement {
  return button(label, onClick, { ...options, icon: iconName, disabled: pageActions.busy !== '' });
}

function actions(): HTMLElement {
  const state = run?.state;
  const row = el('div', { class: 'actions' });
  if (state === 'running' || state === 'queued') {
    row.append(actionButton('Cancel Run', 'debug-stop', () => void pageActions.run('Cancel', async () => (await channel.request('cancel', {})).message), { id: 'cancel' }));
  }
  if (state === 'cancelled' || state === 'failed' || state === 'lost') {
    row.append(actionButton('Resume from Checkpoint', 'debug-continue', () => void pageActions.run('Resume', async () => (await channel.request('resume', {})).message), { id: 'resume' }));
  }
  if (state === 'succeeded') {
    row.append(
      actionButton('Download Adapter', 'cloud-download', () =>
        void pageActions.run('Download', async () => {
          const { folder } = await channel.request('download', {});
          if (folder && run) run = { ...run, downloadedTo: folder };
          return folder ? `Adapter downloaded to ${folder}` : undefined;
        }), { id: 'download' }),
    );
  }
  row.append(actionButton('Refresh Log', 'refresh', () => void pageActions.run('Refresh', async () => {
    log = (await channel.request('refreshLog', {})).log;
    return undefined;
  }), { secondary: true, id: 'refresh-log' }));
  if (pageActions.busy) row.append(el('span', { class: 'muted busy' }, el('span', { class: 'codicon codicon-loading codicon-modifier-spin', 'aria-hidden': 'true' }), ` ${pageActions.busy}…`));
  return row;
}

function textField(label: string, key: keyof PageState): HTMLElement {
  const field = el('vscode-textfield', { value: form[key], 'aria-label': label, id: `serve-${key}` }) as HTMLElement & { value: string };
  field.addEventListener('input', () => {
    form[key] = field.value;
    writeSavedState(form);
  });
  return el('label', { class: 'field' }, el('span', {}, label), field);
}

function serveSection(): HTMLElement | null {
  if (run?.state !== 'succeeded') return null;
  const serve = (start: boolean) =>
    void pageActions.run(start ? 'Start vLLM' : 'Serve commands', async () => {
      serveOutput = await channel.request('serve', { moduleName: form.moduleName.trim(), remotePort: Number(form.remotePort), localPort: Number(form.localPort), start });
      return start ? `vLLM is starting on ${run?.host}; ${serveOutput.baseUrl} reaches it through the SSH forward (model ${serveOutput.model}).` : undefined;
    });
  const out = serveOutput
    ? el(
        'div',
        { class: 'serve-output' },
        el('div', { class: 'muted' }, `On ${run.host}:`),
        el('pre', { class: 'command' }, serveOutput.serve),
        el('div', { class: 'muted' }, 'Port forward (from this machine):'),
        el('pre', { class: 'command' }, serveOutput.forward),
        el('div', {}, `Student profile: base URL ${serveOutput.baseUrl}, model ${serveOutput.model}`),
        serveOutput.started
          ? actionButton('Evaluate This Adapter', 'beaker', () => void pageActions.run('Evaluate', async () => {
              const current = serveOutput;
              if (!current) return undefined;
              await channel.request('evaluate', { baseUrl: current.baseUrl, model: current.model });
              return undefined;
            }), { id: 'evaluate' })
          : null,
      )
    : null;
  return el(
    'section',
    { class: 'serve' },
    el('h2', {}, 'Serve for eval'),
    el('p', { class: 'muted' }, 'vLLM serves the base model with this adapter as a LoRA module on the host (127.0.0.1 only); an SSH port forward makes it reachable here for the student evaluation.'),
    el('div', { class: 'serve-fields' }, textField('LoRA module name', 'moduleName'), textField('Port on the host', 'remotePort'), textField('Local port', 'localPort')),
    el('div', { class: 'actions' }, actionButton('Show Commands', 'terminal', () => serve(false), { secondary: true, id: 'serve-show' }), actionButton('Start on Host and Forward', 'server-process', () => serve(true), { id: 'serve-start' })),
    out,
  );
}

function details(): HTMLElement {
  const rows: ([string, string] | [string, string, string])[] = [
    ['Host', `${run?.host ?? ''} (${run?.scheduler ?? ''})`],
    ['Run folder', run?.remoteDir ?? ''],
    ['Base model', run?.baseModel ?? ''],
    ['Data', `${run?.dataFile ?? ''} · sha256 ${run?.dataSha256.slice(0, 16) ?? ''}…`],
    // the snapshot links the run to its export (and lineage); without a manifest the data's origin is unknown
    ['Data snapshot', run?.dataSnapshot ? `${run.dataSnapshot}${run.exportManifest ? ` (export manifest ${run.exportManifest})` : ''}` : 'no export manifest beside the data: its origin is not recorded', 'data-snapshot'],
    ...(run?.sourceTrajectories?.length ? run.sourceTrajectories.map((s): [string, string, string] => ['Source', `${s.file} · ${s.sha256.slice(0, 23)}…`, 'data-source']) : []),
    ['Started', run?.createdAt ?? ''],
    ['Processes', worldSize ? String(worldSize) : '—'],
    ['GPUs', gpus.length ? gpus.map((g) => `${g.name} (${g.memoryGb} GB)`).join(', ') : '—'],
    ['Options', run && Object.keys(run.overrides).length ? Object.entries(run.overrides).map(([k, v]) => `${k}=${String(v)}`).join('  ') : 'defaults (LoRA r 64, alpha 128, lr 2e-4, 2 epochs, batch 8)'],
  ];
  if (run?.downloadedTo) rows.push(['Adapter', run.downloadedTo]);
  if (run && run.resumes > 0) rows.push(['Resumed', `${run.resumes} time(s)`]);
  return el('table', { class: 'details' }, ...rows.map(([k, v, id]) => el('tr', {}, el('th', { scope: 'row' }, k), el('td', id ? { id } : {}, v))));
}

function render(): void {
  const scroll = document.getElementById('log')?.scrollTop;
  app.replaceChildren();
  if (!initial.success) {
    app.append(el('p', { class: 'error' }, 'This view was opened without a run.'));
    return;
  }
  if (!run) {
    app.append(el('p', { class: 'muted' }, 'Loading the run…'));
    return;
  }
  const state = run.state;
  const parts: (HTMLElement | null)[] = [
    el('header', {}, el('h1', {}, run.id), el('span', { class: `badge state-${state}`, id: 'state' }, state + (run.exitCode !== null && run.exitCode !== undefined && state !== 'running' ? ` (exit ${run.exitCode})` : ''))),
    run.connectionProblem ? el('div', { class: 'banner' }, el('span', { class: 'codicon codicon-debug-disconnect', 'aria-hidden': 'true' }), ` Cannot reach ${run.host}: ${run.connectionProblem}. The run continues on the host; the view reconnects by itself.`) : null,
    pageActions.notice ? el('div', { class: 'notice', role: 'status' }, pageActions.notice) : null,
    stats(),
    actions(),
    chartSection(),
    serveSection(),
    el('h2', {}, 'Run'),
    details(),
    el('h2', {}, 'Events'),
    events.length ? el('ul', { class: 'events' }, ...events.slice(-50).map((e) => el('li', {}, e))) : el('p', { class: 'muted' }, 'No events yet.'),
    el('h2', {}, 'Log'),
    el('pre', { class: 'log', id: 'log', tabindex: '0' }, log || '(empty)'),
  ];
  app.append(...parts.filter((p): p is HTMLElement => p !== null));
  const logEl = document.getElementById('log');
  if (logEl) logEl.scrollTop = scroll ?? logEl.scrollHeight;
}

/** New points go into the existing chart without rebuilding the page (a redraw per step would flicker). */
function appendPoints(newPoints: MetricPoint[]): void {
  for (const p of newPoints) {
    if (points.length && points[points.length - 1].step >= p.step) points = points.filter((q) => q.step < p.step);
    points.push(p);
  }
}

channel.on('update', (u) => {
  const stateChanged = run?.state !== u.run.state || Boolean(run?.connectionProblem) !== Boolean(u.run.connectionProblem);
  run = { ...u.run, downloadedTo: u.run.downloadedTo ?? run?.downloadedTo };
  if (u.totalSteps !== null) totalSteps = u.totalSteps;
  if (u.worldSize !== null) worldSize = u.worldSize;
  if (u.gpus) gpus = u.gpus;
  events.push(...u.events);
  appendPoints(u.points);
  if (stateChanged || u.events.length || !chart) {
    render();
    return;
  }
  if (chart) {
    chart.data.datasets[0].data = points.map((p) => ({ x: p.step, y: p.loss }));
    chart.data.datasets[1].data = points.map((p) => ({ x: p.step, y: p.lr }));
    chart.update('none');
  }
  const fresh = stats();
  document.querySelector('.stats')?.replaceWith(fresh);
});

channel.on('log', (l) => {
  log = l.log;
  const pre = document.getElementById('log');
  if (pre) {
    pre.textContent = log || '(empty)';
    pre.scrollTop = pre.scrollHeight;
  }
});

channel.start();
render();
if (initial.success) {
  void channel.request('snapshot', {}).then(
    (s) => {
      run = s.run;
      points = s.points;
      totalSteps = s.totalSteps;
      worldSize = s.worldSize;
      gpus = s.gpus;
      events = s.events;
      log = s.log;
      render();
    },
    (err: unknown) => {
      app.replaceChildren(el('p', { class: 'error' }, `Cannot load the run: ${err instanceof Error ? err.message : String(err)}`));
    },
  );
}
