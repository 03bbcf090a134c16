import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type z } from 'zod';
import { writeJsonDurably } from '../../../src/runs/durableFile';
import { type VersionedJsonFormat } from '../../../src/runs/versionedJson';
import { TEACHER_MANIFEST_VERSION, manifestPathFor, readManifest as readTeacherManifest, teacherManifestFormat, teacherManifestSchema, writeManifest as writeTeacherManifest } from '../../../src/teacher/runConfig';
import { EVAL_MANIFEST_VERSION, evalManifestFormat, evalManifestSchema, manifestFile, readEvalManifest, trajectoryFileName } from '../../../src/eval/evalConfig';
import { INDEX_MANIFEST_VERSION, type IndexManifest, indexManifestFormat, manifestPath, readManifest as readIndexManifest, writeManifest as writeIndexManifest } from '../../../src/retrieval/indexManifest';
import { RUN_RECORD_SCHEMA_VERSION, type RunRecord, RunStore, runRecordFormat } from '../../../src/training/runRecord';
import { type CachedReply, DiskResponseCache, cachedReplyFormat, requestCacheKey } from '../../../src/llm/responseCache';
import { EXPORT_MANIFEST_KIND, EXPORT_MANIFEST_VERSION, exportManifestSchema, manifestPathFor as exportManifestPathFor, writeManifest as writeExportManifest } from '../../../src/trajectory/sftExport';
import { exportManifestFormat, readExportManifest } from '../../../src/trainingExport/exportManifest';

/**
 * Every JSON file the product keeps, through its own writer and reader: a file from before the version field
 * existed still reads, a wrong field is refused naming the file and the field, and a file from a newer
 * version is refused with a message saying so.
 */
interface KeptFile {
  name: string;
  format: VersionedJsonFormat<z.ZodType>;
  /** The value written, as the reader gives it back. */
  value: unknown;
  /** Writes a valid current value with the product's writer; returns the file. */
  write: (dir: string) => Promise<string>;
  /** Reads it back with the product's reader. */
  read: (dir: string) => Promise<unknown>;
  /** Spoils one field of the raw JSON; `path` is the field as the error must name it. */
  spoil: { apply: (raw: Record<string, unknown>) => void; path: string };
}

const teacherManifest = teacherManifestSchema.parse({
  kind: 'teacher-generation',
  manifestVersion: TEACHER_MANIFEST_VERSION,
  config: { questionFile: 'questions.jsonl', outputFile: 'out.traj.jsonl', teacher: { model: 'teacher-model' } },
  questionSetSha256: 'ab'.repeat(32),
  questionCount: 2,
  runs: [{ startedAt: '2026-01-01T00:00:00Z', attempted: 2, correct: 1, accepted: 1, failures: 0 }],
});

const evalManifest = evalManifestSchema.parse({
  kind: 'eval-run',
  manifestVersion: EVAL_MANIFEST_VERSION,
  config: { runFolder: 'run', benchmarks: ['bench.jsonl'], student: { model: 'student-model' } },
  benchmarks: [{ name: 'bench', file: 'bench.jsonl', sha256: 'cd'.repeat(32), questions: 3, trajectories: trajectoryFileName('bench') }],
  promptProfile: { name: 'student', hash: 'ef'.repeat(32) },
});

const indexManifest: IndexManifest = {
  schema: INDEX_MANIFEST_VERSION,
  name: 'wiki',
  createdAt: '2026-01-01T00:00:00Z',
  corpus: { path: '/data/wiki.jsonl', format: 'wiki18-jsonl', sizeBytes: 1234, mtimeMs: 1_700_000_000_000 },
  rows: 10,
  badRows: 1,
  progress: { byteOffset: 1234, linesConsumed: 11, recordsConsumed: 11, complete: true },
  fts: { built: true, columns: ['title', 'text'] },
  ann: { kind: 'IVF_PQ', state: 'built', numPartitions: 4, numSubVectors: 8, nprobes: 20, refineFactor: 5 },
};

