import { isScalar, LineCounter, parseDocument, Scalar, type Document } from 'yaml';
import { z } from 'zod';
import { compileJinja, JinjaTemplateError, type JinjaTemplate, pythonStringRepr, renderJinja } from './referencePromptJinja';
import { referenceToolObject, type ToolDescription } from './tools';

/**
 * Prompt files in the reference's format: a YAML mapping of prompt names to Jinja templates, as the
 * reference's code agent loads it (`system_prompt`, `planning`, `managed_agent`, `final_answer`, and in
 * the reference's own file also `system_prompt_short`). What the studio takes from such a file:
 *
 * - the system prompt: the template under `system_prompt` (or the key the user names), rendered the way
 *   the reference renders it, with `tools` (name → tool object), `managed_agents` (none) and
 *   `authorized_imports` (Python's `str()` of the sorted list);
 * - the fallback texts: `final_answer.pre_messages` as the fallback system text (the reference sends it
 *   unrendered) and `final_answer.post_messages` rendered with `task` as the fallback request;
 * - the task suffix: the reference keeps it in code, not in the YAML; a file may carry one under the
 *   studio's own key `task_suffix`.
 *
 * Parts a file lacks are left out here; the loader fills them from the studio's built-in profile and says
 * so in the profile's note. `planning` and `managed_agent` are not used (the studio runs no planning
 * steps and no managed agents).
 */

/** A problem in a reference-format prompt file; `line` is 1-based in the file. */
export class ReferencePromptError extends Error {
  override readonly name = 'ReferencePromptError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export const defaultReferenceSystemKey = 'system_prompt';

/** What a reference-format prompt file provides. Missing optional parts are undefined. */
export interface ReferencePromptParts {
  /** The YAML key the system template came from. */
  systemKey: string;
  /** The system template text (Jinja). */
  system: string;
  /** Line in the file of the template's first line. */
  systemLine: number;
  /** `final_answer.pre_messages`, as written (the reference does not render it). */
  fallbackSystem?: string;
  /** `final_answer.post_messages` rendered with the task left as the studio's `{{question}}` placeholder. */
  fallbackRequest?: string;
  /** The studio's optional `task_suffix` key. */
  taskSuffix?: string;
  /** Top-level keys the studio does not use (e.g. `planning`, `managed_agent`). */
  unusedKeys: string[];
}

/** The placeholder the studio's fallback request carries for the question (see agentMessages). */
const questionPlaceholder = '{{question}}';

const promptFileSchema = z
  .object({
    final_answer: z.object({ pre_messages: z.string().optional(), post_messages: z.string().optional() }).passthrough().optional(),
    task_suffix: z.string().optional(),
  })
  .passthrough();

function lineOf(lineCounter: LineCounter, offset: number | undefined): number {
  return offset === undefined ? 1 : lineCounter.linePos(offset).line;
}

/** The node at `path` (its value), for line numbers. */
function nodeAt(doc: Document, path: readonly (string | number)[]): unknown {
  return doc.getIn(path, true);
}

function nodeStart(node: unknown): number | undefined {
  if (typeof node === 'object' && node !== null && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range?.[0];
  }
  return undefined;
}

/**
 * The file line of a string value's first content line: for a block scalar (`|`, `|-`, `>`), the line
 * after its indicator; for a flow scalar, the line it starts on. Jinja error lines count from here.
 */
function contentLine(lineCounter: LineCounter, node: unknown): number {
  const start = nodeStart(node);
  const line = lineOf(lineCounter, start);
  if (isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED)) return line + 1;
  return line;
}

/** A template of the file, parsed; a syntax error names the file line. */
function compileAt(text: string, firstLine: number, key: string): JinjaTemplate {
  try {
    return compileJinja(text);
  } catch (err) {
    if (err instanceof JinjaTemplateError) throw new ReferencePromptError(`${key}: ${err.message}`, firstLine + err.line - 1);
    throw err;
  }
}

