/**
 * Triage benchmark, two parts:
 *
 * 1. **Planted defects.** Every deterministic rule's defect is planted into the correct example trajectories
 *    (examples/trajectories/teacher.traj.jsonl), beside unmutated controls and near misses; triage runs on
 *    each item and the benchmark prints precision and recall per rule and overall.
 *    Targets: precision >= 0.9 and recall >= 0.9 per rule.
 * 2. **Throughput.** Triage of the trajectory-store benchmark's file (100,000 trajectories, about 1 GB; made
 *    by bench/trajectory-store/run.ts when missing) in a fresh process: seconds, records/s and peak RSS.
 *    Target: under 60 s on 2 cores, memory flat. The `over-length` rule tokenizes, so its cost is measured
 *    apart, on the first records of the same file.
 *
 *   node --import tsx bench/triage/run.ts                       # both parts
 *   node --import tsx bench/triage/run.ts --part planted        # the labelled set only (seconds)
 *   TRIAGE_BENCH_RECORDS=5000 node --import tsx bench/triage/run.ts --part throughput
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sftPromptOfProfile } from '../../src/cli/sftPromptOption';
import { defaultTriageMaxLength } from '../../src/triage/checks';
import { FileTriage, triageFile } from '../../src/triage/fileTriage';
import { TRIAGE_RULE_IDS } from '../../src/triage/flags';
import { trainingTokenCounter } from '../../src/triage/trainingTokens';
import { loadQwenTokenizer } from '../../src/trajectory/tokenMask';
import { openTrajectoryFile, readAllTrajectories } from '../../src/trajectory/trajectoryFile';
import { labelledSet } from './plantDefects';

const { values } = parseArgs({
  options: { part: { type: 'string', default: 'all' }, phase: { type: 'string' }, file: { type: 'string' }, records: { type: 'string' } },
});
const root = join(__dirname, '..', '..');
const records = Number(values.records ?? process.env.TRIAGE_BENCH_RECORDS ?? 100_000);
const storeFile = values.file ?? join(root, 'bench', '.data', `trajectories-${records}.traj.jsonl`);

/**
 * Defects the example trajectories have as written, found by reading them: the thought of math-02 does
 * `72 = 36·2 and 50 = 25·2` and that of math-09 `π/12 is 45° − 30°` in prose, and no code shows those numbers.
 */
const knownDefects = new Map([
  ['math-02', ['unchecked-thought-number']],
  ['math-09', ['unchecked-thought-number']],
]);

