import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportCuratedFile, NothingToTrainError } from '../../../src/training/curatedExport';
import { readExportManifest } from '../../../src/trainingExport/exportManifest';
import { buildLineage, type LineageNode } from '../../../src/training/lineage';
import { RUN_RECORD_SCHEMA_VERSION, type RunRecord } from '../../../src/training/runRecord';

const examples = resolve(__dirname, '../../../examples/trajectories/teacher.traj.jsonl');

/** The example file with its first `accepted` trajectories accepted, as a person curating it would. */
async function curatedCopy(to: string, accepted: number): Promise<string> {
  const lines = (await readFile(examples, 'utf8')).split('\n').filter((l) => l.trim());
  const out = lines.map((l, i) => {
    const t = JSON.parse(l) as { review: { status: string } };
    if (i < accepted) t.review.status = 'accepted';
    return JSON.stringify(t);
  });
  await writeFile(to, `${out.join('\n')}\n`);
  return to;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function runRecord(id: string, dataFile: string, dataSha256: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA_VERSION,
    id,
    host: 'gpu-box',
    remoteDir: `/work/${id}`,
    scheduler: 'direct',
    createdAt: '2026-12-05T01:00:00.000Z',
    baseModel: 'Qwen/Qwen2.5-0.5B-Instruct',
    dataFile,
    dataSha256,
    overrides: {},
    trainerArgs: [],
    state: 'succeeded',
    metricsOffset: 0,
    resumes: 0,
    ...extra,
  };
}

function labels(nodes: readonly LineageNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [`${'  '.repeat(depth)}${n.kind} ${n.label}${n.warning ? ' (!)' : ''}`, ...labels(n.children, depth + 1)]);
}

void describe('exporting a curated trajectory file for a launch', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-curated-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('exports the accepted trajectories and records the snapshot of the written bytes and the source file with its hash', async () => {
    const source = await curatedCopy(join(dir, 'curated.traj.jsonl'), 3);
    const out = join(dir, 'run-1', 'curated.train.jsonl');
    const { manifest } = await exportCuratedFile({ trajectoryFile: source, outPath: out, compatibility: 'studio' });
    assert.equal(manifest.examples, 3);
    assert.equal(manifest.skipped.length, 21, 'the unreviewed ones are listed as left out');
    assert.equal(manifest.snapshot, `sha256:${sha256(await readFile(out))}`);
    const read = await readExportManifest(out);
    assert.equal(read?.snapshot, manifest.snapshot);
    assert.deepEqual(read?.extra?.sourceFiles, [{ file: source, sha256: `sha256:${sha256(await readFile(source))}` }]);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    const first = JSON.parse(lines[0] ?? '{}') as { messages: { role: string; weight?: number }[] };
    assert.equal(first.messages[0]?.role, 'system');
    assert.ok(first.messages.some((m) => m.role === 'assistant' && m.weight === 1), 'assistant turns carry loss');
  });

  test('a file with nothing accepted stops the launch with the reason', async () => {
    const source = await curatedCopy(join(dir, 'unreviewed.traj.jsonl'), 0);
    await assert.rejects(exportCuratedFile({ trajectoryFile: source, outPath: join(dir, 'none.train.jsonl'), compatibility: 'studio' }), (err: Error) => {
      assert.ok(err instanceof NothingToTrainError);
      assert.match(err.message, /none of its 24 trajectories can be exported .*review status is unreviewed/);
      return true;
    });
  });

  test('a file with an invalid line is not trained on silently', async () => {
    const source = await curatedCopy(join(dir, 'broken.traj.jsonl'), 2);
    await appendFile(source, '{"not": "a trajectory"}\n');
    await assert.rejects(exportCuratedFile({ trajectoryFile: source, outPath: join(dir, 'broken.train.jsonl'), compatibility: 'studio' }), /1 invalid line\(s\) \(broken\.traj\.jsonl:25/);
  });
});