/** Renders a template of the file; an error names the file line. */
export function renderReferenceTemplate(template: JinjaTemplate, variables: Record<string, unknown>, firstLine: number, key: string): string {
  try {
    return renderJinja(template, variables);
  } catch (err) {
    if (err instanceof JinjaTemplateError) throw new ReferencePromptError(`${key}: ${err.message}`, firstLine + err.line - 1);
    throw err;
  }
}

/**
 * Reads a prompt file in the reference's format. `systemKey` picks the system template (default
 * `system_prompt`; the reference's students use `system_prompt_short`). Throws {@link ReferencePromptError}
 * for YAML that does not parse, a missing or non-text template, or a template that does not parse.
 */
export function parseReferencePromptYaml(text: string, systemKey = defaultReferenceSystemKey): ReferencePromptParts {
  const lineCounter = new LineCounter();
  // YAML 1.1: the reference reads these files with PyYAML's safe_load.
  const doc = parseDocument(text, { lineCounter, version: '1.1', uniqueKeys: true, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) throw new ReferencePromptError(`YAML does not parse: ${yamlError.message.split('\n')[0]}`, yamlError.linePos?.[0].line ?? lineOf(lineCounter, yamlError.pos[0]));
  const data: unknown = doc.toJS();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ReferencePromptError('expected a YAML mapping of prompt names to templates (system_prompt, final_answer, ...)', 1);
  }
  const parsed = promptFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
    throw new ReferencePromptError(`${where.join('.')}: ${issue.message} (expected text)`, lineOf(lineCounter, nodeStart(nodeAt(doc, where))));
  }
  const record = data as Record<string, unknown>;
  const system = record[systemKey];
  if (system === undefined) {
    const candidates = Object.keys(record).filter((k) => typeof record[k] === 'string');
    throw new ReferencePromptError(`no "${systemKey}" key (text keys in this file: ${candidates.join(', ') || 'none'})`, 1);
  }
  const systemNode = nodeAt(doc, [systemKey]);
  if (typeof system !== 'string') throw new ReferencePromptError(`${systemKey}: expected a text template`, lineOf(lineCounter, nodeStart(systemNode)));
  const systemLine = contentLine(lineCounter, systemNode);
  compileAt(system, systemLine, systemKey);

  const { final_answer: finalAnswer, task_suffix: taskSuffix } = parsed.data;
  let fallbackRequest: string | undefined;
  if (finalAnswer?.post_messages !== undefined) {
    const key = 'final_answer.post_messages';
    const line = contentLine(lineCounter, nodeAt(doc, ['final_answer', 'post_messages']));
    fallbackRequest = renderReferenceTemplate(compileAt(finalAnswer.post_messages, line, key), { task: questionPlaceholder }, line, key);
  }
  const used = new Set([systemKey, 'final_answer', 'task_suffix']);
  return {
    systemKey,
    system,
    systemLine,
    fallbackSystem: finalAnswer?.pre_messages,
    fallbackRequest,
    taskSuffix,
    unusedKeys: Object.keys(record).filter((k) => !used.has(k)),
  };
}

/** `authorized_imports` as the reference passes it: Python's `str()` of the sorted, de-duplicated list. */
export function referenceAuthorizedImports(imports: readonly string[]): string {
  // The reference substitutes a sentence of its own for "*"; this is ours.
  if (imports.includes('*')) return 'Any package may be imported.';
  return `[${[...new Set(imports)].sort().map(pythonStringRepr).join(', ')}]`;
}

/**
 * The variables the reference renders a system template with: `tools` (name → tool object, in the
 * order given), `managed_agents` (none in the studio) and `authorized_imports`.
 */
export function referenceSystemVariables(tools: readonly ToolDescription[], authorizedImports: readonly string[]): Record<string, unknown> {
  return {
    tools: Object.fromEntries(tools.map((t) => [t.name, referenceToolObject(t)])),
    managed_agents: {},
    authorized_imports: referenceAuthorizedImports(authorizedImports),
  };
}
