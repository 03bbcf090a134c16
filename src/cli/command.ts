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

export type CliOptions = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCliArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** One `trajectory-studio <name>` command. Names may have two words (`index build`). */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) and option descriptions shown by `--help`. */
  readonly usage: string;
  readonly options: CliOptions;
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
