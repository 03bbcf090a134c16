import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { QuestionSetError, readQuestionSet } from '../trajectory/questionSet';
import { type Task, type TaskDomain } from '../trajectory/schema';

/**
 * Benchmarks the student is evaluated on: files in the reference's `{metadata, examples: [...]}` JSON form or
 * JSONL with one question per line. The domain (each question's own `domain`, `metadata.domain`, the run's
 * domain setting, or for the method's own test sets their data set's) decides the scorer: math equivalence or factual matching (METHOD §6, §8). A benchmark set is a JSON file
 * `{"name": ..., "benchmarks": ["a.json", ...]}` (paths relative to it) that names several files as one config.
 */

export class BenchmarkError extends Error {
  override readonly name = 'BenchmarkError';
}

export interface Benchmark {
  /** `metadata.name`, or the file name without its extension. Unique within a run. */
  name: string;
  file: string;
  /** The benchmark's domain; questions may still carry their own. */
  domain?: TaskDomain;
  /** Where `domain` came from, when it was not the file's own `metadata.domain` (said at the start of a run). */
  domainFrom?: string;
  sha256: string;
  tasks: Task[];
}

interface BenchmarkMetadata {
  name?: string;
  domain?: TaskDomain;
  /** The reference's test sets name their data set in `metadata.dataset_info.name` (e.g. `MATH`, `hotpotqa`). */
  datasetName?: string;
}

/**
 * The data sets of the method's test sets (METHOD §8) and their domains. The reference's files carry no domain;
 * their data set shows in `metadata.dataset_info.name`, their folder (`math_dataset`, `qa_dataset`) and their
 * file name (`math_500_20250414.json`, `bamboogle_125_20250507.json`).
 */
const knownDatasets: readonly [RegExp, TaskDomain][] = [
  [/^(math|olymmath|aime|gsm[-_ ]?hard)(?![a-z])/i, 'math'],
  [/^(hotpot_?qa|2wikimultihopqa|bamboogle|musique)(?![a-z])/i, 'factual'],
];

function knownDomain(name: string): TaskDomain | undefined {
  return knownDatasets.find(([pattern]) => pattern.test(name))?.[1];
}

/** The domain of a file without `metadata.domain`, and what it was read from; undefined when nothing says. */
function inferredDomain(file: string, metadata: BenchmarkMetadata): { domain: TaskDomain; from: string } | undefined {
  const fromDataset = metadata.datasetName ? knownDomain(metadata.datasetName) : undefined;
  if (fromDataset) return { domain: fromDataset, from: `its data set "${metadata.datasetName}"` };
  const folder = path.basename(path.dirname(file));
  const fromFolder = /^math_dataset$/i.test(folder) ? 'math' : /^qa_dataset$/i.test(folder) ? 'factual' : undefined;
  if (fromFolder) return { domain: fromFolder, from: `its folder "${folder}"` };
  const fromName = knownDomain(path.basename(file));
  return fromName ? { domain: fromName, from: 'its file name' } : undefined;
}

function nameFromFile(file: string): string {
  return path.basename(file).replace(/\.(questions\.|benchmark\.)?jsonl?$/i, '');
}

