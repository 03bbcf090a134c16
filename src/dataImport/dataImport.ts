import { open } from 'node:fs/promises';
import { basename, extname, isAbsolute } from 'node:path';
import { z } from 'zod';
import { decideTeacherFilter, defaultFilterSettings, type TeacherVerdict } from '../teacher/trajectoryFilter';
import { compatibilitySchema, type Compatibility } from '../trajectory/compatibility';
import { importQuestionSet, type ImportedQuestionSet } from '../trajectory/questionSetImport';
import { importReferenceRecords, type ImportedReferenceRecords, type ReferenceImportOptions } from '../trajectory/referenceImport';
import { type TaskDomain } from '../trajectory/schema';

/**
 * Importing other people's data, shared by the CLI's `import` and VS Code's **Import…**: the reference
 * implementation's saved records become trajectories that keep the teacher filter's decision of a profile (so an
 * export takes the ones the method would train on), question sets become a question file. Nothing here writes;
 * callers write the result where the user chose, with the atomic writer.
 */

export type ImportFormat = 'reference' | 'questions';

/** How many trajectories the teacher filter kept, and every verdict's count (in first-seen order). */
export interface TeacherFilterCounts {
  compatibility: Compatibility;
  kept: number;
  total: number;
  verdicts: [TeacherVerdict, number][];
}

/**
 * Reference records as trajectories, each with `meta.teacherFilter` holding the decision of the teacher filter
 * (METHOD §6) under `compatibility`: the filter a teacher run applies.
 */
export async function importReferenceRecordsWithTeacherFilter(
  path: string,
  options: ReferenceImportOptions & { compatibility: Compatibility },
  signal?: AbortSignal,
): Promise<ImportedReferenceRecords & { teacherFilter: TeacherFilterCounts }> {
  const { compatibility, ...importOptions } = options;
  const result = await importReferenceRecords(path, importOptions, signal);
  const verdicts = new Map<TeacherVerdict, number>();
  for (const t of result.trajectories) {
    const decision = decideTeacherFilter(t, { ...defaultFilterSettings, compatibility });
    t.meta = { ...t.meta, teacherFilter: { ...decision } };
    verdicts.set(decision.verdict, (verdicts.get(decision.verdict) ?? 0) + 1);
  }
  return { ...result, teacherFilter: { compatibility, kept: verdicts.get('correct') ?? 0, total: result.trajectories.length, verdicts: [...verdicts] } };
}

/** `teacher filter (studio): 2 of 3 kept (correct 2, wrong-answer 1)`, as the CLI prints it. */
export function describeTeacherFilter(counts: TeacherFilterCounts): string {
  const detail = counts.verdicts.length ? ` (${counts.verdicts.map(([v, n]) => `${v} ${n}`).join(', ')})` : '';
  return `teacher filter (${counts.compatibility}): ${counts.kept} of ${counts.total} kept${detail}`;
}

/** Reads a question set (see {@link importQuestionSet}); a separate name so both fronts import from one place. */
export function importQuestionFile(path: string, domain?: TaskDomain): Promise<ImportedQuestionSet> {
  return importQuestionSet(path, domain ? { domain } : {});
}

/**
 * The format of a file to import, from its name and first bytes: CSV is a question set, JSON or JSONL whose
 * records hold a conversation (`log_data`, `messages`) are reference records, anything else a question set.
 */
