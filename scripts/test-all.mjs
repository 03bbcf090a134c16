// npm test: every tier, in order, each ending with its runner's own summary, then one closing line.
//   unit         node's test runner over test/unit/** (no VS Code)
//   integration  mocha inside a real VS Code extension host (code-server), trusted and untrusted workspace
//   ui           Playwright + Chromium against code-server with the packaged VSIX installed
// Usage: node scripts/test-all.mjs [unit] [integration] [ui]   (default: all three)
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setupTestHost } from '../e2e/setup.mjs';
import { preflight } from './preflight.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
const wanted = process.argv.slice(2);
const tiers = wanted.length ? wanted : ['unit', 'integration', 'ui'];
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function run(label, cmd, args, env = {}) {
  return new Promise((resolve) => {
    const t = Date.now();
    console.log(`\n=== ${label} ===`);
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (stream, sink) => stream.on('data', (d) => { out += d; sink.write(d); });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on('close', (code) => {
      console.log(`=== ${label}: exit ${code} in ${((Date.now() - t) / 1000).toFixed(1)} s ===`);
      resolve({ code: code ?? 1, out });
    });
  });
}

/** Counts from node's spec reporter (ℹ pass N …) or the integration runner (N passed, N failed, N skipped). */
function count(out) {
  const num = (re) => [...out.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
  const nodePass = num(/^ℹ pass (\d+)$/gm);
  const nodeFail = num(/^ℹ fail (\d+)$/gm) + num(/^ℹ cancelled (\d+)$/gm);
  const nodeSkip = num(/^ℹ skipped (\d+)$/gm) + num(/^ℹ todo (\d+)$/gm);
  const intPass = num(/^integration \(.*\): (\d+) passed/gm);
  const intFail = num(/^integration \(.*\): \d+ passed, (\d+) failed/gm);
  const intSkip = num(/^integration \(.*\): \d+ passed, \d+ failed, (\d+) skipped/gm);
  const pyPass = num(/^python unit: (\d+) passed/gm);
  const pyFail = num(/^python unit: \d+ passed, (\d+) failed/gm);
  const pySkip = num(/^python unit: \d+ passed, \d+ failed, (\d+) skipped/gm);
  return { passed: nodePass + intPass + pyPass, failed: nodeFail + intFail + pyFail, skipped: nodeSkip + intSkip + pySkip };
}

async function tier(label, cmd, args, env) {
  const { code, out } = await run(label, cmd, args, env);
  const c = count(out);
  totals.passed += c.passed;
  totals.failed += c.failed;
  totals.skipped += c.skipped;
  if (code !== 0) failures.push(`${label} (exit ${code})`);
}

async function step(label, cmd, args) {
  const { code } = await run(label, cmd, args);
  if (code !== 0) {
    failures.push(`${label} (exit ${code})`);
    return false;
  }
  return true;
}

const unknownTiers = tiers.filter((t) => !['unit', 'integration', 'ui'].includes(t));
if (unknownTiers.length) {
  console.error(`unknown tier ${unknownTiers.join(', ')}: use unit, integration or ui`);
  process.exit(2);
}
// What the system must provide, checked (and as root installed) before anything slow starts.
if ((await preflight(tiers)) !== 0) process.exit(1);

const needsHost = tiers.includes('integration') || tiers.includes('ui');
let hostReady = true;
if (needsHost) {
  console.log('\n=== test host (code-server) setup ===');
  try {
    await setupTestHost();
  } catch (err) {
    hostReady = false;
    failures.push(`test host setup (${err instanceof Error ? err.message : String(err)})`);
  }
}

if (tiers.includes('unit')) await tier('unit tier', process.execPath, ['scripts/run-unit-tests.mjs']);

if (tiers.includes('ui') && hostReady) {
  if (await step('package the VSIX', process.execPath, ['scripts/package.mjs'])) {
    const uiDir = path.join(root, 'test/ui');
    const files = fs.readdirSync(uiDir).filter((f) => f.endsWith('.ui.test.ts')).sort().map((f) => path.join('test/ui', f));
    await tier('ui tier (Chromium + code-server)', process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files]);
  }
}

if (tiers.includes('integration') && hostReady) {
  if (await step('build', process.execPath, ['esbuild.mjs'])) {
    await tier('integration tier (extension host, trusted workspace)', process.execPath, ['e2e/run-ext-tests.mjs']);
    await tier('integration tier (extension host, untrusted workspace)', process.execPath, ['e2e/run-ext-tests.mjs', '--untrusted']);
  }
}

console.log('');
if (failures.length) console.log(`failed steps: ${failures.join('; ')}`);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failures.length || totals.failed ? 1 : 0);