/** Reads the `metadata` object of a JSON benchmark (JSONL files have none). */
async function readMetadata(file: string): Promise<BenchmarkMetadata> {
  if (/\.jsonl$/i.test(file)) return {};
  let value: unknown;
  try {
    value = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new BenchmarkError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const metadata = (value as Record<string, unknown>).metadata;
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new BenchmarkError(`${file}: field "metadata" must be an object`);
  const m = metadata as Record<string, unknown>;
  const result: BenchmarkMetadata = {};
  if (m.name !== undefined) {
    if (typeof m.name !== 'string' || m.name.trim() === '') throw new BenchmarkError(`${file}: field "metadata.name" must be non-empty text`);
    result.name = m.name;
  }
  if (m.domain !== undefined) {
    if (m.domain !== 'math' && m.domain !== 'factual') throw new BenchmarkError(`${file}: field "metadata.domain" must be "math" or "factual", got ${JSON.stringify(m.domain)}`);
    result.domain = m.domain;
  }
  const info = m.dataset_info;
  if (typeof info === 'object' && info !== null && typeof (info as Record<string, unknown>).name === 'string') result.datasetName = (info as Record<string, string>).name;
  return result;
}

/**
 * Reads one benchmark file. Every question needs a gold answer (a benchmark without one cannot be scored)
 * and a domain: its own, else the file's `metadata.domain`, else `domain` (the user's choice for files that
 * name none), else the one its data set, folder or file name shows for the method's test sets.
 * Problems name the file and the question or line.
 */
export async function readBenchmark(file: string, options: { domain?: TaskDomain } = {}): Promise<Benchmark> {
  const metadata = await readMetadata(file);
  const inferred = options.domain || metadata.domain ? undefined : inferredDomain(file, metadata);
  const domain = metadata.domain ?? options.domain ?? inferred?.domain;
  const domainFrom = metadata.domain ? undefined : options.domain ? 'the run\'s domain setting' : inferred?.from;
  let set;
  try {
    set = await readQuestionSet(file, domain ? { defaultDomain: domain } : {});
  } catch (err) {
    if (err instanceof QuestionSetError) {
      throw new BenchmarkError(domain ? err.message : `${err.message}; this file names no domain: give one for it (eval --domain math|factual, or "metadata": {"domain": …} in the file)`);
    }
    throw err;
  }
  set.tasks.forEach((task, i) => {
    if (task.goldAnswer === undefined) throw new BenchmarkError(`${file}: question ${i + 1} (id "${task.id}") has no answer; a benchmark question needs one to be scored`);
  });
  return { name: metadata.name ?? nameFromFile(file), file, ...(domain ? { domain } : {}), ...(domainFrom ? { domainFrom } : {}), sha256: set.sha256, tasks: set.tasks };
}

/** True for a benchmark-set file: a JSON object with a `benchmarks` list. */
export async function isBenchmarkSet(file: string): Promise<boolean> {
  if (!/\.json$/i.test(file)) return false;
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && Array.isArray((value as Record<string, unknown>).benchmarks);
  } catch {
    return false;
  }
}

/** The benchmark files a set names, resolved against the set file's folder. */
export async function readBenchmarkSet(file: string): Promise<{ name: string; files: string[] }> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new BenchmarkError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const list = record?.benchmarks;
  if (!Array.isArray(list) || list.length === 0) throw new BenchmarkError(`${file}: expected {"benchmarks": ["file.json", ...]} with at least one file`);
  const files = list.map((entry, i) => {
    if (typeof entry !== 'string' || entry.trim() === '') throw new BenchmarkError(`${file}: benchmarks[${i}] must be a file path`);
    return path.resolve(path.dirname(file), entry);
  });
  const name = typeof record?.name === 'string' ? record.name : nameFromFile(file);
  return { name, files };
}

/**
 * Expands what the user named (benchmark files and benchmark-set files) into a list of benchmark files,
 * in order, without duplicates.
 */
export async function expandBenchmarkFiles(files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    const expanded = (await isBenchmarkSet(file)) ? (await readBenchmarkSet(file)).files : [file];
    for (const f of expanded) if (!out.includes(f)) out.push(f);
  }
  return out;
}

/** Reads every benchmark of a run; two benchmarks with one name are an error (results are keyed by name). */
export async function readBenchmarks(files: readonly string[], options: { domain?: TaskDomain } = {}): Promise<Benchmark[]> {
  const benchmarks: Benchmark[] = [];
  for (const file of files) {
    const b = await readBenchmark(file, options);
    const clash = benchmarks.find((other) => other.name === b.name);
    if (clash) throw new BenchmarkError(`${file} and ${clash.file} are both named "${b.name}"; benchmark names must differ within a run`);
    benchmarks.push(b);
  }
  return benchmarks;
}
