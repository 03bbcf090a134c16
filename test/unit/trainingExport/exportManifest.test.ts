import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportCuratedFile } from '../../../src/training/curatedExport';
import { buildLineage } from '../../../src/training/lineage';
import { JsonFileError } from '../../../src/runs/versionedJson';
import { exportManifestFormat, readExportManifest, readExportManifestIfOurs } from '../../../src/trainingExport/exportManifest';
import { readTrajectoryFiles } from '../../../src/trainingExport/trainingExport';
import { EXPORT_MANIFEST_VERSION, exportTrainingData, manifestPathFor, writeManifest, type ExportManifest } from '../../../src/trajectory/sftExport';
import { DEFAULT_SFT_PROMPT } from '../../../src/trajectory/sftPrompt';

/**
 * The training export's manifest (`<file>.manifest.json`) through its one reader: what an export writes reads
 * back as written, manifests from before `manifestVersion` still read, a newer one is refused with the update
 * message, a broken field is named with its file, and lineage leaves other tools' manifests alone.
 */

const example = path.resolve(__dirname, '../../../examples/trajectories/teacher.traj.jsonl');

let dir: string;
let written: ExportManifest;
let dataFile: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ts-export-manifest-'));
  dataFile = path.join(dir, 'train.jsonl');
  const { trajectories } = await readTrajectoryFiles([example]);
  written = await exportTrainingData(trajectories, dataFile, { format: 'openai', prompt: DEFAULT_SFT_PROMPT, statuses: ['unreviewed', 'accepted'], sources: [example] });
});
after(() => rm(dir, { recursive: true, force: true }));

let copies = 0;
/** A copy of the written export (data and manifest) with the manifest's raw JSON changed by `change`. */
async function exportWith(change: (raw: Record<string, unknown>) => void): Promise<string> {
  const copy = path.join(dir, `copy-${copies++}.jsonl`);
  await writeFile(copy, await readFile(dataFile));
  const raw = JSON.parse(await readFile(manifestPathFor(dataFile), 'utf8')) as Record<string, unknown>;
  change(raw);
  await writeFile(manifestPathFor(copy), JSON.stringify(raw, null, 2));
  return copy;
}

