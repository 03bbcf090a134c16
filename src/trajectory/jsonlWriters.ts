import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { isMissingFileError, writeFileDurably } from '../runs/durableFile';
import { type TextLayout } from './jsonlIndex';
import { type Trajectory } from './schema';
import { FileChangedOnDiskError, type TrajectoryFile } from './trajectoryFile';

/**
 * Writers for trajectory JSONL files. Whole-file writes are atomic (temp file in the same folder, fsync,
 * rename, fsync of the folder), so a crash leaves either the old file or the new one. Lines that could not
 * be parsed are copied byte for byte, never dropped. Long runs append with {@link TrajectoryAppender},
 * which sets aside a torn last line left by a crash instead of gluing the next record onto it.
 */

/** Top-level keys in the order they are written: what a list shows first, the bulky arrays last. */
const KEY_ORDER = ['schema', 'id', 'createdAt', 'task', 'origin', 'finalAnswer', 'fromFallback', 'judgement', 'review', 'meta', 'fallbackOutput', 'steps', 'revisions'];

/** One JSON line (no newline) for a trajectory, with a stable key order. */
export function serializeTrajectory(t: Trajectory): string {
  const source = t as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) if (source[key] !== undefined) ordered[key] = source[key];
  for (const key of Object.keys(source)) if (!(key in ordered) && source[key] !== undefined) ordered[key] = source[key];
  return JSON.stringify(ordered);
}

/** A line to write as is: the bytes of a record that could not be parsed (or must stay byte-identical). */
export interface RawLine {
  raw: Buffer;
}

export type JsonlItem = Trajectory | RawLine | string;

function isRawLine(item: JsonlItem): item is RawLine {
  return typeof item === 'object' && 'raw' in item && Buffer.isBuffer((item).raw);
}

/** Buffers small writes into large ones; the file handle sees few, big writes. */
class BufferedSink {
  private parts: Buffer[] = [];
  private pending = 0;
  constructor(
    private readonly handle: FileHandle,
    private readonly flushBytes = 1 << 20,
  ) {}
  async write(data: Buffer): Promise<void> {
    this.parts.push(data);
    this.pending += data.length;
    if (this.pending >= this.flushBytes) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const data = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.pending);
    this.parts = [];
    this.pending = 0;
    await this.handle.write(data, 0, data.length);
  }
}

export interface AtomicWriteOptions {
  /** BOM and line terminator to write; defaults to no BOM and `\n`. A final newline is always written. */
  layout?: Pick<TextLayout, 'hasBom' | 'lineEnding'>;
  signal?: AbortSignal;
}

/**
 * Writes `items` as the new content of `path`, atomically. Trajectories are serialized, strings are
 * written as given (one line each, must not contain a newline), raw lines byte for byte.
 */
export async function writeJsonlAtomically(path: string, items: Iterable<JsonlItem> | AsyncIterable<JsonlItem>, options: AtomicWriteOptions = {}): Promise<void> {
  const eol = Buffer.from(options.layout?.lineEnding ?? '\n');
  await writeFileDurably(path, async (handle) => {
    const sink = new BufferedSink(handle);
    if (options.layout?.hasBom) await sink.write(Buffer.from([0xef, 0xbb, 0xbf]));
    for await (const item of items) {
      options.signal?.throwIfAborted();
      let bytes: Buffer;
      if (isRawLine(item)) bytes = item.raw;
      else if (typeof item === 'string') bytes = Buffer.from(item, 'utf8');
      else bytes = Buffer.from(serializeTrajectory(item), 'utf8');
      if (!isRawLine(item) && bytes.includes(0x0a)) throw new Error('a JSONL line must not contain a newline');
      await sink.write(bytes);
      await sink.write(eol);
    }
    await sink.flush();
  });
}

/** Writes trajectories (and raw lines) to `path` atomically. */
export function writeTrajectoryFile(path: string, items: Iterable<JsonlItem> | AsyncIterable<JsonlItem>, options: AtomicWriteOptions = {}): Promise<void> {
  return writeJsonlAtomically(path, items, options);
}

/** Changes to apply to an open file; indexes are record indexes of that file. */
export interface TrajectoryEdits {
  /** New content for records, by index. */
  replace?: ReadonlyMap<number, Trajectory>;
  /** Records to leave out. */
  remove?: ReadonlySet<number>;
  /** Records to add at the end. */
  append?: readonly Trajectory[];
}

export interface SaveOptions {
  /** Overwrite even when the file changed on disk since it was opened. */
  force?: boolean;
  signal?: AbortSignal;
}

/**
 * Saves edits to the file `file` was opened from, atomically. Unedited records are copied byte for byte
 * (including lines that do not parse); the file's BOM and line terminator are kept; blank lines are not.
 * Refuses with {@link FileChangedOnDiskError} when the file changed on disk, unless `force`.
 * The open `file` still describes the old content afterwards: reopen to see the saved one.
 */
