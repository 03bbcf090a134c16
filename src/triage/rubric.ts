import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMissingFileError } from '../runs/durableFile';
import { z } from 'zod';
import { formatJsonPath, rubricSeveritySchema, taskDomainSchema, type TaskDomain } from '../trajectory/schema';

/**
 * A rubric for the triage judge: named criteria a judge model checks each trajectory against, kept as a
 * JSON file in the workspace (`<name>.rubric.json`, see `examples/rubrics/`). JSON because the project
 * has no YAML parser and the rubric is short; a problem is reported as `file:line: $.json.path: message`,
 * every problem at once, never a silent default.
 *
 * ```json
 * { "name": "grounded-answers",
 *   "criteria": [{ "id": "cites-passage", "description": "…", "severity": "high", "appliesTo": "factual" }] }
 * ```
 */

/** Criterion ids become flag rules (`rubric:<id>`), so they are slugs: lower-case words joined by `-`. */
const slugPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Ids the judge uses for its own flags (`rubric:judge-error`, `rubric:outdated`); a criterion may not take them. */
export const reservedCriterionIds: readonly string[] = ['judge-error', 'outdated'];

export const rubricCriterionSchema = z.strictObject({
  id: z
    .string()
    .regex(slugPattern, 'must be a slug: lower-case letters and digits in words joined by "-", e.g. "cites-passage"')
    .refine((id) => !reservedCriterionIds.includes(id), { message: `is reserved for the judge's own flags (${reservedCriterionIds.join(', ')})` }),
  /** What the judge checks, written as what a good trajectory does. */
  description: z.string().trim().min(1, 'must say what the criterion checks'),
  severity: rubricSeveritySchema.default('medium'),
  /** Judge only tasks of this domain; absent: every task. */
  appliesTo: taskDomainSchema.optional(),
});

export const rubricFileSchema = z.strictObject({
  name: z.string().trim().min(1, 'must name the rubric'),
  /** For people reading the file; not sent to the judge. */
  description: z.string().optional(),
  criteria: z.array(rubricCriterionSchema).min(1, 'must list at least one criterion'),
});

/**
 * Repeated criterion ids, checked on the raw JSON rather than in the schema so they are reported together
 * with every other problem (a zod refinement of the whole object runs only once the rest is valid).
 */
function duplicateIdIssues(json: unknown): { path: PropertyKey[]; message: string }[] {
  const criteria = typeof json === 'object' && json !== null && 'criteria' in json ? json.criteria : undefined;
  if (!Array.isArray(criteria)) return [];
  const first = new Map<string, number>();
  const issues: { path: PropertyKey[]; message: string }[] = [];
  criteria.forEach((c: unknown, i) => {
    const id = typeof c === 'object' && c !== null && 'id' in c ? c.id : undefined;
    if (typeof id !== 'string') return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, i);
    else issues.push({ path: ['criteria', i, 'id'], message: `"${id}" is already the id of criteria[${earlier}]` });
  });
  return issues;
}

export type RubricCriterion = z.infer<typeof rubricCriterionSchema>;

/** A rubric as loaded: the file's content with defaults filled in, where it came from, and its hash. */
export interface Rubric {
  name: string;
  description?: string;
  criteria: RubricCriterion[];
  /** The file it was read from (or the name given to {@link parseRubric}). */
  source: string;
  /** sha256 of the canonical content (name and criteria): equal for files that differ only in layout or defaults. */
  hash: string;
}

/** One problem in a rubric file. */
export interface RubricIssue {
  /** 1-based line of the offending value, when it could be found. */
  line?: number;
  /** JSON path, e.g. `$.criteria[2].id`. */
  path: string;
  message: string;
}

/** Thrown for a rubric file that cannot be used; the message has one `file:line: path: message` line per problem. */
export class RubricError extends Error {
  override readonly name = 'RubricError';
  constructor(
    readonly source: string,
    readonly issues: readonly RubricIssue[],
  ) {
    super(issues.map((i) => `${source}${i.line === undefined ? '' : `:${i.line}`}: ${i.path}: ${i.message}`).join('\n'));
  }
}

