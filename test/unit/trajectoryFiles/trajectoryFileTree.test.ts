import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildTrajectoryTree, candidateRunFolder, describeFileCounts, readEvalRunFacts } from '../../../src/trajectoryFiles/trajectoryFileTree';

const root = '/ws';
const found = (rel: string) => ({ path: path.join(root, rel), relativePath: rel });
const relative = (abs: string) => path.relative(root, abs).split(path.sep).join('/');

test('evaluation runs are grouped under their run; curated files stay at the top; duplicates get their folders', () => {
  const files = [
    found('examples/trajectories/teacher.traj.jsonl'),
    found('data/math-mini.traj.jsonl'),
    found('.trajectory-studio/eval-runs/run-a/trajectories/math-mini.traj.jsonl'),
    found('.trajectory-studio/eval-runs/run-a/trajectories/factual-mini.traj.jsonl'),
    found('.trajectory-studio/eval-runs/run-b/trajectories/math-mini.traj.jsonl'),
    found('old/math-mini.traj.jsonl'),
    // a "trajectories" folder without an evaluation manifest is curated data, not a run
    found('curated/trajectories/math-mini.traj.jsonl'),
  ];
  const runs = new Map([
    [path.join(root, '.trajectory-studio/eval-runs/run-a'), { model: 'qwen-student' }],
    [path.join(root, '.trajectory-studio/eval-runs/run-b'), {}],
  ]);
  const tree = buildTrajectoryTree(files, runs, relative);
  assert.deepEqual(
    tree.files.map((f) => [f.label, f.folder]),
    [
      ['math-mini.traj.jsonl', 'curated/trajectories'],
      ['math-mini.traj.jsonl', 'data'],
      ['teacher.traj.jsonl', undefined],
      ['math-mini.traj.jsonl', 'old'],
    ],
  );
  assert.deepEqual(tree.runs.map((r) => [r.label, r.relativeFolder, r.files.map((f) => f.label)]), [
    ['run-a', '.trajectory-studio/eval-runs/run-a', ['factual-mini.traj.jsonl', 'math-mini.traj.jsonl']],
    ['run-b', '.trajectory-studio/eval-runs/run-b', ['math-mini.traj.jsonl']],
  ]);
  assert.equal(tree.runs[0]?.facts.model, 'qwen-student');
  // files inside one run have unique names: no folder hint there
  assert.ok(tree.runs.every((r) => r.files.every((f) => f.folder === undefined)));
});

test('two runs with the same folder name are told apart by their parent folders', () => {
  const files = [found('a/runs/r1/trajectories/x.traj.jsonl'), found('b/runs/r1/trajectories/x.traj.jsonl')];
  const runs = new Map([
    [path.join(root, 'a/runs/r1'), {}],
    [path.join(root, 'b/runs/r1'), {}],
  ]);
  const tree = buildTrajectoryTree(files, runs, relative);
  assert.deepEqual(tree.runs.map((r) => [r.label, r.parent]), [['r1', 'a/runs'], ['r1', 'b/runs']]);
});

test('only a manifest of kind eval-run makes a folder a run, and the view reads its model and last start', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'traj-tree-'));
  const run = path.join(dir, 'run');
  mkdirSync(path.join(run, 'trajectories'), { recursive: true });
  assert.equal(candidateRunFolder(path.join(run, 'trajectories', 'm.traj.jsonl')), run);
  assert.equal(candidateRunFolder(path.join(run, 'm.traj.jsonl')), undefined);
  assert.equal(await readEvalRunFacts(run), undefined, 'no manifest');
  writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ kind: 'teacher-run' }));
  assert.equal(await readEvalRunFacts(run), undefined, 'another kind of manifest');
  writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ kind: 'eval-run', config: { student: { model: 'm1' } }, sessions: [{ startedAt: '2026-01-01T10:00:00Z' }, { startedAt: '2026-01-02T11:30:00Z' }] }));
  assert.deepEqual(await readEvalRunFacts(run), { model: 'm1', startedAt: '2026-01-02T11:30:00Z' });
});

test('file counts are words: trajectories, unreviewed, flagged, invalid lines; "counting…" before they are known', () => {
  assert.equal(describeFileCounts({}), 'counting…');
  assert.equal(describeFileCounts({ records: 1 }), '1 trajectory');
  assert.equal(describeFileCounts({ records: 24, unreviewed: 3, flagged: 2, invalid: 1 }), '24 trajectories · 3 unreviewed · 2 flagged · 1 invalid line');
  assert.equal(describeFileCounts({ records: 24, unreviewed: 0, flagged: 0 }), '24 trajectories');
});
