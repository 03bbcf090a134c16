import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { openTrajectoryFile, FileChangedOnDiskError } from '../../../src/trajectory/trajectoryFile';
import { serializeTrajectory, saveTrajectoryEdits, TrajectoryAppender, writeTrajectoryFile } from '../../../src/trajectory/jsonlWriters';
import { arbitraryTrajectory, seededRandom } from './arbitraryTrajectory';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'traj-store-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function lines(n: number, seed = 1) {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => arbitraryTrajectory(rand, i));
}

void test('round trip: generated trajectories written as JSONL read back equal, by random access', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'a.traj.jsonl');
    const originals = lines(300, 7);
    await writeTrajectoryFile(path, originals);
    const file = await openTrajectoryFile(path, { chunkBytes: 4096 });
    try {
      assert.equal(file.count, originals.length);
      for (const i of [299, 0, 150, 17, 298]) {
        const r = await file.read(i);
        assert.ok(r.ok, `record ${i}`);
        assert.deepEqual(r.trajectory, originals[i]);
        assert.equal(r.line, i + 1);
      }
      const diagnostics = await file.validate();
      assert.deepEqual(diagnostics, []);
      assert.equal(file.summaryOf(5)?.id, originals[5].id);
      assert.equal(file.summaryOf(5)?.stepCount, originals[5].steps.length);
    } finally {
      await file.close();
    }
  });
});

void test('the index agrees with a naive line split for any chunk size, BOM, CRLF, blank lines and multi-byte text', async () => {
  await withTempDir(async (dir) => {
    const rand = seededRandom(99);
    for (let round = 0; round < 40; round++) {
      const records = lines(1 + Math.floor(rand() * 6), round).map(serializeTrajectory);
      const crlf = rand() < 0.5;
      const eol = crlf ? '\r\n' : '\n';
      let text = rand() < 0.5 ? '\ufeff' : '';
      const expectedLines: number[] = [];
      let lineNo = 1;
      for (const r of records) {
        while (rand() < 0.3) {
          text += (rand() < 0.5 ? '  ' : '') + eol;
          lineNo++;
        }
        text += r + eol;
        expectedLines.push(lineNo++);
      }
      if (rand() < 0.5) text = text.slice(0, -eol.length); // no final newline
      const path = join(dir, `r${round}.jsonl`);
      await writeFile(path, text);
      const chunkBytes = 16 + Math.floor(rand() * 200);
      const file = await openTrajectoryFile(path, { chunkBytes });
      try {
        assert.equal(file.count, records.length, `round ${round}`);
        assert.equal(file.layout.hasBom, text.startsWith('\ufeff'));
        for (let i = 0; i < records.length; i++) {
          assert.equal((await file.readRaw(i)).toString('utf8'), records[i], `round ${round} record ${i} chunk ${chunkBytes}`);
          assert.equal(file.index.lineOf(i), expectedLines[i]);
        }
        assert.deepEqual(file.diagnostics, []);
        if (records.length > 1) assert.equal(file.layout.lineEnding, eol);
      } finally {
        await file.close();
      }
    }
  });
});

void test('invalid UTF-8, bad JSON, deep type errors and a future version are reported by line and path; bytes are kept on save', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.traj.jsonl');
    const good = lines(3, 3);
    const deep = JSON.parse(serializeTrajectory(good[1]));
    deep.steps = [{ thought: 't', code: 'c', modelOutput: 'm', observation: { printOutput: 'p', lastValue: 'None', webSearchCalls: [{ query: 'q', passages: [{ id: 'x', title: 't', text: 'z', score: 'high' }] }] } }];
    const future = { ...JSON.parse(serializeTrajectory(good[2])), schema: 99 };
    const invalidUtf8 = Buffer.concat([Buffer.from('{"schema":1,"id":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const content = Buffer.concat([
      Buffer.from(`${serializeTrajectory(good[0])}\n`),
      invalidUtf8, Buffer.from('\n'),
      Buffer.from('{"schema": 1, "id": \n'),
      Buffer.from(`${JSON.stringify(deep)}\n`),
      Buffer.from(`${JSON.stringify(future)}\n`),
    ]);
    await writeFile(path, content);
    const file = await openTrajectoryFile(path, { chunkBytes: 32 });
    try {
      assert.equal(file.count, 5);
      assert.ok(file.diagnostics.some((d) => d.line === 2 && d.kind === 'encoding'), 'encoding found by the index pass');
      const all = await file.validate();
      const at = (line: number) => all.filter((d) => d.line === line);
      assert.equal(at(1).length, 0);
      assert.equal(at(2)[0].kind, 'encoding');
      assert.equal(at(3)[0].kind, 'json');
      assert.match(at(3)[0].message, /not valid JSON/);
      assert.deepEqual(at(4).map((d) => d.path), ['$.steps[0].observation.webSearchCalls[0].passages[0].score']);
      assert.match(at(4)[0].message, /expected number/);
      assert.match(at(5)[0].message, /newer Trajectory Studio/);
      const r = await file.read(1);
      assert.ok(!r.ok);
      assert.deepEqual(r.raw, invalidUtf8);

      // Editing the good record keeps every bad line byte for byte.
      const edited = { ...good[0], review: { status: 'accepted' as const, reasonTags: [] } };
      await saveTrajectoryEdits(file, { replace: new Map([[0, edited]]) });
    } finally {
      await file.close();
    }
    const after = await readFile(path);
    assert.ok(after.includes(invalidUtf8));
    assert.ok(after.includes(Buffer.from('{"schema": 1, "id": \n')));
    assert.ok(after.includes(Buffer.from(JSON.stringify(future))));
    const reopened = await openTrajectoryFile(path);
    try {
      assert.equal(reopened.count, 5);
      const first = await reopened.read(0);
      assert.ok(first.ok && first.trajectory.review.status === 'accepted');
    } finally {
      await reopened.close();
    }
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  });
});

