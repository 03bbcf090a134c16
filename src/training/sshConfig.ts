import { readFile, readdir } from 'node:fs/promises';
import { undefinedIfMissing } from '../runs/durableFile';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, basename } from 'node:path';

/**
 * Enough of `~/.ssh/config` to connect the way the user's own `ssh ALIAS` does: `Host` blocks with
 * patterns and negation, first value wins, `IdentityFile` accumulates, `Include` (with `*` in the file
 * name). `Match` blocks are not evaluated (they need the local user, exec, …); their options are skipped
 * and reported, rather than applied to hosts they may not concern.
 */
export interface SshConfigOptions {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  identityAgent?: string;
  proxyJump?: string;
  /** Things the parser could not honour, with file:line, for the connection log. */
  notes: string[];
}

interface ConfigLine {
  keyword: string;
  args: string[];
  source: string;
}

interface ConfigBlock {
  patterns: string[] | 'match';
  lines: ConfigLine[];
}

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function expandTilde(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

async function readBlocks(file: string, home: string, depth: number, blocks: ConfigBlock[], notes: string[]): Promise<void> {
  if (depth > 8) {
    notes.push(`${file}: Include nested too deeply; stopped`);
    return;
  }
  const text = await undefinedIfMissing(readFile(file, 'utf8'));
  if (text === undefined) return;
  let current = blocks[blocks.length - 1];
  if (!current) {
    current = { patterns: ['*'], lines: [] };
    blocks.push(current);
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const source = `${file}:${i + 1}`;
    // `Keyword value` or `Keyword=value`
    const eq = /^(\S+?)\s*=\s*(.*)$/.exec(trimmed);
    const [keywordRaw, ...args] = eq && !/\s/.test(eq[1] ?? '') ? [eq[1] ?? '', ...tokenize(eq[2] ?? '')] : tokenize(trimmed);
    const keyword = (keywordRaw ?? '').toLowerCase();
    if (keyword === 'host') {
      current = { patterns: args, lines: [] };
      blocks.push(current);
    } else if (keyword === 'match') {
      current = { patterns: 'match', lines: [] };
      blocks.push(current);
      notes.push(`${source}: Match blocks are not evaluated; their options are not applied`);
    } else if (keyword === 'include') {
      for (const arg of args) {
        const expanded = expandTilde(arg, home);
        const path = isAbsolute(expanded) ? expanded : join(home, '.ssh', expanded);
        const paths = basename(path).includes('*') ? await globFileName(path) : [path];
        for (const p of paths) await readBlocks(p, home, depth + 1, blocks, notes);
      }
      // lines after an Include continue the block that contained it
      blocks.push((current = { patterns: current.patterns, lines: [] }));
    } else {
      current.lines.push({ keyword, args, source });
    }
  }
}

async function globFileName(path: string): Promise<string[]> {
  const dir = dirname(path);
  const re = new RegExp(`^${basename(path).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return (await readdir(dir)).filter((n) => re.test(n)).sort().map((n) => join(dir, n));
  } catch {
    return [];
  }
}

function hostMatches(patterns: readonly string[], alias: string): boolean {
  let matched = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const body = negated ? p.slice(1) : p;
    const re = new RegExp(`^${body.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (re.test(alias)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Resolves the options `ssh ALIAS` would use, from a config file (default `~/.ssh/config`). */
export async function resolveSshConfig(alias: string, options: { file?: string; home?: string; localUser?: string } = {}): Promise<SshConfigOptions> {
  const home = options.home ?? homedir();
  const file = options.file ?? join(home, '.ssh', 'config');
  const blocks: ConfigBlock[] = [];
  const notes: string[] = [];
  await readBlocks(file, home, 0, blocks, notes);
  const result: SshConfigOptions = { identityFiles: [], notes };
  const seen = new Set<string>();
  for (const block of blocks) {
    if (block.patterns === 'match' || !hostMatches(block.patterns, alias)) continue;
    for (const line of block.lines) {
      const value = line.args[0];
      if (value === undefined) continue;
      if (line.keyword === 'identityfile') {
        result.identityFiles.push(value);
        continue;
      }
      if (seen.has(line.keyword)) continue;
      seen.add(line.keyword);
      switch (line.keyword) {
        case 'hostname':
          result.hostName = value;
          break;
        case 'port': {
          const port = Number(value);
          if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${line.source}: Port "${value}" is not a port number`);
          result.port = port;
          break;
        }
        case 'user':
          result.user = value;
          break;
        case 'identityagent':
          result.identityAgent = value;
          break;
        case 'proxyjump':
          result.proxyJump = value;
          notes.push(`${line.source}: ProxyJump is not supported by the studio's SSH client; connect to a host it can reach directly`);
          break;
        default:
          break;
      }
    }
  }
  // %-tokens ssh expands in these fields (the common ones)
  const hostName = result.hostName?.replace(/%h/g, alias) ?? alias;
  const user = result.user ?? options.localUser ?? '';
  const expandTokens = (s: string) =>
    expandTilde(s, home)
      .replace(/%d/g, home)
      .replace(/%h/g, hostName)
      .replace(/%r/g, user)
      .replace(/%u/g, options.localUser ?? '')
      .replace(/%%/g, '%');
  if (result.hostName) result.hostName = hostName;
  result.identityFiles = result.identityFiles.map(expandTokens);
  if (result.identityAgent) result.identityAgent = expandTokens(result.identityAgent);
  return result;
}
