import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateStudio, waitFor } from './support';

/** code-server's User settings of this run: e2e/run-ext-tests.mjs keeps them beside its results file. */
function userSettingsFile(): string | undefined {
  const results = process.env.E2E_RESULTS_FILE;
  return results ? path.join(path.dirname(results), 'cs-user-data', 'User', 'settings.json') : undefined;
}

suite('Trajectories view, settings scopes and read-only reports', () => {
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const scratch = path.join(workspace, `.e2e-trajectories-view-${process.pid}`);

  suiteTeardown(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('files written outside VS Code appear; evaluation runs are grouped under their run; duplicates show their folders', async () => {
    const { api } = await activateStudio();
    const view = api.trajectoryFiles;
    const before = await view.listed();
    assert.ok(before.files.some((f) => f.relativePath.endsWith('trajectories/teacher.traj.jsonl')), 'the example file is listed');

    const example = path.join(workspace, 'trajectories', 'teacher.traj.jsonl');
    const copy = path.join(scratch, 'copy', 'teacher.traj.jsonl');
    const run = path.join(scratch, 'runs', 'r1');
    const runFile = path.join(run, 'trajectories', 'teacher.traj.jsonl');
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.mkdirSync(path.dirname(runFile), { recursive: true });
    fs.writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ kind: 'eval-run', manifestVersion: 1, config: { student: { model: 'student-x' } }, sessions: [] }));
    fs.copyFileSync(example, runFile);
    fs.copyFileSync(example, copy);

    // no refresh command: the file watcher must notice files another program wrote
    const tree = await waitFor(
      async () => {
        const t = await view.listed();
        return t.files.some((f) => f.path === copy) && t.runs.some((r) => r.folder === run) ? t : undefined;
      },
      'the view to list files written outside VS Code',
      20000,
    );
    assert.ok(!tree.files.some((f) => f.path === runFile), 'a run\'s file is not listed beside curated files');
    const runNode = tree.runs.find((r) => r.folder === run);
    assert.deepEqual(runNode?.files.map((f) => f.label), ['teacher.traj.jsonl']);
    assert.equal(runNode?.facts.model, 'student-x');
    const teachers = tree.files.filter((f) => f.label === 'teacher.traj.jsonl');
    assert.deepEqual(teachers.map((f) => f.folder).sort(), [`${path.basename(scratch)}/copy`, 'trajectories'].sort(), `both copies are labelled by folder: ${JSON.stringify(teachers.map((f) => [f.relativePath, f.folder]))}`);

    const roots = await view.getChildren();
    const group = roots.find((n) => n.kind === 'evalRuns');
    assert.ok(group, 'an "Evaluation Runs" group holds the runs');
    assert.equal(view.getTreeItem(group).label, 'Evaluation Runs');

    // counts arrive in the background, in words (no bare number that reads like a problem count)
    const copyNode = teachers.find((f) => f.path === copy)!;
    const description = await waitFor(() => {
      const d = view.getTreeItem(copyNode).description;
      return typeof d === 'string' && /\d+ trajector/.test(d) ? d : undefined;
    }, 'the copy\'s counts');
    assert.match(description, /^\.e2e-trajectories-view-\d+\/copy · 24 trajectories · 24 unreviewed/);
  });

  test('a machine setting in User settings of a remote window is reported with the file and the Remote tab', async function (this: Mocha.Context) {
    const { api } = await activateStudio();
    const file = userSettingsFile();
    if (!vscode.env.remoteName || !file || !fs.existsSync(file)) this.skip();
    const original = fs.readFileSync(file, 'utf8');
    try {
      const settings = JSON.parse(original) as Record<string, unknown>;
      settings['trajectoryStudio.training.hosts'] = [{ name: 'gpu', host: 'gpu.example.org' }];
      // The studio reads the settings file itself, since VS Code keeps an ignored value out of inspect();
      // that VS Code ignores it is what the UI test shows (the launch refuses with this message).
      fs.writeFileSync(file, JSON.stringify(settings, null, 2));
      const described = await api.describeMissingSetting('No training host is configured yet.', 'training.hosts', ['training.hosts']);
      assert.equal(described.tab, 'remote');
      assert.equal(described.button, 'Open Remote Settings');
      assert.ok(described.message.includes(`set in User settings (${file})`), described.message);
      assert.match(described.message, /Move it to Remote settings\.$/);
    } finally {
      fs.writeFileSync(file, original);
    }
    // the link in the Training Runs view opens the Remote settings.json, where hosts take effect
    await vscode.commands.executeCommand('trajectoryStudio.openSettings', 'training.hosts', true);
    const editor = await waitFor(() => vscode.window.activeTextEditor, 'the settings.json editor');
    assert.match(editor.document.uri.path, /\/Machine\/settings\.json$/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the Environment Report is a read-only document that closes without asking to be saved', async () => {
    await activateStudio();
    await vscode.commands.executeCommand<string>('trajectoryStudio.showEnvironment');
    const editor = await waitFor(() => (vscode.window.activeTextEditor?.document.uri.scheme === 'trajectory-studio-view' ? vscode.window.activeTextEditor : undefined), 'the report editor');
    assert.equal(editor.document.isUntitled, false);
    assert.equal(editor.document.languageId, 'markdown');
    assert.match(editor.document.getText(), /Trajectory Studio environment/);
    // a virtual document: never dirty, so closing it (or the window) asks nothing
    assert.equal(editor.document.isDirty, false);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
