import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { z } from 'zod';
import { readAdaptedVersionedJson, versionedJsonFormat } from '../runs/versionedJson';
import { formatJsonPath } from '../trajectory/schema';
import { resolveSshConfig } from './sshConfig';
import { type SshTarget, type HostKeyCheck, HostKeyRejectedError, type PresentedHostKey } from './sshSession';
import { appendKnownHost, knownHostsName, loadKnownHosts, verifyHostKey } from './knownHosts';

/** Slurm options of a host profile (`sbatch` directives). */
export const slurmOptionsSchema = z.strictObject({
  partition: z.string().min(1).optional(),
  /** GPUs per node (`--gpus-per-node`). */
  gpusPerNode: z.number().int().min(0).optional(),
  nodes: z.number().int().min(1).optional(),
  /** Wall-clock limit in a form sbatch accepts, e.g. `24:00:00`. */
  time: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  /** Extra `#SBATCH` arguments, each one argument (`--mem=200G`). */
  extraArgs: z.array(z.string()).optional(),
});

/**
 * A training host as the user configures it in `trajectoryStudio.training.hosts`. `host` may be a `Host`
 * alias from ~/.ssh/config; fields set here override the config file.
 */
export const hostProfileSchema = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  identityFile: z.string().min(1).optional(),
  workFolder: z.string().min(1).default('~/trajectory-studio-runs'),
  /** A shell line run before training, e.g. `source ~/venv/bin/activate`. Runs on the host as written. */
  activate: z.string().optional(),
  /** The Python the training script runs with (after `activate`). */
  python: z.string().min(1).default('python3'),
  scheduler: z.enum(['direct', 'slurm']).default('direct'),
  /** How the script is started: one process, or several through accelerate / torchrun. */
  launcher: z.enum(['python', 'accelerate', 'torchrun']).default('python'),
  /** Processes (GPUs) per node for accelerate / torchrun. */
  processesPerNode: z.number().int().min(1).default(1),
  slurm: slurmOptionsSchema.optional(),
});
export type HostProfile = z.infer<typeof hostProfileSchema>;
export type HostProfileInput = z.input<typeof hostProfileSchema>;

/** Validates the settings array, naming the entry and field of any mistake. */
export function parseHostProfiles(value: unknown, where = 'trajectoryStudio.training.hosts'): HostProfile[] {
  const parsed = z.array(hostProfileSchema).safeParse(value);
  if (!parsed.success) {
    // `$[0].port` → `trajectoryStudio.training.hosts[0].port`
    throw new Error(parsed.error.issues.map((i) => `${where}${formatJsonPath(i.path).slice(1)}: ${i.message}`).join('; '));
  }
  return withUniqueNames(parsed.data, where);
}

function withUniqueNames(profiles: HostProfile[], where: string): HostProfile[] {
  const names = new Set<string>();
  for (const p of profiles) {
    if (names.has(p.name)) throw new Error(`${where}: two host profiles are named "${p.name}"`);
    names.add(p.name);
  }
  return profiles;
}

/** The version of the CLI's host profiles file this code reads; a bump adds a migration to {@link hostProfilesFileFormat}. */
export const HOST_PROFILES_FILE_VERSION = 1;

/**
 * The CLI's host profiles file (`training-hosts.json`): `{"version": 1, "hosts": [...]}` with the fields of the
 * `trajectoryStudio.training.hosts` setting. A bare array of profiles, as the file was first written, is version 1.
 */
export const hostProfilesFileFormat = versionedJsonFormat(
  'a host profiles file',
  z.strictObject({ version: z.literal(HOST_PROFILES_FILE_VERSION), hosts: z.array(hostProfileSchema) }),
  'version',
  HOST_PROFILES_FILE_VERSION,
);

