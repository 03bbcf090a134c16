// The one check of what the studio and the test suite need from the system, run before anything slow starts
// by `npm run studio`, `npm test` (and each `npm run test:*`). It names each missing piece with the Debian
// package that brings it and the one command that installs them all. As root with apt-get (containers, CI,
// these machines) it runs that command itself and says so; otherwise it prints it and exits non-zero.
//
// Usage: node scripts/preflight.mjs [studio] [unit] [integration] [ui]   (default: all of them)
//        --check-only   report, never install (exit 1 when something is missing)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the project uses, by purpose: `studio` (npm run studio) and the three test tiers. */
export const PURPOSES = ['studio', 'unit', 'integration', 'ui'];

// Debian's python3 is the one the sandbox and training tests run (readable by the unprivileged test user);
// TRAJECTORY_STUDIO_TEST_PYTHON points them, and this check, at another.
const testPython = () => process.env.TRAJECTORY_STUDIO_TEST_PYTHON || '/usr/bin/python3';
const chromium = () => process.env.E2E_CHROMIUM || '/usr/bin/chromium';

/**
 * Each requirement: how to see it is there (`probe`), the Debian packages that bring it, what needs it and
 * for which purposes. Probes are data, so the decision can be unit-tested with any pretend system.
 */
export const REQUIREMENTS = [
  {
    id: 'compiler', packages: ['build-essential'], purposes: ['studio', 'integration', 'ui'],
    why: "a C/C++ compiler and make, to build code-server's native modules on first install",
    probe: { commands: ['g++', 'make'] },
  },
  {
    id: 'python3', packages: ['python3'], purposes: PURPOSES,
    why: 'Python 3: node-gyp builds, the sandbox and the training script',
    probe: { commands: ['python3'] },
  },
  {
    id: 'kerberos-headers', packages: ['libkrb5-dev'], purposes: ['studio', 'integration', 'ui'],
    why: "Kerberos headers, for code-server's kerberos module",
    probe: { files: ['/usr/include/gssapi/gssapi.h'] },
  },
  {
    id: 'bubblewrap', packages: ['bubblewrap'], purposes: ['studio', 'unit'], platforms: ['linux'],
    why: 'bubblewrap, which isolates model-written code in the sandbox',
    probe: { commands: ['bwrap'] },
  },
  {
    id: 'numpy', packages: ['python3-numpy'], purposes: ['studio', 'unit'],
    why: 'numpy for the sandbox (the method allows model code to import it)',
    probe: { pythonModules: ['numpy'] },
  },
  {
    id: 'sympy', packages: ['python3-sympy'], purposes: ['studio', 'unit'],
    why: 'sympy for the sandbox and for math answer equivalence',
    probe: { pythonModules: ['sympy'] },
  },
  {
    id: 'torch', packages: ['python3-torch'], purposes: ['unit'],
    why: "PyTorch, for the training script's CPU tests",
    probe: { pythonModules: ['torch'] },
  },
  {
    id: 'openssh', packages: ['openssh-server', 'openssh-client'], purposes: ['unit', 'ui'],
    why: 'OpenSSH sshd and ssh-keygen, for the training tests against a local SSH host',
    probe: { files: ['/usr/sbin/sshd'], commands: ['ssh-keygen'] },
  },
  {
    id: 'chromium', packages: ['chromium'], purposes: ['integration', 'ui'],
    why: 'Chromium, which opens the VS Code workbench in the extension-host and UI tests',
    probe: { files: [chromium] },
  },
];

/** The requirements `purposes` need on `platform`. */
export function requirementsFor(purposes, platform = process.platform) {
  return REQUIREMENTS.filter((r) => r.purposes.some((p) => purposes.includes(p)) && (!r.platforms || r.platforms.includes(platform)));
}

/**
 * Which of `requirements` are missing on `system` ({ hasCommand(name), hasFile(path), hasPythonModule(name) }).
 * A requirement is missing when any part of its probe fails.
 */
export async function findMissing(requirements, system) {
  const missing = [];
  for (const r of requirements) {
    const { commands = [], files = [], pythonModules = [] } = r.probe;
    const present = (await Promise.all([
      ...commands.map((c) => system.hasCommand(c)),
      ...files.map((f) => system.hasFile(typeof f === 'function' ? f() : f)),
      ...pythonModules.map((m) => system.hasPythonModule(m)),
    ])).every(Boolean);
    if (!present) missing.push(r);
  }
  return missing;
}