export async function saveTrajectoryEdits(file: TrajectoryFile, edits: TrajectoryEdits, options: SaveOptions = {}): Promise<void> {
  if (!options.force && (await file.hasChangedOnDisk())) throw new FileChangedOnDiskError(file.path);
  for (const i of [...(edits.replace?.keys() ?? []), ...(edits.remove ?? [])]) {
    if (!Number.isInteger(i) || i < 0 || i >= file.count) throw new RangeError(`record index ${i} is out of range (the file has ${file.count} records)`);
  }
  async function* items(): AsyncGenerator<JsonlItem> {
    for (let i = 0; i < file.count; i++) {
      if (edits.remove?.has(i)) continue;
      const replacement = edits.replace?.get(i);
      if (replacement) yield replacement;
      else yield { raw: await file.readRaw(i) };
    }
    for (const t of edits.append ?? []) yield t;
  }
  await writeJsonlAtomically(file.path, items(), {
    layout: { hasBom: file.layout.hasBom, lineEnding: file.layout.lineEnding },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** What {@link TrajectoryAppender.open} found at the end of an existing file. */
export interface TornTail {
  /** Where the incomplete line was moved to. */
  setAsidePath: string;
  /** Its size in bytes. */
  bytes: number;
  /** Byte offset where it started in the file. */
  offset: number;
}

export interface AppenderOptions {
  /** fsync after every record (default true): a crash loses at most the record being written. */
  fsyncEachRecord?: boolean;
}

/**
 * Appends trajectories to a JSONL file during a long run (generation, evaluation). Each record is one
 * write of one complete line. On open, a last line without a newline is examined: if it is complete
 * JSON, the missing newline is added; otherwise it is moved to a `<file>.torn-<time>` file beside it and
 * cut from the data file, so the next record starts on a line of its own.
 */
export class TrajectoryAppender {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly fsyncEachRecord: boolean,
    /** Set when a torn last line was found and set aside on open. */
    readonly tornTail: TornTail | undefined,
  ) {}

  static async open(path: string, options: AppenderOptions = {}): Promise<TrajectoryAppender> {
    const tornTail = await repairTail(path);
    const handle = await open(path, 'a');
    return new TrajectoryAppender(path, handle, options.fsyncEachRecord ?? true, tornTail);
  }

  /** Appends one record; calls are serialized, so concurrent callers never interleave bytes. */
  append(t: Trajectory): Promise<void> {
    return this.appendLine(serializeTrajectory(t));
  }

  /** Appends one already serialized line (without newline). */
  appendLine(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.path}: the appender is closed`));
    if (line.includes('\n')) return Promise.reject(new Error('a JSONL line must not contain a newline'));
    const run = async (): Promise<void> => {
      await this.handle.appendFile(`${line}\n`, 'utf8');
      if (this.fsyncEachRecord) await this.handle.sync();
    };
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle.sync().catch(() => undefined);
    await this.handle.close();
  }
}

/** Finds the start of the last line (the byte after the last `\n`), reading backwards in chunks. */
async function lastLineStart(handle: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (at !== -1) return start + at + 1;
    end = start;
  }
  return 0;
}

async function repairTail(path: string): Promise<TornTail | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+');
  } catch (err) {
    if (isMissingFileError(err)) return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return undefined;
    const start = await lastLineStart(handle, size);
    const tail = Buffer.allocUnsafe(size - start);
    await handle.read(tail, 0, tail.length, start);
    let complete = false;
    try {
      JSON.parse(tail.toString('utf8'));
      complete = tail.toString('utf8').trim() !== '';
    } catch {
      complete = false;
    }
    if (complete || tail.toString('utf8').trim() === '') {
      await handle.write('\n', size);
      await handle.sync();
      return undefined;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const setAsidePath = `${path}.torn-${stamp}`;
    const aside = await open(setAsidePath, 'wx');
    try {
      await aside.write(tail, 0, tail.length);
      await aside.sync();
    } finally {
      await aside.close();
    }
    await handle.truncate(start);
    await handle.sync();
    return { setAsidePath, bytes: tail.length, offset: start };
  } finally {
    await handle.close();
  }
}

/**
 * Moves the records `setAside` picks out of a JSONL file into a side file beside it
 * (`<name>.retried-<time>.jsonl`) and rewrites the file without them, both atomically, so a retry writes each
 * question once and nothing is lost. Lines that do not parse stay where they are (their readers report them).
 */
export async function setRecordsAside(file: string, setAside: (record: unknown) => boolean, nowMs: number): Promise<{ count: number; sideFile?: string }> {
  const kept: string[] = [];
  const aside: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let picked = false;
    try {
      picked = setAside(JSON.parse(line) as unknown);
    } catch {
      picked = false;
    }
    (picked ? aside : kept).push(line);
  }
  if (aside.length === 0) return { count: 0 };
  const sideFile = `${file.replace(/(\.traj)?\.jsonl$/i, '')}.retried-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}.jsonl`;
  await writeJsonlAtomically(sideFile, aside);
  await writeJsonlAtomically(file, kept);
  return { count: aside.length, sideFile };
}