/** Reads a host profiles file: undefined when it does not exist; a `JsonFileError` naming the file and field when it is wrong. */
export async function readHostProfilesFile(file: string): Promise<HostProfile[] | undefined> {
  const read = await readAdaptedVersionedJson(file, hostProfilesFileFormat, (value) => (Array.isArray(value) ? { hosts: value } : value));
  return read && withUniqueNames(read.hosts, file);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns a profile into connection parameters the way `ssh` would: profile fields first, then
 * ~/.ssh/config for the alias, then defaults (port 22, the local user, the usual key files, the agent
 * from SSH_AUTH_SOCK).
 */
export async function resolveHostProfile(
  profile: HostProfile,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { sshConfigFile?: string; home?: string } = {},
): Promise<{ target: SshTarget; notes: string[] }> {
  const home = options.home ?? homedir();
  const localUser = userInfo().username;
  const config = await resolveSshConfig(profile.host, { file: options.sshConfigFile, home, localUser });
  const expand = (p: string) => (p.startsWith('~/') ? join(home, p.slice(2)) : p);
  let identityFiles = profile.identityFile ? [expand(profile.identityFile)] : config.identityFiles;
  if (identityFiles.length === 0) {
    const defaults = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(home, '.ssh', n));
    identityFiles = [];
    for (const d of defaults) if (await exists(d)) identityFiles.push(d);
  }
  const agentSocket = config.identityAgent === 'none' ? undefined : (config.identityAgent ?? env.SSH_AUTH_SOCK);
  return {
    target: {
      host: config.hostName ?? profile.host,
      port: profile.port ?? config.port ?? 22,
      user: profile.user ?? config.user ?? localUser,
      identityFiles,
      agentSocket: agentSocket || undefined,
    },
    notes: config.notes,
  };
}

export interface KnownHostsPolicy {
  /** Files whose entries are trusted (the user's ~/.ssh/known_hosts, then the studio's own). */
  files: string[];
  /** Where keys accepted on first use are appended. */
  trustStore: string;
  /**
   * Asked when the host is not in any file: show the fingerprint and return true to trust it. Absent
   * (e.g. a non-interactive CLI run without `--accept-new-host-key`), unknown hosts are refused.
   */
  confirmNewHost?: (presented: PresentedHostKey) => Promise<boolean>;
  /** The alias the user typed, when it differs from the dialled address (entries may use either). */
  alias?: string;
}

/** The default files: `~/.ssh/known_hosts` and the studio's own store. */
export function defaultKnownHostsFiles(trustStore: string, home = homedir()): string[] {
  return [join(home, '.ssh', 'known_hosts'), trustStore];
}

/**
 * The host-key check every connection uses: trusted if a known_hosts entry matches, refused on a
 * mismatch or a revoked key (no prompt: a changed key is what an attack looks like), and on first use
 * the user decides after seeing the SHA256 fingerprint.
 */
export function knownHostsCheck(policy: KnownHostsPolicy): HostKeyCheck {
  return async (presented) => {
    const { entries } = await loadKnownHosts(policy.files);
    const names = [knownHostsName(presented.host, presented.port)];
    if (policy.alias && policy.alias !== presented.host) names.push(knownHostsName(policy.alias, presented.port));
    const verdict = verifyHostKey(entries, names, presented.key);
    switch (verdict.status) {
      case 'trusted':
        return;
      case 'revoked':
        throw new HostKeyRejectedError(`the host key of ${names[0]} (${presented.fingerprint}) is marked @revoked in ${verdict.source}; refusing to connect`);
      case 'mismatch':
        throw new HostKeyRejectedError(
          `HOST KEY MISMATCH for ${names[0]}: it presented ${presented.keyType} ${presented.fingerprint}, but ${verdict.sources.join(', ')} expect ${verdict.knownFingerprints.join(' or ')}. ` +
            'Someone may be intercepting the connection, or the host was reinstalled. Refusing to connect; if the change is expected, remove the old entry first.',
        );
      case 'unknown': {
        if (!policy.confirmNewHost) {
          throw new HostKeyRejectedError(`${names[0]} is not in known_hosts (${presented.keyType} ${presented.fingerprint}); refusing an unverified host`);
        }
        const ok = await policy.confirmNewHost(presented);
        if (!ok) throw new HostKeyRejectedError(`the host key of ${names[0]} (${presented.fingerprint}) was not trusted`);
        await appendKnownHost(policy.trustStore, presented.host, presented.port, presented.key);
        return;
      }
    }
  };
}
