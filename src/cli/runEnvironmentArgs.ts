import * as path from 'node:path';
import { type CliIo, type CliOptionSpecs, CliUsageError, type ParsedCliArgs, stringOption } from './command';
import { openRetrieval, type RetrievalSetting } from '../retrieval/retrievalSetting';
import { type RetrievalBackend } from '../retrieval/types';
import { runEnvironmentFromCli, type RunEnvironment } from '../runs/runEnvironment';
import { type IsolationSetting } from '../sandbox/isolation';

const isolationSettings: readonly IsolationSetting[] = ['auto', 'bwrap', 'rlimits', 'refuse-without-bwrap'];

/** `--python` and `--isolation`: the sandbox of a command that runs the agent. */
export const sandboxCliOptions = {
  python: { type: 'string', value: 'PATH', help: 'the Python interpreter the sandbox runs' },
  isolation: { type: 'string', value: isolationSettings.join('|'), help: 'how the sandbox isolates model code: auto (default: bubblewrap where it runs, else resource limits only), bwrap, rlimits, or refuse-without-bwrap' },
} as const satisfies CliOptionSpecs;

/** `--prompts-folder`: where the prompt profiles named by `--prompt` are looked for first. */
export const promptsFolderCliOption = {
  'prompts-folder': { type: 'string', value: 'DIR', help: 'folder with your own prompt profiles (*.prompt.txt), searched before the built-in ones' },
} as const satisfies CliOptionSpecs;

/** `--index` or `--retrieval-url`: where the agent's web_search looks (read by {@link retrievalSettingFromArgs}). */
export const retrievalCliOptions = {
  index: { type: 'string', value: 'DIR', help: 'LanceDB index folder web_search looks in (default: no retrieval)' },
  'retrieval-url': { type: 'string', value: 'URL', help: 'a server of the POST /retrieve API for web_search, instead of --index' },
} as const satisfies CliOptionSpecs;

/** `--mode`: the search mode of `--index`, where a command has it (read by {@link retrievalSettingFromArgs}). */
export const searchModeCliOption = {
  mode: { type: 'string', value: 'fts|vector|hybrid', help: 'search mode of --index (default fts)' },
} as const satisfies CliOptionSpecs;

/** The `--isolation` flag, checked. */
export function isolationOption(args: ParsedCliArgs): IsolationSetting | undefined {
  const value = stringOption(args, 'isolation');
  if (value === undefined) return undefined;
  if (!(isolationSettings as readonly string[]).includes(value)) throw new CliUsageError(`--isolation must be ${isolationSettings.join(', ')}; got "${value}"`);
  return value as IsolationSetting;
}

/**
 * The run environment of a CLI command: endpoints and keys from `TRAJECTORY_STUDIO_*` variables, and
 * `--python`, `--isolation` and `--prompts-folder` where the command declares them (the CLI names an index by
 * its folder, `--index DIR`, so it needs no index root).
 */
export function cliRunEnvironment(args: ParsedCliArgs, io: Pick<CliIo, 'cwd' | 'env'>): RunEnvironment {
  const python = stringOption(args, 'python');
  const isolation = isolationOption(args);
  const promptsFolder = stringOption(args, 'prompts-folder');
  return runEnvironmentFromCli(io.env, {
    cwd: io.cwd,
    ...(python ? { python } : {}),
    ...(isolation ? { isolation } : {}),
    ...(promptsFolder ? { promptsFolder } : {}),
  });
}

/**
 * `--index DIR` (with `--mode` for the search mode, where the command declares {@link searchModeCliOption})
 * or `--retrieval-url URL`, as a run records it; none when neither is given. A command whose `--mode` means
 * something else (`exec`: the isolation) passes `readSearchMode` false and searches full-text.
 */
export function retrievalSettingFromArgs(args: ParsedCliArgs, io: Pick<CliIo, 'cwd'>, readSearchMode = true): RetrievalSetting {
  const index = stringOption(args, 'index');
  const url = stringOption(args, 'retrieval-url');
  if (index && url) throw new CliUsageError('give either --index or --retrieval-url, not both');
  const mode = (readSearchMode && stringOption(args, 'mode')) || 'fts';
  if (mode !== 'fts' && mode !== 'vector' && mode !== 'hybrid') throw new CliUsageError(`--mode must be fts, vector or hybrid, got "${mode}"`);
  if (index) return { kind: 'lancedb', indexDir: path.resolve(io.cwd, index), mode };
  if (url) return { kind: 'http', url };
  return { kind: 'none' };
}

/** Opens the backend `--index`/`--retrieval-url` name (full-text search), with the embeddings key of the environment. */
export function retrievalFromArgs(args: ParsedCliArgs, io: Pick<CliIo, 'cwd' | 'env'>): Promise<RetrievalBackend | undefined> {
  return openRetrieval(retrievalSettingFromArgs(args, io, false), cliRunEnvironment(args, io));
}
