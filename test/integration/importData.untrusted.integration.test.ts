import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type ImportDataOutcome } from '../../src/dataImport/importData.vscode';
import { referenceRecordsFile } from '../support/referenceRecords';
import { activateStudio } from './support';

/** Every file under `root`, relative, sorted. */
function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

suite('Import and training in restricted mode (untrusted workspace)', () => {
  let dir: string;
  suiteSetup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-untrusted-'));
  });
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Import… runs (it runs no code) and writes only the chosen file', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    await activateStudio();
    const records = path.join(dir, 'records.jsonl');
    fs.writeFileSync(records, referenceRecordsFile().text);
    const output = path.join(dir, 'out', 'chosen.traj.jsonl');
    fs.mkdirSync(path.dirname(output));
    const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(workspace, 'the untrusted run opens a folder');
    const workspaceBefore = filesUnder(workspace);

    const outcome = await vscode.commands.executeCommand<ImportDataOutcome | 'untrusted'>('trajectoryStudio.importData', { input: records, output, domain: 'math' });
    assert.notEqual(outcome, 'untrusted', 'Import… is not refused in restricted mode');
    assert.ok(outcome && outcome !== 'untrusted');
    assert.equal(outcome.written, 2);
    assert.equal(fs.readFileSync(output, 'utf8').trim().split('\n').length, 2);
    // nothing beside the chosen file: no manifest, no temp file left, the input untouched, the workspace unchanged
    assert.deepEqual(filesUnder(dir), ['out/chosen.traj.jsonl', 'records.jsonl']);
    assert.equal(fs.readFileSync(records, 'utf8'), referenceRecordsFile().text);
    assert.deepEqual(filesUnder(workspace).filter((f) => f.includes('chosen') || f.includes('records.traj')), []);
    assert.equal(filesUnder(workspace).length, workspaceBefore.length);
  });

  test('Launch Training Run is refused before it asks anything or reads its arguments', async () => {
    await activateStudio();
    const dataFile = path.join(dir, 'train.jsonl');
    fs.writeFileSync(dataFile, '{"messages": []}\n');
    const before = filesUnder(dir);
    const result = await vscode.commands.executeCommand<unknown>('trajectoryStudio.launchTraining', { host: 'gpu', dataFile, baseModel: 'Qwen/Qwen2.5-1.5B-Instruct', name: 'untrusted-run' });
    assert.equal(result, 'untrusted', 'the trust gate answered, not the launcher');
    assert.deepEqual(filesUnder(dir), before, 'nothing was written');
  });
});
