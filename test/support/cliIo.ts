import { type CliIo } from '../../src/cli/command';

/** A {@link CliIo} that keeps what a command prints: `out` and `err` grow as it writes to stdout and stderr. */
export type CapturedCliIo = CliIo & { out: string; err: string };

/**
 * The io a test hands to `runCli` (or a command) to read what it printed afterwards: not a terminal, and by default an
 * empty environment, the process's working folder and a signal that never fires.
 */
export function captureCliIo(options: { env?: Record<string, string | undefined>; cwd?: string; signal?: AbortSignal; isTty?: boolean } = {}): CapturedCliIo {
  const io: CapturedCliIo = {
    out: '',
    err: '',
    isTty: options.isTty ?? false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}
