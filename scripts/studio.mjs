// npm run studio: installs what is missing (the code-server test host, once), builds and packages the
// extension, starts a real VS Code (code-server) on 127.0.0.1 with Trajectory Studio installed and the
// bundled examples/ folder open, prints the URL, and runs until Ctrl-C, then stops everything it started.
// Options: --port N (default: a free port), --folder PATH (default: examples/), --no-package (reuse the VSIX).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installExtension, makeRunDirs, repoRoot, startCodeServer, workbenchSettings } from '../e2e/lib.mjs';
import { setupTestHost } from '../e2e/setup.mjs';
import { preflight } from './preflight.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = opt('--port') ? Number(opt('--port')) : undefined;
const folder = path.resolve(opt('--folder') ?? path.join(repoRoot, 'examples'));
const step = (label, cmd, cmdArgs) => {
  console.log(`[studio] ${label}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: repoRoot });
  if (r.status !== 0) {
    console.error(`[studio] ${label} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
};

// What the system must provide comes first, before any slow step.
if ((await preflight(['studio'])) !== 0) process.exit(1);
console.log('[studio] checking the VS Code host (code-server 4.139.1 and Node 24 under e2e/; the first install takes about 2-3 minutes and ~620 MB)');
try {
  await setupTestHost();
} catch (err) {
  console.error(`[studio] installing the VS Code host failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const vsix = path.join(repoRoot, `trajectory-studio-${pkg.version}.vsix`);
if (!args.includes('--no-package') || !fs.existsSync(vsix)) step('building and packaging the extension', process.execPath, ['scripts/package.mjs']);

// The example workspace's retrieval index is built from its corpus on first use (a few seconds), where the
// default index-folder setting looks for it; later runs find it and skip this.
const exampleIndex = path.join(repoRoot, 'examples/.trajectory-studio/indexes/example-corpus');
const exampleIndexBuilt = () => {
  try {
    // the manifest records builtAt once the index is searchable
    return typeof JSON.parse(fs.readFileSync(path.join(exampleIndex, 'studio-index.json'), 'utf8')).builtAt === 'string';
  } catch {
    return false;
  }
};
if (folder === path.join(repoRoot, 'examples') && !exampleIndexBuilt()) {
  step('building the example retrieval index from examples/corpus/passages.jsonl', process.execPath, [
    'dist/cli.js', 'index', 'build', '--corpus', 'examples/corpus/passages.jsonl', '--out', exampleIndex, '--name', 'Example corpus',
  ]);
}

// A persistent profile under .studio/ keeps your layout and settings between runs (git ignores it).
const dirs = makeRunDirs(path.join(repoRoot, '.studio'), workbenchSettings({ 'workbench.colorTheme': 'Default Dark Modern' }));
console.log('[studio] installing the extension into the studio profile');
await installExtension(dirs, vsix);
const server = await startCodeServer(dirs, { port, folder });
const url = `${server.url}?folder=${encodeURIComponent(folder)}`;
console.log(`\nTrajectory Studio is running: ${url}\nOpen it in your browser. Press Ctrl-C to stop.\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\n[studio] stopping code-server');
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {
  try {
    process.kill(server.pid, 0);
  } catch {
    console.error(`[studio] code-server exited; see ${server.logFile}`);
    process.exit(1);
  }
}, 2000);