/** The one command that installs `missing`, for a user (with sudo) or for root. */
export function installCommand(missing, { root = false } = {}) {
  const packages = [...new Set(missing.flatMap((r) => r.packages))];
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/**
 * What to do about `missing`: nothing, install it (root with apt-get), or stop with instructions.
 * Installing is only ever done as root with apt-get available and without `checkOnly`.
 */
export function decide(missing, { isRoot, hasApt, checkOnly = false }) {
  if (missing.length === 0) return { action: 'ok' };
  if (isRoot && hasApt && !checkOnly) return { action: 'install', command: installCommand(missing, { root: true }) };
  return { action: 'stop', command: hasApt ? installCommand(missing, { root: isRoot }) : undefined };
}

/** The report a person reads: one line per missing piece, then what happens next. */
export function describe(missing, decision) {
  const lines = missing.map((r) => `  - ${r.why} [${r.packages.join(', ')}]`);
  if (decision.action === 'install') {
    return ['[preflight] missing:', ...lines, `[preflight] running as root with apt-get, so installing them now: ${decision.command}`].join('\n');
  }
  const how = decision.command
    ? `Install them with:\n\n  ${decision.command}\n\nthen run the same command again.`
    : 'Install the equivalent packages with your system\'s package manager (they are named above as Debian packages), then run the same command again.';
  return ['[preflight] this machine is missing what the project needs:', ...lines, '', how].join('\n');
}

function which(name) {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The real machine: PATH look-ups, file checks, and one Python run that looks for every module at once. */
export function realSystem() {
  let modules;
  const pythonModules = () => {
    const wanted = [...new Set(REQUIREMENTS.flatMap((r) => r.probe.pythonModules ?? []))];
    // find_spec imports nothing, so this stays fast even for torch
    const code = `import importlib.util, json; print(json.dumps({m: importlib.util.find_spec(m) is not None for m in ${JSON.stringify(wanted)}}))`;
    modules ??= new Promise((resolve) => {
      execFile(testPython(), ['-I', '-c', code], { timeout: 60_000 }, (error, stdout) => {
        if (error) return resolve({});
        try {
          resolve(JSON.parse(stdout));
        } catch {
          resolve({});
        }
      });
    });
    return modules;
  };
  return {
    hasCommand: async (name) => which(name),
    hasFile: async (file) => fs.existsSync(file),
    hasPythonModule: async (name) => Boolean((await pythonModules())[name]),
  };
}

function runVisible(command) {
  return new Promise((resolve) => {
    // apt-get must not ask anything: there may be no terminal (CI) and nobody to answer
    const child = execFile('sh', ['-c', command], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 << 20 }, (error) => resolve(error ? (error.code ?? 1) : 0));
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  });
}

/**
 * Checks (and as root installs) what `purposes` need. Returns 0 when everything is there afterwards, else 1
 * with the report printed. Never throws for a missing piece.
 */
export async function preflight(purposes = PURPOSES, { checkOnly = false, system = realSystem(), log = console.log } = {}) {
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < 20) {
    log(`[preflight] Node.js ${process.versions.node} is too old: the project needs Node.js 20 or later.`);
    return 1;
  }
  const needed = requirementsFor(purposes);
  const missing = await findMissing(needed, system);
  const decision = decide(missing, {
    isRoot: process.getuid?.() === 0,
    hasApt: await system.hasCommand('apt-get'),
    checkOnly,
  });
  if (decision.action === 'ok') {
    log(`[preflight] ${purposes.join(', ')}: everything needed is installed (${needed.map((r) => r.id).join(', ')})`);
    return 0;
  }
  log(describe(missing, decision));
  if (decision.action === 'stop') return 1;
  const t = Date.now();
  const code = await runVisible(decision.command);
  // a fresh probe: the first one cached what Python could import before the install
  const still = await findMissing(needed, realSystem());
  if (code !== 0 || still.length) {
    log(`[preflight] installing failed (exit ${code}); still missing: ${still.map((r) => r.packages.join(', ')).join('; ') || 'nothing, but apt-get failed'}`);
    return 1;
  }
  log(`[preflight] installed in ${Math.round((Date.now() - t) / 1000)} s`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !a.startsWith('--') && !PURPOSES.includes(a));
  if (unknown.length) {
    console.error(`[preflight] unknown purpose ${unknown.join(', ')}: use ${PURPOSES.join(', ')}`);
    process.exit(2);
  }
  const purposes = args.filter((a) => PURPOSES.includes(a));
  // no top-level await: the unit tests load this file as CommonJS
  void preflight(purposes.length ? purposes : PURPOSES, { checkOnly: args.includes('--check-only') }).then((code) => process.exit(code));
}
