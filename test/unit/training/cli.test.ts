import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type SshdFixture, sshdUnavailableReason, startSshd } from './sshdFixture';
import { runCli } from '../../../src/cli/main';
import { captureCliIo } from '../../support/cliIo';

const fakeTrainer = resolve(__dirname, '../../fixtures/training/fake_trainer.py');

void describe('trajectory-studio train … against a real sshd', { skip: sshdUnavailableReason() }, () => {
  let sshd: SshdFixture;
  let home: string;
  let remote: string;

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = captureCliIo({ env: { TRAJECTORY_STUDIO_HOME: home }, cwd: home });
    const code = await runCli(argv, io);
    return { code, out: io.out, err: io.err };
  }

  before(async () => {
    sshd = await startSshd();
    home = await mkdtemp(join(tmpdir(), 'ts-cli-home-'));
    remote = await mkdtemp(join(tmpdir(), 'ts-cli-remote-'));
    const profiles = [{ name: 'box', host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.clientKey, workFolder: remote, python: '/usr/bin/python3' }];
    await writeFile(join(home, 'training-hosts.json'), JSON.stringify(profiles));
    await writeFile(join(home, 'data.jsonl'), `${JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a', weight: 1 }] })}\n`);
  });

  after(async () => {
    await sshd?.stop();
    await rm(home, { recursive: true, force: true });
    await rm(remote, { recursive: true, force: true });
  });

  void test('an unknown host is refused unless --accept-new-host-key, which prints the fingerprint', async () => {
    const refused = await cli('train', 'launch', '--host', 'box', '--data', 'data.jsonl', '--base-model', 'm', '--script', fakeTrainer);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /not in known_hosts \(ssh-ed25519 SHA256:/);
  });

  void test('launch --follow, status, logs, download, then a second run is cancelled', async () => {
    const launched = await cli('train', 'launch', '--host', 'box', '--data', 'data.jsonl', '--base-model', 'org/student', '--script', fakeTrainer, '--set', 'max-steps=5', '--set', 'step-seconds=0.02', '--follow', '--interval', '0.1', '--accept-new-host-key');
    assert.equal(launched.code, 0, launched.err);
    assert.match(launched.err, /trusting 127\.0\.0\.1:\d+ on first use: ssh-ed25519 SHA256:/);
    assert.match(launched.err, /check passed: /);
    const id = launched.out.split('\n')[0] ?? '';
    assert.match(launched.out, /step 5\/5 {2}epoch 2\.00 {2}loss /);
    assert.match(launched.out, /state: succeeded \(exit 0\)/);
    assert.ok((await readFile(join(home, 'known_hosts'), 'utf8')).includes(sshd.hostPublicKey.split(' ')[1] ?? '?'));

    const list = await cli('train', 'status');
    assert.match(list.out, new RegExp(`${id}\\s+succeeded\\s+box\\s+org/student`));
    const one = await cli('train', 'status', id.slice(0, 22));
    assert.match(one.out, /state: {2}succeeded \(exit 0\)/);
    assert.match(one.out, /latest: step 5\/5/);
    const logs = await cli('train', 'logs', id);
    assert.match(logs.out, /fake trainer: 1 examples/);
    const downloaded = await cli('train', 'download', id, '--out', 'adapters');
    assert.equal(downloaded.code, 0, downloaded.err);
    const manifest = JSON.parse(await readFile(join(downloaded.out.trim(), 'manifest.json'), 'utf8')) as { base_model: string };
    assert.equal(manifest.base_model, 'org/student');

    const served = await cli('train', 'serve', id, '--name', 'student-a');
    assert.match(served.out, /vllm serve org\/student --enable-lora --lora-modules student-a=\S+\/adapter --max-lora-rank 64/);
    assert.match(served.out, /ssh -N -L 127\.0\.0\.1:8001:127\.0\.0\.1:8001 -p \d+ root@127\.0\.0\.1/);

    const second = await cli('train', 'launch', '--host', 'box', '--data', 'data.jsonl', '--base-model', 'm', '--script', fakeTrainer, '--set', 'max-steps=1000', '--set', 'step-seconds=0.05', '--name', 'long');
    assert.equal(second.code, 0, second.err);
    const cancelled = await cli('train', 'cancel', second.out.trim(), '--grace', '10');
    assert.equal(cancelled.code, 0, cancelled.err);
    assert.match(cancelled.out, /cancelled; no process left/);
  });

  void test('usage mistakes name the flag or the run', async () => {
    const missing = await cli('train', 'launch', '--host', 'box');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--data is required/);
    const unknown = await cli('train', 'status', 'no-such-run');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no recorded run matches "no-such-run"/);
    const badHost = await cli('train', 'launch', '--host', 'nope', '--data', 'data.jsonl', '--base-model', 'm');
    assert.match(badHost.err, /no host profile named "nope"/);
  });
});