/**
 * The line on which each value of a JSON text starts, by JSON path (as {@link formatJsonPath} writes it).
 * Runs only on text `JSON.parse` accepted, so it skips rather than checks.
 */
export function jsonValueLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let pos = 0;
  let line = 1;
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos])) {
      if (text[pos] === '\n') line++;
      pos++;
    }
  };
  const readString = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const value = (path: PropertyKey[]): void => {
    skipSpace();
    lines.set(formatJsonPath(path), line);
    const ch = text[pos];
    if (ch === '{' || ch === '[') {
      pos++;
      const close = ch === '{' ? '}' : ']';
      for (let index = 0; ; index++) {
        skipSpace();
        if (text[pos] === close) break;
        let key: PropertyKey = index;
        if (ch === '{') {
          key = readString();
          skipSpace();
          pos++; // the colon
        }
        value([...path, key]);
        skipSpace();
        if (text[pos] === ',') pos++;
      }
      pos++;
    } else if (ch === '"') {
      readString();
    } else {
      while (pos < text.length && !/[\s,\]}]/.test(text[pos])) pos++;
    }
  };
  value([]);
  return lines;
}

/** Where `JSON.parse` gave up, as a line number (V8 says `line L column C` or `position N`). */
function lineOfSyntaxError(text: string, message: string): number | undefined {
  const lineMatch = /line (\d+)/.exec(message);
  if (lineMatch) return Number(lineMatch[1]);
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

/** sha256 of the rubric's content in a fixed key order, defaults filled in, so layout does not change it. */
export function rubricHash(rubric: Pick<Rubric, 'name' | 'criteria'>): string {
  const canonical = {
    name: rubric.name,
    criteria: rubric.criteria.map((c) => ({ id: c.id, description: c.description, severity: c.severity, appliesTo: c.appliesTo ?? null })),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** Parses and validates a rubric file's text. Throws {@link RubricError} listing every problem. */
export function parseRubric(text: string, source = '<inline>'): Rubric {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new RubricError(source, [{ line: lineOfSyntaxError(text, message), path: '$', message: `not valid JSON: ${message}` }]);
  }
  const parsed = rubricFileSchema.safeParse(json);
  const problems = [...(parsed.success ? [] : parsed.error.issues), ...duplicateIdIssues(json)];
  if (!parsed.success || problems.length) {
    const lines = jsonValueLines(text.replace(/^\uFEFF/, ''));
    const issues = problems.map((issue): RubricIssue => {
      const path = formatJsonPath(issue.path);
      // An unknown key is reported on its object: point at the key. A missing key has no line of its own:
      // point at the object that lacks it.
      const unknownKey = 'code' in issue && issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      const line = (unknownKey !== undefined ? lines.get(formatJsonPath([...issue.path, unknownKey])) : undefined) ?? lines.get(path) ?? lines.get(formatJsonPath(issue.path.slice(0, -1)));
      return line === undefined ? { path, message: issue.message } : { line, path, message: issue.message };
    });
    throw new RubricError(source, issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  }
  const { name, description, criteria } = parsed.data;
  return { name, ...(description !== undefined ? { description } : {}), criteria, source, hash: rubricHash({ name, criteria }) };
}

/** Reads and validates a rubric file (see {@link parseRubric}); a missing file is a {@link RubricError} too. */
export async function loadRubric(path: string): Promise<Rubric> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RubricError(path, [{ path: '$', message: isMissingFileError(err) ? 'no such file' : `cannot be read: ${(err as Error).message}` }]);
  }
  return parseRubric(text, path);
}

/** The criteria the judge is asked about for a task of `domain`. */
export function criteriaFor(rubric: Pick<Rubric, 'criteria'>, domain: TaskDomain): RubricCriterion[] {
  return rubric.criteria.filter((c) => c.appliesTo === undefined || c.appliesTo === domain);
}
