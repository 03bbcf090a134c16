import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CliCommand, type CliIo, type CliOptionSpecs, CliUsageError, numberOption, optionGroup, type ParsedCliArgs, requiredStringOption, stringOption } from '../command';
import { type HostProfile, defaultKnownHostsFiles, readHostProfilesFile, resolveHostProfile } from '../../training/hostProfile';
import { type StepMetrics } from '../../training/metricsLog';
import { type RunRecord, RunStore, finalRunStates } from '../../training/runRecord';
import { describeServing, startServing, stopServing } from '../../training/serveForEval';
import { SessionPool } from '../../training/sessionPool';
import { findStudioRoot, trainingScriptFiles } from '../../training/trainingScript';
import { type FollowEvent, summarizeCheckReport, TrainingLauncher } from '../../training/trainingLauncher';
import { formatDuration } from '../../environment/durationText';

/** The CLI keeps its state in ~/.trajectory-studio (or $TRAJECTORY_STUDIO_HOME). */
function studioHome(io: CliIo): string {
  return io.env.TRAJECTORY_STUDIO_HOME ?? join(homedir(), '.trajectory-studio');
}

/** The flags every `train` command shares: where the host profiles are and how new host keys are treated. */
const commonOptions = optionGroup('Hosts', {
  'hosts-file': { type: 'string', value: 'F', help: 'host profiles, {"version": 1, "hosts": [...]} or a bare JSON array (the same fields as the trajectoryStudio.training.hosts setting); default $TRAJECTORY_STUDIO_HOME/training-hosts.json (~/.trajectory-studio)' },
  'accept-new-host-key': { type: 'boolean', help: 'trust a host seen for the first time (its SHA256 fingerprint is printed); without it hosts missing from ~/.ssh/known_hosts are refused' },
} as const satisfies CliOptionSpecs);

const commonNotes = ["An encrypted key's passphrase comes from TRAJECTORY_STUDIO_SSH_PASSPHRASE."];

/** `--interval` of the commands that can `--follow` a run. */
const intervalOption = {
  interval: { type: 'string', value: 'SECONDS', help: 'with --follow: how often the host is asked for new metrics (default 2)' },
} as const satisfies CliOptionSpecs;

interface TrainingContext {
  profiles: HostProfile[];
  store: RunStore;
  pool: SessionPool;
  launcher: TrainingLauncher;
  profile(name: string): HostProfile;
}

async function openContext(args: ParsedCliArgs, io: CliIo): Promise<TrainingContext> {
  const home = studioHome(io);
  const hostsFile = resolve(io.cwd, stringOption(args, 'hosts-file') ?? join(home, 'training-hosts.json'));
  const profiles = await readHostProfilesFile(hostsFile);
  if (!profiles) throw new CliUsageError(`no host profiles: ${hostsFile} does not exist (write {"version": 1, "hosts": [{"name": "a100", "host": "gpu-box"}]} or pass --hosts-file)`);
  const trustStore = join(home, 'known_hosts');
  const acceptNew = args.values['accept-new-host-key'] === true;
  const pool = new SessionPool({
    knownHosts: {
      files: defaultKnownHostsFiles(trustStore),
      trustStore,
      confirmNewHost: acceptNew
        ? (key) => {
            io.stderr(`trusting ${key.host}:${key.port} on first use: ${key.keyType} ${key.fingerprint}\n`);
            return Promise.resolve(true);
          }
        : undefined,
    },
    passphrase: (file) => {
      const secret = io.env.TRAJECTORY_STUDIO_SSH_PASSPHRASE;
      if (secret === undefined) io.stderr(`${file} is encrypted; set TRAJECTORY_STUDIO_SSH_PASSPHRASE or use ssh-agent\n`);
      return Promise.resolve(secret);
    },
    env: io.env,
    log: io.env.TRAJECTORY_STUDIO_DEBUG ? (l) => io.stderr(`${l}\n`) : undefined,
  });
  const profile = (name: string) => {
    const p = profiles.find((x) => x.name === name);
    if (!p) throw new CliUsageError(`no host profile named "${name}" in ${hostsFile} (have: ${profiles.map((x) => x.name).join(', ') || 'none'})`);
    return p;
  };
  const store = new RunStore(join(home, 'training-runs'));
  const launcher = new TrainingLauncher({ store, connect: (p) => pool.get(p), profile, log: io.env.TRAJECTORY_STUDIO_DEBUG ? (l) => io.stderr(`${l}\n`) : undefined });
  return { profiles, store, pool, launcher, profile };
}

async function withContext(args: ParsedCliArgs, io: CliIo, body: (ctx: TrainingContext) => Promise<number>): Promise<number> {
  const ctx = await openContext(args, io);
  try {
    return await body(ctx);
  } finally {
    await ctx.pool.closeAll();
  }
}

