import '../shared/theme.css';
import '../shared/page.css';
import './style.css';
import { el, HostChannel } from '../shared/hostChannel';
import { type PreviewData, type PreviewTurnMessage, trainingPreviewProtocol } from '../../src/protocol/trainingPreview';

/**
 * The training-text preview page. The host sends the tokens with their loss labels; the page only lays them
 * out: every token is text in its own span (model output is untrusted and never HTML), the tokens that carry
 * loss are highlighted and underlined (not colour alone), an excluded step is greyed and labelled.
 */

const channel = new HostChannel(trainingPreviewProtocol);
const app = document.getElementById('app')!;
let busy = false;

function turnLabel(turn: PreviewTurnMessage): string {
  const step = turn.stepIndex !== undefined ? ` · step ${turn.stepIndex + 1}` : '';
  switch (turn.kind) {
    case 'system':
      return 'System prompt';
    case 'task':
      return 'Task';
    case 'reply':
      return `Assistant reply${step}`;
    case 'observation':
      return `Observation${step}`;
    case 'fallback-request':
      return 'Fallback request';
    case 'fallback-reply':
      return 'Fallback reply';
  }
}

function renderTurn(turn: PreviewTurnMessage): HTMLElement {
  const trained = turn.tokens.filter((t) => t.train).length;
  const label = el('div', { class: 'turn-label' }, el('span', { class: `codicon ${turn.role === 'assistant' ? 'codicon-hubot' : turn.kind === 'system' ? 'codicon-settings-gear' : 'codicon-account'}`, 'aria-hidden': 'true' }), ` ${turnLabel(turn)}`);
  label.append(el('span', { class: 'muted' }, ` · ${turn.tokens.length} tokens${trained ? `, ${trained} with loss` : ''}`));
  if (turn.excluded) label.append(el('span', { class: 'excluded-badge' }, 'excluded from training'));
  const text = el('pre', { class: 'tokens' });
  turn.tokens.forEach((t, i) => {
    const span = el('span', { class: `tok${t.train ? ' trained' : ''}${i % 2 ? ' odd' : ''}`, 'data-train': String(t.train) }, t.text);
    text.append(span);
  });
  return el('section', { class: `turn turn-${turn.kind}${turn.excluded ? ' excluded' : ''}`, 'data-excluded': String(turn.excluded), 'aria-label': `${turnLabel(turn)}${turn.excluded ? ', excluded from training' : ''}` }, label, text);
}

function statRow(name: string, value: string): HTMLElement {
  return el('tr', {}, el('th', { scope: 'row' }, name), el('td', {}, value));
}

async function load(slot: number | null, compatibility: 'studio' | 'reference' | null): Promise<void> {
  if (busy) return;
  busy = true;
  app.setAttribute('aria-busy', 'true');
  try {
    render(await channel.request('load', { slot, compatibility }));
  } catch (err) {
    app.replaceChildren(el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  } finally {
    busy = false;
    app.removeAttribute('aria-busy');
  }
}

function render(data: PreviewData): void {
  const picker = el('select', { id: 'trajectory', 'aria-label': 'Trajectory' });
  for (const c of data.choices) {
    const option = el('option', { value: String(c.slot) }, c.label);
    if (c.slot === data.slot) option.selected = true;
    picker.append(option);
  }
  picker.addEventListener('change', () => void load(Number(picker.value), null));

  const profiles = el('fieldset', { class: 'profiles' }, el('legend', {}, 'Compatibility profile'));
  for (const [value, label] of [['studio', 'Studio'], ['reference', 'Reference (paper)']] as const) {
    const input = el('input', { type: 'radio', name: 'profile', id: `profile-${value}`, value });
    input.checked = data.compatibility === value;
    input.addEventListener('change', () => {
      if (input.checked) void load(null, value);
    });
    profiles.append(el('label', { for: `profile-${value}` }, input, ` ${label}`));
  }

  const s = data.statistics;
  const stats = el(
    'table',
    { class: 'token-stats', 'aria-label': 'Token statistics of the export' },
    el('caption', {}, `Whole export of ${data.file}`),
    statRow('Examples', String(s.examples)),
    statRow('Tokens', `${s.totalTokens} (mean ${s.meanTokens})`),
    statRow('Tokens with loss', String(s.trainedTokens)),
    statRow('Longest example', `${s.maxTokens} tokens${s.longest ? ` (${s.longest})` : ''}`),
    statRow(`Over max length ${s.maxLength}`, s.overMaxLength ? `${s.overMaxLength} examples would be truncated` : 'none'),
  );
  if (s.overMaxLength) stats.classList.add('has-over');

  const legend = el(
    'div',
    { class: 'legend', role: 'note', 'aria-label': 'Legend' },
    el('span', { class: 'tok trained' }, 'trained'),
    ' tokens carry loss (highlighted and underlined) · ',
    el('span', { class: 'tok' }, 'masked'),
    ' tokens are context only · ',
    el('span', { class: 'excluded-badge' }, 'excluded from training'),
    ' marks a step kept as context without loss · alternating shades show token boundaries',
  );

  const body: HTMLElement[] = [];
  if (data.exclusion) body.push(el('p', { class: 'banner', role: 'status' }, el('span', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }), ` An export leaves this trajectory out: ${data.exclusion}`));
  for (const example of data.examples) {
    const title = example.kind === 'fallback' ? 'Fallback example' : 'Training example';
    const over = example.totalTokens > s.maxLength ? ` · over max length ${s.maxLength}: the trainer truncates it` : '';
    body.push(el('h2', {}, `${title}: ${example.totalTokens} tokens, ${example.trainedTokens} with loss${over}`));
    for (const turn of example.turns) body.push(renderTurn(turn));
  }

  app.replaceChildren(
    el('header', {}, el('h1', {}, `Training text · ${data.file}`), picker),
    el('div', { class: 'controls' }, profiles, el('span', { class: 'muted' }, `Tokenizer: ${data.tokenizer}`)),
    el('p', { class: 'muted mask' }, `Loss mask (${data.compatibility}): ${data.lossMask}`),
    legend,
    stats,
    ...body,
  );
}

channel.on('show', (data) => render(data));
channel.start();
void load(null, null);
