import { homedir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type StudioServices } from '../platform/services';
import { readSetting } from '../platform/settings';
import { type HostProfile, defaultKnownHostsFiles, parseHostProfiles, resolveHostProfile } from './hostProfile';
import { type MonitorUpdate, RunMonitor } from './runMonitor';
import { type RunRecord, RunStore } from './runRecord';
import { describeServing, startServing, type ServeOptions } from './serveForEval';
import { SessionPool } from './sessionPool';
import { type PresentedHostKey, type SshSession } from './sshSession';
import { TrainingLauncher } from './trainingLauncher';

/**
 * Everything training needs on the VS Code side: host profiles from settings, SSH sessions whose host keys
 * are checked against known_hosts (with a first-use prompt) and whose passphrases live in SecretStorage,
 * the launcher, and the monitor that re-attaches to unfinished runs when VS Code starts.
 */
export class TrainingService implements vscode.Disposable {
  readonly store: RunStore;
  readonly launcher: TrainingLauncher;
  readonly monitor: RunMonitor;
  private readonly pool: SessionPool;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  /** Latest numbers per run for the tree (step, loss), and connection problems. */
  readonly latest = new Map<string, { step?: number; total?: number | null; loss?: number; problem?: string }>();

  constructor(private readonly services: StudioServices) {
    const { context, log } = services;
    const storage = context.globalStorageUri.fsPath;
    this.store = new RunStore(path.join(storage, 'training-runs'));
    const trustStore = path.join(storage, 'known_hosts');
    this.pool = new SessionPool({
      knownHosts: { files: defaultKnownHostsFiles(trustStore), trustStore, confirmNewHost: (key) => this.confirmNewHost(key) },
      passphrase: (file) => this.passphraseFor(file),
      log: (line) => log.info(line),
    });
    this.launcher = new TrainingLauncher({
      store: this.store,
      connect: (p) => this.connect(p),
      profile: (name) => this.profile(name),
      log: (line) => log.info(line),
    });
    this.monitor = new RunMonitor(this.launcher, this.store, { intervalMs: readSetting('training.pollSeconds') * 1000, log: (l) => log.warn(l) });
    this.monitor.onUpdate((u) => this.noteUpdate(u));
  }

  profiles(): HostProfile[] {
    return parseHostProfiles(readSetting('training.hosts'));
  }

  profile(name: string): HostProfile {
    const found = this.profiles().find((p) => p.name === name);
    if (!found) {
      // a machine-scoped setting: in a remote window VS Code reads it from the remote's settings only
      const where = vscode.env.remoteName ? ` (this is a ${vscode.env.remoteName} window: host profiles are read from its Remote settings)` : '';
      throw new Error(`no host profile named "${name}" in trajectoryStudio.training.hosts${where}`);
    }
    return found;
  }

  private async connect(profile: HostProfile): Promise<SshSession> {
    try {
      return await this.pool.get(profile);
    } catch (err) {
      // a stored passphrase that no longer opens the key is forgotten, so the next try asks again
      const wrong = /the passphrase for (.+) is wrong/.exec(err instanceof Error ? err.message : '');
      if (wrong?.[1]) await this.services.secrets.delete(`sshPassphrase.${wrong[1]}`);
      throw err;
    }
  }

  private async confirmNewHost(key: PresentedHostKey): Promise<boolean> {
    const trust = 'Trust and Connect';
    const choice = await vscode.window.showWarningMessage(
      `First connection to ${key.host}:${key.port}. Its ${key.keyType} host key fingerprint is ${key.fingerprint}.`,
      {
        modal: true,
        detail:
          'Compare it with the fingerprint the host itself reports (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before trusting it. A trusted key is remembered; a changed key is refused from then on.',
      },
      trust,
    );
    return choice === trust;
  }

  private async passphraseFor(file: string): Promise<string | undefined> {
    const key = `sshPassphrase.${file}` as const;
    const stored = await this.services.secrets.get(key);
    if (stored !== undefined) return stored;
    const entered = await vscode.window.showInputBox({
      title: `Passphrase for ${file}`,
      prompt: 'Kept in VS Code secret storage for the next connections. An ssh-agent avoids the prompt altogether.',
      password: true,
      ignoreFocusOut: true,
    });
    if (entered !== undefined) await this.services.secrets.store(key, entered);
    return entered;
  }

  private noteUpdate(update: MonitorUpdate): void {
    const entry = this.latest.get(update.run.id) ?? {};
    entry.problem = update.connectionProblem;
    for (const e of update.events) {
      if (e.event === 'step') {
        entry.step = e.step;
        entry.total = e.total_steps ?? entry.total;
        entry.loss = e.loss;
      } else if (e.event === 'start') entry.total = e.total_steps;
    }
    this.latest.set(update.run.id, entry);
    this.changed.fire();
  }

  /** Downloaded adapters go to the setting's folder (relative to the workspace) or global storage. */
  adapterFolder(): string {
    const setting = readSetting('training.adapterFolder');
    if (path.isAbsolute(setting)) return setting;
    const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return workspace ? path.join(workspace, setting) : path.join(this.services.context.globalStorageUri.fsPath, 'adapters');
  }

  async session(profile: HostProfile): Promise<SshSession> {
    return this.connect(profile);
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.monitor.dispose();
    void this.pool.closeAll();
    this.changed.dispose();
  }
}

/** Cancels and reports the verified outcome in words. */
export async function cancelRun(service: TrainingService, run: RunRecord): Promise<string> {
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Cancelling ${run.id}: waiting for the checkpoint…` }, () =>
    service.launcher.cancel(run, { graceMs: readSetting('training.cancelGraceSeconds') * 1000 }),
  );
  service.monitor.unwatch(run.id);
  service.refresh();
  if (result.leftover > 0) return `${run.id}: ${result.leftover} process(es) are still alive on ${run.host} after the kill; check the host.`;
  return `${run.id} ${result.state}${result.killed ? ' (it did not stop in time and was killed)' : ', checkpoint saved'}; no process of it is left on ${run.host}.`;
}

export async function downloadAdapter(service: TrainingService, run: RunRecord): Promise<string> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Downloading the adapter of ${run.id}` }, async (progress) => {
    const folder = await service.launcher.download(run, service.adapterFolder(), (file, done, total) => progress.report({ message: `${file} (${done}/${total})`, increment: 100 / total }));
    service.refresh();
    return folder;
  });
}

/** Prints (and optionally runs) the vLLM command for a run, with its port forward. */
export async function serveRun(service: TrainingService, run: RunRecord, options: ServeOptions, start: boolean): Promise<{ serve: string; forward: string; baseUrl: string; model: string; started: boolean }> {
  const profile = service.profile(run.host);
  const { target } = await resolveHostProfile(profile, process.env, { home: homedir() });
  if (!start) return { ...describeServing(run, profile, target, options), started: false };
  const session = await service.session(profile);
  const { localPort } = await startServing(session, run, profile, options);
  return { ...describeServing(run, profile, target, { ...options, localPort }), started: true };
}
