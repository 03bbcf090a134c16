import { type ParseArgsConfig } from 'node:util';

/** Where a CLI command writes and what it may read; injected so commands are testable without a TTY. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout is a terminal (progress bars redraw in place only then). */
  readonly isTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Aborted on Ctrl-C; long commands stop their work and child processes when it fires. */
  readonly signal: AbortSignal;
  /**
   * How to start this CLI again as a child process (program and first arguments), when it runs as a
   * program of its own; commands that hand heavy work to a worker process use it (`index build`).
   */
  readonly selfCommand?: readonly string[];
}

/** What `node:util` `parseArgs` takes; derived from a command's {@link CliOptionSpecs}, never written by hand. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

interface CliOptionHelp {
  /** What the option does, for `--help`; required, so an option cannot be declared without being documented. */
  readonly help: string;
  /** A heading the help lists this option (and the ones after it with the same group) under. */
  readonly group?: string;
}

/** A flag that takes a value: `value` is its placeholder in the help (`DIR`, `N`, `fts|vector|hybrid`). */
export interface CliValueOption extends CliOptionHelp {
  readonly type: 'string';
  readonly value: string;
  /** May be given more than once (the help says so). */
  readonly multiple?: boolean;
}

/** A flag on its own (`--json`). */
export interface CliSwitchOption extends CliOptionHelp {
  readonly type: 'boolean';
}

/**
 * One option of a command, declared once: the parser's options and the `--help` text are both made from it,
 * so an option cannot be parsed but undocumented, or documented but unknown to the parser.
 */
export type CliOptionSpec = CliValueOption | CliSwitchOption;

/** A command's options by name (without the leading `--`), in the order the help lists them. */
export type CliOptionSpecs = Readonly<Record<string, CliOptionSpec>>;

/** The same options, listed in the help under the heading `group`. */
export function optionGroup<T extends CliOptionSpecs>(group: string, specs: T): T {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { ...spec, group }])) as T;
}

/** The `parseArgs` options of declared options. */
export function parseArgsOptions(specs: CliOptionSpecs): CliOptions {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, spec.type === 'string' ? { type: 'string', ...(spec.multiple ? { multiple: true } : {}) } : { type: 'boolean' }]),
  );
}

export interface ParsedCliArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** One `trajectory-studio <name>` command. Names may have two words (`index build`). */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /**
   * The usage line(s) after `Usage: `, starting with `trajectory-studio <name>`: positionals and the options
   * that matter most. Every option is listed in the generated help below it anyway.
   */
  readonly synopsis: string | readonly string[];
  /** Paragraphs between the usage line and the options (where the endpoint comes from, how a run resumes). */
  readonly description?: readonly string[];
  /** Every option the command accepts, with its help: the one declaration the parser and `--help` share. */
  readonly options: CliOptionSpecs;
  /** Paragraphs after the options (exit codes, files written, rule lists). */
  readonly notes?: readonly string[];
  run(args: ParsedCliArgs, io: CliIo): Promise<number>;
}

/** An error the user caused (bad flag, missing file): printed without a stack trace, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export function stringOption(args: ParsedCliArgs, key: string): string | undefined {
  const v = args.values[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new CliUsageError(`--${key} expects a value`);
  return v;
}

export function requiredStringOption(args: ParsedCliArgs, key: string): string {
  const v = stringOption(args, key);
  if (v === undefined || v === '') throw new CliUsageError(`--${key} is required`);
  return v;
}

/** A whole-number flag, or undefined when it is not given. */
export function optionalIntOption(args: ParsedCliArgs, key: string): number | undefined {
  const v = stringOption(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliUsageError(`--${key} expects a whole number, got "${v}"`);
  return n;
}

/** A repeatable flag's values, in order; with `commas`, `--x a,b` counts as `--x a --x b`. */
export function listOption(args: ParsedCliArgs, key: string, commas = false): string[] {
  const v = args.values[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => {
    if (typeof x !== 'string') throw new CliUsageError(`--${key} expects a value`);
    return commas ? x.split(',').map((s) => s.trim()).filter((s) => s !== '') : [x];
  });
}

export function numberOption(args: ParsedCliArgs, key: string, fallback: number): number {
  const v = stringOption(args, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliUsageError(`--${key} expects a number, got "${v}"`);
  return n;
}
