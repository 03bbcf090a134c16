import * as assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isMissingFileError, undefinedIfMissing, writeFileDurably, writeJsonDurably } from '../../../src/runs/durableFile';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ts-durable-'));
});
after(() => rm(root, { recursive: true, force: true }));

async function freshFolder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

test('a durable write replaces the file and leaves nothing else in the folder', async () => {
  const dir = await freshFolder('replace');
  const file = join(dir, 'manifest.json');
  await writeFileDurably(file, 'old\n');
  await writeFileDurably(file, Buffer.from('new\n'));
  assert.equal(await readFile(file, 'utf8'), 'new\n');
  assert.deepEqual(await readdir(dir), ['manifest.json']);
});

test('a write that fails part way leaves the old file as it was and no temporary file', async () => {
  const dir = await freshFolder('fail-midway');
  const file = join(dir, 'run.json');
  const old = `${JSON.stringify({ state: 'running' }, null, 2)}\n`;
  await writeFile(file, old);
  await assert.rejects(
    writeFileDurably(file, async (handle) => {
      await handle.write('{"state": "succ');
      throw new Error('disk full');
    }),
    /disk full/,
  );
  assert.equal(await readFile(file, 'utf8'), old);
  assert.deepEqual(await readdir(dir), ['run.json']);
});

test('a rename that fails (the target is a folder) leaves that folder alone and no temporary file', async () => {
  const dir = await freshFolder('fail-rename');
  const target = join(dir, 'taken');
  await mkdir(target);
  await writeFile(join(target, 'inside.txt'), 'kept');
  await assert.rejects(writeFileDurably(target, 'content'));
  assert.deepEqual(await readdir(dir), ['taken']);
  assert.equal(await readFile(join(target, 'inside.txt'), 'utf8'), 'kept');
});

test('writing into a folder that does not exist fails as a missing file, creating nothing', async () => {
  const dir = await freshFolder('no-folder');
  const err: unknown = await writeFileDurably(join(dir, 'absent', 'x.json'), '{}').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isMissingFileError(err), String(err));
  assert.deepEqual(await readdir(dir), []);
});

test('JSON is written indented with a final newline, or on one line when asked', async () => {
  const dir = await freshFolder('json');
  const value = { kind: 'eval-run', sessions: [{ attempted: 3 }] };
  await writeJsonDurably(join(dir, 'pretty.json'), value);
  await writeJsonDurably(join(dir, 'compact.json'), value, { indent: 0 });
  const pretty = await readFile(join(dir, 'pretty.json'), 'utf8');
  const compact = await readFile(join(dir, 'compact.json'), 'utf8');
  assert.deepEqual(JSON.parse(pretty), value);
  assert.deepEqual(JSON.parse(compact), value);
  assert.ok(pretty.endsWith('}\n') && pretty.split('\n').length > 2, pretty);
  assert.equal(compact.split('\n').length, 2, 'one line, then the final newline');
});

test('undefinedIfMissing: undefined for a missing file or folder, the result otherwise, other errors rethrown', async () => {
  const dir = await freshFolder('missing');
  await writeFile(join(dir, 'here.txt'), 'hello');
  assert.equal(await undefinedIfMissing(readFile(join(dir, 'gone.txt'), 'utf8')), undefined);
  assert.equal(await undefinedIfMissing(readdir(join(dir, 'no-such-folder'))), undefined);
  assert.equal(await undefinedIfMissing(readFile(join(dir, 'here.txt'), 'utf8')), 'hello');
  // Reading a folder as a file is not "missing": the caller must hear about it.
  await assert.rejects(undefinedIfMissing(readFile(dir, 'utf8')), (err: unknown) => !isMissingFileError(err));
});
