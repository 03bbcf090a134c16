import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { runView } from '../../../src/eval/dashboardViews';
import { formatMetricsTable } from '../../../src/eval/metrics';
import { compareRuns, formatComparison } from '../../../src/eval/runComparison';
import { computeRunResults } from '../../../src/eval/runResults';
import { runViewSchema } from '../../../src/protocol/evalDashboard';
import { captureCliIo } from '../../support/cliIo';
import { runAQuestions, runBQuestions, writeProfileRun } from './profileRunFixture';

// Run A (studio profile) and run B (reference profile) hold the same 7 questions; see profileRunFixture.ts.
// Worked out by hand from the fixture's verdicts:
//   A  math-mini     studio m1 m2 m4 = 3/4 (75.0)   reference m1 m4 = 2/4 (50.0)   differ: m2
//   A  factual-mini  studio f2 = 1/3 (33.3)         reference f1 f2 = 2/3 (66.7)   differ: f1   (f3 a run error)
//   B  math-mini     studio all = 4/4 (100.0)       reference m1 m3 m4 = 3/4 (75.0)
//   m4 holds one verdict only (scored before profiles) and counts for both.

let dir: string;
let runA: string;
let runB: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'profile-scores-'));
  runA = path.join(dir, 'run-a');
  runB = path.join(dir, 'run-b');
  await writeProfileRun(runA, 'studio', runAQuestions);
  await writeProfileRun(runB, 'reference', runBQuestions);
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo({ cwd: dir });
  return { code: await runCli(argv, io), out: io.out, err: io.err };
}

void test('a run has an accuracy per benchmark under each profile; one-verdict records count for both', async () => {
  const { metrics } = await computeRunResults(runA);
  assert.equal(metrics.profile, 'studio');
  const byName = new Map(metrics.benchmarks.map((b) => [b.name, b]));
  const mathMini = byName.get('math-mini')!;
  const factualMini = byName.get('factual-mini')!;
  assert.deepEqual([mathMini.byProfile.studio.correct, mathMini.byProfile.reference.correct, mathMini.questions], [3, 2, 4]);
  assert.deepEqual([factualMini.byProfile.studio.correct, factualMini.byProfile.reference.correct, factualMini.questions], [1, 2, 3]);
  assert.equal(mathMini.accuracy, 0.75, "the headline accuracy is the run's own profile's");
  assert.equal(mathMini.byProfile.reference.accuracy, 0.5);
  assert.ok(Math.abs(metrics.averageAccuracyByProfile.studio - (0.75 + 1 / 3) / 2) < 1e-12);
  assert.ok(Math.abs(metrics.averageAccuracyByProfile.reference - (0.5 + 2 / 3) / 2) < 1e-12);
  assert.deepEqual([mathMini.withoutBothVerdicts, factualMini.withoutBothVerdicts, metrics.withoutBothVerdicts], [1, 0, 1], 'm4 only; a run error is not a verdict');
  assert.deepEqual([mathMini.disagreements, factualMini.disagreements], [1, 1]);
});

void test('the disagreements list names each differing question with answer, gold and both verdicts with their rules', async () => {
  const { metrics } = await computeRunResults(runA);
  assert.deepEqual(
    metrics.disagreements.map((d) => [d.benchmark, d.taskId, d.prediction, d.gold, d.reference.correct, d.reference.rule, d.studio.correct, d.studio.rule]),
    [
      ['math-mini', 'm2', '\\boxed{90}', '90^\\circ', false, 'gold-as-written', true, 'normalized-equal'],
      ['factual-mini', 'f1', 'Lovelace', 'Ada Lovelace', true, 'judge-yes', false, 'not-exact'],
    ],
  );
  const m2 = metrics.disagreements[0];
  assert.deepEqual([m2.file, m2.slot], ['trajectories/math-mini.traj.jsonl', 1], 'it opens like any question of the list');
});

