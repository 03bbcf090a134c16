import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateStudio, waitFor } from './support';
import { arithmeticAgent, evaluateIntegerExpression, type FakeModelServer, startFakeModelServer } from '../support/fakeModelServer';
import { type RunMetrics } from '../../src/eval/metrics';

suite('Evaluation in the extension host', () => {
  let server: FakeModelServer;
  let dir: string;
  let benchmark: string;
  const expressions = ['2 + 3', '6 * 7', '(10 - 4) * 3', '100 - 1'];

  suiteSetup(async () => {
    server = await startFakeModelServer({ script: arithmeticAgent(), models: ['student'] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-integration-'));
    benchmark = path.join(dir, 'arithmetic.jsonl');
    // The last gold answer is off by one, so the run has a wrong answer to show.
    fs.writeFileSync(
      benchmark,
      expressions.map((e, i) => JSON.stringify({ id: `a${i + 1}`, question: `What is ${e}?`, answer: String(evaluateIntegerExpression(e) + (i === expressions.length - 1 ? 1n : 0n)), domain: 'math' })).join('\n') + '\n',
    );
  });

  suiteTeardown(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function readMetrics(runFolder: string): RunMetrics {
    return JSON.parse(fs.readFileSync(path.join(runFolder, 'metrics.json'), 'utf8')) as RunMetrics;
  }

  test('Run Evaluation with a configuration writes the run folder; the dashboard and the comparison open on it', async () => {
    await activateStudio();
    const run = (name: string, mode: unknown) =>
      vscode.commands.executeCommand<string | undefined>('trajectoryStudio.runEvaluation', {
        benchmarks: [benchmark],
        mode,
        retrieval: { kind: 'none' },
        runFolder: path.join(dir, name),
        baseUrls: [server.baseUrl],
        model: 'student',
        concurrency: 2,
      });
    const sagFolder = await run('sag', { kind: 'sag', candidates: 4, isolation: 'isolated' });
    assert.equal(sagFolder, path.join(dir, 'sag'));
    const sag = readMetrics(sagFolder);
    assert.equal(sag.benchmarks[0].questions, expressions.length);
    assert.equal(sag.benchmarks[0].correct, expressions.length - 1);
    assert.equal(sag.voteAgreement, 1, 'the scripted student\'s candidates all agree');
    const manifest = JSON.parse(fs.readFileSync(path.join(sagFolder, 'manifest.json'), 'utf8')) as { config: { mode: { kind: string } }; sessions: unknown[] };
    assert.equal(manifest.config.mode.kind, 'sag');
    assert.equal(manifest.sessions.length, 1);

    // Adaptive SAG from VS Code: the scripted student always agrees, so every step stops after its first round.
    const adaptiveFolder = await run('adaptive', { kind: 'sag', candidates: 4, isolation: 'isolated', adaptive: { firstRound: 2, roundSize: 2, agreement: 1 } });
    assert.ok(adaptiveFolder);
    const adaptive = readMetrics(adaptiveFolder);
    assert.equal(adaptive.benchmarks[0].correct, sag.benchmarks[0].correct);
    assert.equal(adaptive.benchmarks[0].candidates, (sag.benchmarks[0].candidates * 2) / 4, 'half the candidates of the fixed run');
    assert.ok(adaptive.benchmarks[0].completionTokens < sag.benchmarks[0].completionTokens);
    const adaptiveManifest = JSON.parse(fs.readFileSync(path.join(adaptiveFolder, 'manifest.json'), 'utf8')) as { config: { mode: { adaptive?: unknown } } };
    assert.deepEqual(adaptiveManifest.config.mode.adaptive, { firstRound: 2, roundSize: 2, agreement: 1 });

    const greedyFolder = await run('greedy', { kind: 'greedy' });
    assert.ok(greedyFolder);
    assert.equal(readMetrics(greedyFolder).benchmarks[0].correct, expressions.length - 1);

    await vscode.commands.executeCommand('trajectoryStudio.openEvalDashboard', sagFolder);
    await waitFor(() => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label === 'Evaluation Dashboard')), 'the dashboard tab');
    await vscode.commands.executeCommand('trajectoryStudio.compareEvalRuns', greedyFolder, sagFolder);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label === 'Evaluation Dashboard');
    assert.equal(tabs.length, 1, 'one dashboard, reused for the comparison');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test("a run's trajectory files open read-only in the editor: edits are refused and the file stays as the run wrote it", async () => {
    const { api } = await activateStudio();
    const runFolder = path.join(dir, 'sag');
    const file = path.join(runFolder, 'trajectories', fs.readdirSync(path.join(runFolder, 'trajectories')).find((f) => f.endsWith('.traj.jsonl'))!);
    const before = fs.readFileSync(file);
    const uri = vscode.Uri.file(file);
    await api.trajectoryEditor.openAt(uri, 0, 0);
    const document = await waitFor(() => api.trajectoryEditor.documentFor(uri), 'the run file in the trajectory editor');
    assert.ok(document.readOnly, 'the document says why it is read-only');
    await assert.rejects(api.trajectoryEditor.applyEdit(uri, 0, { kind: 'setReview', status: 'rejected', reasonTags: ['wrong answer'] }), /Read-only/);
    assert.deepEqual(fs.readFileSync(file), before);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
