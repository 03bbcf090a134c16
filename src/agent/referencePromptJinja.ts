import { Environment, Interpreter, parse, tokenize } from '@huggingface/jinja';

/**
 * Jinja rendering for prompt files in the reference's format (smolagents-style YAML), through
 * `@huggingface/jinja` with the semantics the reference's `populate_template` has and the library's
 * defaults do not:
 *
 * - strict undefined (jinja2's `StrictUndefined`): using a name or attribute that does not exist is an
 *   error, not an empty string; `is defined` and the `default` filter still work;
 * - no `trim_blocks` / `lstrip_blocks` (jinja2's `Template()` defaults; the library's `Template` turns both
 *   on, which would change the rendered whitespace);
 * - printed values as Python's `str()` writes them: dicts and lists with `repr()` of their items
 *   (`{'query': {'type': 'string', ...}}`), `True`/`False`, `None`.
 *
 * Neither the library's lexer nor its parser records positions, so the line of an error is found here
 * (see {@link JinjaTemplateError}).
 */

type JinjaNode = NonNullable<Parameters<Interpreter['evaluate']>[0]>;
type JinjaValue = ReturnType<Interpreter['evaluate']>;
type JinjaProgram = ReturnType<typeof parse>;

/** A template that failed to parse or render; `line` is 1-based within the template text. */
export class JinjaTemplateError extends Error {
  override readonly name = 'JinjaTemplateError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** A name or attribute the template uses that the variables do not define. */
class StrictUndefinedError extends Error {
  constructor(
    message: string,
    /** How the missing name is written in the template: `name` or `.attribute`. */
    readonly spelling: string,
  ) {
    super(message);
  }
}

const expressionTypes = new Set([
  'MemberExpression', 'CallExpression', 'Identifier', 'IntegerLiteral', 'FloatLiteral', 'StringLiteral', 'ArrayLiteral',
  'TupleLiteral', 'ObjectLiteral', 'BinaryExpression', 'FilterExpression', 'SelectExpression', 'TestExpression',
  'UnaryExpression', 'SliceExpression', 'Ternary',
]);
const statementListKeys = ['body', 'alternate', 'defaultBlock'] as const;

interface IdentifierNode { type: 'Identifier'; value: string }
interface MemberNode { type: 'MemberExpression'; object: JinjaNode; property: JinjaNode; computed: boolean }
interface TestNode { type: 'TestExpression'; test: IdentifierNode }
interface FilterNode { type: 'FilterExpression'; filter: JinjaNode }

function asRecord(node: JinjaNode): Record<string, unknown> {
  return node as unknown as Record<string, unknown>;
}

function isNode(x: unknown): x is JinjaNode {
  return typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string';
}

/** The expressions whose values the template prints: the expression statements of every statement list. */
function printedExpressions(program: JinjaProgram): Set<JinjaNode> {
  const printed = new Set<JinjaNode>();
  const visit = (node: JinjaNode): void => {
    const record = asRecord(node);
    for (const key of statementListKeys) {
      const list = record[key];
      if (!Array.isArray(list)) continue;
      for (const child of list) {
        if (!isNode(child)) continue;
        if (expressionTypes.has(child.type)) printed.add(child);
        visit(child);
      }
    }
  };
  visit(program);
  return printed;
}

/** The library's string value class, taken from a converted value (the runtime classes are not exported). */
const StringValueClass = new Environment().set('sample', '').constructor as new (value: string) => JinjaValue;

/** What Python's `str.isprintable()` rejects (besides the space): control, format, separator, private-use, surrogate and unassigned characters. */
const nonPrintable = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's `repr()` of a string: single quotes unless the text holds a single quote and no double quote. */
export function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && nonPrintable.test(ch)) out += code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
    else out += ch;
  }
  return out + quote;
}

function pythonFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return Number.isInteger(n) && Math.abs(n) < 1e16 ? `${n}.0` : String(n);
}

