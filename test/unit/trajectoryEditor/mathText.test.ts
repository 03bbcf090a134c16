import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import katex from 'katex';
import { katexOptions, maxFormulaChars, type MathSegment, splitMath, untrustedCommand } from '../../../webview/trajectoryEditor/mathText';

/** What a reader sees: text runs as they are, formulas as [tex] or [[tex]] for display math. */
function shape(text: string): string {
  return splitMath(text)
    .map((s) => (s.kind === 'text' ? s.text : s.display ? `[[${s.tex}]]` : `[${s.tex}]`))
    .join('');
}

function formulas(text: string): MathSegment[] {
  return splitMath(text).filter((s) => s.kind === 'math');
}

describe('splitMath: the delimiters', () => {
  it('finds inline and display math with each delimiter', () => {
    assert.equal(shape('Let $x^2$ be'), 'Let [x^2] be');
    assert.equal(shape('so $$\\frac{1}{2}$$ holds'), 'so [[\\frac{1}{2}]] holds');
    assert.equal(shape('with \\(a+b\\) and \\[c = d\\].'), 'with [a+b] and [[c = d]].');
    assert.equal(shape('The answer is $\\boxed{42}$.'), 'The answer is [\\boxed{42}].');
  });

  it('keeps the exact source of each formula, so joining the pieces gives the text back', () => {
    const text = 'a $x$ b $$y$$ c \\(z\\) d \\[w\\] e, costs $5 and $10';
    assert.equal(splitMath(text).map((s) => (s.kind === 'text' ? s.text : s.source)).join(''), text);
    assert.deepEqual(formulas(text).map((s) => s.kind === 'math' && s.source), ['$x$', '$$y$$', '\\(z\\)', '\\[w\\]']);
  });

  it('lets display math span lines but not inline $ math', () => {
    assert.equal(shape('$$a\n+ b$$'), '[[a\n+ b]]');
    assert.equal(shape('\\[a\\\\\nb\\]'), '[[a\\\\\nb]]');
    assert.equal(shape('cost $a\nb$ here'), 'cost $a\nb$ here');
  });

  it('leaves plain text, empty formulas and unclosed delimiters as text', () => {
    for (const text of ['no math here', '$$ $$', '$$', '\\( \\)', 'open $x and never close', '\\[x', 'a $ b']) assert.equal(shape(text), text, text);
  });

  it('treats an escaped dollar as a dollar', () => {
    assert.equal(shape('price \\$5 and $x$'), 'price \\$5 and [x]');
    assert.equal(shape('$a \\$ b$'), '[a \\$ b]');
  });

  it('stops a formula at its first closing delimiter, escapes included', () => {
    assert.equal(shape('\\(a\\\\)b\\)'), '[a\\\\)b]');
    assert.equal(shape('$$a$$ and $$b$$'), '[[a]] and [[b]]');
  });

  it('leaves a formula longer than the limit as text', () => {
    const long = `$${'x+'.repeat(maxFormulaChars)}x$`;
    assert.equal(formulas(long).length, 0);
  });
});

describe('splitMath: prices are prose', () => {
  it('does not turn amounts of money into math', () => {
    for (const text of ['It costs $5 and $10.', 'between $5.00 and $6.50 each', 'Pay $ 5 or $ 6', 'from $3 to $4, then $5', 'US$5 and US$7']) {
      assert.equal(formulas(text).length, 0, text);
    }
  });

  it('still finds a formula after a price', () => {
    assert.equal(shape('It costs $5, and $x$ is the count.'), 'It costs $5, and [x] is the count.');
  });

  it('needs no space after the opening $ and none before the closing $', () => {
    assert.equal(shape('$ x$ and $x $'), '$ x$ and $x $');
  });

  it('does not close on a $ followed by a digit', () => {
    assert.equal(shape('$x$5'), '$x$5');
  });
});

describe('KaTeX with the page options: hostile input stays inert', () => {
  const render = (tex: string) => katex.renderToString(tex, katexOptions);

  it('renders \\href, \\url and \\htmlClass without a link, a javascript: URL or a class from the text', () => {
    for (const tex of ['\\href{javascript:alert(1)}{x}', '\\url{javascript:alert(1)}', '\\htmlClass{evil}{x}', '\\htmlId{evil}{x}', '\\htmlStyle{background:url(javascript:alert(1))}{x}', '\\htmlData{onclick=alert(1)}{x}', '\\includegraphics{javascript:alert(1)}']) {
      const html = render(tex);
      assert.doesNotMatch(html, /<a\b/i, tex);
      assert.doesNotMatch(html, /href=/i, tex);
      assert.doesNotMatch(html, /class="[^"]*\bevil\b/, tex);
      assert.doesNotMatch(html, /id="evil"/, tex);
      assert.doesNotMatch(html, /<img\b/i, tex);
      assert.doesNotMatch(html, /\son\w+\s*=\s*"/i, tex);
    }
  });

  it('names the command that needs trust, so the page shows such a formula as its source', () => {
    assert.equal(untrustedCommand('\\href{javascript:alert(1)}{x}'), '\\href');
    assert.equal(untrustedCommand('a + \\url{https://x}'), '\\url');
    assert.equal(untrustedCommand('\\htmlClass{a}{b}'), '\\htmlClass');
    assert.equal(untrustedCommand('\\includegraphics{x.png}'), '\\includegraphics');
    // Not a prefix of an ordinary command.
    assert.equal(untrustedCommand('\\urlx + \\frac{1}{2}'), undefined);
    assert.equal(untrustedCommand('x^2'), undefined);
  });

  it('renders markup inside a formula as characters, never as an element', () => {
    const html = render('\\text{<img src=x onerror=alert(1)>} <script>alert(1)</script>');
    assert.doesNotMatch(html, /<img\b/i);
    assert.doesNotMatch(html, /<script\b/i);
    assert.match(html, /&lt;img/);
  });

  it('renders a formula KaTeX cannot parse as its source, marked as an error, without throwing', () => {
    const html = render('\\frac{1}{');
    assert.match(html, /katex-error/);
    assert.match(html, /\\frac\{1\}\{/);
  });

  it('caps sizes and macro expansion', () => {
    assert.doesNotThrow(() => render('\\rule{100000em}{100000em}'));
    assert.match(render('\\def\\a{\\a\\a}\\a'), /katex-error/);
  });
});
