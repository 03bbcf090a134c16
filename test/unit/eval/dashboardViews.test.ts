import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listRunFolders, modeLabel, runStatus, trajectoryPane } from '../../../src/eval/dashboardViews';
import { evalRunConfigSchema, type EvalManifest, manifestFile } from '../../../src/eval/evalConfig';
import { newTrajectory } from '../../../src/trajectory/schema';

let root: string;

function manifest(startedAt: string, extra: Partial<EvalManifest> = {}): EvalManifest {
  return {
    kind: 'eval-run',
    manifestVersion: 1,
    config: evalRunConfigSchema.parse({ runFolder: '/r', benchmarks: ['/b.json'], student: { model: 'student-lora' } }),
    benchmarks: [{ name: 'math-mini', file: '/b.json', sha256: 'x', questions: 3, trajectories: 'trajectories/math-mini.traj.jsonl' }],
    promptProfile: { name: 'student', hash: 'h' },
    environment: {},
    sessions: [{ startedAt, finishedAt: startedAt, attempted: 3, failures: 0, cancelled: false, wallMs: 10 }],
    ...extra,
  };
}

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'eval-views-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

void test('the run list holds only folders with a manifest, newest first, labelled with model and mode', async () => {
  for (const [name, startedAt] of [['older', '2026-01-01T00:00:00.000Z'], ['newer', '2026-02-01T00:00:00.000Z']] as const) {
    mkdirSync(path.join(root, name));
    writeFileSync(manifestFile(path.join(root, name)), JSON.stringify(manifest(startedAt)));
  }
  mkdirSync(path.join(root, 'not-a-run'));
  writeFileSync(path.join(root, 'not-a-run', 'notes.txt'), 'hello');
  mkdirSync(path.join(root, 'damaged'));
  writeFileSync(manifestFile(path.join(root, 'damaged')), '{ not json');
  const runs = await listRunFolders(root);
  assert.deepEqual(runs.map((r) => path.basename(r.runFolder)), ['newer', 'older']);
  assert.match(runs[0].label, /student-lora · SAG ×8/);
  assert.match(runs[0].detail, /math-mini/);
  assert.deepEqual(await listRunFolders(path.join(root, 'missing')), []);
});

void test('the mode label says how the run sampled: adaptive rounds, and the reference compatibility that ignores them', () => {
  const config = (extra: object) => evalRunConfigSchema.parse({ runFolder: '/r', benchmarks: ['/b.json'], student: { model: 's' }, ...extra });
  const adaptive = { kind: 'sag', candidates: 8, adaptive: { firstRound: 3, roundSize: 2 } };
  assert.equal(modeLabel(manifest('t', { config: config({ mode: adaptive }) })), 'SAG ≤8, adaptive 3+2');
  assert.equal(modeLabel(manifest('t', { config: config({ mode: { ...adaptive, adaptive: { agreement: 0.75 }, voteKeys: 'normalized' } }) })), 'SAG ≤8, adaptive 3+3 (agreement 0.75) (normalized votes)');
  assert.equal(modeLabel(manifest('t', { config: config({ mode: adaptive, compatibility: 'reference' }) })), 'SAG ×8 (reference)', 'the label names what the run did');
  assert.equal(modeLabel(manifest('t', { config: config({ mode: { kind: 'greedy' } }) })), 'greedy');
});

void test('the status says whether a run finished, was cancelled, is running or still has questions to do', () => {
  const m = manifest('2026-01-01T00:00:00.000Z');
  assert.equal(runStatus(m, 0, false), 'finished');
  assert.equal(runStatus(m, 2, false), 'not finished');
  assert.equal(runStatus(m, 2, true), 'running');
  assert.equal(runStatus({ ...m, sessions: [{ ...m.sessions[0], cancelled: true }] }, 2, false), 'cancelled');
});

void test('the side-by-side pane keeps every step, marks errors and candidates, and shortens very long text', () => {
  const t = newTrajectory({ task: { id: 't', question: 'q', domain: 'math' }, origin: { kind: 'student' } });
  const long = 'x'.repeat(5000);
  t.steps = [
    {
      thought: 'think',
      code: long,
      modelOutput: '',
      observation: { printOutput: '', lastValue: 'None', webSearchCalls: [], error: { kind: 'execution', type: 'NameError', message: "name 'y' is not defined" } },
      candidates: [
        { text: '', code: 'a', valid: false, voteKey: '', printOutput: '' },
        { text: '', code: 'b', valid: true, voteKey: '1', printOutput: '1' },
      ],
      winner: 1,
    },
    { thought: 'done', code: 'final_answer(1)', modelOutput: '', observation: { printOutput: '', lastValue: '1', webSearchCalls: [], finalAnswer: '1', text: 'Observation text' } },
  ];
  t.finalAnswer = '1';
  const pane = trajectoryPane(t, 'Student');
  assert.equal(pane.steps.length, 2);
  assert.equal(pane.steps[0].error, "NameError: name 'y' is not defined");
  assert.deepEqual([pane.steps[0].candidates, pane.steps[0].validCandidates, pane.steps[0].winner], [2, 1, 1]);
  assert.ok(pane.steps[0].code.length < long.length && pane.steps[0].code.includes('more characters'));
  assert.equal(pane.steps[1].observation, 'Observation text', 'the observation as the model saw it');
  assert.equal(pane.finalAnswer, '1');
});
