import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { retrievalCliOptions, retrievalFromArgs } from '../runEnvironmentArgs';
import { type CliCommand, CliUsageError, numberOption, stringOption } from '../command';
import { describeSandboxEnvironment, formatObservation, formatSandboxEnvironment, type IsolationSetting, type SandboxEpisode, startEpisode } from '../../sandbox/index';

/** Splits a file into `# %%` cells (Jupytext/VS Code convention); a file without markers is one cell. */
export function splitCells(source: string): string[] {
  const cells: string[][] = [[]];
  for (const line of source.split(/\r?\n/)) {
    if (/^#\s*%%/.test(line)) cells.push([]);
    else cells[cells.length - 1]?.push(line);
  }
  return cells.map((lines) => lines.join('\n').trim()).filter((cell) => cell.length > 0);
}

/** Where `web_search` looks, when asked: a LanceDB index folder or a `/retrieve` server. */

const modes: Record<string, IsolationSetting> = { bwrap: 'bwrap', rlimits: 'rlimits', auto: 'auto' };

export const execCommand: CliCommand = {
  name: 'exec',
  summary: 'Run a Python file in a fresh sandbox episode and print each observation as the model would see it',
  synopsis: ['trajectory-studio exec FILE.py [--mode bwrap|rlimits|auto] [--steps] [--index DIR | --retrieval-url URL] [options]', 'trajectory-studio exec --env'],
  options: {
    steps: { type: 'boolean', help: 'run each "# %%" cell as one agent step (state persists between them)' },
    mode: { type: 'string', value: 'bwrap|rlimits|auto', help: 'isolation: bwrap (fail if it cannot run), rlimits (limits only), auto (default)' },
    'cpu-seconds': { type: 'string', value: 'N', help: 'CPU time limit of each step (default 30)' },
    'wall-seconds': { type: 'string', value: 'N', help: 'wall-clock limit of each step (default: twice the CPU limit, at least 5 s more)' },
    'memory-mb': { type: 'string', value: 'N', help: 'memory limit in MB (default 2048)' },
    interpreter: { type: 'string', value: 'PATH', help: 'the Python to run (default: TRAJECTORY_STUDIO_PYTHON, else python3)' },
    'any-import': { type: 'boolean', help: 'lift the import allowlist (the isolation still applies)' },
    env: { type: 'boolean', help: 'print which interpreter and isolation the sandbox would use, and run nothing' },
    ...retrievalCliOptions,
    index: { ...retrievalCliOptions.index, help: 'LanceDB index folder web_search looks in (default: web_search raises an error)' },
  },
  notes: ['Exit status: 0 when every step ran without error, 1 when a step failed, 2 on bad usage.'],
  async run(args, io) {
    const modeName = stringOption(args, 'mode') ?? 'auto';
    const isolation = modes[modeName];
    if (!isolation) throw new CliUsageError(`--mode must be bwrap, rlimits or auto, got "${modeName}"`);
    const interpreter = stringOption(args, 'interpreter') ?? io.env.TRAJECTORY_STUDIO_PYTHON;
    if (args.values.env === true) {
      io.stdout(formatSandboxEnvironment(await describeSandboxEnvironment({ interpreter, isolation })));
      return 0;
    }
    const file = args.positionals[0];
    if (!file) throw new CliUsageError('give the Python file to run');
    const fullPath = path.resolve(io.cwd, file);
    let source: string;
    try {
      source = await readFile(fullPath, 'utf8');
    } catch (err) {
      throw new CliUsageError(`cannot read ${fullPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const cells = args.values.steps === true ? splitCells(source) : [source];
    const cpuSeconds = numberOption(args, 'cpu-seconds', 30);
    const wallDefault = Math.max(cpuSeconds * 2, cpuSeconds + 5);
    let episode: SandboxEpisode | undefined;
    const retrieval = await retrievalFromArgs(args, io);
    try {
      episode = await startEpisode({
        isolation,
        ...(interpreter ? { interpreter } : {}),
        stepCpuSeconds: cpuSeconds,
        wallClockSeconds: numberOption(args, 'wall-seconds', wallDefault),
        memoryLimitMb: numberOption(args, 'memory-mb', 2048),
        ...(args.values['any-import'] === true ? { allowedImports: null } : {}),
        ...(retrieval ? { webSearch: (query: string, signal?: AbortSignal) => retrieval.search(query, 3, signal) } : {}),
        onWarning: (message) => io.stderr(`warning: ${message}\n`),
        signal: io.signal,
      });
      io.stdout(`# isolation: ${episode.isolation}\n`);
      let failed = false;
      for (const [index, cell] of cells.entries()) {
        const outcome = await episode.exec(cell, io.signal);
        io.stdout(`# step ${index + 1} (${Math.round(outcome.durationMs)} ms)\n${formatObservation(outcome, index + 1)}\n`);
        if (outcome.error) failed = true;
        if (outcome.finalAnswer !== undefined) {
          io.stdout(`# final answer: ${outcome.finalAnswer}\n`);
          break;
        }
      }
      return failed ? 1 : 0;
    } finally {
      await episode?.close();
      retrieval?.close?.();
    }
  },
};

export const sandboxCommands: readonly CliCommand[] = [execCommand];
