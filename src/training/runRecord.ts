import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { undefinedIfMissing, writeJsonDurably } from '../runs/durableFile';
import { parseVersionedJson, readVersionedJson, versionedJsonFormat } from '../runs/versionedJson';

export const RUN_RECORD_SCHEMA_VERSION = 1;

/** Where a run stands, as the launcher last saw it. */
export const runStateSchema = z.enum(['uploading', 'checking', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost']);
export type RunState = z.infer<typeof runStateSchema>;
export const finalRunStates: readonly RunState[] = ['succeeded', 'failed', 'cancelled', 'lost'];

/**
 * One training run, recorded both locally (so the Training Runs view re-attaches after a restart) and on
 * the host as `<run>/run.json` (so a run can be found again from another machine).
 */
export const runRecordSchema = z.strictObject({
  schema: z.literal(RUN_RECORD_SCHEMA_VERSION),
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  /** Host profile name. */
  host: z.string(),
  /** Absolute remote run folder. */
  remoteDir: z.string(),
  scheduler: z.enum(['direct', 'slurm']),
  /** direct: the runner's PID, which is also its process group and session id. */
  pid: z.number().int().positive().optional(),
  /** slurm: the job id from `sbatch --parsable`. */
  jobId: z.string().optional(),
  createdAt: z.string(),
  baseModel: z.string(),
  /** Local file the training data came from, and the SHA-256 of the bytes uploaded. */
  dataFile: z.string(),
  dataSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * The data snapshot: `sha256:` of the exported bytes as the export's manifest names it. Set when the data came
   * with a manifest (`<file>.manifest.json`) whose snapshot is the uploaded bytes, so lineage follows it by hash.
   */
  dataSnapshot: z.string().regex(/^sha256:[0-9a-f]{64}$/).optional(),
  /** That manifest's file. */
  exportManifest: z.string().optional(),
  /** The trajectory files the export was made from, with the `sha256:` of their bytes at export time. */
  sourceTrajectories: z.array(z.object({ file: z.string(), sha256: z.string() })).optional(),
  /** Training overrides passed to the script (`--name value`). */
  overrides: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** The trainer's argv after the script (for the record and for resume). */
  trainerArgs: z.array(z.string()),
  state: runStateSchema,
  exitCode: z.number().int().nullable().optional(),
  /** Byte offset reached in metrics.jsonl; tailing resumes here. */
  metricsOffset: z.number().int().min(0).default(0),
  /** Local folder the adapter was downloaded to. */
  downloadedTo: z.string().optional(),
  /** How many times the run was resumed from a checkpoint. */
  resumes: z.number().int().min(0).default(0),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** How a run record (`<id>.json` locally, `run.json` on the host and beside a downloaded adapter) is read. */
export const runRecordFormat = versionedJsonFormat('a training run record', runRecordSchema, 'schema', RUN_RECORD_SCHEMA_VERSION);

/** A run id that sorts by time and is safe as a folder name on both sides. */
export function newRunId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  return `${stamp}-${slug}-${randomBytes(3).toString('hex')}`;
}

/** Parses a run record's JSON text, migrating older versions; errors name `where` and the field. */
export function parseRunRecord(text: string, where: string): RunRecord {
  return parseVersionedJson(text, where, runRecordFormat);
}

/**
 * The local list of runs: one JSON file per run in a folder (the extension's global storage, or
 * `~/.trajectory-studio/training-runs` for the CLI), written durably.
 */
export class RunStore {
  constructor(readonly folder: string) {}

  private file(id: string): string {
    return join(this.folder, `${id}.json`);
  }

  /** The run's own local folder (the data exported for it, when a launch exported it). */
  localFolder(id: string): string {
    return join(this.folder, id);
  }

  async save(record: RunRecord): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    await writeJsonDurably(this.file(record.id), record);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    return readVersionedJson(this.file(id), runRecordFormat);
  }

  /** All runs, newest first; unreadable records are reported, not hidden. */
  async list(): Promise<{ runs: RunRecord[]; problems: string[] }> {
    const names = await undefinedIfMissing(readdir(this.folder));
    if (!names) return { runs: [], problems: [] };
    const runs: RunRecord[] = [];
    const problems: string[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const path = join(this.folder, name);
      try {
        runs.push(parseRunRecord(await readFile(path, 'utf8'), path));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { runs, problems };
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }
}