/** A run by id or unique id prefix (or substring), from the local records. */
async function findRun(ctx: TrainingContext, args: ParsedCliArgs): Promise<RunRecord> {
  const wanted = args.positionals[0];
  if (!wanted) throw new CliUsageError('name the run (its id or a unique part of it; `train status` lists them)');
  const { runs } = await ctx.store.list();
  const exact = runs.find((r) => r.id === wanted);
  if (exact) return exact;
  const matches = runs.filter((r) => r.id.includes(wanted));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length === 0) throw new CliUsageError(`no recorded run matches "${wanted}"`);
  throw new CliUsageError(`"${wanted}" matches ${matches.length} runs: ${matches.map((r) => r.id).join(', ')}`);
}


export function formatStep(e: StepMetrics): string {
  const parts = [
    `step ${e.step}${e.total_steps ? `/${e.total_steps}` : ''}`,
    `epoch ${e.epoch.toFixed(2)}`,
    `loss ${e.loss.toFixed(4)}`,
    `lr ${e.lr.toExponential(2)}`,
  ];
  if (e.grad_norm !== null && e.grad_norm !== undefined) parts.push(`grad ${e.grad_norm.toFixed(3)}`);
  if (e.tokens_per_s !== null && e.tokens_per_s !== undefined) parts.push(`${Math.round(e.tokens_per_s)} tok/s`);
  if (e.gpu_mem_gb !== null && e.gpu_mem_gb !== undefined) parts.push(`${e.gpu_mem_gb.toFixed(1)} GB`);
  parts.push(`ETA ${formatDuration(e.eta_s === null || e.eta_s === undefined ? undefined : e.eta_s * 1000, '-')}`);
  return parts.join('  ');
}

/** Prints a followed run; returns the exit code that matches its end state. */
async function printFollow(launcher: TrainingLauncher, run: RunRecord, io: CliIo, intervalMs: number): Promise<number> {
  let last: FollowEvent | undefined;
  for await (const event of launcher.follow(run, { signal: io.signal, intervalMs })) {
    if (event.kind === 'metrics') {
      for (const p of event.chunk.problems) io.stderr(`warning: ${p}\n`);
      for (const e of event.chunk.events) {
        if (e.event === 'step') io.stdout(`${formatStep(e)}\n`);
        else if (e.event === 'start') io.stdout(`started: ${e.total_steps} steps, ${e.examples ?? '?'} examples, ${e.world_size ?? 1} process(es)${e.resumed_from_step ? `, resumed at step ${e.resumed_from_step}` : ''}\n`);
        else if (e.event === 'checkpoint') io.stdout(`checkpoint at step ${e.step}: ${e.path}\n`);
        else if (e.event === 'done') io.stdout(`done: adapter in ${run.remoteDir}/${e.adapter}\n`);
        else if (e.event === 'cancelled') io.stdout(`stopped at step ${e.step ?? '?'}${e.checkpoint ? `, checkpoint ${e.checkpoint}` : ''}\n`);
        else io.stderr(`trainer error: ${e.message}\n`);
      }
    } else {
      io.stdout(`state: ${event.status.state}${event.status.exitCode !== null ? ` (exit ${event.status.exitCode})` : ''}${event.status.slurmState ? ` [slurm ${event.status.slurmState}]` : ''}\n`);
    }
    last = event;
  }
  return last?.kind === 'state' && last.status.state === 'succeeded' ? 0 : 1;
}

function overridesFrom(args: ParsedCliArgs): Record<string, string | number | boolean> {
  const sets = args.values.set;
  const list = Array.isArray(sets) ? sets : sets === undefined ? [] : [sets];
  const overrides: Record<string, string | number | boolean> = {};
  for (const item of list) {
    if (typeof item !== 'string' || !item.includes('=')) throw new CliUsageError(`--set expects key=value, got "${String(item)}"`);
    const [key = '', ...rest] = item.split('=');
    const value = rest.join('=');
    overrides[key] = value === 'true' ? true : value === 'false' ? false : value;
  }
  return overrides;
}

