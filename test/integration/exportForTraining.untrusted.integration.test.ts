import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateStudio } from './support';

// Exporting and previewing read files and write one: no code runs, so both work in restricted mode.
suite('Export for Training in an untrusted workspace', () => {
  test('the export and the training-text preview both run', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    await activateStudio();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const file = path.join(root, 'trajectories', 'teacher.traj.jsonl');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'export-untrusted-')), 'train.jsonl');
    const result = await vscode.commands.executeCommand<unknown>('trajectoryStudio.exportForTraining', { files: [file], out });
    assert.notEqual(result, 'untrusted');
    assert.ok(fs.existsSync(out) && fs.existsSync(`${out}.manifest.json`));
    const preview = await vscode.commands.executeCommand<{ examples: { trainedTokens: number }[]; statistics: { examples: number } } | undefined>('trajectoryStudio.showTrainingPreview', { file, slot: 0 });
    assert.ok(preview && preview.examples[0].trainedTokens > 0, 'the preview has tokens that carry loss');
    assert.ok(preview.statistics.examples > 0);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
