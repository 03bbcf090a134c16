import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { criteriaFor, jsonValueLines, loadRubric, parseRubric, RubricError } from '../../../src/triage/rubric';

const folder = mkdtempSync(path.join(tmpdir(), 'rubric-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const exampleFolder = path.resolve(__dirname, '../../../examples/rubrics');

function errorOf(fn: () => unknown): RubricError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RubricError, `expected a RubricError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the rubric to be refused');
}

void test('every example rubric loads, with defaults filled in and a hash', async () => {
  const files = readdirSync(exampleFolder).filter((f) => f.endsWith('.rubric.json'));
  assert.ok(files.length > 0, 'examples/rubrics holds at least one rubric');
  for (const file of files) {
    const rubric = await loadRubric(path.join(exampleFolder, file));
    assert.match(rubric.hash, /^[0-9a-f]{64}$/);
    assert.ok(rubric.criteria.every((c) => ['high', 'medium', 'low'].includes(c.severity)), file);
  }
});

void test('the hash follows the content, not the layout, key order or spelled-out defaults', () => {
  const a = parseRubric('{"name":"r","criteria":[{"id":"cites-passage","description":"Cites a passage."}]}');
  const b = parseRubric('{\n  "criteria": [\n    { "severity": "medium", "description": "Cites a passage.", "id": "cites-passage" }\n  ],\n  "name": "r",\n  "description": "for people"\n}');
  assert.equal(a.hash, b.hash);
  assert.equal(a.criteria[0].severity, 'medium');
  const c = parseRubric('{"name":"r","criteria":[{"id":"cites-passage","description":"Cites two passages."}]}');
  assert.notEqual(a.hash, c.hash);
  const d = parseRubric('{"name":"r","criteria":[{"id":"cites-passage","description":"Cites a passage.","severity":"high"}]}');
  assert.notEqual(a.hash, d.hash);
});

void test('a bad criterion is reported with the file, its line and its JSON path', async () => {
  const file = path.join(folder, 'bad.rubric.json');
  writeFileSync(
    file,
    [
      '{',
      '  "name": "bad",',
      '  "criteria": [',
      '    { "id": "fine", "description": "ok" },',
      '    {',
      '      "id": "Not A Slug",',
      '      "description": "x",',
      '      "severity": "urgent"',
      '    },',
      '    { "id": "fine", "description": "again", "weight": 2 }',
      '  ]',
      '}',
    ].join('\n'),
  );
  const err = await loadRubric(file).then(
    () => assert.fail('expected the rubric to be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RubricError);
  const lines = err.message.split('\n');
  assert.ok(lines.some((l) => l.startsWith(`${file}:6: $.criteria[1].id: must be a slug`)), err.message);
  assert.ok(lines.some((l) => l.startsWith(`${file}:8: $.criteria[1].severity:`)), err.message);
  assert.ok(lines.some((l) => l.startsWith(`${file}:10: $.criteria[2]:`) && l.includes('weight')), err.message);
  assert.ok(lines.some((l) => l.startsWith(`${file}:10: $.criteria[2].id: "fine" is already the id of criteria[0]`)), err.message);
  assert.equal(err.issues.length, 4, 'every problem is reported at once');
});

void test('missing fields, reserved ids, broken JSON and missing files say what and where', async () => {
  const noCriteria = errorOf(() => parseRubric('{\n  "name": "x"\n}', 'x.rubric.json'));
  assert.match(noCriteria.message, /^x\.rubric\.json:1: \$\.criteria: /);
  const empty = errorOf(() => parseRubric('{"name": "x", "criteria": []}', 'x.rubric.json'));
  assert.match(empty.message, /\$\.criteria: must list at least one criterion/);
  const reserved = errorOf(() => parseRubric('{"name": "x", "criteria": [{"id": "judge-error", "description": "d"}]}', 'x.rubric.json'));
  assert.match(reserved.message, /\$\.criteria\[0\]\.id: is reserved/);
  const broken = errorOf(() => parseRubric('{\n  "name": "x",\n  "criteria": [],\n}', 'x.rubric.json'));
  assert.match(broken.message, /^x\.rubric\.json:4: \$: not valid JSON/);
  await assert.rejects(loadRubric(path.join(folder, 'absent.rubric.json')), /absent\.rubric\.json: \$: no such file/);
});

void test('criteria with a domain are asked only for tasks of that domain', () => {
  const rubric = parseRubric(
    '{"name":"r","criteria":[{"id":"a","description":"any"},{"id":"m","description":"math","appliesTo":"math"},{"id":"f","description":"fact","appliesTo":"factual"}]}',
  );
  assert.deepEqual(criteriaFor(rubric, 'math').map((c) => c.id), ['a', 'm']);
  assert.deepEqual(criteriaFor(rubric, 'factual').map((c) => c.id), ['a', 'f']);
});

void test('value lines are found for nested paths, odd keys and strings with escapes', () => {
  const lines = jsonValueLines('{\n "a": [1,\n  {"b\\"x": "y}\\n"},\n  3],\n "odd key": true\n}');
  assert.equal(lines.get('$'), 1);
  assert.equal(lines.get('$.a'), 2);
  assert.equal(lines.get('$.a[1]'), 3);
  assert.equal(lines.get('$.a[1]["b\\"x"]'), 3);
  assert.equal(lines.get('$.a[2]'), 4);
  assert.equal(lines.get('$["odd key"]'), 5);
});
