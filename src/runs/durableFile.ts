import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one way the product replaces a file it keeps (manifests, run records, caches, trajectory files):
 * the new content goes to a temporary file in the same folder, is flushed to disk (fsync), renamed over the
 * target and the folder is flushed too, so a crash or a full disk leaves either the old file or the new one,
 * never half of either. A failed write removes its temporary file.
 */

/** True for the error a read of a file or folder that does not exist fails with. */
export function isMissingFileError(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Awaits `work` (a read, a `readdir`, an `open`), giving undefined when it failed because the file or folder
 * does not exist; any other failure is rethrown.
 */
export async function undefinedIfMissing<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (isMissingFileError(err)) return undefined;
    throw err;
  }
}

/** Refusals from platforms that cannot flush a folder; the rename is then as durable as the OS makes it. */
const folderSyncUnsupported = new Set(['EINVAL', 'EPERM', 'EISDIR', 'EACCES']);

/** Flushes a folder's entries to disk, which makes a rename in it durable. */
export async function fsyncFolder(folder: string): Promise<void> {
  let dir: FileHandle | undefined;
  try {
    dir = await open(folder, 'r');
    await dir.sync();
  } catch (err) {
    // Windows cannot open a folder (EISDIR / EPERM / EACCES) and some file systems refuse fsync on one (EINVAL):
    // the new file is already in place there, so failing the write would report a loss that did not happen.
    if (!folderSyncUnsupported.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await dir?.close().catch(() => undefined);
  }
}

/**
 * What to write: the bytes (a string is written as UTF-8), or a function that writes them to the open
 * temporary file (for content produced in pieces, such as a JSONL file streamed from another).
 */
export type DurableContent = string | Uint8Array | ((file: FileHandle) => Promise<void>);

/**
 * Replaces `path` with `content` durably (see the module comment). The temporary file is
 * `.<name>.<random>.tmp` beside the target, so readers listing `*.json` never see it. Rejects, leaving the old
 * file as it was and no temporary file, when any step before the rename fails.
 */
export async function writeFileDurably(path: string, content: DurableContent): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  let committed = false;
  try {
    if (typeof content === 'function') await content(handle);
    else await handle.writeFile(content);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    committed = true;
    await fsyncFolder(folder);
  } finally {
    if (!committed) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}

/** Writes `value` as JSON (indented by `indent`, 2 unless given; 0 for one line) with a final newline, durably. */
export function writeJsonDurably(path: string, value: unknown, options: { indent?: number } = {}): Promise<void> {
  const indent = options.indent ?? 2;
  return writeFileDurably(path, `${indent > 0 ? JSON.stringify(value, null, indent) : JSON.stringify(value)}\n`);
}

/** Hex SHA-256 of a file's bytes, streamed. */
export function sha256OfFile(file: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
