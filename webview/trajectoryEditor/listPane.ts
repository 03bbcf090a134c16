import { el, type HostChannel } from '../shared/hostChannel';
import { type ListRow, type TrajectoryEditorProtocol, type TrajectoryQueryWire } from '../../src/protocol/trajectoryEditor';

/** Height of one list row in pixels; fixed so the list can be virtualised by arithmetic. */
export const rowHeight = 56;
const pageSize = 100;
/** Rows drawn above and below the visible ones, so fast scrolling does not show blanks. */
const overscan = 8;

/**
 * The virtualised list of trajectories: only the rows in view exist in the DOM, fetched from the host a
 * page at a time for the current query. A file of 100,000 records costs the same as one of 100.
 */
export class ListPane {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowsLayer: HTMLElement;
  private readonly status: HTMLElement;
  private total = 0;
  private pages = new Map<number, ListRow[] | Promise<void>>();
  private generation = 0;
  private query: TrajectoryQueryWire = {};
  /** Rule titles by rule id, from the host's state (the page cannot import the rule table). */
  private flagTitles = new Map<string, string>();
  selectedSlot: number | null = null;
  /** Index of the selection within the current query result, -1 when it is not in it. */
  selectedPosition = -1;

  constructor(
    private readonly channel: HostChannel<TrajectoryEditorProtocol>,
    private readonly onSelect: (slot: number) => void,
  ) {
    this.status = el('div', { class: 'list-status', role: 'status' });
    this.spacer = el('div', { class: 'list-spacer' });
    this.rowsLayer = el('div', { class: 'list-rows', role: 'listbox', 'aria-label': 'Trajectories' });
    this.viewport = el('div', { class: 'list-viewport', tabindex: '0' }, this.spacer, this.rowsLayer);
    this.viewport.addEventListener('scroll', () => this.draw());
    new ResizeObserver(() => this.draw()).observe(this.viewport);
    this.element = el('div', { class: 'list-pane' }, this.status, this.viewport);
  }

  get currentQuery(): TrajectoryQueryWire {
    return this.query;
  }

  get resultCount(): number {
    return this.total;
  }

  /** Runs a new query: drops cached pages and redraws from the top (keeping the selection if it matches). */
  async setQuery(query: TrajectoryQueryWire): Promise<void> {
    this.query = query;
    await this.reload();
  }

  /** Refetches the current query (after edits or while the index grows). */
  async reload(): Promise<void> {
    this.generation++;
    this.pages = new Map();
    await this.fetchPage(0);
    if (this.selectedSlot !== null) this.selectedPosition = await this.channel.request('positionOf', { query: this.query, slot: this.selectedSlot });
    this.draw();
  }

  setFlagTitles(titles: Map<string, string>): void {
    const changed = titles.size !== this.flagTitles.size || [...titles].some(([rule, title]) => this.flagTitles.get(rule) !== title);
    // Titles of rules that stopped flagging anything are kept: a row drawn later may still need one.
    for (const [rule, title] of titles) this.flagTitles.set(rule, title);
    if (changed) this.draw();
  }

