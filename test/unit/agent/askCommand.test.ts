import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../../src/cli/main';
import { trajectorySchema } from '../../../src/trajectory/schema';
import { arithmeticAgent, evaluateIntegerExpression, type FakeModelServer, malformedStudent, startFakeModelServer } from '../../support/fakeModelServer';
import { captureCliIo } from '../../support/cliIo';

void describe('trajectory-studio ask', () => {
  let server: FakeModelServer;
  before(async () => {
    server = await startFakeModelServer({ script: arithmeticAgent(), apiKey: 'sk-cli', faultSchedule: (i) => (i === 1 ? 'server-error' : undefined), faults: { rate: 0, kinds: [] } });
  });
  after(() => server.close());

  void it('runs one episode with the endpoint from the environment, printing the steps and the answer', async () => {
    const io = captureCliIo({ env: { TRAJECTORY_STUDIO_TEACHER_BASE_URLS: server.baseUrl, TRAJECTORY_STUDIO_TEACHER_MODEL: 'teacher', TRAJECTORY_STUDIO_TEACHER_API_KEY: 'sk-cli' } });
    const code = await runCli(['ask', '--profile', 'teacher', '--json', 'What is 41 * 3 - 1?'], io);
    assert.equal(code, 0, io.err);
    const expected = String(evaluateIntegerExpression('41 * 3 - 1'));
    const out = io.out;
    assert.ok(out.includes('── step 1 ──') && out.includes('── step 2 ──'));
    assert.ok(out.includes(`Observation:\n${expected}\n`));
    assert.ok(out.includes(`Final answer: ${expected}\n`));
    assert.ok(io.err.includes(`attempt 1 at ${server.baseUrl} failed (`) && /; retrying in \d+ ms/.test(io.err), `a retried request is reported on stderr: ${io.err}`);
    const trajectory = trajectorySchema.parse(JSON.parse(out.trim().split('\n').at(-1) ?? ''));
    assert.equal(trajectory.finalAnswer, expected);
    assert.equal(trajectory.origin.promptProfile, 'teacher');
  });

  void it('runs a student with SAG and reports each vote', async () => {
    const student = await startFakeModelServer({ script: malformedStudent(arithmeticAgent(), { invalid: (r) => (r.step === 0 && r.choiceIndex === 1 ? 'syntax-error' : undefined) }) });
    try {
      const io = captureCliIo();
      const code = await runCli(['ask', '--profile', 'student', '--base-url', student.baseUrl, '--model', 'student', '--sag', '3', '--json', 'What is 5 * 5?'], io);
      assert.equal(code, 0, io.err);
      assert.ok(io.out.includes('[vote: 2/3 candidates valid; groups 2; winner 0]'), io.out);
      const trajectory = trajectorySchema.parse(JSON.parse(io.out.trim().split('\n').at(-1) ?? ''));
      assert.equal(trajectory.finalAnswer, String(evaluateIntegerExpression('5 * 5')));
      assert.equal(student.chatRequests()[0].n, 3);
    } finally {
      await student.close();
    }
  });

  void it('checks the connection and explains a bad key', async () => {
    const ok = captureCliIo({ env: { TRAJECTORY_STUDIO_STUDENT_API_KEY: 'sk-cli' } });
    assert.equal(await runCli(['ask', '--profile', 'student', '--base-url', server.baseUrl, '--model', 'student', '--check'], ok), 0);
    assert.match(ok.out, /student \(student\): OK/);
    const bad = captureCliIo({ env: { TRAJECTORY_STUDIO_STUDENT_API_KEY: 'sk-wrong' } });
    assert.equal(await runCli(['ask', '--profile', 'student', '--base-url', server.baseUrl, '--model', 'student', '--check'], bad), 1);
    assert.match(bad.out, /refused the API key/);
  });

  void it('refuses a missing question and an unknown profile as usage errors', async () => {
    const io = captureCliIo();
    assert.equal(await runCli(['ask', '--profile', 'teacher'], io), 2);
    assert.match(io.err, /give the question/);
    assert.equal(await runCli(['ask', '--profile', 'coach', 'q'], io), 2);
    assert.match(io.err, /--profile must be one of teacher, student, judge/);
  });
});
