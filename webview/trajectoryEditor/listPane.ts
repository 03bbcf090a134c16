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

  /** Type-ahead: the characters typed into the list so far, and when the run of them ends. */
  private typed = '';
  private typedUntil = 0;
  private typeAheadRequest = 0;

  /**
   * @param onSelect the user chose the row of `slot` (click, arrows, type-ahead).
   * @param onActivate Enter on the list: go to the selected trajectory's detail.
   */
  constructor(
    private readonly channel: HostChannel<TrajectoryEditorProtocol>,
    private readonly onSelect: (slot: number) => void,
    private readonly onActivate: () => void = () => undefined,
  ) {
    this.status = el('div', { class: 'list-status', role: 'status' });
    this.spacer = el('div', { class: 'list-spacer' });
    this.rowsLayer = el('div', { class: 'list-rows' });
    // One tab stop: the listbox itself holds focus and points at the selected row with
    // aria-activedescendant (the rows are virtualised, so they could not hold focus themselves).
    this.viewport = el('div', { class: 'list-viewport', tabindex: '0', role: 'listbox', 'aria-label': 'Trajectories' }, this.spacer, this.rowsLayer);
    this.viewport.addEventListener('keydown', (e) => this.onKeydown(e));
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
    // Only a drawn row can be the active descendant; a selection scrolled out of view has none.
    const active = this.selectedSlot === null ? null : this.rowsLayer.querySelector(`#${rowId(this.selectedSlot)}`);
    if (active) this.viewport.setAttribute('aria-activedescendant', active.id);
    else this.viewport.removeAttribute('aria-activedescendant');
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
    // A record the generation filter dropped keeps its verdict, but not in a plain green: the drop comes first.
    if (row.filter === 'dropped') badges.push(el('span', { class: 'badge filter-dropped', title: 'Dropped by the generation filter (not a review)' }, 'dropped by filter'));
    if (row.verdict !== 'unjudged') badges.push(el('span', { class: `badge verdict-${row.verdict}${row.filter === 'dropped' ? ' verdict-muted' : ''}` }, row.verdict === 'needs-judging' ? 'needs judging' : row.verdict));
    if (row.filter === 'passed') badges.push(el('span', { class: 'codicon codicon-filter filter-passed', title: 'Passed the generation filter (not a review)', role: 'img', 'aria-label': 'passed the filter' }));
    // Icons are images with names: the row's accessible name is its content (question, meta, badges), so
    // a screen reader says them too. (An aria-label would have to repeat all visible text, or axe's
    // label-content-name-mismatch fails, and would drift from what is shown.)
    const mark = (icon: string, text: string, extra = '') => el('span', { class: `codicon codicon-${icon}${extra}`, title: text, role: 'img', 'aria-label': text });
    if (row.hasErrors) badges.push(mark('error', 'A step has an error'));
    if (row.hasStale) badges.push(mark('history', 'Has stale steps'));
    if (row.hasEdits) badges.push(mark('edit', 'Hand-edited'));
    if (row.dirty) badges.push(mark('circle-filled', 'Unsaved changes', ' dirty'));
    const meta = el('div', { class: 'row-meta' }, `#${row.slot + 1}`, ` · ${row.steps} ${row.steps === 1 ? 'step' : 'steps'}`, row.domain ? ` · ${row.domain}` : '', row.reasonTags.length ? ` · ${row.reasonTags.join(', ')}` : '');
    const node = el(
      'div',
      {
        id: rowId(row.slot),
        class: `row${row.slot === this.selectedSlot ? ' selected' : ''}`,
        role: 'option',
        'aria-selected': String(row.slot === this.selectedSlot),
        'aria-posinset': String(position + 1),
        'aria-setsize': String(this.total),
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

  focus(): void {
    this.viewport.focus();
  }

  /**
   * True while a type-ahead is under way in the focused list: then letters extend it instead of firing
   * the single-key shortcuts they are bound to (a type-ahead has to start with an unbound character).
   */
  wantsKey(event: KeyboardEvent): boolean {
    return event.composedPath().includes(this.viewport) && this.typed !== '' && Date.now() < this.typedUntil && event.key.length === 1;
  }

  /** Selects the row at `position` of the current result at once (so fast repeated keys add up), then tells the page. */
  private async moveTo(position: number): Promise<void> {
    if (this.total === 0) return;
    const target = Math.max(0, Math.min(this.total - 1, position));
    await this.fetchPage(Math.floor(target / pageSize));
    const slot = this.rowAt(target)?.slot;
    if (slot === undefined) return;
    this.selectedSlot = slot;
    this.selectedPosition = target;
    this.scrollToSelection();
    this.draw();
    this.onSelect(slot);
  }

  private scrollToSelection(): void {
    if (this.selectedPosition < 0) return;
    const y = this.selectedPosition * rowHeight;
    if (y < this.viewport.scrollTop) this.viewport.scrollTop = y;
    else if (y + rowHeight > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = y + rowHeight - this.viewport.clientHeight;
  }

  /** The listbox keys: arrows, Home/End, PageUp/PageDown, Enter, Space and type-ahead on the question. */
  private onKeydown(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / rowHeight) - 1);
    const here = this.selectedPosition;
    const typing = this.typed !== '' && Date.now() < this.typedUntil;
    const moves: Record<string, number> = { ArrowDown: here + 1, ArrowUp: here < 0 ? 0 : here - 1, Home: 0, End: this.total - 1, PageDown: here + page, PageUp: here - page };
    if (e.key in moves) {
      e.preventDefault();
      this.typed = '';
      void this.moveTo(moves[e.key]);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.onActivate();
    } else if (e.key === ' ' && !typing) {
      e.preventDefault();
      if (this.selectedSlot !== null) this.onSelect(this.selectedSlot);
      else void this.moveTo(0);
    } else if (e.key.length === 1) {
      e.preventDefault();
      this.typeAhead(e.key);
    }
  }

  private typeAhead(char: string): void {
    const now = Date.now();
    const continuing = this.typed !== '' && now < this.typedUntil;
    this.typed = continuing ? this.typed + char : char;
    this.typedUntil = now + 1000;
    // A new search starts after the selection (so repeating a letter walks through its questions); a
    // longer prefix may still match the selected row itself.
    const from = this.selectedPosition < 0 ? 0 : continuing ? this.selectedPosition : this.selectedPosition + 1;
    const request = ++this.typeAheadRequest;
    void this.channel.request('findByPrefix', { query: this.query, from: this.total ? from % this.total : 0, prefix: this.typed }).then((position) => {
      if (request === this.typeAheadRequest && position >= 0) void this.moveTo(position);
    });
  }

  /** The slot `delta` rows away from the selection in the current order, if there is one. */
  async neighbour(delta: number): Promise<number | undefined> {
    const target = this.selectedPosition < 0 ? 0 : this.selectedPosition + delta;
    if (target < 0 || target >= this.total) return undefined;
    await this.fetchPage(Math.floor(target / pageSize));
    return this.rowAt(target)?.slot;
  }
}

/** The id of a row's element, for aria-activedescendant. */
function rowId(slot: number): string {
  return `trajectory-row-${slot}`;
}