/** Python's `repr()` of a runtime value (items of containers are written this way). */
function pythonRepr(value: JinjaValue): string {
  const inner = value.value;
  if (typeof inner === 'string') return pythonStringRepr(inner);
  return pythonStr(value);
}

/** Python's `str()` of a runtime value: what `{{ value }}` prints in jinja2. */
export function pythonStr(value: JinjaValue): string {
  // The library's NullValue holds `undefined`, so the two are told apart by type.
  if (value.type === 'NullValue') return 'None';
  if (value.type === 'UndefinedValue') return '';
  const inner = value.value;
  if (typeof inner === 'string') return inner;
  if (typeof inner === 'boolean') return inner ? 'True' : 'False';
  if (typeof inner === 'number') return value.type === 'FloatValue' ? pythonFloat(inner) : String(inner);
  if (inner === null || inner === undefined) return 'None';
  if (Array.isArray(inner)) {
    const items = inner.map(pythonRepr);
    if (value.type === 'TupleValue') return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    return `[${items.join(', ')}]`;
  }
  if (inner instanceof Map) return `{${[...inner].map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  return value.toString();
}

/** How an expression reads in the template, for messages: `tool.inputs`, or `value` when it is not a plain path. */
function describeNode(node: JinjaNode): string {
  if (node.type === 'Identifier') return (node as unknown as IdentifierNode).value;
  if (node.type === 'MemberExpression') {
    const member = node as unknown as MemberNode;
    const property = asRecord(member.property).value;
    if (!member.computed && typeof property === 'string') return `${describeNode(member.object)}.${property}`;
  }
  return 'value';
}

/** An interpreter with jinja2's strict undefined and Python's printing. */
class ReferenceInterpreter extends Interpreter {
  private lenient = 0;

  constructor(
    env: Environment,
    private readonly printed: ReadonlySet<JinjaNode>,
  ) {
    super(env);
  }

  override evaluate(statement: JinjaNode | undefined, environment: Environment): JinjaValue {
    if (!statement) return super.evaluate(statement, environment);
    const value = this.undefinedAllowed(statement) ? this.leniently(statement, environment) : super.evaluate(statement, environment);
    if (value.type === 'UndefinedValue' && this.lenient === 0) this.raiseUndefined(statement);
    if (this.printed.has(statement) && value.type !== 'StringValue') {
      // NullValue is skipped by the library's output; jinja2 prints None.
      return new StringValueClass(pythonStr(value));
    }
    return value;
  }

  /** `x is defined`, `x is undefined` and `x | default(...)` look at undefined values without failing. */
  private undefinedAllowed(statement: JinjaNode): boolean {
    if (statement.type === 'TestExpression') {
      const test = (statement as unknown as TestNode).test.value;
      return test === 'defined' || test === 'undefined';
    }
    if (statement.type === 'FilterExpression') {
      const filter = (statement as unknown as FilterNode).filter;
      const name = filter.type === 'Identifier' ? (filter as unknown as IdentifierNode).value : asRecord(filter).callee;
      const calleeName = isNode(name) && name.type === 'Identifier' ? (name as unknown as IdentifierNode).value : name;
      return calleeName === 'default' || calleeName === 'd';
    }
    return false;
  }

  private leniently(statement: JinjaNode, environment: Environment): JinjaValue {
    this.lenient += 1;
    try {
      return super.evaluate(statement, environment);
    } finally {
      this.lenient -= 1;
    }
  }

  private raiseUndefined(statement: JinjaNode): void {
    if (statement.type === 'Identifier') {
      const name = (statement as unknown as IdentifierNode).value;
      throw new StrictUndefinedError(`'${name}' is undefined`, name);
    }
    if (statement.type === 'MemberExpression') {
      const member = statement as unknown as MemberNode;
      const property = member.property.type === 'Identifier' || member.property.type === 'StringLiteral' ? String(asRecord(member.property).value) : '?';
      const owner = describeNode(member.object);
      throw new StrictUndefinedError(`'${owner}' has no attribute '${property}'`, member.computed ? property : `.${property}`);
    }
  }
}

/** A parsed template, ready to render with different variables. */
export interface JinjaTemplate {
  text: string;
  program: JinjaProgram;
  printed: ReadonlySet<JinjaNode>;
}

/** Parses a template; a syntax error is a {@link JinjaTemplateError} with the line it is on. */
export function compileJinja(text: string): JinjaTemplate {
  try {
    const program = parse(tokenize(text, { lstrip_blocks: false, trim_blocks: false }));
    return { text, program, printed: printedExpressions(program) };
  } catch (err) {
    const located = locateSyntaxError(text);
    // The library's parser reports an unclosed block as a JavaScript TypeError; the block check says it better.
    const message = err instanceof Error && !(err instanceof TypeError) ? err.message : undefined;
    throw new JinjaTemplateError(`template syntax error: ${located.problem ?? message ?? 'the template does not parse'}`, located.line);
  }
}

/**
 * Renders a template the way the reference's `populate_template` does (strict undefined). Plain objects and
 * arrays become dicts and lists; an error is a {@link JinjaTemplateError} with the line it is on.
 */
export function renderJinja(template: JinjaTemplate, variables: Record<string, unknown>): string {
  const env = new Environment();
  setupLibraryGlobals(env);
  for (const [key, value] of Object.entries(variables)) env.set(key, value);
  try {
    const result = new ReferenceInterpreter(env, template.printed).run(template.program);
    return typeof result.value === 'string' ? result.value : pythonStr(result);
  } catch (err) {
    if (err instanceof StrictUndefinedError) throw new JinjaTemplateError(`undefined in template: ${err.message}`, locateName(template.text, err.spelling));
    const message = err instanceof Error ? err.message : String(err);
    const named = /: ['"]?([A-Za-z_]\w*)['"]?\.?$/.exec(message)?.[1];
    throw new JinjaTemplateError(`template error: ${message}`, named ? locateName(template.text, named) : 1);
  }
}

/** Python's `range()`, as jinja2's default globals offer it. */
function pythonRange(...args: unknown[]): number[] {
  const [a, b, c] = args.map((x) => (typeof x === 'number' ? x : Number.NaN));
  const [start, stop, step] = args.length <= 1 ? [0, a, 1] : [a, b, args.length >= 3 ? c : 1];
  if (![start, stop, step].every(Number.isInteger)) throw new Error('range() takes integer arguments');
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/**
 * The names jinja2 knows without being given them: the literals `true`/`false`/`none` (either case) and
 * `range`; `namespace` comes with the library's environment. The library's own extras (`raise_exception`,
 * `strftime_now`) are left out, since the reference's jinja2 has neither.
 */
function setupLibraryGlobals(env: Environment): void {
  for (const [name, value] of [['true', true], ['false', false], ['True', true], ['False', false], ['none', null], ['None', null]] as const) env.set(name, value);
  env.set('range', pythonRange);
}

// ---- locating errors ------------------------------------------------------------------------------

interface Tag {
  kind: 'expression' | 'statement' | 'comment';
  text: string;
  /** The tag's content without delimiters and whitespace-control dashes. */
  inner: string;
  line: number;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}

/** The template's tags in order; an opening delimiter without its closing one ends the scan with a tag of its own. */
function scanTags(text: string): { tags: Tag[]; unclosed?: number } {
  const tags: Tag[] = [];
  const open = /\{\{|\{%|\{#/g;
  let match: RegExpExecArray | null;
  while ((match = open.exec(text))) {
    const closer = match[0] === '{{' ? '}}' : match[0] === '{%' ? '%}' : '#}';
    const end = text.indexOf(closer, match.index + 2);
    if (end < 0) return { tags, unclosed: lineAt(text, match.index) };
    const tagText = text.slice(match.index, end + 2);
    const inner = tagText.slice(2, -2).replace(/^[-+]/, '').replace(/[-+]$/, '').trim();
    tags.push({ kind: match[0] === '{{' ? 'expression' : match[0] === '{%' ? 'statement' : 'comment', text: tagText, inner, line: lineAt(text, match.index) });
    open.lastIndex = end + 2;
  }
  return { tags };
}

function parses(source: string): boolean {
  try {
    parse(tokenize(source, { lstrip_blocks: false, trim_blocks: false }));
    return true;
  } catch {
    return false;
  }
}

const blockEnds: Record<string, string> = { for: 'endfor', if: 'endif', macro: 'endmacro', call: 'endcall', filter: 'endfilter', set: 'endset', generation: 'endgeneration' };

/**
 * The line of a syntax error: the first tag that does not parse on its own (statements checked inside a
 * minimal block), a block closed by the wrong end tag, or the opening tag of a block never closed.
 */
function locateSyntaxError(text: string): { line: number; problem?: string } {
  const { tags, unclosed } = scanTags(text);
  const stack: { keyword: string; line: number }[] = [];
  for (const tag of tags) {
    if (tag.kind === 'comment') continue;
    if (tag.kind === 'expression') {
      if (!parses(tag.text)) return { line: tag.line };
      continue;
    }
    const keyword = /^\w+/.exec(tag.inner)?.[0] ?? '';
    const blockEnd = blockEnds[keyword];
    const isBlockSet = keyword === 'set' && !/^set\s+[^=]*=/.test(tag.inner);
    if (blockEnd && (keyword !== 'set' || isBlockSet)) {
      if (!parses(`${tag.text}{% ${blockEnd} %}`)) return { line: tag.line };
      stack.push({ keyword, line: tag.line });
    } else if (keyword === 'elif' || keyword === 'else') {
      const top = stack.at(-1);
      if (!top || (top.keyword !== 'if' && !(keyword === 'else' && top.keyword === 'for'))) return { line: tag.line, problem: `{% ${keyword} %} outside an {% if %} block` };
      if (!parses(`{% ${top.keyword === 'for' ? 'for x in y' : 'if x'} %}${tag.text}{% end${top.keyword} %}`)) return { line: tag.line };
    } else if (keyword.startsWith('end')) {
      const top = stack.pop();
      if (!top) return { line: tag.line, problem: `{% ${keyword} %} closes no open block` };
      if (blockEnds[top.keyword] !== keyword) return { line: tag.line, problem: `{% ${keyword} %} where {% ${blockEnds[top.keyword]} %} was expected (the {% ${top.keyword} %} is on line ${top.line})` };
    } else if (keyword === 'break' || keyword === 'continue') {
      if (!stack.some((s) => s.keyword === 'for')) return { line: tag.line, problem: `{% ${keyword} %} outside a {% for %} loop` };
    } else if (!parses(tag.text)) {
      return { line: tag.line };
    }
  }
  if (unclosed !== undefined) return { line: unclosed, problem: 'a tag is opened here and never closed' };
  const open = stack.at(-1);
  if (open) return { line: open.line, problem: `{% ${open.keyword} %} is never closed with {% ${blockEnds[open.keyword]} %}` };
  return { line: 1 };
}

/** The first line where a tag uses the name (`name` or `.attribute`); line 1 when none does. */
function locateName(text: string, spelling: string): number {
  const escaped = spelling.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = spelling.startsWith('.') ? new RegExp(`${escaped}\\b`) : new RegExp(`(?<![\\w.])${escaped}\\b`);
  const { tags } = scanTags(text);
  for (const tag of tags) if (tag.kind !== 'comment' && pattern.test(tag.inner.replace(/(["'])(?:\\.|(?!\1).)*\1/g, '""'))) return tag.line;
  return 1;
}
