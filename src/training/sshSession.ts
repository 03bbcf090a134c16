import { readFile } from 'node:fs/promises';
import { isMissingFileError } from '../runs/durableFile';
import { createServer, type Server, type AddressInfo } from 'node:net';
import type * as Ssh2 from 'ssh2';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper, PublicKeyAuthMethod, AgentAuthMethod } from 'ssh2';
import { sha256Fingerprint, keyTypeOfBlob } from './knownHosts';

/** Where and as whom to connect; produced by `resolveHostProfile`. */
export interface SshTarget {
  /** The address to dial (HostName after ~/.ssh/config resolution). */
  host: string;
  port: number;
  user: string;
  /** Private key files to offer, in order. */
  identityFiles: string[];
  /** ssh-agent socket, when one is available. */
  agentSocket?: string;
}

/** A host key the session is about to accept or refuse, as shown to the user. */
export interface PresentedHostKey {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  key: Buffer;
}

/** Decides whether a host key is acceptable (known_hosts, then a first-use prompt). Throwing refuses. */
export type HostKeyCheck = (presented: PresentedHostKey) => Promise<void>;

/** Supplies the passphrase of an encrypted key (from SecretStorage, a prompt, or an env var). */
export type PassphraseSource = (identityFile: string) => Promise<string | undefined>;

export interface SshConnectOptions {
  checkHostKey: HostKeyCheck;
  passphrase?: PassphraseSource;
  /** Handshake timeout; a dead host must not hang a command forever. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** An SSH connection was refused because of the host key (never retried automatically). */
export class HostKeyRejectedError extends Error {
  override readonly name = 'HostKeyRejectedError';
}

/** A remote command exited non-zero where success was required. */
export class RemoteCommandError extends Error {
  override readonly name = 'RemoteCommandError';
  constructor(
    readonly what: string,
    readonly result: ExecResult,
  ) {
    super(`${what} failed on the host (exit ${result.code ?? result.signal ?? '?'}): ${(result.stderr || result.stdout).trim().slice(-2000) || 'no output'}`);
  }
}

type Ssh2Module = typeof Ssh2;

/**
 * ssh2 loads on first use (it is native-backed and not needed at activation). Depending on the loader a
 * dynamic import of this CommonJS package yields the module itself or a namespace with `default`.
 */
async function loadSsh2(): Promise<Ssh2Module> {
  const mod = (await import('ssh2')) as Ssh2Module & { default?: Ssh2Module };
  return mod.default?.Client ? mod.default : mod;
}

async function privateKeyAuth(user: string, file: string, passphrase: PassphraseSource | undefined): Promise<PublicKeyAuthMethod | undefined> {
  const { utils } = await loadSsh2();
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if (isMissingFileError(err)) return undefined;
    throw new Error(`cannot read the identity file ${file}: ${(err as Error).message}`);
  }
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) return { type: 'publickey', username: user, key: data };
  if (!/encrypted|passphrase/i.test(plain.message)) throw new Error(`identity file ${file} is not a private key ssh can use: ${plain.message}`);
  const secret = await passphrase?.(file);
  if (secret === undefined) throw new Error(`identity file ${file} is encrypted and no passphrase was given`);
  const decrypted = utils.parseKey(data, secret);
  if (decrypted instanceof Error) throw new Error(`the passphrase for ${file} is wrong (${decrypted.message})`);
  return { type: 'publickey', username: user, key: data, passphrase: secret };
}

/**
 * One SSH connection to a training host: exec with captured output, SFTP transfers with progress, reads
 * from a byte offset, and local port forwards. Host keys are checked through the given callback before
 * any credential is sent.
 */