void describe('lineage from files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-lineage-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('follows trajectory file → export → training run → adapter → evaluation by hashes and names', async () => {
    const source = await curatedCopy(join(dir, 'curated.traj.jsonl'), 2);
    const out = join(dir, 'runs', 'r1', 'curated.train.jsonl');
    const { manifest } = await exportCuratedFile({ trajectoryFile: source, outPath: out, compatibility: 'studio' });
    const hex = manifest.snapshot.slice('sha256:'.length);
    const adapter = join(dir, 'adapters', 'r1', 'adapter');
    const trained = runRecord('20261205-010000-curated-abcdef', out, hex, { dataSnapshot: manifest.snapshot, exportManifest: `${out}.manifest.json`, downloadedTo: adapter });
    // a run on other data (no manifest): a root of its own, not under the export
    const other = runRecord('20261205-020000-other-123456', join(dir, 'elsewhere.jsonl'), 'f'.repeat(64));
    const evalRoot = join(dir, '.trajectory-studio', 'eval-runs');
    await writeEvalRun(join(evalRoot, 'adapter-eval'), join(adapter, 'run.json'));
    await writeEvalRun(join(evalRoot, 'base-eval'), undefined);

    const graph = await buildLineage({ trajectoryFiles: [source, join(dir, 'untouched.traj.jsonl')], exportManifests: [], runs: [trained, other], evalRunRoots: [evalRoot] });
    assert.deepEqual(labels(graph.roots), [
      'trajectories curated.traj.jsonl',
      '  export curated.train.jsonl',
      '    run 20261205-010000-curated-abcdef',
      '      adapter adapter of 20261205-010000-curated-abcdef',
      '        eval adapter-eval',
      'run 20261205-020000-other-123456',
    ]);
    assert.deepEqual(graph.problems, []);
    const exportNode = graph.roots[0]?.children[0];
    assert.match(exportNode?.description ?? '', new RegExp(`^export · ${manifest.snapshot.slice(0, 19)}… · 2 examples$`));
    assert.deepEqual(exportNode?.children[0]?.open, { kind: 'trainingRun', runId: trained.id });
    assert.deepEqual(exportNode?.children[0]?.children[0]?.children[0]?.open, { kind: 'evalRun', runFolder: join(evalRoot, 'adapter-eval') });
    assert.deepEqual(graph.roots[0]?.open, { kind: 'file', path: source });

    // curating further after the export: the link stays (by the recorded path) and says the file changed
    await curatedCopy(source, 3);
    const changed = await buildLineage({ trajectoryFiles: [source], exportManifests: [], runs: [trained], evalRunRoots: [] });
    assert.match(changed.roots[0]?.children[0]?.warning ?? '', /curated\.traj\.jsonl changed since this export/);
  });

  test('a run trained on an export made elsewhere is linked by the data hash alone; a CLI export by its source name', async () => {
    const source = await curatedCopy(join(dir, 'cli.traj.jsonl'), 1);
    const out = join(dir, 'cli.train.jsonl');
    const { manifest } = await exportCuratedFile({ trajectoryFile: source, outPath: out, compatibility: 'studio' });
    // as `trajectory-studio export` writes it: relative source names, no hashes of them
    const cliManifest = { ...manifest, sources: ['cli.traj.jsonl'], extra: {} };
    await writeFile(`${out}.manifest.json`, JSON.stringify(cliManifest));
    // an old run record without dataSnapshot, uploaded from a copy of the file
    const run = runRecord('20261205-030000-copy-654321', join(dir, 'copy-of-train.jsonl'), manifest.snapshot.slice(7));
    const graph = await buildLineage({ trajectoryFiles: [source], exportManifests: [`${out}.manifest.json`], runs: [run], evalRunRoots: [], workspaceFolders: [dir] });
    assert.deepEqual(labels(graph.roots), ['trajectories cli.traj.jsonl', '  export cli.train.jsonl', '    run 20261205-030000-copy-654321']);
  });

  test('an unreadable export manifest is reported, not hidden; another tool\'s manifest is left alone', async () => {
    const bad = join(dir, 'bad.jsonl.manifest.json');
    await writeFile(bad, '{"kind": "trajectory-studio-sft-export", "snapshot": "md5:1"}');
    // another tool's *.manifest.json is not an export, and not a problem either
    const foreign = join(dir, 'web.manifest.json');
    await writeFile(foreign, '{"name": "an app", "icons": []}');
    const graph = await buildLineage({ trajectoryFiles: [], exportManifests: [bad, foreign], runs: [], evalRunRoots: [] });
    assert.equal(graph.roots.length, 0);
    assert.equal(graph.problems.length, 1);
    assert.match(graph.problems[0] ?? '', /bad\.jsonl\.manifest\.json: .*\$\.snapshot: /);
  });
});

void describe('the evaluation dashboard names the data behind an adapter', () => {
  test('from the run record a download writes beside the weights, or the trainer\'s manifest', async () => {
    const { adapterLineage } = await import('../../../src/eval/dashboardViews');
    const record = runRecord('20261205-010000-curated-abcdef', '/d/train.jsonl', 'a'.repeat(64), { dataSnapshot: `sha256:${'a'.repeat(64)}` });
    assert.deepEqual(adapterLineage('/adapters/x/adapter', record), { path: '/adapters/x/adapter', dataSnapshot: `sha256:${'a'.repeat(64)}`, trainingRun: record.id });
    assert.deepEqual(adapterLineage('/a', { base_model: 'm', data_sha256: 'b'.repeat(64) }), { path: '/a', dataSnapshot: `sha256:${'b'.repeat(64)}` });
    assert.deepEqual(adapterLineage('/a', { r: 64 }), { path: '/a' });
  });
});

async function writeEvalRun(folder: string, adapter: string | undefined): Promise<void> {
  await mkdir(folder, { recursive: true });
  const { evalRunConfigSchema } = await import('../../../src/eval/evalConfig');
  const config = evalRunConfigSchema.parse({
    runFolder: folder,
    benchmarks: ['/b/aime.jsonl'],
    student: { model: 'student', baseUrls: ['http://127.0.0.1:1/v1'], ...(adapter ? { adapter } : {}) },
  });
  await writeFile(
    join(folder, 'manifest.json'),
    JSON.stringify({ kind: 'eval-run', manifestVersion: 1, config, benchmarks: [{ name: 'aime', file: '/b/aime.jsonl', sha256: 'x', questions: 1, trajectories: 'trajectories/aime.traj.jsonl' }], promptProfile: { name: 'student', hash: 'h' } }),
  );
}
