import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { parseTrajectory, type Trajectory } from '../../../src/trajectory/schema';
import { arithmeticAgent, evaluateIntegerExpression, type FakeModelServer, startFakeModelServer } from '../../support/fakeModelServer';
import { captureCliIo } from '../../support/cliIo';

async function fileRecords(file: string): Promise<Trajectory[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => parseTrajectory(JSON.parse(line)));
}

void describe('trajectory-studio ask --out', () => {
  let server: FakeModelServer;
  let dir: string;
  const agent = arithmeticAgent();
  // Set by a test to hear when the second step's request reached the server (it then waits for `secondStep`).
  let onSecondStep: (() => void) | undefined;
  let releaseSecondStep = (): void => undefined;
  let secondStep: Promise<void> = Promise.resolve();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ask-out-'));
    server = await startFakeModelServer({
      script: async (req) => {
        if (req.step === 1) {
          onSecondStep?.();
          await secondStep;
        }
        return agent(req);
      },
    });
  });
  after(async () => {
    releaseSecondStep();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const endpointArgs = () => ['--profile', 'student', '--base-url', server.baseUrl, '--model', 'student'];

  void it('writes the trajectory to the file, relative to the working folder, and still prints the steps, the usage and --json', { timeout: 60_000 }, async () => {
    const io = captureCliIo({ cwd: dir });
    const code = await runCli(['ask', ...endpointArgs(), '--out', 'runs/live.traj.jsonl', '--json', 'What is 12 * 12?'], io);
    assert.equal(code, 0, io.err);
    const expected = String(evaluateIntegerExpression('12 * 12'));
    assert.ok(io.out.includes('── step 2 ──') && io.out.includes(`Final answer: ${expected}\n`), io.out);
    assert.match(io.err, /\[\d+ model calls, \d+ prompt \+ \d+ completion tokens/);
    const printed = parseTrajectory(JSON.parse(io.out.trim().split('\n').at(-1) ?? ''));
    const records = await fileRecords(path.join(dir, 'runs', 'live.traj.jsonl'));
    assert.deepEqual(records, [printed], 'the file holds the trajectory --json printed');
    assert.equal(records[0].finalAnswer, expected);
    assert.equal(records[0].steps.length, 2);
  });

  void it('a stop (Ctrl-C) during a step exits 130 and leaves the finished steps in the file', { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    secondStep = new Promise<void>((resolve) => (releaseSecondStep = resolve));
    onSecondStep = () => controller.abort(new Error('interrupted'));
    try {
      const io = captureCliIo({ cwd: dir, signal: controller.signal });
      const code = await runCli(['ask', ...endpointArgs(), '--out', 'stopped/live.traj.jsonl', 'What is 7 * 8?'], io);
      assert.equal(code, 130, `${io.out}\n${io.err}`);
      assert.match(io.err, /ask: cancelled/);
      const records = await fileRecords(path.join(dir, 'stopped', 'live.traj.jsonl'));
      assert.equal(records.length, 1);
      assert.equal(records[0].steps.length, 1, 'the first step, finished before the stop, is in the file');
      assert.equal(records[0].steps[0].observation?.printOutput.trim(), '56');
      assert.equal(records[0].finalAnswer, undefined);
      assert.deepEqual(await readdir(path.join(dir, 'stopped')), ['live.traj.jsonl'], 'no temp file is left beside it');
    } finally {
      onSecondStep = undefined;
      releaseSecondStep();
    }
  });

  void it('documents --out in ask --help', async () => {
    const io = captureCliIo({ cwd: dir });
    assert.equal(await runCli(['ask', '--help'], io), 0);
    assert.match(io.out, /--out FILE\s+write the trajectory to FILE/);
  });
});
