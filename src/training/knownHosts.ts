import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { undefinedIfMissing } from '../runs/durableFile';
import { dirname } from 'node:path';

/**
 * OpenSSH `known_hosts` reading and matching, because `ssh2` leaves host-key checking to the caller.
 * Handles plain host names, `[host]:port`, comma-separated patterns with `*`/`?` and `!` negation,
 * hashed entries (`|1|salt|hmac`, HMAC-SHA1 keyed with the salt over the host string), and the
 * `@revoked` / `@cert-authority` markers.
 */

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | undefined;
  /** The raw host field: comma-separated patterns, or one hashed `|1|…` entry. */
  hosts: string;
  keyType: string;
  /** The key blob in SSH wire format (what `ssh2` hands `hostVerifier`). */
  key: Buffer;
  /** Where it came from, for messages: `file:line`. */
  source: string;
}

/** The outcome of checking a presented host key. */
export type HostKeyVerdict =
  | { status: 'trusted'; source: string }
  | { status: 'unknown' }
  /** The host is known with a different key: possibly an attack; never accepted automatically. */
  | { status: 'mismatch'; knownFingerprints: string[]; sources: string[] }
  | { status: 'revoked'; source: string };

/** `SHA256:` + unpadded base64 of the key blob's SHA-256, as `ssh-keygen -l` prints it. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH wire-format key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOfBlob(key: Buffer): string {
  if (key.length < 4) throw new Error('host key blob is too short');
  const length = key.readUInt32BE(0);
  if (length > key.length - 4 || length > 64) throw new Error('host key blob has no valid type name');
  return key.subarray(4, 4 + length).toString('latin1');
}

/** The host string OpenSSH stores and hashes: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Parses a known_hosts file. Comment and blank lines are skipped; a line that cannot be parsed is
 * reported with its line number rather than ignored, because a silently skipped line could hide the
 * very key that should have been checked.
 */
export function parseKnownHosts(text: string, fileName: string): { entries: KnownHostEntry[]; problems: string[] } {
  const entries: KnownHostEntry[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const source = `${fileName}:${index + 1}`;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push(`${source}: unknown marker "${m}"`);
        return;
      }
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) {
      problems.push(`${source}: expected "hosts keytype key"`);
      return;
    }
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== keyBase64.replace(/=+$/, '')) {
      problems.push(`${source}: the key is not valid base64`);
      return;
    }
    entries.push({ marker, hosts, keyType, key, source });
  });
  return { entries, problems };
}

/** OpenSSH pattern match: `*` any run, `?` one character; case-insensitive like host names. */
function matchesPattern(name: string, pattern: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(name);
}

/** Whether a known_hosts host field names this host string (`host` or `[host]:port`). */
export function hostFieldMatches(hostsField: string, name: string): boolean {
  if (hostsField.startsWith('|1|')) {
    const [, , saltB64, hashB64] = hostsField.split('|');
    if (!saltB64 || !hashB64) return false;
    const digest = createHmac('sha1', Buffer.from(saltB64, 'base64')).update(name).digest('base64');
    return digest === hashB64;
  }
  let matched = false;
  for (const pattern of hostsField.split(',')) {
    if (pattern.startsWith('!')) {
      if (matchesPattern(name, pattern.slice(1))) return false;
    } else if (matchesPattern(name, pattern)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * Checks a presented key against known_hosts entries, the way OpenSSH does: a revoked key is refused
 * wherever it appears, a matching entry trusts it, an entry for the same host with another key is a
 * mismatch, and no entry at all is "unknown" (the caller may then ask the user). Host names are tried
 * as given and, where different, as the resolved address (`CheckHostIP`-like), so entries written by
 * either form match.
 */
export function verifyHostKey(entries: readonly KnownHostEntry[], names: readonly string[], key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', source: revoked.source };
  const forHost = entries.filter((e) => e.marker === undefined && names.some((n) => hostFieldMatches(e.hosts, n)));
  const trusted = forHost.find((e) => e.key.equals(key));
  if (trusted) return { status: 'trusted', source: trusted.source };
  if (forHost.length > 0) {
    return { status: 'mismatch', knownFingerprints: forHost.map((e) => `${e.keyType} ${sha256Fingerprint(e.key)}`), sources: forHost.map((e) => e.source) };
  }
  return { status: 'unknown' };
}

/** Reads and parses known_hosts files; a missing file is simply empty. */
export async function loadKnownHosts(files: readonly string[]): Promise<{ entries: KnownHostEntry[]; problems: string[] }> {
  const entries: KnownHostEntry[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const text = await undefinedIfMissing(readFile(file, 'utf8'));
    if (text === undefined) continue;
    const parsed = parseKnownHosts(text, file);
    entries.push(...parsed.entries);
    problems.push(...parsed.problems);
  }
  return { entries, problems };
}

/** Appends a trusted key in plain form (readable and removable by hand). */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  await appendFile(file, `${prefix}${knownHostsName(host, port)} ${keyTypeOfBlob(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}