async function planted(): Promise<void> {
  const { trajectories, diagnostics } = await readAllTrajectories(join(root, 'examples', 'trajectories', 'teacher.traj.jsonl'));
  if (diagnostics.length) throw new Error(`the example file has invalid lines: ${JSON.stringify(diagnostics[0])}`);
  const items = labelledSet(trajectories, knownDefects);
  const counter = trainingTokenCounter(await loadQwenTokenizer(), await sftPromptOfProfile('student'), defaultTriageMaxLength);
  const tally = new Map<string, { tp: number; fp: number; fn: number }>(TRIAGE_RULE_IDS.map((r) => [r, { tp: 0, fp: 0, fn: 0 }]));
  const misses: string[] = [];
  for (const item of items) {
    const triage = new FileTriage({ countTrainingTokens: counter });
    item.before.forEach((t, i) => triage.add(i, t));
    const fired = new Set(triage.add(item.before.length, item.trajectory).map((f) => f.rule));
    for (const rule of TRIAGE_RULE_IDS) {
      const t = tally.get(rule);
      if (!t || (item.mayAlso.has(rule) && !item.labels.has(rule))) continue;
      const label = item.labels.has(rule);
      if (label && fired.has(rule)) t.tp++;
      else if (!label && fired.has(rule)) {
        t.fp++;
        misses.push(`false positive ${rule}: ${item.name}`);
      } else if (label) {
        t.fn++;
        misses.push(`missed ${rule}: ${item.name}`);
      }
    }
  }
  const ratio = (a: number, b: number): string => (b === 0 ? '  -  ' : (a / b).toFixed(3));
  console.log(`planted defects: ${items.length} items (${items.filter((i) => i.labels.size === 0).length} clean) from ${trajectories.length} example trajectories`);
  console.log(`${'rule'.padEnd(26)}${'planted'.padStart(8)}${'TP'.padStart(6)}${'FP'.padStart(6)}${'FN'.padStart(6)}  precision  recall`);
  const all = { tp: 0, fp: 0, fn: 0 };
  let belowTarget = 0;
  for (const [rule, t] of tally) {
    all.tp += t.tp;
    all.fp += t.fp;
    all.fn += t.fn;
    const p = t.tp + t.fp ? t.tp / (t.tp + t.fp) : 1;
    const r = t.tp + t.fn ? t.tp / (t.tp + t.fn) : 1;
    if (p < 0.9 || r < 0.9) belowTarget++;
    console.log(`${rule.padEnd(26)}${String(t.tp + t.fn).padStart(8)}${String(t.tp).padStart(6)}${String(t.fp).padStart(6)}${String(t.fn).padStart(6)}  ${ratio(t.tp, t.tp + t.fp).padStart(9)}  ${ratio(t.tp, t.tp + t.fn).padStart(6)}`);
  }
  console.log(`${'overall'.padEnd(26)}${String(all.tp + all.fn).padStart(8)}${String(all.tp).padStart(6)}${String(all.fp).padStart(6)}${String(all.fn).padStart(6)}  ${ratio(all.tp, all.tp + all.fp).padStart(9)}  ${ratio(all.tp, all.tp + all.fn).padStart(6)}`);
  console.log(`rules below the 0.9 targets: ${belowTarget}`);
  for (const m of misses) console.log(`  ${m}`);
}

async function throughputChild(): Promise<void> {
  const { size } = await stat(storeFile);
  const t0 = performance.now();
  const result = await triageFile(storeFile);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`triage of ${result.valid} trajectories (${(size / 1e6).toFixed(0)} MB): ${seconds.toFixed(1)} s = ${(result.valid / seconds).toFixed(0)} records/s, ${(size / 1e6 / seconds).toFixed(0)} MB/s (target < 60 s)`);
  console.log(`flagged ${result.flagged}; by rule: ${[...result.byRule].map(([r, n]) => `${r} ${n}`).join(', ')}`);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

  // over-length tokenizes every training text longer than the max length in bytes: measured apart.
  const counter = trainingTokenCounter(await loadQwenTokenizer(), await sftPromptOfProfile('student'), defaultTriageMaxLength);
  const file = await openTrajectoryFile(storeFile);
  const sample = Math.min(500, file.count);
  const s0 = performance.now();
  let over = 0;
  for (let i = 0; i < sample; i++) if (counter(await file.readTrajectory(i)) > defaultTriageMaxLength) over++;
  const perRecord = (performance.now() - s0) / sample;
  await file.close();
  console.log(`over-length (--max-length ${defaultTriageMaxLength}) on ${sample} records: ${perRecord.toFixed(2)} ms per record, ${over} over; for the whole file about ${((perRecord * result.valid) / 1000).toFixed(0)} s more`);
}

function runChild(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

async function throughput(): Promise<void> {
  const exists = await stat(storeFile).then(
    () => true,
    () => false,
  );
  if (!exists) {
    console.log(`generating ${records} trajectories into ${storeFile} (the trajectory-store benchmark's file) …`);
    await runChild([join(root, 'bench', 'trajectory-store', 'run.ts'), '--phase', 'generate', '--records', String(records), '--file', storeFile]);
  }
  // A fresh process, so peak RSS is triage's own.
  await runChild([__filename, '--phase', 'throughput', '--file', storeFile]);
}

async function main(): Promise<void> {
  if (values.phase === 'throughput') return throughputChild();
  if (values.part === 'all' || values.part === 'planted') await planted();
  if (values.part === 'all' || values.part === 'throughput') await throughput();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
