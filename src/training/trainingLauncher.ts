import { mkdir, stat } from 'node:fs/promises';
import { basename, join, dirname } from 'node:path';
import { type HostProfile } from './hostProfile';
import { METRICS_FILE, parseMetricsChunk, type ParsedMetricsChunk } from './metricsLog';
import {
  RunFiles,
  classifySlurmState,
  directLaunchCommand,
  parseSbatchOutput,
  processProbeScript,
  runnerScript,
  slurmStateCommand,
  trainerCommandLine,
} from './remoteScripts';
import { RUN_RECORD_SCHEMA_VERSION, type RunRecord, type RunState, type RunStore, finalRunStates, newRunId, parseRunRecord } from './runRecord';
import { expandRemoteHome, quoteShellArg, remoteJoin, shellCommand } from './shellQuote';
import { type SshSession } from './sshSession';
import { manifestPathFor, type ExportManifest } from '../trajectory/sftExport';
import { readExportManifest } from '../trainingExport/exportManifest';
import { sha256OfFile, writeJsonDurably } from '../runs/durableFile';
import { provenanceOf } from './curatedExport';

/** What to train, where. */
export interface LaunchSpec {
  profile: HostProfile;
  /** Human name, part of the run id. */
  name: string;
  baseModel: string;
  /** Local chat JSONL (the exporter's output). */
  dataFile: string;
  /**
   * Local files uploaded next to the data; the first is the entry script. The product uploads
   * `media/python/train_lora.py` and its helpers; tests upload a trainer speaking the same protocol.
   */
  scriptFiles: string[];
  /** Hyperparameter overrides, passed as `--key value` (true: `--key`, false: `--no-key`). */
  overrides?: Record<string, string | number | boolean>;
  /** Skip the `--check` run on the host before launching. */
  skipCheck?: boolean;
  /** A run id chosen beforehand (the launch exported its data into the run's local folder); default a new one. */
  id?: string;
}

export type LaunchEvent =
  | { kind: 'progress'; message: string; fraction?: number }
  | { kind: 'check'; report: unknown }
  | { kind: 'launched'; run: RunRecord };

export interface RunStatus {
  state: RunState;
  exitCode: number | null;
  /** Live (non-zombie) processes of the run's session on the host (direct runs). */
  liveProcesses: number;
  /** Slurm's own state name, for Slurm runs. */
  slurmState?: string;
}

export type FollowEvent = { kind: 'metrics'; chunk: ParsedMetricsChunk } | { kind: 'state'; status: RunStatus };

export interface CancelResult {
  state: RunState;
  /** True when the run did not stop within the grace period and was killed. */
  killed: boolean;
  /** Live processes left afterwards (0 unless the host refused the kill). */
  leftover: number;
}

export interface TrainingLauncherOptions {
  store: RunStore;
  /** Opens (or reuses) an SSH session to a host profile. */
  connect: (profile: HostProfile) => Promise<SshSession>;
  /** Looks up the profile a recorded run belongs to. */
  profile: (name: string) => HostProfile;
  log?: (line: string) => void;
}

/** The check must finish before the launch; a hung environment should not hang the studio. */
const CHECK_TIMEOUT_MS = 15 * 60_000;

/** `--key value` arguments from overrides; keys are checked so an override cannot smuggle in options. */
export function overridesToArgs(overrides: Record<string, string | number | boolean>): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    if (!/^[a-z][a-z0-9_-]*$/.test(key)) throw new Error(`training option "${key}" is not a valid option name (lower-case letters, digits, - and _)`);
    if (value === true) args.push(`--${key}`);
    else if (value === false) args.push(`--no-${key}`);
    else args.push(`--${key}`, String(value));
  }
  return args;
}

/**
 * Launches, follows, cancels, resumes and downloads training runs on SSH hosts. Every run is recorded in
 * the local store and on the host, so a new launcher (after VS Code restarts) picks up where the last
 * one stopped, including the metrics byte offset.
 */
export class TrainingLauncher {
  constructor(private readonly options: TrainingLauncherOptions) {}

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async sessionFor(run: RunRecord): Promise<SshSession> {
    return this.options.connect(this.options.profile(run.host));
  }

