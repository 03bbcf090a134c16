import { el } from '../shared/hostChannel';

/**
 * The splitter between the trajectory list and the detail pane. Side by side it sets the list's width;
 * in the stacked layout (a narrow editor: list above, detail below) it sets the list's height. Both are a
 * share of the editor in percent, remembered in the page state so the layout survives the page being
 * hidden and recreated. It is a focusable `separator` (ARIA window-splitter pattern): arrow keys move it,
 * Shift for bigger steps, Home/End to the limits.
 */

/** Editor widths (CSS pixels) below which the list goes above the detail pane; keep in step with style.css. */
export const stackedBelowPx = 640;

export interface ListSize {
  /** Side by side: the list's share of the width, in percent. */
  width: number;
  /** Stacked: the list's share of the height, in percent. */
  height: number;
}

const limits = { width: [18, 70], height: [20, 70] } as const;
export const defaultListSize: ListSize = { width: 32, height: 38 };

export class LayoutSplitter {
  readonly element: HTMLElement;
  private size: ListSize;
  private readonly stacked = window.matchMedia(`(max-width: ${stackedBelowPx - 0.02}px)`);

  constructor(
    private readonly layout: HTMLElement,
    saved: Partial<ListSize> | undefined,
    private readonly onChange: (size: ListSize) => void,
  ) {
    this.size = { width: saved?.width ?? defaultListSize.width, height: saved?.height ?? defaultListSize.height };
    this.element = el('div', { class: 'splitter', role: 'separator', tabindex: '0', 'aria-label': 'Resize the trajectory list', title: 'Drag or use the arrow keys to resize the list' });
    this.element.addEventListener('pointerdown', (e) => this.startDrag(e));
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    this.element.addEventListener('dblclick', () => this.set(defaultListSize[this.axis]));
    this.stacked.addEventListener('change', () => this.apply());
    this.apply();
  }

  get current(): ListSize {
    return { ...this.size };
  }

  private get axis(): 'width' | 'height' {
    return this.stacked.matches ? 'height' : 'width';
  }

  private apply(): void {
    this.layout.style.setProperty('--list-width', `${this.size.width}%`);
    this.layout.style.setProperty('--list-height', `${this.size.height}%`);
    const axis = this.axis;
    // A separator between columns is vertical; between stacked rows it is horizontal.
    this.element.setAttribute('aria-orientation', axis === 'width' ? 'vertical' : 'horizontal');
    this.element.setAttribute('aria-valuemin', String(limits[axis][0]));
    this.element.setAttribute('aria-valuemax', String(limits[axis][1]));
    this.element.setAttribute('aria-valuenow', String(Math.round(this.size[axis])));
    this.element.setAttribute('aria-valuetext', `list ${Math.round(this.size[axis])}% of the ${axis}`);
  }

  private set(percent: number): void {
    const axis = this.axis;
    const [min, max] = limits[axis];
    const next = Math.round(Math.max(min, Math.min(max, percent)) * 10) / 10;
    if (next === this.size[axis]) return;
    this.size = { ...this.size, [axis]: next };
    this.apply();
    // A drag reports once, when it ends, not on every pointer move.
    if (!this.layout.classList.contains('resizing')) this.onChange(this.current);
  }

  private onKey(e: KeyboardEvent): void {
    const axis = this.axis;
    const step = e.shiftKey ? 10 : 2;
    const grow = axis === 'width' ? 'ArrowRight' : 'ArrowDown';
    const shrink = axis === 'width' ? 'ArrowLeft' : 'ArrowUp';
    let next: number | undefined;
    if (e.key === grow) next = this.size[axis] + step;
    else if (e.key === shrink) next = this.size[axis] - step;
    else if (e.key === 'Home') next = limits[axis][0];
    else if (e.key === 'End') next = limits[axis][1];
    if (next === undefined) return;
    // The key moves the splitter only; it must not also reach the page's or VS Code's shortcuts.
    e.preventDefault();
    e.stopPropagation();
    this.set(next);
  }

  private startDrag(e: PointerEvent): void {
    if (e.button !== 0) return;
    e.preventDefault();
    this.element.focus();
    this.element.setPointerCapture(e.pointerId);
    this.layout.classList.add('resizing');
    const move = (m: PointerEvent) => {
      const box = this.layout.getBoundingClientRect();
      if (this.axis === 'width') this.set((100 * (m.clientX - box.left)) / Math.max(1, box.width));
      else this.set((100 * (m.clientY - box.top)) / Math.max(1, box.height));
    };
    const end = () => {
      this.layout.classList.remove('resizing');
      this.onChange(this.current);
      this.element.removeEventListener('pointermove', move);
      this.element.removeEventListener('pointerup', end);
      this.element.removeEventListener('pointercancel', end);
    };
    this.element.addEventListener('pointermove', move);
    this.element.addEventListener('pointerup', end);
    this.element.addEventListener('pointercancel', end);
  }
}
