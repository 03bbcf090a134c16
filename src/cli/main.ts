import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, CliUsageError, parseArgsOptions } from './command';
import { formatCommandHelp, unknownOptionMessage } from './commandHelp';
import { cliCommands } from './registry';
import { studioVersion } from '../environment/runtime';

function helpText(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = [
    `trajectory-studio ${studioVersion}: agent distillation from the command line (generate, curate, index, train, evaluate).`,
    '',
    'Usage: trajectory-studio <command> [options]',
    '       trajectory-studio <command> --help',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Endpoint API keys come from environment variables (TRAJECTORY_STUDIO_<PROFILE>_API_KEY, or OPENAI_API_KEY).',
  ];
  return `${lines.join('\n')}\n`;
}

/** The commands named `<group> <sub>`: `train launch`, `eval report`, … */
function subcommandsOf(group: string): CliCommand[] {
  return cliCommands.filter((c) => c.name.startsWith(`${group} `));
}

function subcommandList(subcommands: readonly CliCommand[]): string[] {
  const width = Math.max(...subcommands.map((c) => c.name.length)) + 2;
  return subcommands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
}

function commandHelp(c: CliCommand): string {
  const subcommands = subcommandsOf(c.name);
  const more = subcommands.length ? `\nSubcommands:\n${subcommandList(subcommands).join('\n')}\n` : '';
  return `${formatCommandHelp(c)}${more}`;
}

/** Node's message for a parse error, or ours where it can say more (an unknown option, and what was meant). */
function parseErrorMessage(command: CliCommand, err: Error & { code?: unknown }): string {
  const unknown = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(err.message)?.[1] : undefined;
  return unknown === undefined ? err.message : unknownOptionMessage(command, unknown);
}

/** Help for a group that is not a command itself (`train`, `index`): its subcommands, a line each. */
function groupHelp(group: string, subcommands: readonly CliCommand[]): string {
  return [
    `Usage: trajectory-studio ${group} <subcommand> [options]`,
    `       trajectory-studio ${group} <subcommand> --help`,
    '',
    'Subcommands:',
    ...subcommandList(subcommands),
    '',
  ].join('\n');
}

/** Finds the longest command name (one or two words) that matches the start of argv. */
function findCommand(argv: string[]): { command: CliCommand; rest: string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  const byTwo = cliCommands.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = cliCommands.find((c) => c.name === argv[0]);
  if (byOne) return { command: byOne, rest: argv.slice(1) };
  return undefined;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(helpText(cliCommands));
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.stdout(`${studioVersion}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = subcommandsOf(argv[0] ?? '');
    if (group.length) {
      const asked = argv[1];
      if (asked === '--help' || asked === '-h' || asked === 'help') {
        io.stdout(groupHelp(argv[0] ?? '', group));
        return 0;
      }
      const problem = asked === undefined ? 'a subcommand is required' : `unknown subcommand "${asked}"`;
      io.stderr(`trajectory-studio ${argv[0]}: ${problem}\n\n${groupHelp(argv[0] ?? '', group)}`);
    } else {
      io.stderr(`trajectory-studio: unknown command "${argv[0]}". Run "trajectory-studio --help" for the list.\n`);
    }
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(command));
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: parseArgsOptions(command.options), allowPositionals: true, strict: true });
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (err) {
    if (err instanceof CliUsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`trajectory-studio ${command.name}: ${err instanceof CliUsageError ? err.message : parseErrorMessage(command, err)}\n\n${commandHelp(command)}`);
      return 2;
    }
    if (io.signal.aborted) {
      io.stderr(`trajectory-studio ${command.name}: cancelled\n`);
      return 130;
    }
    io.stderr(`trajectory-studio ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (io.env.TRAJECTORY_STUDIO_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return 1;
  }
}

if (require.main === module) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error('interrupted'));
  });
  // a parent process stopping a worker (an index build): finish the write in flight, then exit
  process.on('SIGTERM', () => controller.abort(new Error('stopped')));
  const io: CliIo = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTty: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    selfCommand: [process.execPath, ...process.execArgv, __filename],
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`trajectory-studio: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