  /** Uploads, checks and starts a run. The last event is `launched`. */
  async *launch(spec: LaunchSpec, signal?: AbortSignal): AsyncGenerator<LaunchEvent> {
    const { profile } = spec;
    if (spec.scriptFiles.length === 0) throw new Error('no training script to upload');
    const dataStats = await stat(spec.dataFile).catch(() => undefined);
    if (!dataStats?.isFile()) throw new Error(`training data ${spec.dataFile} does not exist or is not a file`);
    let exported: ExportManifest | undefined;
    try {
      exported = await readExportManifest(spec.dataFile);
    } catch (err) {
      // Read before anything reaches the host. The manifest says which loss mask the data was exported for; training without it could train the wrong tokens.
      throw new Error(`${(err as Error).message}. The manifest says which loss mask the data was exported for: export the data again, or delete the manifest to train with the studio's mask.`);
    }
    yield { kind: 'progress', message: `Connecting to ${profile.name}` };
    const session = await this.options.connect(profile);
    signal?.throwIfAborted();
    const home = await session.remoteHome();
    const workFolder = expandRemoteHome(profile.workFolder, home);
    const id = spec.id ?? newRunId(spec.name);
    const runDir = remoteJoin(workFolder, id);
    await session.run('creating the run folder', shellCommand(['mkdir', '-p', runDir]), { signal });

    yield { kind: 'progress', message: 'Hashing the training data' };
    const dataSha256 = await sha256OfFile(spec.dataFile);
    const total = dataStats.size;
    yield* this.uploadWithProgress(session, spec.dataFile, remoteJoin(runDir, RunFiles.data), total);
    for (const file of spec.scriptFiles) await session.upload(file, remoteJoin(runDir, basename(file)));
    await session.writeFile(remoteJoin(runDir, RunFiles.processProbe), processProbeScript, 0o755);
    signal?.throwIfAborted();

    const entry = basename(spec.scriptFiles[0] ?? '');
    const overrides = spec.overrides ?? {};
    // Only the data file travels to the host, so the export's compatibility (which loss mask) goes as a flag.
    const compatibility = exported?.compatibility;
    // The export's snapshot links the run to its data only when it names the bytes uploaded (the file may have changed since).
    const provenance = exported && provenanceOf(exported, manifestPathFor(spec.dataFile));
    const linked = provenance?.snapshot === `sha256:${dataSha256}` ? provenance : undefined;
    if (provenance && !linked) yield { kind: 'progress', message: `${basename(spec.dataFile)} changed since its export (${provenance.snapshot.slice(0, 19)}…): the run is not linked to that export` };
    const trainerArgs = [
      '--data',
      RunFiles.data,
      '--output',
      '.',
      '--base-model',
      spec.baseModel,
      '--data-sha256',
      dataSha256,
      ...(compatibility ? ['--compat', compatibility] : []),
      ...overridesToArgs(overrides),
    ];

    if (!spec.skipCheck) {
      yield { kind: 'progress', message: 'Checking the environment and data on the host', fraction: 0.8 };
      const report = await this.check(session, profile, runDir, entry, trainerArgs, signal);
      yield { kind: 'check', report };
    }

    const record: RunRecord = {
      schema: RUN_RECORD_SCHEMA_VERSION,
      id,
      host: profile.name,
      remoteDir: runDir,
      scheduler: profile.scheduler,
      createdAt: new Date().toISOString(),
      baseModel: spec.baseModel,
      dataFile: spec.dataFile,
      dataSha256,
      ...(linked ? { dataSnapshot: linked.snapshot, exportManifest: linked.manifestFile, ...(linked.sourceFiles.length ? { sourceTrajectories: linked.sourceFiles } : {}) } : {}),
      overrides,
      trainerArgs,
      state: profile.scheduler === 'slurm' ? 'queued' : 'running',
      metricsOffset: 0,
      resumes: 0,
    };
    yield { kind: 'progress', message: profile.scheduler === 'slurm' ? 'Submitting to Slurm' : 'Starting the run', fraction: 0.9 };
    const started = await this.start(session, profile, record, entry, trainerArgs);
    await this.options.store.save(started);
    yield { kind: 'launched', run: started };
  }

  /** Uploads one file, yielding progress events while fastPut reports its callbacks. */
  private async *uploadWithProgress(session: SshSession, local: string, remote: string, total: number): AsyncGenerator<LaunchEvent> {
    let sent = 0;
    let failure: unknown;
    let finished = false;
    const upload = session.upload(local, remote, (s) => (sent = s)).then(
      () => (finished = true),
      (err: unknown) => {
        failure = err;
        finished = true;
      },
    );
    const label = basename(local);
    while (!finished) {
      await Promise.race([upload, new Promise((r) => setTimeout(r, 250))]);
      const fraction = total > 0 ? sent / total : 1;
      yield { kind: 'progress', message: `Uploading ${label}: ${(sent / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`, fraction: 0.7 * fraction };
    }
    if (failure) throw failure instanceof Error ? new Error(`uploading ${label} failed: ${failure.message}`) : new Error(`uploading ${label} failed`);
  }