void test('a 50 MB line is indexed with a small buffer and read back exactly', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'huge.traj.jsonl');
    const [small, big] = lines(2, 11);
    const huge = 'é'.repeat(25 * 1024 * 1024); // 50 MB of two-byte characters
    big.steps = [{ thought: 'print it', code: 'print(s)', modelOutput: 'x', observation: { printOutput: huge, lastValue: 'None', webSearchCalls: [] } }];
    await writeTrajectoryFile(path, [small, big, small]);
    const file = await openTrajectoryFile(path, { chunkBytes: 64 * 1024 });
    try {
      assert.equal(file.count, 3);
      assert.ok(file.index.byteLengthOf(1) > 50 * 1024 * 1024);
      const r = await file.read(1);
      assert.ok(r.ok);
      assert.equal(r.trajectory.steps[0].observation!.printOutput.length, huge.length);
      const last = await file.read(2);
      assert.ok(last.ok && last.trajectory.id === small.id);
    } finally {
      await file.close();
    }
  });
});

void test('a torn last line is reported by the reader and set aside by the appender, never merged', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'run.traj.jsonl');
    const [a, b, c] = lines(3, 5);
    const torn = serializeTrajectory(b).slice(0, 57);
    await writeFile(path, `${serializeTrajectory(a)}\n${torn}`);
    const file = await openTrajectoryFile(path);
    try {
      assert.ok(file.hasTruncatedTail);
      assert.equal(file.diagnostics[0].kind, 'truncated');
      assert.equal(file.diagnostics[0].line, 2);
    } finally {
      await file.close();
    }
    const appender = await TrajectoryAppender.open(path);
    assert.ok(appender.tornTail);
    assert.equal(await readFile(appender.tornTail.setAsidePath, 'utf8'), torn);
    await Promise.all([appender.append(b), appender.append(c)]);
    await appender.close();
    const reread = await openTrajectoryFile(path);
    try {
      assert.equal(reread.count, 3);
      assert.deepEqual(await reread.validate(), []);
      assert.deepEqual((await reread.read(2)).ok && (await reread.readTrajectory(2)).id, c.id);
    } finally {
      await reread.close();
    }
  });
});

void test('a complete last line without newline gets its newline, not set aside', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'run.traj.jsonl');
    const [a, b] = lines(2, 8);
    await writeFile(path, serializeTrajectory(a));
    const appender = await TrajectoryAppender.open(path);
    assert.equal(appender.tornTail, undefined);
    await appender.append(b);
    await appender.close();
    assert.equal(await readFile(path, 'utf8'), `${serializeTrajectory(a)}\n${serializeTrajectory(b)}\n`);
  });
});

void test('saving refuses when the file changed on disk since it was opened, unless forced', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'c.traj.jsonl');
    const [a, b] = lines(2, 9);
    await writeTrajectoryFile(path, [a]);
    const file = await openTrajectoryFile(path);
    try {
      assert.equal(await file.hasChangedOnDisk(), false);
      await appendFile(path, `${serializeTrajectory(b)}\n`);
      assert.equal(await file.hasChangedOnDisk(), true);
      await assert.rejects(saveTrajectoryEdits(file, { remove: new Set([0]) }), FileChangedOnDiskError);
      await saveTrajectoryEdits(file, { append: [b] }, { force: true });
    } finally {
      await file.close();
    }
  });
});