export const trainLaunchCommand: CliCommand = {
  name: 'train launch',
  summary: 'Upload exported chat JSONL and the LoRA script to an SSH host, check it there, and start training',
  synopsis: 'trajectory-studio train launch --host NAME --data FILE.jsonl --base-model ID [options]',
  options: {
    host: { type: 'string', value: 'NAME', help: 'host profile to train on' },
    data: { type: 'string', value: 'FILE', help: 'chat JSONL from `trajectory-studio export --format openai`' },
    'base-model': { type: 'string', value: 'ID', help: 'the student (Hugging Face id or a folder on the host)' },
    name: { type: 'string', value: 'TEXT', help: 'a name for the run (part of its id)' },
    set: { type: 'string', value: 'key=value', multiple: true, help: 'training option, e.g. --set epochs=3 --set learning-rate=1e-4' },
    'skip-check': { type: 'boolean', help: 'do not run `train_lora.py --check` on the host first' },
    follow: { type: 'boolean', help: 'print metrics until the run ends (Ctrl-C stops following, not the run)' },
    ...intervalOption,
    script: { type: 'string', value: 'FILE', multiple: true, help: 'upload and run this program instead of the bundled train_lora.py; the first is the entry point' },
    ...commonOptions,
  },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      const profile = ctx.profile(requiredStringOption(args, 'host'));
      const dataFile = resolve(io.cwd, requiredStringOption(args, 'data'));
      const baseModel = requiredStringOption(args, 'base-model');
      const scripts = args.values.script;
      const scriptFiles = Array.isArray(scripts) && scripts.length > 0 ? scripts.map((s) => resolve(io.cwd, String(s))) : trainingScriptFiles(await findStudioRoot(__dirname));
      let run: RunRecord | undefined;
      for await (const event of ctx.launcher.launch(
        { profile, name: stringOption(args, 'name') ?? baseModel.split('/').pop() ?? 'run', baseModel, dataFile, scriptFiles, overrides: overridesFrom(args), skipCheck: args.values['skip-check'] === true },
        io.signal,
      )) {
        if (event.kind === 'progress') io.stderr(`${event.message}${event.fraction !== undefined ? ` (${Math.round(event.fraction * 100)}%)` : ''}\n`);
        else if (event.kind === 'check') {
          const { summary, warnings } = summarizeCheckReport(event.report);
          io.stderr(`check passed: ${summary}\n`);
          for (const w of warnings) io.stderr(`warning: ${w}\n`);
        }
        else run = event.run;
      }
      if (!run) return 1;
      io.stdout(`${run.id}\n`);
      io.stderr(`run ${run.id} started on ${profile.name} in ${run.remoteDir}\n`);
      if (args.values.follow === true) return printFollow(ctx.launcher, run, io, numberOption(args, 'interval', 2) * 1000);
      return 0;
    });
  },
};

export const trainStatusCommand: CliCommand = {
  name: 'train status',
  summary: 'List recorded training runs, or show one run\'s state and latest metrics from its host',
  synopsis: 'trajectory-studio train status [RUN] [--refresh]',
  options: { refresh: { type: 'boolean', help: 'ask each host for the state of every unfinished run' }, ...commonOptions },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      if (args.positionals.length === 0) {
        const { runs, problems } = await ctx.store.list();
        for (const p of problems) io.stderr(`warning: ${p}\n`);
        if (runs.length === 0) io.stdout('no training runs recorded\n');
        for (const r of runs) {
          let state = r.state;
          if (args.values.refresh === true && !finalRunStates.includes(state)) {
            try {
              state = (await ctx.launcher.status(r)).state;
              await ctx.store.save({ ...r, state });
            } catch (err) {
              io.stderr(`${r.id}: ${(err as Error).message}\n`);
            }
          }
          io.stdout(`${r.id}  ${state.padEnd(9)}  ${r.host}  ${r.baseModel}\n`);
        }
        return 0;
      }
      const run = await findRun(ctx, args);
      const status = await ctx.launcher.status(run);
      const metrics = await ctx.launcher.readMetrics(run, 0);
      const lastStep = metrics.events.filter((e): e is StepMetrics => e.event === 'step').at(-1);
      await ctx.store.save({ ...run, state: status.state, exitCode: status.exitCode });
      io.stdout(`run:    ${run.id}\nhost:   ${run.host}  ${run.remoteDir}\nmodel:  ${run.baseModel}\ndata:   ${run.dataFile} (sha256 ${run.dataSha256.slice(0, 12)}…)\n`);
      io.stdout(`state:  ${status.state}${status.exitCode !== null ? ` (exit ${status.exitCode})` : ''}${status.slurmState ? ` [slurm ${status.slurmState}]` : ''}${status.liveProcesses ? `, ${status.liveProcesses} live process(es)` : ''}\n`);
      if (lastStep) io.stdout(`latest: ${formatStep(lastStep)}\n`);
      return 0;
    });
  },
};

export const trainLogsCommand: CliCommand = {
  name: 'train logs',
  summary: 'Print the end of a run\'s console output, or follow its metrics until it ends',
  synopsis: 'trajectory-studio train logs RUN [--bytes N] [--follow]',
  options: {
    bytes: { type: 'string', value: 'N', help: 'how much of the end of the log (default 16384)' },
    follow: { type: 'boolean', help: 'print metrics as they arrive until the run ends' },
    ...intervalOption,
    ...commonOptions,
  },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      const run = await findRun(ctx, args);
      io.stdout(await ctx.launcher.logTail(run, numberOption(args, 'bytes', 16384)));
      if (args.values.follow === true) return printFollow(ctx.launcher, { ...run, metricsOffset: 0 }, io, numberOption(args, 'interval', 2) * 1000);
      return 0;
    });
  },
};

