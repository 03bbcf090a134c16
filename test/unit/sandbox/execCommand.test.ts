import assert from 'node:assert/strict';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/main';
import { splitCells } from '../../../src/cli/commands/sandbox';
import { captureCliIo } from '../../support/cliIo';

const fixture = path.resolve(__dirname, '../../fixtures/sandbox/three_steps.py');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo();
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

void describe('trajectory-studio exec', () => {
  void it('splits a file into # %% cells', () => {
    assert.deepEqual(splitCells('a = 1\n# %%\n\n# %% [markdown]\nb = 2\n'), ['a = 1', 'b = 2']);
    assert.deepEqual(splitCells('only = 1\n'), ['only = 1']);
  });

  for (const mode of ['bwrap', 'rlimits']) {
    void it(`runs each cell as a step in ${mode} mode and prints the observations the model would see`, async () => {
      const { code, out } = await run(['exec', fixture, '--steps', '--mode', mode]);
      assert.equal(code, 1, 'the last cell divides by zero');
      assert.match(out, new RegExp(`^# isolation: ${mode}\n`));
      assert.match(out, /Call id: call_1\nObservation:\nExecution logs:\ncount 3\nLast output from code snippet:\nNone/);
      assert.match(out, /Call id: call_2\nObservation:\nExecution logs:\nLast output from code snippet:\n12\n/);
      assert.match(out, /Call id: call_3\nError:\nCode execution failed at line '1 \/ \(total - total\)' due to: ZeroDivisionError/);
    });
  }

  void it('answers web_search from a /retrieve server given with --retrieval-url, in the exact tool text', async () => {
    const document = { contents: '"Mount Kenya"\nThe second-highest mountain in Africa.', score: 0.8125 };
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result: [[{ document: { contents: document.contents }, score: document.score }]] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const folder = await mkdtemp(path.join(os.tmpdir(), 'ts-exec-search-'));
    try {
      const file = path.join(folder, 'search.py');
      await writeFile(file, 'print(web_search("highest mountains in Africa"))\n');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { code, out } = await run(['exec', file, '--retrieval-url', url]);
      assert.equal(code, 0);
      assert.ok(out.includes(`\nRetrieved documents:\n\n===== Document 0, similarity: ${document.score.toFixed(2)} =====\n${document.contents}\n`));
    } finally {
      server.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  void it('rejects an unknown mode as a usage error', async () => {
    const { code, err } = await run(['exec', fixture, '--mode', 'docker']);
    assert.equal(code, 2);
    assert.match(err, /--mode must be/);
  });
});