void test('the text report shows both accuracies labelled, the run profile marked, and the disagreements', async () => {
  const { metrics } = await computeRunResults(runA);
  const lines = formatMetricsTable(metrics);
  const header = lines.find((l) => l.includes("Paper's scoring (reference)"));
  assert.ok(header, 'a column for the paper\'s scoring');
  assert.match(header, /Corrected \(studio\) ◀ this run/);
  assert.doesNotMatch(header, /reference\) ◀/);
  assert.match(lines.find((l) => l.startsWith('math-mini') && l.includes('50.0'))!, /^math-mini\s+4\s+50\.0\s+75\.0\s+1$/);
  assert.match(lines.find((l) => l.startsWith('factual-mini') && l.includes('66.7'))!, /^factual-mini\s+3\s+66\.7\s+33\.3\s+1$/);
  assert.match(lines.find((l) => l.startsWith('average') && l.includes('58.3'))!, /^average\s+7\s+58\.3\s+54\.2\s+2$/);
  assert.ok(lines.includes('1 record(s) hold one verdict only (scored before both profiles were stored): it counts for both'));
  assert.ok(lines.includes('2 question(s) scored differently by the two profiles:'));
  assert.ok(lines.includes(`  math-mini/m2: answer "\\\\boxed{90}", gold "90^\\\\circ"; Paper's scoring (reference): wrong (gold-as-written); Corrected (studio): correct (normalized-equal)`));
});

void test('eval report prints both accuracies and the disagreements; --json carries them too', async () => {
  const r = await cli(['eval', 'report', 'run-a']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Corrected \(studio\) ◀ this run/);
  assert.match(r.out, /factual-mini\/f1: answer "Lovelace", gold "Ada Lovelace"; Paper's scoring \(reference\): correct \(judge-yes\); Corrected \(studio\): wrong \(not-exact\)/);
  const json = await cli(['eval', 'report', 'run-b', '--json']);
  const parsed = JSON.parse(json.out) as { profile: string; averageAccuracyByProfile: { studio: number; reference: number }; disagreements: { taskId: string }[] };
  assert.equal(parsed.profile, 'reference');
  assert.deepEqual(parsed.disagreements.map((d) => d.taskId), ['m2', 'f1']);
  assert.ok(Math.abs(parsed.averageAccuracyByProfile.studio - (1 + 1 / 3) / 2) < 1e-12);
});

void test('compare gives both runs under each profile, marks which profile each run counts, and lists each run\'s disagreements', async () => {
  const [a, b] = await Promise.all([computeRunResults(runA), computeRunResults(runB)]);
  const c = compareRuns(a.metrics, b.metrics);
  assert.deepEqual(c.profiles, { a: 'studio', b: 'reference' });
  const mathMini = c.benchmarks.find((d) => d.name === 'math-mini')!;
  assert.deepEqual(mathMini.byProfile.reference, { a: 0.5, b: 0.75, delta: 0.25 });
  assert.deepEqual(mathMini.byProfile.studio, { a: 0.75, b: 1, delta: 0.25 });
  assert.deepEqual([c.disagreements.a.length, c.disagreements.b.length], [2, 2]);

  const r = await cli(['eval', 'compare', 'run-a', 'run-b']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.ok(lines.includes('A = run-a (counts the studio profile)'));
  assert.ok(lines.some((l) => l.startsWith('note: A and B count different profiles')), 'a cross-profile comparison says so');
  const ref = lines.indexOf("Paper's scoring (reference): accuracy % (the profile B runs under)");
  const studio = lines.indexOf('Corrected (studio): accuracy % (the profile A runs under)');
  assert.ok(ref > 0 && studio > ref, r.out);
  assert.match(lines.slice(ref, studio).find((l) => l.startsWith('math-mini'))!, /^math-mini\s+50\.0\s+75\.0\s+\+25\.0$/);
  assert.match(lines.slice(studio).find((l) => l.startsWith('math-mini'))!, /^math-mini\s+75\.0\s+100\.0\s+\+25\.0$/);
  assert.match(r.out, /A: 2 question\(s\) scored differently by the two profiles:\n {2}math-mini\/m2/);
  assert.deepEqual(formatComparison(c, { a: 'run-a', b: 'run-b' }).join('\n'), r.out.trimEnd());
});

void test('the dashboard\'s run view carries both accuracies and the disagreements through the protocol', async () => {
  const view = runView(runA, await computeRunResults(runA));
  const parsed = runViewSchema.parse(view);
  assert.equal(parsed.profile, 'studio');
  assert.deepEqual(parsed.benchmarks.map((b) => [b.name, b.byProfile.reference.correct, b.byProfile.studio.correct]), [['math-mini', 2, 3], ['factual-mini', 2, 1]]);
  assert.deepEqual(parsed.disagreements.map((d) => d.taskId), ['m2', 'f1']);
  assert.deepEqual(parsed.questions.find((q) => q.taskId === 'f1')?.correctByProfile, { studio: false, reference: true });
});
