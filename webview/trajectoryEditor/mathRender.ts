import katex from 'katex';
import { el } from '../shared/hostChannel';
import { katexOptions, type MathSegment, splitMath, untrustedCommand } from './mathText';

/**
 * Text from a trajectory with its LaTeX rendered by KaTeX. Plain runs are text nodes; a formula is a span
 * that KaTeX fills by building DOM nodes itself (`katex.render`, never `innerHTML`), so the only markup on
 * the page that did not come from `el()` is KaTeX's own. KaTeX does not trust the input: `\href`, `\url`,
 * `\htmlClass` and the like render as an error, not as a link or an attribute. The MathML KaTeX writes
 * beside the visual output is what screen readers read.
 */

let mathOn = true;

const isDisplay = (s: MathSegment | undefined): boolean => s !== undefined && s.kind === 'math' && s.display;

/** Turns math rendering on or off for what is drawn next (the toolbar's "Render math"). */
export function setMathRendering(on: boolean): void {
  mathOn = on;
}

export function mathRenderingOn(): boolean {
  return mathOn;
}

/**
 * The nodes for `text`: formulas rendered when math rendering is on, otherwise the text as it is. Each
 * formula keeps its source in `data-tex` and its tooltip; a formula KaTeX cannot parse shows its source
 * with a marker (`.math-error`) and the parser's message as the tooltip.
 */
export function mathText(text: string, options: { answer?: boolean } = {}): Node {
  if (!mathOn || (!text.includes('$') && !text.includes('\\'))) return document.createTextNode(text);
  const segments = splitMath(text);
  if (!segments.some((s) => s.kind === 'math')) return document.createTextNode(text);
  const out = document.createDocumentFragment();
  segments.forEach((s, i) => {
    if (s.kind === 'text') {
      // A display formula is its own block: the spaces and line break around it would only indent the next line.
      let run = s.text;
      if (isDisplay(segments[i - 1])) run = run.replace(/^\s+/, '');
      if (isDisplay(segments[i + 1])) run = run.replace(/\s+$/, '');
      out.append(run);
      return;
    }
    const span = el('span', { class: `math ${s.display ? 'math-display' : 'math-inline'}`, 'data-tex': s.source, title: s.source });
    const untrusted = untrustedCommand(s.tex);
    if (untrusted) {
      span.classList.add('math-error');
      span.title = `Not rendered: ${untrusted} could link or add markup, and text from a trajectory is never trusted.\n${s.source}`;
      span.replaceChildren(el('span', { class: 'codicon codicon-shield', 'aria-hidden': 'true' }), s.source);
      out.append(span);
      return;
    }
    try {
      // An answer is read on its own: fractions at full size, as in display math, but in the line.
      katex.render(options.answer && !s.display ? `\\displaystyle ${s.tex}` : s.tex, span, { ...katexOptions, displayMode: s.display });
    } catch {
      // throwOnError is off, so only an internal failure lands here: show the source.
      span.replaceChildren(s.source);
    }
    const error = span.querySelector<HTMLElement>('.katex-error');
    if (error || !span.querySelector('.katex')) {
      span.classList.add('math-error');
      span.title = `${error?.title ?? 'Could not render this formula'}\n${s.source}`;
      span.replaceChildren(el('span', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }), s.source);
    }
    out.append(span);
  });
  return out;
}
