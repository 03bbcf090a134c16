import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateStudio } from './support';
import { captureErrorMessages } from './messageCapture';
import { arithmeticAgent, arithmeticCot, evaluateIntegerExpression, firstAnswering, type FakeModelServer, startFakeModelServer } from '../support/fakeModelServer';
import { type TeacherRunOutcome } from '../../src/teacher/teacherGeneration.vscode';

suite('Teacher generation in the extension host', () => {
  let server: FakeModelServer;
  let dir: string;

  suiteSetup(async () => {
    // Chain-of-thought requests carry no system message; agent requests do.
    const cot = arithmeticCot();
    server = await startFakeModelServer({
      script: firstAnswering((req) => (req.messages[0]?.role === 'system' ? undefined : cot(req)), arithmeticAgent()),
      models: ['teacher'],
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teacher-integration-'));
  });

  suiteTeardown(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a run started with a configuration writes every question, with the prefix, and Retry Failed finds nothing to redo', async () => {
    await activateStudio();
    const questionFile = path.join(dir, 'arithmetic.questions.jsonl');
    const questions = ['2 + 3', '6 * 7', '(10 - 4) * 3'];
    fs.writeFileSync(questionFile, questions.map((q, i) => JSON.stringify({ id: `a${i + 1}`, question: `What is ${q}?`, answer: String(evaluateIntegerExpression(q)), domain: 'math' })).join('\n') + '\n');
    const outputFile = path.join(dir, 'arithmetic.teacher.traj.jsonl');
    const outcome = await vscode.commands.executeCommand<TeacherRunOutcome>('trajectoryStudio.generateTeacherTrajectories', {
      questionFile,
      outputFile,
      teacher: { model: 'teacher', baseUrls: [server.baseUrl], flavor: 'vllm', scripted: 'integration-test scripted teacher' },
      concurrency: 2,
    });
    assert.ok(outcome, 'the command resolves with the run outcome');
    assert.equal(outcome.snapshot.done, questions.length);
    assert.equal(outcome.snapshot.correct, questions.length);
    assert.equal(outcome.summary.accepted, questions.length);
    const lines = fs.readFileSync(outputFile, 'utf8').split('\n').filter((l) => l.trim());
    assert.equal(lines.length, questions.length);
    for (const line of lines) {
      const t = JSON.parse(line) as { origin: { firstThoughtPrefix?: string }; steps: { modelOutput: string }[] };
      assert.ok(t.origin.firstThoughtPrefix && t.steps[0].modelOutput.startsWith(t.origin.firstThoughtPrefix));
    }
    assert.ok(fs.existsSync(path.join(dir, 'arithmetic.teacher.traj.manifest.json')), 'the manifest is written beside the output');

    const retried = await vscode.commands.executeCommand<TeacherRunOutcome>('trajectoryStudio.retryFailedTeacherQuestions', vscode.Uri.file(outputFile));
    assert.equal(retried.snapshot.doneThisRun, 0);
    assert.equal(fs.readFileSync(outputFile, 'utf8').split('\n').filter((l) => l.trim()).length, questions.length);
  });

  test('the teacher endpoint settings reach a run started without a teacher block: its flavor refuses the prefix, its URL and model are used', async () => {
    await activateStudio();
    const config = vscode.workspace.getConfiguration('trajectoryStudio');
    const keys = ['endpoints.teacher.baseUrls', 'endpoints.teacher.model', 'endpoints.teacher.flavor'] as const;
    const before = keys.map((k) => config.inspect(k)?.globalValue);
    const errors = captureErrorMessages();
    try {
      await config.update('endpoints.teacher.baseUrls', [server.baseUrl], vscode.ConfigurationTarget.Global);
      await config.update('endpoints.teacher.model', 'teacher', vscode.ConfigurationTarget.Global);
      await config.update('endpoints.teacher.flavor', 'openai', vscode.ConfigurationTarget.Global);
      const questionFile = path.join(dir, 'settings.questions.jsonl');
      fs.writeFileSync(questionFile, `${JSON.stringify({ id: 's1', question: 'What is 4 * 5?', answer: String(evaluateIntegerExpression('4 * 5')), domain: 'math' })}\n`);
      const requestsBefore = server.requests.length;
      // A server set as plain OpenAI cannot continue an assistant message: the prefix is refused before any request.
      const refused = await vscode.commands.executeCommand<TeacherRunOutcome | undefined>('trajectoryStudio.generateTeacherTrajectories', { questionFile, outputFile: path.join(dir, 'refused.traj.jsonl'), firstThoughtPrefix: true });
      assert.equal(refused, undefined);
      assert.ok(errors.messages.some((m) => /prefix|continue/i.test(m)), `the user is told why: ${JSON.stringify(errors.messages)}`);
      assert.equal(server.requests.length, requestsBefore, 'no request was sent');
      assert.ok(!fs.existsSync(path.join(dir, 'refused.traj.jsonl')));

      // Without the prefix the run goes to the server and model of the settings, and the manifest records the flavor.
      const outputFile = path.join(dir, 'settings.teacher.traj.jsonl');
      const outcome = await vscode.commands.executeCommand<TeacherRunOutcome>('trajectoryStudio.generateTeacherTrajectories', { questionFile, outputFile, firstThoughtPrefix: false });
      assert.equal(outcome.snapshot.correct, 1);
      assert.ok(server.requests.length > requestsBefore, 'the teacher at the configured URL was asked');
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'settings.teacher.traj.manifest.json'), 'utf8')) as { config: { teacher: { flavor: string; model: string } } };
      assert.deepEqual([manifest.config.teacher.flavor, manifest.config.teacher.model], ['openai', 'teacher']);
    } finally {
      errors.restore();
      for (const [i, k] of keys.entries()) await config.update(k, before[i], vscode.ConfigurationTarget.Global);
    }
  });
});