const runRecord: RunRecord = {
  schema: RUN_RECORD_SCHEMA_VERSION,
  id: '20260101-000000-run-abcdef',
  host: 'gpu-box',
  remoteDir: '/home/u/runs/20260101-000000-run-abcdef',
  scheduler: 'direct',
  pid: 4242,
  createdAt: '2026-01-01T00:00:00Z',
  baseModel: 'Qwen/Qwen2.5-0.5B',
  dataFile: '/data/train.jsonl',
  dataSha256: '01'.repeat(32),
  overrides: { epochs: 2 },
  trainerArgs: ['--epochs', '2'],
  state: 'running',
  metricsOffset: 0,
  resumes: 0,
};

const reply: CachedReply = { choices: [{ text: 'The answer is 48.', finishReason: 'stop' }], usage: { promptTokens: 12, completionTokens: 6 }, model: 'teacher-model' };
const cacheKey = requestCacheKey({ model: 'teacher-model', messages: [{ role: 'user', content: 'What is 6 * 8?' }] });
const cachePath = (dir: string) => join(dir, cacheKey.slice(0, 2), `${cacheKey}.json`);

const exportManifest = exportManifestSchema.parse({
  kind: EXPORT_MANIFEST_KIND,
  manifestVersion: EXPORT_MANIFEST_VERSION,
  format: 'openai',
  compatibility: 'reference',
  snapshot: `sha256:${'23'.repeat(32)}`,
  examples: 2,
  trainedTurns: 3,
  untrainedTurns: 0,
  prompt: { name: 'student', sha256: '45'.repeat(32) },
  sources: ['curated.traj.jsonl'],
  trajectoryIds: ['t1', 't2'],
  skipped: [],
  createdAt: '2026-01-01T00:00:00Z',
});

const keptFiles: KeptFile[] = [
  {
    name: 'training export manifest',
    value: exportManifest,
    format: exportManifestFormat,
    write: async (dir) => {
      await writeExportManifest(join(dir, 'train.jsonl'), exportManifest);
      return exportManifestPathFor(join(dir, 'train.jsonl'));
    },
    read: (dir) => readExportManifest(join(dir, 'train.jsonl')),
    spoil: { apply: (raw) => (raw.compatibility = 'paper'), path: '$.compatibility' },
  },
  {
    name: 'teacher run manifest',
    value: teacherManifest,
    format: teacherManifestFormat,
    write: async (dir) => {
      await writeTeacherManifest(join(dir, 'out.traj.jsonl'), teacherManifest);
      return manifestPathFor(join(dir, 'out.traj.jsonl'));
    },
    read: (dir) => readTeacherManifest(join(dir, 'out.traj.jsonl')),
    spoil: { apply: (raw) => ((raw.config as { teacher: Record<string, unknown> }).teacher.model = 42), path: '$.config.teacher.model' },
  },
  {
    name: 'evaluation run manifest',
    value: evalManifest,
    format: evalManifestFormat,
    write: async (dir) => {
      await writeJsonDurably(manifestFile(dir), evalManifest);
      return manifestFile(dir);
    },
    read: (dir) => readEvalManifest(dir),
    spoil: { apply: (raw) => ((raw.benchmarks as Record<string, unknown>[])[0].questions = -1), path: '$.benchmarks[0].questions' },
  },
  {
    name: 'retrieval index manifest',
    value: indexManifest,
    format: indexManifestFormat,
    write: async (dir) => {
      await writeIndexManifest(dir, indexManifest);
      return manifestPath(dir);
    },
    read: (dir) => readIndexManifest(dir),
    spoil: { apply: (raw) => ((raw.progress as Record<string, unknown>).complete = 'yes'), path: '$.progress.complete' },
  },
  {
    name: 'training run record',
    value: runRecord,
    format: runRecordFormat,
    write: async (dir) => {
      await new RunStore(dir).save(runRecord);
      return join(dir, `${runRecord.id}.json`);
    },
    read: (dir) => new RunStore(dir).get(runRecord.id),
    spoil: { apply: (raw) => (raw.state = 'exploded'), path: '$.state' },
  },
  {
    name: 'cached model reply',
    value: reply,
    format: cachedReplyFormat,
    write: async (dir) => {
      await new DiskResponseCache(dir).set(cacheKey, reply);
      return cachePath(dir);
    },
    read: (dir) => new DiskResponseCache(dir).get(cacheKey),
    spoil: { apply: (raw) => ((raw.choices as Record<string, unknown>[])[0].finishReason = 'exploded'), path: '$.choices[0].finishReason' },
  },
];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ts-kept-json-'));
});
after(() => rm(root, { recursive: true, force: true }));