void describe('reading an export manifest', () => {
  test('what exportTrainingData writes carries the version and reads back as written', async () => {
    assert.ok(written.examples > 0, 'the example file exports something');
    const raw = JSON.parse(await readFile(manifestPathFor(dataFile), 'utf8')) as Record<string, unknown>;
    assert.equal(raw.manifestVersion, EXPORT_MANIFEST_VERSION);
    assert.deepEqual(await readExportManifest(dataFile), written);
    assert.equal(await readExportManifest(path.join(dir, 'made-elsewhere.jsonl')), undefined, 'a training file without a manifest has none');
  });

  test('what the export commands add later (extra) reads back too, the source files with their hashes', async () => {
    const curated = path.join(dir, 'curated.traj.jsonl');
    const lines = (await readFile(example, 'utf8')).split('\n').filter((l) => l.trim());
    await writeFile(curated, `${lines.map((l) => l.replace('"status":"unreviewed"', '"status":"accepted"')).join('\n')}\n`);
    const out = path.join(dir, 'launch', 'curated.train.jsonl');
    const { manifest, source } = await exportCuratedFile({ trajectoryFile: curated, outPath: out, compatibility: 'reference' });
    const withExtra: ExportManifest = { ...manifest, extra: { ...manifest.extra, tokens: { examples: manifest.examples }, leakage: { leftOut: [] } } };
    await writeManifest(out, withExtra);
    assert.deepEqual(await readExportManifest(out), withExtra);
    assert.deepEqual((await readExportManifest(out))?.extra?.sourceFiles, [source]);
  });

  test('a manifest written before manifestVersion existed reads as version 1, profile fields defaulting to the studio way', async () => {
    assert.equal(written.compatibility, 'studio');
    assert.equal(written.fallbackExamples, 0);
    // as the first exports wrote it: no version, no profile, no loss mask, no fallback count
    const old = await exportWith((raw) => {
      for (const field of ['manifestVersion', 'compatibility', 'lossMask', 'fallbackExamples']) delete raw[field];
    });
    assert.deepEqual(await readExportManifest(old), { ...written, manifestVersion: 1 });
    const oldReference = await exportWith((raw) => {
      delete raw.manifestVersion;
      raw.compatibility = 'reference';
    });
    assert.equal((await readExportManifest(oldReference))?.compatibility, 'reference');
  });

  test('a manifest from a newer Trajectory Studio is refused with the update message', async () => {
    const newer = exportManifestFormat.version + 1;
    const copy = await exportWith((raw) => (raw.manifestVersion = newer));
    await assert.rejects(readExportManifest(copy), (err: Error) => {
      assert.ok(err.message.includes(manifestPathFor(copy)), err.message);
      assert.match(err.message, new RegExp(`\\$\\.manifestVersion: version ${newer} was written by a newer Trajectory Studio`));
      assert.match(err.message, /Update Trajectory Studio to open this file/);
      return true;
    });
  });

  test('a field of the wrong type is refused, naming the file and the field', async () => {
    const copy = await exportWith((raw) => (raw.compatibility = 42));
    await assert.rejects(readExportManifest(copy), (err: Error) => {
      assert.ok(err instanceof JsonFileError);
      assert.equal(err.file, manifestPathFor(copy));
      assert.ok(err.message.startsWith(`${manifestPathFor(copy)}: not a training export manifest: `), err.message);
      assert.deepEqual(err.issues.map((i) => i.path), ['$.compatibility']);
      return true;
    });
    const badSource = await exportWith((raw) => (raw.extra = { sourceFiles: [{ file: 'a.traj.jsonl', sha256: 'md5:1' }] }));
    await assert.rejects(readExportManifest(badSource), (err: Error) => {
      assert.ok(err.message.includes(`${manifestPathFor(badSource)}: `), err.message);
      assert.ok(err.message.includes('$.extra.sourceFiles[0].sha256: '), err.message);
      return true;
    });
  });

  test('a manifest that is not JSON is reported with its file, even where other tools\' manifests are skipped', async () => {
    const broken = path.join(dir, 'broken.jsonl.manifest.json');
    await writeFile(broken, '{"kind": "trajectory-studio-sft-export", ');
    await assert.rejects(readExportManifestIfOurs(broken), (err: Error) => {
      assert.ok(err.message.startsWith(`${broken}: `), err.message);
      assert.match(err.message, /\$: not valid JSON/);
      return true;
    });
  });
});

void describe('lineage and other tools\' manifests', () => {
  test('a teacher run manifest or a web app manifest named *.manifest.json is neither an export nor a problem', async () => {
    const folder = path.join(dir, 'workspace');
    await mkdir(folder);
    const teacher = path.join(folder, 'teacher.traj.manifest.json');
    await writeFile(teacher, JSON.stringify({ kind: 'teacher-generation', manifestVersion: 1, config: {}, questionSetSha256: 'x', questionCount: 1 }));
    const web = path.join(folder, 'site.manifest.json');
    await writeFile(web, JSON.stringify({ name: 'an app', icons: [] }));
    const list = path.join(folder, 'list.manifest.json');
    await writeFile(list, JSON.stringify([1, 2]));
    for (const foreign of [teacher, web, list]) assert.equal(await readExportManifestIfOurs(foreign), undefined, foreign);

    const graph = await buildLineage({ trajectoryFiles: [], exportManifests: [teacher, web, list, manifestPathFor(dataFile)], runs: [], evalRunRoots: [] });
    assert.deepEqual(graph.problems, []);
    assert.deepEqual(
      graph.roots.map((n) => [n.kind, n.label]),
      [['export', path.basename(dataFile)]],
      'only our export is shown',
    );
  });
});