void test('an atomic write that fails midway leaves the old file and no temp file', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'd.traj.jsonl');
    const [a, b] = lines(2, 10);
    await writeTrajectoryFile(path, [a]);
    const before = await readFile(path);
    async function* failing() {
      yield b;
      await Promise.resolve();
      throw new Error('disk on fire');
    }
    await assert.rejects(writeTrajectoryFile(path, failing()), /disk on fire/);
    assert.deepEqual(await readFile(path), before);
    assert.deepEqual(await readdir(dir), ['d.traj.jsonl']);
  });
});

void test('CRLF and BOM are kept when a file is saved', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'e.traj.jsonl');
    const [a, b] = lines(2, 12);
    await writeFile(path, `\ufeff${serializeTrajectory(a)}\r\n\r\n${serializeTrajectory(b)}\r\n`);
    const file = await openTrajectoryFile(path);
    try {
      await saveTrajectoryEdits(file, { remove: new Set([0]) });
    } finally {
      await file.close();
    }
    assert.equal(await readFile(path, 'utf8'), `\ufeff${serializeTrajectory(b)}\r\n`);
  });
});

/**
 * Runs the crash fixture until it reports `torn <bytes>` on stdout, then kills it with SIGKILL. Fails (with
 * everything the child printed) if it exits early or does not get there within `timeoutMs`.
 */
async function crashMidAppend(path: string, wholeRecords: number, timeoutMs = 30_000): Promise<{ tornBytes: number }> {
  const fixture = join(__dirname, '..', '..', 'fixtures', 'trajectory', 'crashMidAppend.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, path, String(wholeRecords)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const tornBytes = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the crash fixture did not tear a line within ${timeoutMs} ms; it printed:\n${output}`)), timeoutMs);
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        const m = /^torn (\d+)$/m.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the crash fixture exited (${signal ?? code}) before tearing a line; it printed:\n${output}`));
      });
    });
    return { tornBytes };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}

void test('a writer killed mid-append leaves whole records; the reader reports the torn line and the next appender sets it aside', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'crash.traj.jsonl');
    const wholeRecords = 3;
    const { tornBytes } = await crashMidAppend(path, wholeRecords);

    const before = await readFile(path);
    const tornStart = before.lastIndexOf(0x0a) + 1;
    assert.equal(before.length - tornStart, tornBytes, 'the file ends in the half line the writer left');
    const file = await openTrajectoryFile(path);
    try {
      // the editor shows the whole records and reports the torn last line, which it keeps as it is
      assert.equal(file.hasTruncatedTail, true);
      assert.equal(file.count, wholeRecords + 1);
      for (let i = 0; i < wholeRecords; i++) {
        const read = await file.read(i);
        assert.ok(read.ok, `record ${i} is whole`);
        assert.equal(read.trajectory.id, `crash-${i}`);
      }
      const reported = file.diagnostics.filter((d) => d.kind === 'truncated');
      assert.equal(reported.length, 1, `one torn line is reported: ${JSON.stringify(file.diagnostics)}`);
      assert.equal(reported[0]?.offset, tornStart, 'the report points at the torn line');
    } finally {
      await file.close();
    }
    assert.deepEqual(await readFile(path), before, 'opening the file changes nothing');

    const appender = await TrajectoryAppender.open(path);
    const next = lines(1, 3)[0];
    await appender.append(next);
    await appender.close();

    const torn = appender.tornTail;
    assert.ok(torn, 'the appender found the torn tail');
    assert.equal(torn.offset, tornStart);
    assert.equal(torn.bytes, tornBytes);
    assert.equal(torn.setAsidePath.startsWith(`${path}.torn-`), true, `set aside beside the file: ${torn.setAsidePath}`);
    assert.ok((await readdir(dir)).includes(basename(torn.setAsidePath)), 'the set-aside file is in the folder');
    assert.deepEqual(await readFile(torn.setAsidePath), before.subarray(tornStart), 'the torn bytes are kept beside the file');

    const after = await openTrajectoryFile(path);
    try {
      assert.equal(after.hasTruncatedTail, false);
      assert.equal(after.count, wholeRecords + 1);
      assert.deepEqual(await after.validate(), []);
      const last = await after.read(wholeRecords);
      assert.ok(last.ok);
      assert.equal(last.trajectory.id, next.id, 'the new record starts on a line of its own');
    } finally {
      await after.close();
    }
    assert.deepEqual((await readFile(path)).subarray(0, tornStart), before.subarray(0, tornStart), 'the whole records are untouched');
  });
});