export class SshSession {
  private sftpPromise: Promise<SFTPWrapper> | undefined;
  private readonly forwards = new Set<Server>();
  private closed = false;

  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
  ) {
    client.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(target: SshTarget, options: SshConnectOptions): Promise<SshSession> {
    const { Client } = await loadSsh2();
    const auth: (AgentAuthMethod | PublicKeyAuthMethod)[] = [];
    if (target.agentSocket) auth.push({ type: 'agent', username: target.user, agent: target.agentSocket });
    for (const file of target.identityFiles) {
      const method = await privateKeyAuth(target.user, file, options.passphrase);
      if (method) auth.push(method);
    }
    if (auth.length === 0) {
      throw new Error(`no way to log in to ${target.user}@${target.host}: no ssh-agent (SSH_AUTH_SOCK) and none of these identity files exist: ${target.identityFiles.join(', ') || '(none configured)'}`);
    }
    const client = new Client();
    let hostKeyError: Error | undefined;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      authHandler: auth,
      readyTimeout: options.readyTimeoutMs ?? 20_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        const presented: PresentedHostKey = { host: target.host, port: target.port, keyType: keyTypeOfBlob(key), fingerprint: sha256Fingerprint(key), key };
        options.checkHostKey(presented).then(
          () => verify(true),
          (err: unknown) => {
            hostKeyError = err instanceof Error ? err : new Error(String(err));
            verify(false);
          },
        );
      },
    };
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        client.removeListener('ready', onReady);
        if (hostKeyError) reject(new HostKeyRejectedError(hostKeyError.message));
        else reject(new Error(`SSH connection to ${target.user}@${target.host}:${target.port} failed: ${err.message}`));
      };
      const onReady = () => {
        client.removeListener('error', onError);
        resolve();
      };
      client.once('ready', onReady);
      client.once('error', onError);
      client.connect(config);
    });
    const session = new SshSession(client, target);
    // later errors (a dropped link) surface through the operation that was running
    client.on('error', (err: Error) => options.log?.(`ssh ${target.host}: ${err.message}`));
    return session;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs a command line (build it with `shellCommand`) and collects its output. */
  exec(command: string, options: { signal?: AbortSignal; timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(command, (err, channel: ClientChannel) => {
        if (err) {
          reject(err);
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        const stop = (reason: Error) => {
          channel.close();
          reject(reason);
        };
        const onAbort = () => stop(options.signal?.reason instanceof Error ? options.signal.reason : new Error('cancelled'));
        options.signal?.addEventListener('abort', onAbort, { once: true });
        if (options.timeoutMs) timer = setTimeout(() => stop(new Error(`remote command timed out after ${options.timeoutMs} ms: ${command.slice(0, 200)}`)), options.timeoutMs);
        channel.on('data', (d: Buffer) => out.push(d));
        channel.stderr.on('data', (d: Buffer) => errOut.push(d));
        channel.on('close', (code: number | null, signal?: string) => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          resolve({ code: code ?? null, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      });
    });
  }

  /** `exec` that throws a `RemoteCommandError` unless the exit code is 0. */
  async run(what: string, command: string, options: { signal?: AbortSignal; timeoutMs?: number; stdin?: string } = {}): Promise<string> {
    const result = await this.exec(command, options);
    if (result.code !== 0) throw new RemoteCommandError(what, result);
    return result.stdout;
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpPromise ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp)));
    });
    return this.sftpPromise;
  }

  /** The remote home folder (what `~` means there). */
  async remoteHome(): Promise<string> {
    const sftp = await this.sftp();
    return new Promise<string>((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))));
  }

  /** Uploads with parallel SFTP writes (fastPut; a plain write stream is Nagle-bound and ~50× slower). */
  async upload(localPath: string, remotePath: string, onProgress?: (sent: number, total: number) => void, mode?: number): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      sftp.fastPut(localPath, remotePath, { step: (sent, _chunk, total) => onProgress?.(sent, total), ...(mode === undefined ? {} : { mode }) }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async download(remotePath: string, localPath: string, onProgress?: (received: number, total: number) => void): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      sftp.fastGet(remotePath, localPath, { step: (got, _chunk, total) => onProgress?.(got, total) }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async writeFile(remotePath: string, content: string, mode = 0o644): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => sftp.writeFile(remotePath, content, { mode }, (err) => (err ? reject(err) : resolve())));
  }

  /** Size of a remote file, or undefined when it does not exist. */
  async size(remotePath: string): Promise<number | undefined> {
    const sftp = await this.sftp();
    return new Promise<number | undefined>((resolve, reject) =>
      sftp.stat(remotePath, (err, stats) => {
        if (err) {
          if ((err as Error & { code?: number }).code === 2) resolve(undefined);
          else reject(err);
        } else resolve(stats.size);
      }),
    );
  }

  async readText(remotePath: string): Promise<string | undefined> {
    const chunk = await this.readFrom(remotePath, 0, 16 * 1024 * 1024);
    return chunk?.toString('utf8');
  }

  /** Reads at most `maxBytes` from `offset`; undefined when the file does not exist. */
  async readFrom(remotePath: string, offset: number, maxBytes = 1024 * 1024): Promise<Buffer | undefined> {
    const sftp = await this.sftp();
    const handle = await new Promise<Buffer | undefined>((resolve, reject) =>
      sftp.open(remotePath, 'r', (err, h) => {
        if (err) {
          if ((err as Error & { code?: number }).code === 2) resolve(undefined);
          else reject(err);
        } else resolve(h);
      }),
    );
    if (!handle) return undefined;
    try {
      const parts: Buffer[] = [];
      let position = offset;
      let remaining = maxBytes;
      while (remaining > 0) {
        const buffer = Buffer.alloc(Math.min(remaining, 256 * 1024));
        const read = await new Promise<number>((resolve, reject) =>
          sftp.read(handle, buffer, 0, buffer.length, position, (err, bytesRead) => {
            // ssh2 reports end of file as an error with code 1 (EOF)
            if (err) {
              if ((err as Error & { code?: number }).code === 1) resolve(0);
              else reject(err);
            } else resolve(bytesRead);
          }),
        );
        if (read === 0) break;
        parts.push(buffer.subarray(0, read));
        position += read;
        remaining -= read;
      }
      return Buffer.concat(parts);
    } finally {
      await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
    }
  }

  /**
   * Forwards a local port on 127.0.0.1 to `remoteHost:remotePort` as seen from the SSH host (like
   * `ssh -L`). Resolves with the local port; the forward lasts until `close()`.
   */
  async forwardLocalPort(localPort: number, remoteHost: string, remotePort: number): Promise<number> {
    const server = createServer((socket) => {
      // a channel to a port nothing listens on yet may get no answer at all; do not hold the client forever
      const timer = setTimeout(() => socket.destroy(), 15_000);
      socket.on('error', () => socket.destroy());
      this.client.forwardOut('127.0.0.1', socket.remotePort ?? 0, remoteHost, remotePort, (err, stream) => {
        clearTimeout(timer);
        if (err || socket.destroyed) {
          socket.destroy();
          stream?.close();
          return;
        }
        socket.pipe(stream).pipe(socket);
        socket.on('close', () => stream.close());
        stream.on('error', () => socket.destroy());
        stream.on('close', () => socket.destroy());
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(localPort, '127.0.0.1', () => resolve());
    });
    this.forwards.add(server);
    return (server.address() as AddressInfo).port;
  }

  close(): void {
    for (const f of this.forwards) f.close();
    this.forwards.clear();
    this.client.end();
  }
}