  flagTitle(rule: string): string {
    return this.flagTitles.get(rule) ?? rule;
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  private async fetchPage(page: number): Promise<void> {
    if (this.pages.has(page)) {
      const entry = this.pages.get(page);
      if (entry instanceof Promise) await entry;
      return;
    }
    const generation = this.generation;
    const loading = this.channel.request('rows', { query: this.query, offset: page * pageSize, limit: pageSize }).then((result) => {
      if (generation !== this.generation) return;
      this.total = result.total;
      this.pages.set(page, result.rows);
      this.spacer.style.height = `${this.total * rowHeight}px`;
    });
    this.pages.set(page, loading);
    await loading;
  }

  private rowAt(position: number): ListRow | undefined {
    const page = this.pages.get(Math.floor(position / pageSize));
    return Array.isArray(page) ? page[position % pageSize] : undefined;
  }

  /** Draws the rows in view, fetching missing pages (then drawing again). */
  draw(): void {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
    const last = Math.min(this.total - 1, Math.ceil((top + height) / rowHeight) + overscan);
    const missing = new Set<number>();
    const nodes: HTMLElement[] = [];
    for (let pos = first; pos <= last; pos++) {
      const row = this.rowAt(pos);
      if (!row) {
        missing.add(Math.floor(pos / pageSize));
        continue;
      }
      nodes.push(this.renderRow(row, pos));
    }
    this.rowsLayer.replaceChildren(...nodes);
    for (const page of missing) {
      if (!this.pages.has(page)) void this.fetchPage(page).then(() => this.draw());
    }
  }

  /**
   * The row's triage flags as one compact mark: a count coloured by the worst severity. The rule titles
   * (with their steps) are in the tooltip and the accessible name, so nothing depends on colour alone.
   */
  private flagMark(row: ListRow): HTMLElement | null {
    if (row.flags.length === 0) return null;
    const worst = row.flags.some((f) => f.severity === 'high') ? 'high' : row.flags.some((f) => f.severity === 'medium') ? 'medium' : 'low';
    const titles = new Map<string, number[]>();
    for (const f of row.flags) {
      const steps = titles.get(this.flagTitle(f.rule)) ?? [];
      if (f.step !== undefined) steps.push(f.step + 1);
      titles.set(this.flagTitle(f.rule), steps);
    }
    const described = [...titles].map(([title, steps]) => (steps.length ? `${title} (${steps.length === 1 ? 'step' : 'steps'} ${steps.join(', ')})` : title));
    const text = `${row.flags.length} triage ${row.flags.length === 1 ? 'flag' : 'flags'}, risk ${row.risk}: ${described.join('; ')}`;
    const icon = worst === 'high' ? 'error' : worst === 'medium' ? 'warning' : 'info';
    return el('span', { class: `flag-mark severity-${worst}`, role: 'img', title: text, 'aria-label': text }, el('span', { class: `codicon codicon-${icon}`, 'aria-hidden': 'true' }), String(row.flags.length));
  }

  private renderRow(row: ListRow, position: number): HTMLElement {
    const badges: HTMLElement[] = [el('span', { class: `badge status-${row.status}`, title: `Review: ${row.status}` }, row.status)];
    const flagMark = this.flagMark(row);
    if (flagMark) badges.unshift(flagMark);
    if (row.verdict !== 'unjudged') badges.push(el('span', { class: `badge verdict-${row.verdict}` }, row.verdict));
    if (row.hasErrors) badges.push(el('span', { class: 'codicon codicon-error', title: 'A step has an error' }));
    if (row.hasStale) badges.push(el('span', { class: 'codicon codicon-history', title: 'Has stale steps' }));
    if (row.hasEdits) badges.push(el('span', { class: 'codicon codicon-edit', title: 'Hand-edited' }));
    if (row.dirty) badges.push(el('span', { class: 'codicon codicon-circle-filled dirty', title: 'Unsaved changes' }));
    const meta = el('div', { class: 'row-meta' }, `#${row.slot + 1}`, ` · ${row.steps} ${row.steps === 1 ? 'step' : 'steps'}`, row.domain ? ` · ${row.domain}` : '', row.reasonTags.length ? ` · ${row.reasonTags.join(', ')}` : '');
    const node = el(
      'div',
      {
        class: `row${row.slot === this.selectedSlot ? ' selected' : ''}`,
        role: 'option',
        'aria-selected': String(row.slot === this.selectedSlot),
        'data-slot': String(row.slot),
      },
      el('div', { class: 'row-title' }, row.question),
      el('div', { class: 'row-line' }, meta, el('span', { class: 'row-badges' }, ...badges)),
    );
    node.style.top = `${position * rowHeight}px`;
    node.addEventListener('click', () => this.onSelect(row.slot));
    return node;
  }

  /** Marks `slot` selected and scrolls it into view. */
  async select(slot: number): Promise<void> {
    this.selectedSlot = slot;
    this.selectedPosition = await this.channel.request('positionOf', { query: this.query, slot });
    if (this.selectedPosition >= 0) {
      const y = this.selectedPosition * rowHeight;
      if (y < this.viewport.scrollTop || y + rowHeight > this.viewport.scrollTop + this.viewport.clientHeight) {
        this.viewport.scrollTop = Math.max(0, y - this.viewport.clientHeight / 2);
      }
    }
    this.draw();
  }

  /** The slot `delta` rows away from the selection in the current order, if there is one. */
  async neighbour(delta: number): Promise<number | undefined> {
    const target = this.selectedPosition < 0 ? 0 : this.selectedPosition + delta;
    if (target < 0 || target >= this.total) return undefined;
    await this.fetchPage(Math.floor(target / pageSize));
    return this.rowAt(target)?.slot;
  }
}