export async function detectImportFormat(path: string): Promise<ImportFormat> {
  if (extname(path).toLowerCase() === '.csv') return 'questions';
  const handle = await open(path, 'r');
  try {
    // Reference records put their conversation after a few short fields; 256 KiB holds the first key of any record.
    const buffer = Buffer.alloc(256 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8');
    return /"(log_data|messages)"\s*:/.test(head) ? 'reference' : 'questions';
  } finally {
    await handle.close();
  }
}

/** The output name a save dialog suggests: `records.jsonl` → `records.traj.jsonl` or `records.questions.jsonl`. */
export function suggestedOutputName(input: string, format: ImportFormat): string {
  const stem = basename(input).replace(/\.(traj\.jsonl|questions\.jsonl|jsonl|ndjson|json|csv)$/i, '');
  return `${stem}.${format === 'reference' ? 'traj' : 'questions'}.jsonl`;
}

/** One record the import left out, and why. `where` is `line 7` or `examples[3]`. */
export interface SkippedRecord {
  where: string;
  field?: string;
  message: string;
}

export interface ImportReport {
  input: string;
  output: string;
  format: ImportFormat;
  written: number;
  skipped: readonly SkippedRecord[];
  /** How the domain was decided where the file did not say. */
  domainNote?: string;
  teacherFilter?: TeacherFilterCounts;
}

/** The report as Markdown: what was written, what was skipped (each line and why), the filter's decisions. */
export function formatImportReport(report: ImportReport): string {
  const what = report.format === 'reference' ? 'trajectories' : 'questions';
  const lines = [
    `# Import of ${basename(report.input)}`,
    '',
    `- from: \`${report.input}\` (${report.format === 'reference' ? 'reference implementation records' : 'question set'})`,
    `- to: \`${report.output}\``,
    `- imported: ${report.written} ${what}`,
    `- skipped: ${report.skipped.length} ${report.skipped.length === 1 ? 'record' : 'records'}`,
  ];
  if (report.domainNote) lines.push(`- domain: ${report.domainNote}`);
  if (report.teacherFilter) lines.push(`- ${describeTeacherFilter(report.teacherFilter)}; an export of unreviewed trajectories takes only the kept ones`);
  lines.push('');
  if (report.skipped.length === 0) {
    lines.push('Every record was imported.');
  } else {
    lines.push('## Skipped', '', 'Each of these was left out of the output; fix the record and import the file again to include it.', '');
    for (const s of report.skipped) lines.push(`- ${basename(report.input)}, ${s.where}${s.field ? ` (field \`${s.field}\`)` : ''}: ${s.message}`);
  }
  return lines.join('\n') + '\n';
}

const absolutePath = z
  .string()
  .min(1, 'must be a file path')
  .refine((p) => isAbsolute(p), 'must be an absolute path');

/**
 * What a script or a test may pass to **Import…** instead of answering its dialogs; anything left out is asked
 * for. Unknown keys are refused, so a misspelt option is an error rather than a question nobody expected.
 */
export const importDataArgsSchema = z.strictObject({
  /** The file to import. */
  input: absolutePath,
  /** Where to write; without `overwrite`, an existing file is refused. */
  output: absolutePath.optional(),
  format: z.enum(['reference', 'questions']).optional(),
  /** For records that do not say their domain; `guess` (reference records only) guesses from each answer. */
  domain: z.enum(['math', 'factual', 'guess']).optional(),
  /** Reference records: the profile whose teacher filter decides (default: the `compatibility` setting). */
  compatibility: compatibilitySchema.optional(),
  /** Reference records: the teacher model's name to record. */
  model: z.string().min(1, 'must not be empty').optional(),
  overwrite: z.boolean().optional(),
});
export type ImportDataArgs = z.infer<typeof importDataArgsSchema>;

/** Parses the arguments; the error names each field at fault and why. */
export function parseImportDataArgs(value: unknown): ImportDataArgs {
  const parsed = importDataArgsSchema.safeParse(value);
  if (parsed.success) {
    if (parsed.data.domain === 'guess' && parsed.data.format === 'questions') throw new Error('invalid arguments: domain: "guess" is only for reference records; give "math" or "factual" for a question set');
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `${issue.keys.map((k) => `"${k}"`).join(', ')}: not an option (options: ${Object.keys(importDataArgsSchema.shape).join(', ')})`;
    return `${issue.path.join('.') || '(the argument)'}: ${issue.message}`;
  });
  throw new Error(`invalid arguments: ${problems.join('; ')}`);
}
