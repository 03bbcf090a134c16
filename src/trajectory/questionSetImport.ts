import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type Task, type TaskDomain } from './schema';

/**
 * Question sets as people have them: the reference implementation's `{metadata, examples: [{id, question,
 * answer, ...}]}` JSON (or a bare array), JSONL with one question per line, and CSV with a header row
 * holding `question` and `answer` columns (`id` and `domain` optional). Each question becomes a {@link Task};
 * problems are reported with the line (JSONL, CSV) or index (JSON) and the field, never dropped silently.
 */

export interface QuestionSetProblem {
  /** `line 7` (JSONL/CSV) or `examples[3]` (JSON). */
  where: string;
  message: string;
}

export interface QuestionSetOptions {
  /** Domain for questions that carry none (and no `metadata.domain`). */
  domain?: TaskDomain;
}

export interface ImportedQuestionSet {
  tasks: Task[];
  problems: QuestionSetProblem[];
  format: 'json' | 'jsonl' | 'csv';
  /** Questions skipped only because neither they, the set's metadata nor the options said their domain: importing again with a domain takes them. */
  missingDomain: number;
}

/** The one problem a domain for the whole set fixes. */
class MissingDomainError extends Error {}

function answerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    // Several accepted answers (aliases) are kept as a JSON list, which the factual scorer reads back.
    return value.length === 1 ? String(value[0]) : JSON.stringify(value.map(String));
  }
  throw new Error('field "answer" must be text, a number or a list of texts');
}

function toTask(value: unknown, fallbackId: string, source: string, defaultDomain: TaskDomain | undefined): Task {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object with a "question" field');
  const r = value as Record<string, unknown>;
  const question = r.question ?? r.problem ?? r.Question;
  if (typeof question !== 'string' || question.trim() === '') throw new Error('field "question" must be non-empty text');
  const domain = r.domain ?? defaultDomain;
  if (domain === undefined || domain === null) throw new MissingDomainError('field "domain" is missing (give a domain for the whole set)');
  if (domain !== 'math' && domain !== 'factual') {
    throw new Error(`field "domain" must be "math" or "factual"${defaultDomain ? '' : ' (or give a domain for the whole set)'}, got ${JSON.stringify(domain ?? null)}`);
  }
  const id = r.id ?? r._id ?? r.qid ?? fallbackId;
  if (typeof id !== 'string' && typeof id !== 'number') throw new Error('field "id" must be text or a number');
  const gold = answerText(r.answer ?? r.true_answer ?? r.gold ?? r.goldAnswer ?? r.Answer);
  const task: Task = { id: String(id), question, domain, source };
  if (gold !== undefined) task.goldAnswer = gold;
  return task;
}

/** RFC 4180 CSV: quoted fields with `""` escapes and newlines inside quotes, CRLF or LF rows. */
export function parseCsv(text: string): { rows: string[][]; rowLines: number[] } {
  const rows: string[][] = [];
  const rowLines: number[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowStart = 1;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (!(row.length === 1 && row[0] === '')) {
        rows.push(row);
        rowLines.push(rowStart);
      }
      row = [];
      field = '';
      fieldStarted = false;
      line++;
      rowStart = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new Error(`line ${rowStart}: a quoted field is never closed`);
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
    rowLines.push(rowStart);
  }
  return { rows, rowLines };
}

/** Reads a question set in any of the supported formats (by extension: .json, .jsonl, .csv). */
export async function importQuestionSet(path: string, options: QuestionSetOptions = {}): Promise<ImportedQuestionSet> {
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  const source = basename(path);
  const ext = extname(path).toLowerCase();
  const tasks: Task[] = [];
  const problems: QuestionSetProblem[] = [];
  let missingDomain = 0;
  const add = (where: string, value: unknown, fallbackId: string, domain: TaskDomain | undefined): void => {
    try {
      tasks.push(toTask(value, fallbackId, source, domain));
    } catch (err) {
      if (err instanceof MissingDomainError) missingDomain++;
      problems.push({ where, message: (err as Error).message });
    }
  };

  let format: ImportedQuestionSet['format'];
  if (ext === '.csv') {
    format = 'csv';
    const { rows, rowLines } = parseCsv(text);
    const header = (rows[0] ?? []).map((h) => h.trim());
    if (!header.some((h) => h.toLowerCase() === 'question')) {
      throw new Error(`${path}: line 1: the CSV header needs a "question" column (found: ${header.join(', ') || 'nothing'})`);
    }
    rows.slice(1).forEach((cells, i) => {
      const where = `line ${rowLines[i + 1]}`;
      if (cells.length !== header.length) {
        problems.push({ where, message: `expected ${header.length} columns as in the header, found ${cells.length}` });
        return;
      }
      const record: Record<string, string> = {};
      header.forEach((h, k) => (record[h.toLowerCase()] = cells[k]!));
      add(where, record, `${source}:${rowLines[i + 1]}`, options.domain);
    });
  } else if (ext === '.jsonl' || ext === '.ndjson') {
    format = 'jsonl';
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line) as unknown;
      } catch (err) {
        problems.push({ where: `line ${i + 1}`, message: `not valid JSON: ${(err as Error).message}` });
        return;
      }
      add(`line ${i + 1}`, value, `${source}:${i + 1}`, options.domain);
    });
  } else {
    format = 'json';
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
    }
    let list: unknown = value;
    let domain = options.domain;
    let prefix = '';
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const r = value as Record<string, unknown>;
      list = r.examples ?? r.questions ?? r.data;
      prefix = r.examples !== undefined ? 'examples' : r.questions !== undefined ? 'questions' : 'data';
      const metadata = r.metadata;
      if (domain === undefined && typeof metadata === 'object' && metadata !== null) {
        const d = (metadata as Record<string, unknown>).domain;
        if (d === 'math' || d === 'factual') domain = d;
      }
    }
    if (!Array.isArray(list)) throw new Error(`${path}: expected a list of questions, or an object with an "examples" list`);
    list.forEach((item, i) => add(`${prefix}[${i}]`, item, `${source}:${i}`, domain));
  }

  const seen = new Map<string, number>();
  tasks.forEach((t, i) => {
    const first = seen.get(t.id);
    if (first !== undefined) problems.push({ where: `question id ${JSON.stringify(t.id)}`, message: `appears more than once (questions ${first + 1} and ${i + 1})` });
    else seen.set(t.id, i);
  });
  return { tasks, problems, format, missingDomain };
}
