// CI's check of the README's first command: starts `npm run studio` as a person would in a terminal, waits
// for the URL it prints, fetches the workbench page and the installed extension's manifest through that
// server, then presses Ctrl-C (SIGINT to the whole foreground process group) and checks that nothing it
// started is left running. Exit 0 when all of that holds; otherwise 1 with the studio's output.
// Usage: node scripts/studio-smoke.mjs [--timeout-minutes N]   (default 20: a first run installs code-server)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const minutes = Number(args[args.indexOf('--timeout-minutes') + 1]) || 20;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const extensionId = `${pkg.publisher}.${pkg.name}`.toLowerCase();

let output = '';
function fail(message) {
  console.error(`[studio-smoke] FAILED: ${message}\n--- npm run studio output (last 4000 characters) ---\n${output.slice(-4000)}`);
  process.exit(1);
}

/** Processes still alive that this run started: its process group, or anything running from this checkout's test host. */
function leftovers(pgid) {
  const found = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // exited, waiting to be reaped
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (Number(fields[2]) === pgid || cmdline.includes(path.join(root, 'e2e/code-server')) || cmdline.includes(path.join(root, '.studio'))) {
        found.push(`${pid} ${cmdline.slice(0, 160)}`);
      }
    } catch {
      // gone while we looked
    }
  }
  return found;
}

const started = Date.now();
// detached: its own process group, like a job a shell starts in the foreground, so Ctrl-C reaches all of it
const child = spawn('npm', ['run', 'studio'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
const url = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve(undefined), minutes * 60_000);
  const take = (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
    const m = /Trajectory Studio is running: (\S+)/.exec(output);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  void exited.then(() => {
    clearTimeout(timer);
    resolve(undefined);
  });
});
if (!url) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  fail(child.exitCode !== null ? `npm run studio exited with ${child.exitCode} before printing its URL` : `no URL within ${minutes} minutes`);
}
console.log(`[studio-smoke] URL after ${Math.round((Date.now() - started) / 1000)} s: ${url}`);

const page = await fetch(url);
const html = await page.text();
if (page.status !== 200 || !html.includes('vscode-workbench-web-configuration')) fail(`the workbench page answered ${page.status} without the workbench configuration`);
console.log('[studio-smoke] workbench page served');

// The extension as the workbench loads it: its manifest through the server's remote-resource route.
const extensionsDir = path.join(root, '.studio/cs-extensions');
const folder = fs.readdirSync(extensionsDir).find((f) => f.toLowerCase().startsWith(`${extensionId}-`));
if (!folder) fail(`${extensionId} is not installed in ${extensionsDir}`);
const manifestUrl = new URL('/vscode-remote-resource', url);
manifestUrl.searchParams.set('path', path.join(extensionsDir, folder, 'package.json'));
const manifest = await fetch(manifestUrl);
const served = manifest.status === 200 ? JSON.parse(await manifest.text()) : undefined;
if (served?.name !== pkg.name || served?.version !== pkg.version) fail(`the server did not serve the extension's manifest (${manifest.status})`);
console.log(`[studio-smoke] extension ${extensionId} ${served.version} installed and served`);

process.kill(-child.pid, 'SIGINT');
const stop = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 60_000).unref())]);
if (!stop) fail('npm run studio did not stop within 60 s of Ctrl-C');
const left = leftovers(child.pid);
if (left.length) {
  for (const line of left) {
    try { process.kill(Number(line.split(' ')[0]), 'SIGKILL'); } catch { /* gone */ }
  }
  fail(`processes left after Ctrl-C:\n  ${left.join('\n  ')}`);
}
console.log(`[studio-smoke] stopped by Ctrl-C (exit ${stop.code ?? stop.signal}); no process left. Total ${Math.round((Date.now() - started) / 1000)} s`);