  /** Runs the entry script with `--check` and returns its JSON report; a failed check stops the launch. */
  private async check(session: SshSession, profile: HostProfile, runDir: string, entry: string, trainerArgs: string[], signal?: AbortSignal): Promise<unknown> {
    const script = [
      `cd ${quoteShellArg(runDir)} || exit 97`,
      profile.activate?.trim() ?? '',
      `${shellCommand([profile.python, entry, '--check', ...trainerArgs])} > ${RunFiles.check}`,
    ].join('\n');
    const result = await session.exec('bash -s', { stdin: script, signal, timeoutMs: CHECK_TIMEOUT_MS });
    const text = (await session.readText(remoteJoin(runDir, RunFiles.check))) ?? '';
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch {
      report = undefined;
    }
    if (result.code !== 0) {
      const reason = typeof report === 'object' && report !== null && 'problems' in report ? JSON.stringify((report).problems) : (result.stderr || text).trim().slice(-2000);
      throw new Error(`the pre-flight check failed on ${profile.name} (exit ${result.code}): ${reason || 'no output'}`);
    }
    if (report === undefined) throw new Error(`the pre-flight check on ${profile.name} printed no JSON report: ${text.slice(0, 300)}`);
    return report;
  }

  /** Writes the runner and the remote record, then starts it detached or through sbatch. */
  private async start(session: SshSession, profile: HostProfile, record: RunRecord, entry: string, trainerArgs: string[]): Promise<RunRecord> {
    const runner = runnerScript(profile, record.remoteDir, trainerCommandLine(profile, entry, trainerArgs), `ts-${record.id}`.slice(0, 60));
    await session.writeFile(remoteJoin(record.remoteDir, RunFiles.runner), runner, 0o755);
    let started: RunRecord;
    if (profile.scheduler === 'slurm') {
      const out = await session.run('sbatch', `cd ${quoteShellArg(record.remoteDir)} && ${shellCommand(['sbatch', '--parsable', RunFiles.runner])}`);
      const jobId = parseSbatchOutput(out);
      await session.writeFile(remoteJoin(record.remoteDir, RunFiles.jobId), `${jobId}\n`);
      started = { ...record, jobId, pid: undefined, state: 'queued', exitCode: null };
    } else {
      const out = await session.run('starting the runner', 'sh -s', { stdin: directLaunchCommand(record.remoteDir), timeoutMs: 60_000 });
      const pid = Number(out.trim());
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`the runner did not report its PID (got "${out.trim().slice(0, 100)}"); see ${record.remoteDir}/${RunFiles.stdout}`);
      started = { ...record, pid, jobId: undefined, state: 'running', exitCode: null };
    }
    await session.writeFile(remoteJoin(record.remoteDir, RunFiles.record), `${JSON.stringify(started, null, 2)}\n`);
    this.log(`run ${started.id} started on ${profile.name} (${started.pid ? `pid ${started.pid}` : `job ${started.jobId}`})`);
    return started;
  }

  /** Live processes of a direct run's session, as `pid state` pairs. */
  private async liveProcesses(session: SshSession, run: RunRecord): Promise<string[]> {
    if (!run.pid) return [];
    const out = await session.run('listing the run\'s processes', shellCommand(['sh', remoteJoin(run.remoteDir, RunFiles.processProbe), String(run.pid)]), { timeoutMs: 60_000 });
    return out.split('\n').filter((l) => l.trim() !== '');
  }

  /** Asks the host where the run stands. */
  async status(run: RunRecord): Promise<RunStatus> {
    const session = await this.sessionFor(run);
    const dir = run.remoteDir;
    // processes first, then the exit code: the runner writes exit_code before it exits, so when the
    // probe finds nothing alive, an exit_code read afterwards is definitive (the other order races)
    const live = run.scheduler === 'direct' ? await this.liveProcesses(session, run) : [];
    // the scheduler's view before the exit code, for the same reason as the process probe above
    const slurmState = run.scheduler === 'slurm' && run.jobId ? (await session.exec(slurmStateCommand(run.jobId), { timeoutMs: 60_000 })).stdout.trim() : undefined;
    const exitText = await session.readText(remoteJoin(dir, RunFiles.exitCode));
    const exitCode = exitText !== undefined && /^-?\d+\s*$/.test(exitText) ? Number(exitText.trim()) : null;
    const cancelRequested = (await session.size(remoteJoin(dir, RunFiles.cancelRequested))) !== undefined;
    if (slurmState !== undefined) {
      const kind = classifySlurmState(slurmState);
      if (kind === 'queued') return { state: 'queued', exitCode: null, liveProcesses: 0, slurmState };
      if (kind === 'running' && exitCode === null) return { state: 'running', exitCode: null, liveProcesses: 0, slurmState };
      let state: RunState;
      if (cancelRequested || /^CANCELLED/i.test(slurmState)) state = 'cancelled';
      else if (exitCode === 0 || (exitCode === null && /^COMPLETED/i.test(slurmState))) state = 'succeeded';
      else if (exitCode === null && kind === 'unknown') state = 'lost';
      else state = 'failed';
      return { state, exitCode, liveProcesses: 0, slurmState };
    }
    if (exitCode === null) return { state: live.length > 0 ? 'running' : cancelRequested ? 'cancelled' : 'lost', exitCode, liveProcesses: live.length };
    // the runner has written its exit code; stragglers it left behind still count as alive
    const finished: RunState = cancelRequested ? 'cancelled' : exitCode === 0 ? 'succeeded' : 'failed';
    return { state: live.length > 0 ? 'running' : finished, exitCode, liveProcesses: live.length };
  }

  /** Reads new metrics from a byte offset (complete lines only). */
  async readMetrics(run: RunRecord, offset = run.metricsOffset, maxBytes = 4 * 1024 * 1024): Promise<ParsedMetricsChunk> {
    const session = await this.sessionFor(run);
    const chunk = await session.readFrom(remoteJoin(run.remoteDir, METRICS_FILE), offset, maxBytes);
    if (!chunk) return { events: [], eventOffsets: [], nextOffset: offset, problems: [], atEnd: true };
    return { ...parseMetricsChunk(chunk, offset, `${run.id}/${METRICS_FILE}`), atEnd: chunk.length < maxBytes };
  }

  /** The last `bytes` of the run's console output. */
  async logTail(run: RunRecord, bytes = 16 * 1024): Promise<string> {
    const session = await this.sessionFor(run);
    const path = remoteJoin(run.remoteDir, RunFiles.stdout);
    const size = (await session.size(path)) ?? 0;
    const chunk = await session.readFrom(path, Math.max(0, size - bytes), bytes);
    const text = chunk?.toString('utf8') ?? '';
    // drop a partial first line when the tail starts mid-file
    return size > bytes ? text.slice(text.indexOf('\n') + 1) : text;
  }

  /**
   * Follows a run until it ends: new metrics as they are written, and the state whenever it changes.
   * The offset and state are saved after every poll, so following can stop and restart at any time.
   */
  async *follow(run: RunRecord, options: { signal?: AbortSignal; intervalMs?: number } = {}): AsyncGenerator<FollowEvent> {
    let current = run;
    let lastState: RunState | undefined;
    const interval = options.intervalMs ?? 2000;
    for (;;) {
      options.signal?.throwIfAborted();
      const status = await this.status(current);
      // read after the status so the last lines written before the exit are not missed
      for (;;) {
        const chunk = await this.readMetrics(current);
        if (chunk.events.length === 0 && chunk.problems.length === 0 && chunk.nextOffset === current.metricsOffset) break;
        current = { ...current, metricsOffset: chunk.nextOffset };
        await this.options.store.save(current);
        yield { kind: 'metrics', chunk };
        // What came after this read waits for the next poll, so the run's state is checked while it writes.
        if (chunk.atEnd) break;
      }
      if (status.state !== lastState || status.exitCode !== (current.exitCode ?? null)) {
        lastState = status.state;
        current = { ...current, state: status.state, exitCode: status.exitCode };
        await this.options.store.save(current);
        yield { kind: 'state', status };
      }
      if (finalRunStates.includes(status.state)) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, interval);
        options.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('cancelled'));
          },
          { once: true },
        );
      });
    }
  }

  /**
   * Stops a run and verifies that nothing of it is left: TERM to every process of its session (the
   * trainer saves a checkpoint), KILL after the grace period, then a check of /proc that no live process
   * remains. Slurm runs are cancelled with scancel and polled until Slurm no longer runs them.
   */
  async cancel(run: RunRecord, options: { graceMs?: number; pollMs?: number } = {}): Promise<CancelResult> {
    const session = await this.sessionFor(run);
    const grace = options.graceMs ?? 60_000;
    const poll = options.pollMs ?? 500;
    const deadline = Date.now() + grace;
    let killed = false;
    if (run.scheduler === 'slurm' && run.jobId) {
      await session.run('scancel', `touch ${quoteShellArg(remoteJoin(run.remoteDir, RunFiles.cancelRequested))}; ${shellCommand(['scancel', run.jobId])}`);
      for (;;) {
        const status = await this.status(run);
        if (status.state !== 'running' && status.state !== 'queued') {
          await this.saveState(run, status);
          return { state: status.state, killed, leftover: 0 };
        }
        if (Date.now() > deadline) {
          if (killed) return { state: status.state, killed, leftover: 1 };
          killed = true;
          await session.exec(shellCommand(['scancel', '--signal=KILL', '--full', run.jobId]));
        }
        await new Promise((r) => setTimeout(r, poll));
      }
    }
    if (!run.pid) throw new Error(`run ${run.id} has no recorded process to cancel`);
    // the marker tells status() that the exit was a cancel, even when the runner is killed outright
    await session.run('marking the run cancelled', shellCommand(['touch', remoteJoin(run.remoteDir, RunFiles.cancelRequested)]));
    const signalAll = async (sig: 'TERM' | 'KILL') => {
      const pids = (await this.liveProcesses(session, run)).map((l) => l.split(' ')[0] ?? '').filter((p) => /^\d+$/.test(p));
      if (pids.length === 0) return 0;
      // the group first (one atomic signal), then any process that moved to its own group in the session
      await session.exec(`kill -${sig} -- ${quoteShellArg(`-${run.pid}`)} 2>/dev/null; kill -${sig} ${pids.map(quoteShellArg).join(' ')} 2>/dev/null; true`);
      return pids.length;
    };
    await signalAll('TERM');
    let live = (await this.liveProcesses(session, run)).length;
    while (live > 0) {
      if (Date.now() > deadline) {
        if (killed) break;
        killed = true;
        await signalAll('KILL');
      }
      await new Promise((r) => setTimeout(r, poll));
      live = (await this.liveProcesses(session, run)).length;
      if (killed && live > 0 && Date.now() > deadline + 10_000) break;
    }
    const status = await this.status(run);
    const final = live === 0 ? { ...status, state: 'cancelled' as RunState } : status;
    await this.saveState(run, final);
    return { state: final.state, killed, leftover: live };
  }

  private async saveState(run: RunRecord, status: RunStatus): Promise<RunRecord> {
    const latest = (await this.options.store.get(run.id)) ?? run;
    const updated = { ...latest, state: status.state, exitCode: status.exitCode };
    await this.options.store.save(updated);
    return updated;
  }

  /** Starts a finished (cancelled, failed, lost) run again from its latest checkpoint. */
  async resume(run: RunRecord): Promise<RunRecord> {
    const status = await this.status(run);
    if (status.state === 'running' || status.state === 'queued') throw new Error(`run ${run.id} is still ${status.state}; cancel it before resuming`);
    const profile = this.options.profile(run.host);
    const session = await this.sessionFor(run);
    const scriptArgs = run.trainerArgs.includes('--resume') ? run.trainerArgs : [...run.trainerArgs, '--resume'];
    const entry = await this.entryScriptOf(session, run);
    const restarted = await this.start(session, profile, { ...run, state: 'running', trainerArgs: scriptArgs, resumes: run.resumes + 1 }, entry, scriptArgs);
    await this.options.store.save(restarted);
    return restarted;
  }

  /** The entry script named in the uploaded runner (resume must start the same program). */
  private async entryScriptOf(session: SshSession, run: RunRecord): Promise<string> {
    const runner = (await session.readText(remoteJoin(run.remoteDir, RunFiles.runner))) ?? '';
    const match = /(?:^|\s)'?([A-Za-z0-9_.-]+\.py)'?\s+--data\s/m.exec(runner);
    if (!match?.[1]) throw new Error(`cannot find the training script in ${run.remoteDir}/${RunFiles.runner}`);
    return match[1];
  }

  /**
   * Downloads the adapter folder (and the run's metrics) to `<localFolder>/<run id>/`. Returns the local
   * adapter folder.
   */
  async download(run: RunRecord, localFolder: string, onProgress?: (file: string, done: number, total: number) => void): Promise<string> {
    const session = await this.sessionFor(run);
    const remoteAdapter = remoteJoin(run.remoteDir, RunFiles.adapter);
    const listing = await session.exec(`cd ${quoteShellArg(remoteAdapter)} && find . -type f -print0`);
    if (listing.code !== 0) throw new Error(`run ${run.id} has no adapter on the host yet (${remoteAdapter}): ${listing.stderr.trim()}`);
    const files = listing.stdout.split('\0').filter((f) => f !== '').map((f) => f.replace(/^\.\//, ''));
    if (files.length === 0) throw new Error(`the adapter folder ${remoteAdapter} is empty`);
    const target = join(localFolder, run.id);
    const adapterDir = join(target, RunFiles.adapter);
    let done = 0;
    for (const rel of files) {
      if (rel.split('/').includes('..')) throw new Error(`refusing to download a path outside the adapter folder: ${rel}`);
      const local = join(adapterDir, ...rel.split('/'));
      await mkdir(dirname(local), { recursive: true });
      await session.download(remoteJoin(remoteAdapter, rel), local);
      done += 1;
      onProgress?.(rel, done, files.length);
    }
    await session.download(remoteJoin(run.remoteDir, METRICS_FILE), join(target, METRICS_FILE)).catch(() => undefined);
    const saved = { ...((await this.options.store.get(run.id)) ?? run), downloadedTo: adapterDir };
    await this.options.store.save(saved);
    // The run record beside the weights is the adapter's manifest for evaluations (readAdapterManifest): its run id and data snapshot.
    await writeJsonDurably(join(adapterDir, RunFiles.record), saved);
    return adapterDir;
  }

  /** Runs recorded on a host (from each run folder's run.json), for re-attaching from another machine. */
  async discoverRemoteRuns(profile: HostProfile): Promise<{ runs: RunRecord[]; problems: string[] }> {
    const session = await this.options.connect(profile);
    const workFolder = expandRemoteHome(profile.workFolder, await session.remoteHome());
    const out = await session.exec(`for f in ${quoteShellArg(workFolder)}/*/${RunFiles.record}; do [ -f "$f" ] && { printf '%s\\0' "$f"; cat "$f"; printf '\\0'; }; done; true`);
    const parts = out.stdout.split('\0');
    const runs: RunRecord[] = [];
    const problems: string[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      try {
        runs.push(parseRunRecord(parts[i + 1] ?? '', `${profile.name}:${parts[i]}`));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    return { runs, problems };
  }
}

/** One line about a `--check` report: what the trainer will see, and its warnings (shown, not buried in JSON). */
export function summarizeCheckReport(report: unknown): { summary: string; warnings: string[] } {
  const r = (typeof report === 'object' && report !== null ? report : {}) as {
    conversations?: unknown;
    data?: { kept?: unknown; truncated?: unknown; longest?: unknown; trainable_tokens?: unknown };
    plan?: { total_steps?: unknown; accumulation?: unknown };
    environment?: { gpus?: { name?: unknown }[]; versions?: Record<string, unknown> };
    warnings?: unknown;
  };
  const parts: string[] = [];
  if (typeof r.conversations === 'number') parts.push(`${r.conversations} conversations`);
  if (typeof r.data?.kept === 'number') parts.push(`${r.data.kept} kept`);
  if (typeof r.data?.longest === 'number') parts.push(`longest ${r.data.longest} tokens`);
  if (typeof r.data?.trainable_tokens === 'number') parts.push(`${r.data.trainable_tokens} trained tokens`);
  if (typeof r.plan?.total_steps === 'number') parts.push(`${r.plan.total_steps} steps`);
  const gpus = r.environment?.gpus;
  if (Array.isArray(gpus)) parts.push(gpus.length ? `${gpus.length} GPU(s): ${gpus.map((g) => String(g.name)).join(', ')}` : 'no GPU');
  const versions = r.environment?.versions;
  if (versions) parts.push(['torch', 'transformers', 'peft'].map((k) => `${k} ${typeof versions[k] === 'string' ? versions[k] : 'missing'}`).join(', '));
  const warnings = Array.isArray(r.warnings) ? r.warnings.filter((w): w is string => typeof w === 'string') : [];
  return { summary: parts.join(' · ') || 'check passed', warnings };
}
