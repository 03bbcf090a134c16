import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateStudio, contributedCommands, waitFor } from './support';

suite('Trajectory Studio in a real VS Code extension host', () => {
  test('activates in a Node extension host on the examples folder and reports its version', async () => {
    const { api, extension } = await activateStudio();
    assert.ok(extension.isActive);
    assert.equal(api.version, (extension.packageJSON as { version: string }).version);
    assert.ok(vscode.workspace.workspaceFolders?.length, 'a workspace folder is open');
    console.log(`[integration] VS Code ${vscode.version}, node ${process.version}, uiKind=${vscode.env.uiKind}`);
  });

  test('every command in package.json is registered, and nothing unlisted is', async () => {
    const { extension } = await activateStudio();
    const declared = contributedCommands(extension).map((c) => c.command).sort();
    // VS Code adds `<viewId>.focus` and similar commands for every contributed view; those are not ours.
    const views = Object.values((extension.packageJSON as { contributes: { views: Record<string, { id: string }[]> } }).contributes.views).flat();
    const isViewCommand = (c: string) => views.some((v) => c.startsWith(`${v.id}.`));
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('trajectoryStudio.') && !isViewCommand(c)).sort();
    assert.deepEqual(registered.filter((c) => !declared.includes(c)), [], 'registered but not declared in package.json');
    assert.deepEqual(declared.filter((c) => !registered.includes(c)), [], 'declared in package.json but not registered');
  });

  test('the Trajectory Studio view container opens from the activity bar command and shows the workspace\'s trajectory files', async () => {
    const { api } = await activateStudio();
    const view = api.trajectoryFiles.view;
    assert.ok(view, 'the Trajectories view is registered');
    // start from another container, so the command is what brings the view on screen
    await vscode.commands.executeCommand('workbench.view.explorer');
    await waitFor(() => !view.visible, 'the Trajectories view to be hidden behind the Explorer');

    await vscode.commands.executeCommand('workbench.view.extension.trajectoryStudio');
    await waitFor(() => view.visible, 'the Trajectories view to be visible');
    // what it shows: a row per trajectory file, under the file's name; the example file is one of them
    const workspace = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const example = path.join(workspace, 'trajectories', 'teacher.traj.jsonl');
    assert.ok(fs.existsSync(example), `the examples workspace has ${example}`);
    const roots = await api.trajectoryFiles.getChildren();
    const rows = roots.filter((n) => n.kind === 'file').map((n) => api.trajectoryFiles.getTreeItem(n));
    assert.ok(rows.some((item) => item.resourceUri?.fsPath === example && item.label === 'teacher.traj.jsonl'), `the example file is a row: ${JSON.stringify(rows.map((r) => r.label))}`);
    for (const item of rows) {
      assert.ok(item.resourceUri && fs.existsSync(item.resourceUri.fsPath), `${item.resourceUri?.fsPath ?? 'a row without a file'} is a file on disk`);
      assert.equal(item.label, path.basename(item.resourceUri.fsPath));
    }
  });

  test('Show Environment Report opens a report that says the workspace is trusted', async () => {
    await activateStudio();
    const report = await vscode.commands.executeCommand<string>('trajectoryStudio.showEnvironment');
    assert.match(report, /Workspace trust: trusted/);
    const editor = await waitFor(() => vscode.window.activeTextEditor, 'the report editor');
    assert.equal(editor.document.languageId, 'markdown');
    assert.match(editor.document.getText(), /Trajectory Studio environment/);
    // the sandbox section names the interpreter and the isolation actually in force
    assert.match(report, /interpreter: /);
    assert.match(report, /in force: (bwrap|rlimits|refused)/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('deliberate failure when E2E_FORCE_FAIL=1 (proves the exit code reaches the shell)', function () {
    if (process.env.E2E_FORCE_FAIL !== '1') this.skip();
    assert.fail('forced failure');
  });
});
