import { el } from './hostChannel';

/**
 * The pieces every studio page builds its controls from, so a button, a select or an icon looks and reads
 * the same on each page (and to a screen reader).
 */

/** A codicon; with a label it is an image with that name (and tooltip), without one it is decoration. */
export function icon(name: string, label?: string): HTMLElement {
  return el('span', label ? { class: `codicon codicon-${name}`, role: 'img', 'aria-label': label, title: label } : { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

export interface ButtonOptions {
  /** A codicon shown before the label. */
  icon?: string;
  title?: string;
  id?: string;
  secondary?: boolean;
  disabled?: boolean;
}

/** A VS Code button; a disabled one ignores clicks. */
export function button(label: string, onClick: () => void, options: ButtonOptions = {}): HTMLElement {
  const b = el('vscode-button', {
    ...(options.icon ? { icon: options.icon } : {}),
    ...(options.title ? { title: options.title } : {}),
    ...(options.id ? { id: options.id } : {}),
    ...(options.secondary ? { secondary: '' } : {}),
  }, label);
  if (options.disabled) b.setAttribute('disabled', '');
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

/** A native select named by `label` (also its tooltip); `onChange` gets the chosen value. */
export function select(label: string, options: [value: string, text: string][], value: string | undefined, onChange?: (value: string) => void): HTMLSelectElement {
  const s = el('select', { 'aria-label': label, title: label }, ...options.map(([v, text]) => el('option', { value: v }, text)));
  s.value = value ?? '';
  if (onChange) s.addEventListener('change', () => onChange(s.value));
  return s;
}

/** One figure of a page's statistics row: a label over a value (the value's element has `id`). */
export function stat(label: string, value: string, id: string): HTMLElement {
  return el('div', { class: 'stat' }, el('div', { class: 'stat-label' }, label), el('div', { class: 'stat-value', id }, value));
}

/** A theme colour from VS Code's CSS variables, for canvases (charts) that cannot use `var()`. */
export function themeColor(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

/**
 * The actions a page's buttons start (cancel, retry, download…): one at a time, the page redrawn while it
 * runs (`busy` names it) and after (`notice` holds its message, or why it failed).
 */
export class PageActions {
  busy = '';
  notice = '';

  constructor(private readonly render: () => void) {}

  async run(label: string, work: () => Promise<string | undefined>): Promise<void> {
    this.busy = label;
    this.notice = '';
    this.render();
    try {
      this.notice = (await work()) ?? '';
    } catch (err) {
      this.notice = `${label} failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = '';
      this.render();
    }
  }
}
