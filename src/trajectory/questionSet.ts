import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type Task, type TaskDomain } from './schema';

/**
 * Question sets that teacher generation and evaluation run over: a JSON file (`{"examples": [...]}` or a bare
 * array) or JSONL with one question per line. A question has `question`, an answer (`answer`, `gold` or
 * `goldAnswer`: text, a number, or a list of aliases), a `domain` (`math` or `factual`) and an `id`. Anything
 * missing or of the wrong type is an error naming the file, the line (JSONL) or index (JSON), and the field.
 */

export class QuestionSetError extends Error {
  override readonly name = 'QuestionSetError';
}

export interface QuestionSet {
  file: string;
  /** SHA-256 of the file's bytes, for the run manifest. */
  sha256: string;
  tasks: Task[];
}

export interface ReadQuestionSetOptions {
  /** Domain for questions that do not carry one. */
  defaultDomain?: TaskDomain;
}

function goldText(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    // Aliases are kept as a JSON array; the factual scorer reads them back as such.
    return value.length === 1 ? (value[0]) : JSON.stringify(value);
  }
  throw new QuestionSetError(`${where}: field "answer" must be text, a number or a list of texts`);
}

function taskFromRecord(value: unknown, where: string, fallbackId: string, source: string, options: ReadQuestionSetOptions): Task {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new QuestionSetError(`${where}: expected a JSON object`);
  const r = value as Record<string, unknown>;
  const question = r.question ?? r.problem;
  if (typeof question !== 'string' || question.trim() === '') throw new QuestionSetError(`${where}: field "question" must be non-empty text`);
  const domain = r.domain ?? options.defaultDomain;
  if (domain !== 'math' && domain !== 'factual') {
    throw new QuestionSetError(`${where}: field "domain" must be "math" or "factual"${options.defaultDomain ? '' : ' (or choose a default domain for the set)'}`);
  }
  const idValue = r.id ?? fallbackId;
  if (typeof idValue !== 'string' && typeof idValue !== 'number') throw new QuestionSetError(`${where}: field "id" must be text or a number`);
  const goldAnswer = goldText(r.answer ?? r.gold ?? r.goldAnswer, where);
  const task: Task = { id: String(idValue), question, domain, source };
  if (goldAnswer !== undefined) task.goldAnswer = goldAnswer;
  return task;
}

/** Reads and checks a question set. Duplicate ids are an error (runs resume by id). */
export async function readQuestionSet(file: string, options: ReadQuestionSetOptions = {}): Promise<QuestionSet> {
  const bytes = await readFile(file);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const base = path.basename(file).replace(/\.(questions\.)?jsonl?$/i, '');
  const tasks: Task[] = [];
  const source = path.basename(file);
  if (/\.jsonl$/i.test(file)) {
    const lines = text.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${file}:${i + 1}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new QuestionSetError(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      tasks.push(taskFromRecord(value, where, `${base}-${i + 1}`, source, options));
    });
  } else {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new QuestionSetError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? (value as Record<string, unknown>).examples ?? (value as Record<string, unknown>).questions : undefined;
    if (!Array.isArray(list)) throw new QuestionSetError(`${file}: expected an array of questions, or an object with an "examples" array`);
    list.forEach((item, i) => tasks.push(taskFromRecord(item, `${file}: question ${i + 1}`, `${base}-${i + 1}`, source, options)));
  }
  const seen = new Map<string, number>();
  tasks.forEach((t, i) => {
    const first = seen.get(t.id);
    if (first !== undefined) throw new QuestionSetError(`${file}: id "${t.id}" is used by questions ${first + 1} and ${i + 1}; ids must be unique`);
    seen.set(t.id, i);
  });
  return { file, sha256: createHash('sha256').update(bytes).digest('hex'), tasks };
}

/** A deterministic sample of `count` tasks (seeded shuffle, then original order), or all when count ≥ size. */
export function sampleTasks(tasks: readonly Task[], count: number, seed: number): Task[] {
  if (count >= tasks.length) return [...tasks];
  let state = (seed >>> 0) || 1;
  const next = () => {
    // xorshift32: small, seedable, and the same on every platform
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const indexes = tasks.map((_, i) => i);
  for (let i = indexes.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [indexes[i], indexes[j]] = [indexes[j], indexes[i]];
  }
  return indexes.slice(0, count).sort((a, b) => a - b).map((i) => tasks[i]);
}
