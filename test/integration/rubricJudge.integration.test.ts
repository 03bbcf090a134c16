import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateStudio } from './support';
import { type FakeModelServer, startFakeModelServer } from '../support/fakeModelServer';
import { type RubricFileOutcome } from '../../src/triage/rubricJudge';
import { triageTrajectory } from '../../src/triage/checks';
import { parseTrajectory } from '../../src/trajectory/schema';
import { computedMath, trajectory } from '../support/triageTrajectories';

suite('Judge Trajectories with Rubric in the extension host', () => {
  let server: FakeModelServer;
  let dir: string;
  const config = () => vscode.workspace.getConfiguration('trajectoryStudio');

  suiteSetup(async () => {
    server = await startFakeModelServer({
      script: (request) => {
        const blamed = JSON.stringify(request.messages).includes('import math');
        return JSON.stringify({ findings: [{ criterion: 'thought-matches-code', verdict: blamed ? 'fail' : 'pass', step: blamed ? 1 : null, reason: blamed ? 'The code only imports a module.' : 'It matches.' }] });
      },
      models: ['judge'],
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rubric-integration-'));
    await config().update('endpoints.judge.baseUrls', [server.baseUrl], vscode.ConfigurationTarget.Global);
    await config().update('endpoints.judge.model', 'judge', vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await config().update('endpoints.judge.baseUrls', undefined, vscode.ConfigurationTarget.Global);
    await config().update('endpoints.judge.model', undefined, vscode.ConfigurationTarget.Global);
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the command judges a file with the judge settings, stores the findings, and a second run sends nothing', async () => {
    await activateStudio();
    const file = path.join(dir, 'judged.traj.jsonl');
    const silent = trajectory({ ...computedMath(), steps: [{ code: 'import math' }, ...computedMath().steps] });
    fs.writeFileSync(file, `${[trajectory(computedMath()), silent].map((t) => JSON.stringify(t)).join('\n')}\n`);
    const rubric = path.join(dir, 'review.rubric.json');
    fs.writeFileSync(rubric, JSON.stringify({ name: 'review', criteria: [{ id: 'thought-matches-code', description: 'Each thought announces what its code does.' }] }));

    const first = await vscode.commands.executeCommand<RubricFileOutcome>('trajectoryStudio.judgeWithRubric', { file, rubric });
    assert.ok(first, 'the command resolves with the outcome');
    assert.equal(first.requests, 2);
    assert.equal(first.written, 2);
    const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => parseTrajectory(line));
    const flags = triageTrajectory(records[1]).filter((f) => f.rule === 'rubric:thought-matches-code');
    assert.deepEqual(flags.map((f) => [f.step, f.message]), [[0, 'The code only imports a module.']]);

    const sent = server.chatRequests().length;
    const second = await vscode.commands.executeCommand<RubricFileOutcome>('trajectoryStudio.judgeWithRubric', { file, rubric });
    assert.equal(second?.cacheHits, 2);
    assert.equal(server.chatRequests().length, sent, 'unchanged trajectories are not judged again');
  });
});
