import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { defaultWorkerScript } from '../../../src/sandbox/prepare';

const run = promisify(execFile);

/** The user the adversarial suite runs model code as. `runAs` is absent when the test already runs unprivileged. */
export interface SandboxTestUser {
  runAs?: { uid: number; gid: number };
  home: string;
  name: string;
  /**
   * A copy of the sandbox worker that this user can read. The checkout may live where only its owner can
   * read (a private temp folder, root's home), and the worker is started as this user.
   */
  workerScript: string;
}

const USER_NAME = 'tssandbox';

async function lookUp(name: string): Promise<Omit<SandboxTestUser, 'workerScript'> | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid, , home] = stdout.trim().split(':');
    if (uid === undefined || gid === undefined || !home) return undefined;
    return { runAs: { uid: Number(uid), gid: Number(gid) }, home, name };
  } catch {
    return undefined;
  }
}

async function readableWorker(): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'ts-sandbox-worker-'));
  await chmod(folder, 0o755);
  const copy = path.join(folder, 'sandbox_worker.py');
  await copyFile(await defaultWorkerScript(), copy);
  await chmod(copy, 0o644);
  return copy;
}

/** Why `user` cannot start `python` on `workerScript`, or undefined when it can. */
async function cannotRun(user: Omit<SandboxTestUser, 'workerScript'>, python: string, workerScript: string): Promise<string | undefined> {
  try {
    await run(python, ['-I', '-c', 'import sys; open(sys.argv[1]).read()', workerScript], { timeout: 30_000, ...(user.runAs ?? {}) });
    return undefined;
  } catch (err) {
    return `${user.name} cannot run ${python} on ${workerScript}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/**
 * The test user with a worker it can read, checked by running `python` as that user; a reason string when
 * this machine cannot provide one, so the caller skips visibly.
 */
export async function sandboxTestUser(python: string): Promise<SandboxTestUser | string> {
  const user = await findOrCreateUser();
  if (typeof user === 'string') return user;
  const workerScript = await readableWorker();
  const problem = await cannotRun(user, python, workerScript);
  return problem ?? { ...user, workerScript };
}

/**
 * A real user's view: unprivileged. As root (CI containers, this machine) the suite creates a dedicated
 * account once (`useradd`, password locked with `usermod -p '*'`); otherwise it runs as the current user.
 * Returns a reason string when neither is possible, so the caller can skip visibly.
 */
async function findOrCreateUser(): Promise<Omit<SandboxTestUser, 'workerScript'> | string> {
  if (typeof process.getuid !== 'function') return 'not a POSIX system';
  if (process.getuid() !== 0) return { home: os.homedir(), name: os.userInfo().username };
  const existing = await lookUp(USER_NAME);
  if (existing) return existing;
  try {
    await run('useradd', ['--create-home', '--shell', '/usr/sbin/nologin', USER_NAME]);
    await run('usermod', ['-p', '*', USER_NAME]);
  } catch (err) {
    // Another test file may have created it at the same moment.
    const raced = await lookUp(USER_NAME);
    if (raced) return raced;
    return `cannot create an unprivileged user (${err instanceof Error ? err.message : String(err)})`;
  }
  return (await lookUp(USER_NAME)) ?? 'the created user cannot be looked up';
}
