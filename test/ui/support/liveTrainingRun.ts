import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../../e2e/lib.mjs';
import { type HostProfile } from '../../../src/training/hostProfile';
import { RunStore, type RunRecord } from '../../../src/training/runRecord';
import { SessionPool } from '../../../src/training/sessionPool';
import { TrainingLauncher } from '../../../src/training/trainingLauncher';
import { type SshdFixture } from '../../unit/training/sshdFixture';
import { type StudioSession } from './studioSession';

/**
 * A run of the test trainer on the sshd fixture, launched from outside VS Code (as from the CLI, or before a
 * restart) for the studio's run view to find and re-attach to. Host profiles are machine-scoped: in a remote
 * window (code-server's extension host is remote) VS Code reads them from the machine's settings, so they
 * are written there, with the extension's own known_hosts.
 */
export async function launchLiveTrainingRun(
  studio: StudioSession,
  sshd: SshdFixture,
  host: Record<string, unknown>,
  profile: HostProfile,
  remote: string,
  name: string,
): Promise<{ run: RunRecord | undefined; pool: SessionPool }> {
  studio.writeMachineSettings({ 'trajectoryStudio.training.hosts': [host], 'trajectoryStudio.training.pollSeconds': 0.5 });
  const userData = path.join(path.dirname(studio.workspace), 'cs-user-data');
  const storage = path.join(userData, 'User', 'globalStorage', 'trajectory-studio.trajectory-studio');
  fs.mkdirSync(storage, { recursive: true });
  fs.copyFileSync(sshd.knownHosts, path.join(storage, 'known_hosts'));
  const store = new RunStore(path.join(storage, 'training-runs'));
  const pool = new SessionPool({ knownHosts: { files: [sshd.knownHosts], trustStore: path.join(remote, 'unused_known_hosts') }, env: {} });
  const launcher = new TrainingLauncher({ store, connect: (p) => pool.get(p), profile: () => profile });
  const data = path.join(remote, 'data.jsonl');
  fs.writeFileSync(data, `${JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a', weight: 1 }] })}\n`);
  let run: RunRecord | undefined;
  for await (const e of launcher.launch({
    profile,
    name,
    baseModel: 'Qwen/Qwen2.5-0.5B-Instruct',
    dataFile: data,
    scriptFiles: [path.join(repoRoot, 'test/fixtures/training/fake_trainer.py')],
    overrides: { 'max-steps': 900, 'step-seconds': 0.1, 'checkpoint-every': 50 },
  })) {
    if (e.kind === 'launched') run = e.run;
  }
  return { run, pool };
}

/** Kills what is left of a run's process group: nothing of it may outlive the test. */
export function killTrainingRun(run: RunRecord | undefined): void {
  if (!run?.pid) return;
  try {
    process.kill(-run.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