export const trainCancelCommand: CliCommand = {
  name: 'train cancel',
  summary: 'Stop a run (it saves a checkpoint), and verify that none of its processes are left',
  synopsis: 'trajectory-studio train cancel RUN [--grace SECONDS]',
  options: { grace: { type: 'string', value: 'SECONDS', help: 'how long the trainer may take to checkpoint before it is killed (default 60)' }, ...commonOptions },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      const run = await findRun(ctx, args);
      const result = await ctx.launcher.cancel(run, { graceMs: numberOption(args, 'grace', 60) * 1000 });
      io.stdout(`${run.id}: ${result.state}${result.killed ? ' (killed after the grace period)' : ''}; ${result.leftover === 0 ? 'no process left' : `${result.leftover} process(es) still alive`}\n`);
      return result.leftover === 0 ? 0 : 1;
    });
  },
};

export const trainResumeCommand: CliCommand = {
  name: 'train resume',
  summary: 'Start a stopped run again from its latest checkpoint',
  synopsis: 'trajectory-studio train resume RUN [--follow]',
  options: { follow: { type: 'boolean', help: 'print metrics until the run ends (Ctrl-C stops following, not the run)' }, ...intervalOption, ...commonOptions },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      const run = await ctx.launcher.resume(await findRun(ctx, args));
      io.stdout(`${run.id} resumed (resume ${run.resumes})\n`);
      if (args.values.follow === true) return printFollow(ctx.launcher, run, io, numberOption(args, 'interval', 2) * 1000);
      return 0;
    });
  },
};

export const trainDownloadCommand: CliCommand = {
  name: 'train download',
  summary: 'Download a finished run\'s LoRA adapter (with its manifest and metrics)',
  synopsis: 'trajectory-studio train download RUN [--out DIR]',
  options: { out: { type: 'string', value: 'DIR', help: 'where to put <run id>/adapter (default ./adapters)' }, ...commonOptions },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      const run = await findRun(ctx, args);
      const folder = await ctx.launcher.download(run, resolve(io.cwd, stringOption(args, 'out') ?? 'adapters'), (file, done, total) => io.stderr(`${done}/${total} ${file}\n`));
      io.stdout(`${folder}\n`);
      return 0;
    });
  },
};

export const trainServeCommand: CliCommand = {
  name: 'train serve',
  summary: 'Print (or run) the vLLM command that serves a run\'s adapter, and the SSH port forward to reach it',
  synopsis: 'trajectory-studio train serve RUN [--name student] [--port 8001] [--local-port 8001] [--start]',
  options: {
    name: { type: 'string', value: 'N', help: 'LoRA module name the student profile requests (default student)' },
    port: { type: 'string', value: 'P', help: "port vLLM listens on, on the host's 127.0.0.1 (default 8001)" },
    'local-port': { type: 'string', value: 'P', help: 'local port forwarded to it (default 8001)' },
    start: { type: 'boolean', help: 'start vLLM on the host and hold the forward until Ctrl-C (then stop vLLM)' },
    ...commonOptions,
  },
  notes: commonNotes,
  run(args, io) {
    return withContext(args, io, async (ctx) => {
      const run = await findRun(ctx, args);
      const profile = ctx.profile(run.host);
      const options = { moduleName: stringOption(args, 'name') ?? 'student', remotePort: numberOption(args, 'port', 8001), localPort: numberOption(args, 'local-port', 8001) };
      const { target } = await resolveHostProfile(profile, io.env);
      const described = describeServing(run, profile, target, options);
      io.stdout(`# on ${profile.name}:\n${described.serve}\n# here:\n${described.forward}\n# student profile: base URL ${described.baseUrl}, model ${described.model}\n`);
      if (args.values.start !== true) return 0;
      const session = await ctx.pool.get(profile);
      const { localPort, pid } = await startServing(session, run, profile, options);
      io.stderr(`vLLM started on ${profile.name} (pid ${pid}); forwarding 127.0.0.1:${localPort}. Ctrl-C stops both.\n`);
      await new Promise<void>((done) => io.signal.addEventListener('abort', () => done(), { once: true }));
      await stopServing(session, run);
      return 0;
    });
  },
};

export const trainingCommands: readonly CliCommand[] = [
  trainLaunchCommand,
  trainStatusCommand,
  trainLogsCommand,
  trainCancelCommand,
  trainResumeCommand,
  trainDownloadCommand,
  trainServeCommand,
];
