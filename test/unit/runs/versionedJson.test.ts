import * as assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { JsonFileError, parseVersionedJson, readVersionedJson, type VersionedJsonFormat } from '../../../src/runs/versionedJson';

// A format at version 3 whose history renamed `title` to `name` (1 → 2) and split `size` into `rows` (2 → 3).
const currentVersion = 3;
const schema = z.object({ schema: z.literal(currentVersion), name: z.string(), rows: z.int().nonnegative(), tags: z.array(z.string()) });
const format: VersionedJsonFormat<typeof schema> = {
  what: 'a test manifest',
  schema,
  versionField: 'schema',
  version: currentVersion,
  migrations: {
    1: ({ title, ...rest }) => ({ ...rest, name: title }),
    2: ({ size, ...rest }) => ({ ...rest, rows: size }),
  },
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ts-versioned-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function fileWith(name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

test('a current file reads as it is', async () => {
  const current = { schema: currentVersion, name: 'wiki', rows: 4, tags: ['a'] };
  assert.deepEqual(await readVersionedJson(await fileWith('current.json', current), format), current);
});

test('a file without a version field is version 1 and migrates through every step', async () => {
  const read = await readVersionedJson(await fileWith('unversioned.json', { title: 'wiki', size: 4, tags: [] }), format);
  assert.deepEqual(read, { schema: currentVersion, name: 'wiki', rows: 4, tags: [] });
});

test('a file of a middle version migrates from there', async () => {
  const read = await readVersionedJson(await fileWith('v2.json', { schema: 2, name: 'wiki', size: 9, tags: [] }), format);
  assert.deepEqual(read, { schema: currentVersion, name: 'wiki', rows: 9, tags: [] });
});

test('a missing file reads as undefined', async () => {
  assert.equal(await readVersionedJson(join(dir, 'absent.json'), format), undefined);
});

test('a wrong field is refused with the file and the field named, every field at fault listed', async () => {
  const file = await fileWith('wrong.json', { schema: currentVersion, name: 'wiki', rows: -1, tags: ['a', 7] });
  await assert.rejects(readVersionedJson(file, format), (err: unknown) => {
    assert.ok(err instanceof JsonFileError);
    assert.equal(err.file, file);
    assert.deepEqual(err.issues.map((i) => i.path), ['$.rows', '$.tags[1]']);
    assert.ok(err.message.startsWith(`${file}: not a test manifest: $.rows: `), err.message);
    assert.match(err.message, /\$\.tags\[1\]: /);
    return true;
  });
});

test('a field broken in an old file is named by its current path after migration', async () => {
  const file = await fileWith('old-wrong.json', { title: 'wiki', size: 'many', tags: [] });
  await assert.rejects(readVersionedJson(file, format), (err: unknown) => err instanceof JsonFileError && err.issues[0]?.path === '$.rows');
});

test('a newer version is refused with a message that says to update, naming the file', async () => {
  const newer = currentVersion + 1;
  const file = await fileWith('newer.json', { schema: newer, name: 'wiki', rows: 1, tags: [] });
  await assert.rejects(readVersionedJson(file, format), (err: unknown) => {
    assert.ok(err instanceof JsonFileError);
    assert.ok(err.message.includes(file), err.message);
    assert.match(err.message, new RegExp(`\\$\\.schema: version ${newer} was written by a newer Trajectory Studio; this version reads versions up to ${currentVersion}\\. Update Trajectory Studio`));
    return true;
  });
});

test('a version that is not a whole number, a missing migration step, text that is not JSON and a non-object are refused', () => {
  assert.throws(() => parseVersionedJson(JSON.stringify({ schema: '2', name: 'x' }), 'f.json', format), /^JsonFileError: f\.json: not a test manifest: \$\.schema: expected a whole-number version, got "2"/);
  const gap = { ...format, migrations: { 2: format.migrations?.[2] } } as typeof format;
  assert.throws(() => parseVersionedJson(JSON.stringify({ title: 'x', size: 1, tags: [] }), 'f.json', gap), /\$\.schema: no migration from version 1 to 2/);
  assert.throws(() => parseVersionedJson('{"schema": 3,', 'f.json', format), /^JsonFileError: f\.json: not a test manifest: \$: not valid JSON/);
  assert.throws(() => parseVersionedJson('[1]', 'f.json', format), /\$: expected a JSON object, got an array/);
});

test('a format may keep its version under another key', async () => {
  const manifestSchema = z.object({ kind: z.literal('run'), manifestVersion: z.literal(1) });
  const manifestFormat: VersionedJsonFormat<typeof manifestSchema> = { what: 'a run manifest', schema: manifestSchema, versionField: 'manifestVersion', version: 1 };
  assert.deepEqual(await readVersionedJson(await fileWith('keyed.json', { kind: 'run' }), manifestFormat), { kind: 'run', manifestVersion: 1 });
  await assert.rejects(readVersionedJson(await fileWith('keyed-newer.json', { kind: 'run', manifestVersion: 2 }), manifestFormat), /\$\.manifestVersion: version 2 was written by a newer/);
});