let folders = 0;
async function folder(): Promise<string> {
  const dir = join(root, String(folders++));
  await mkdir(dir);
  return dir;
}

async function rewrite(file: string, change: (raw: Record<string, unknown>) => void): Promise<void> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(raw);
  await writeFile(file, JSON.stringify(raw, null, 2));
}

for (const kept of keptFiles) {
  void describe(kept.name, () => {
    it('is written with its version and reads back as written', async () => {
      const dir = await folder();
      const file = await kept.write(dir);
      const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      assert.equal(raw[kept.format.versionField], kept.format.version);
      assert.deepEqual(await kept.read(dir), kept.value);
      assert.equal(await kept.read(await folder()), undefined, 'a missing file reads as undefined');
    });

    it('still reads when written before the version field existed', async () => {
      const dir = await folder();
      const file = await kept.write(dir);
      const current = await kept.read(dir);
      await rewrite(file, (raw) => delete raw[kept.format.versionField]);
      assert.deepEqual(await kept.read(dir), current);
    });

    it('has a migration from every older version', () => {
      for (let v = 1; v < kept.format.version; v++) assert.ok(kept.format.migrations?.[v], `no migration from version ${v}`);
    });

    it('refuses a wrong field, naming the file and the field', async () => {
      const dir = await folder();
      const file = await kept.write(dir);
      await rewrite(file, kept.spoil.apply);
      await assert.rejects(kept.read(dir), (err: Error) => {
        assert.ok(err.message.includes(file), err.message);
        assert.ok(err.message.includes(`${kept.spoil.path}: `), err.message);
        return true;
      });
    });

    it('refuses a file from a newer version, saying so', async () => {
      const dir = await folder();
      const file = await kept.write(dir);
      const newer = kept.format.version + 1;
      await rewrite(file, (raw) => (raw[kept.format.versionField] = newer));
      await assert.rejects(kept.read(dir), (err: Error) => {
        assert.ok(err.message.includes(file), err.message);
        assert.match(err.message, new RegExp(`version ${newer} was written by a newer Trajectory Studio`));
        return true;
      });
    });
  });
}

void describe('formats with their own history', () => {
  it('an index manifest with fields this version does not know still reads, as the hand-written check allowed', async () => {
    const dir = await folder();
    await writeIndexManifest(dir, indexManifest);
    await rewrite(manifestPath(dir), (raw) => (raw.addedLater = { anything: true }));
    assert.deepEqual(await readIndexManifest(dir), indexManifest);
  });

  it('a cached reply written before entries carried a version (bare JSON of the reply) is still a hit', async () => {
    const dir = await folder();
    await mkdir(join(dir, cacheKey.slice(0, 2)));
    await writeFile(cachePath(dir), JSON.stringify(reply));
    assert.deepEqual(await new DiskResponseCache(dir).get(cacheKey), reply);
  });

  it('a broken cache entry says how to recover', async () => {
    const dir = await folder();
    await mkdir(join(dir, cacheKey.slice(0, 2)));
    await writeFile(cachePath(dir), '{"choices": [');
    await assert.rejects(new DiskResponseCache(dir).get(cacheKey), /not valid JSON.*delete it to re-request/);
  });
});
