import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { newTrajectory, parseTrajectory, safeParseTrajectory, TRAJECTORY_SCHEMA_VERSION } from '../../../src/trajectory/schema';
import { TrajectoryEditorModel } from '../../../src/trajectoryEditor/editorDocumentModel';
import { saveThroughStore, StoreTrajectorySource } from '../../../src/trajectoryEditor/storeSource';

// Version 2 added `review.rubric` (the rubric judge's findings). Files written by version 1 must keep
// opening, and whatever the editor writes back must carry the current version.

const folder = mkdtempSync(join(tmpdir(), 'traj-schema-migration-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** A record as version 1 wrote it: the same shape, `"schema": 1`, no rubric. */
function versionOneRecord(id: string): Record<string, unknown> {
  const t = newTrajectory({
    id,
    createdAt: '2026-01-01T00:00:00.000Z',
    task: { id: `task-${id}`, question: `Question ${id}?`, goldAnswer: '4', domain: 'math' },
    origin: { kind: 'teacher', model: 'teacher-model' },
    steps: [{ thought: 'add', code: 'print(2+2)', modelOutput: '', observation: { printOutput: '4\n', lastValue: 'None', webSearchCalls: [] } }],
  });
  return { ...(JSON.parse(JSON.stringify(t)) as Record<string, unknown>), schema: 1 };
}

void test('a version 1 record migrates to the current version unchanged otherwise', () => {
  const old = versionOneRecord('v1');
  const r = safeParseTrajectory(old);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
  assert.equal(r.migratedFrom, 1);
  assert.equal(r.value.schema, TRAJECTORY_SCHEMA_VERSION);
  assert.equal(r.value.review.rubric, undefined);
  assert.deepEqual({ ...r.value, schema: 1 }, old);
});

void test('a stored rubric result is validated field by field, with its JSON path', () => {
  const old = versionOneRecord('v1');
  const review = { status: 'unreviewed', reasonTags: [], rubric: { rubric: 'r', rubricHash: 'h', at: 'now', contentHash: 'c', findings: [] } };
  // The identity migration neither invents nor drops data: what comes through is validated as the current version.
  assert.ok(safeParseTrajectory({ ...old, review }).ok);
  const bad = safeParseTrajectory({ ...old, review: { ...review, rubric: { ...review.rubric, findings: [{ criterion: 'x', verdict: 'maybe', reason: '', severity: 'low' }] } } });
  assert.ok(!bad.ok && bad.issues.some((i) => i.path === '$.review.rubric.findings[0].verdict'));
});

void test("the editor's save writes edited version 1 records as the current version and leaves the others as they were", async () => {
  const path = join(folder, 'old.traj.jsonl');
  const lines = [JSON.stringify(versionOneRecord('a')), JSON.stringify(versionOneRecord('b'))];
  writeFileSync(path, `${lines.join('\n')}\n`);
  const source = await StoreTrajectorySource.open(path);
  const model = new TrajectoryEditorModel(source);
  const read = await model.read(0);
  assert.ok(read.valid && read.trajectory.schema === TRAJECTORY_SCHEMA_VERSION, 'the editor sees the migrated record');
  await model.apply(0, { kind: 'setReview', status: 'accepted', reasonTags: [] });
  await saveThroughStore(source, model.replacements(), path);
  await source.close();

  const saved = readFileSync(path, 'utf8').split('\n');
  const first = JSON.parse(saved[0]) as { schema: number; review: { status: string } };
  assert.equal(first.schema, TRAJECTORY_SCHEMA_VERSION);
  assert.equal(first.review.status, 'accepted');
  assert.equal(saved[1], lines[1], 'an unedited record is copied byte for byte (it still reads, by migration)');
  assert.equal(parseTrajectory(saved[1]).schema, TRAJECTORY_SCHEMA_VERSION);
});
