import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CliIo } from '../../../src/cli/command';
import { runCli } from '../../../src/cli/main';
import { cliCommands } from '../../../src/cli/registry';

function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTty: false,
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
    stdout(t: string) {
      io.out += t;
    },
    stderr(t: string) {
      io.err += t;
    },
  };
  return io;
}

test('--help lists every registered command with its summary', async () => {
  const io = captureIo();
  assert.equal(await runCli(['--help'], io), 0);
  for (const c of cliCommands) {
    assert.ok(io.out.includes(c.name), `help lists ${c.name}`);
    assert.ok(io.out.includes(c.summary), `help shows the summary of ${c.name}`);
  }
});

test('every command answers --help with its usage and exits 0', async () => {
  for (const c of cliCommands) {
    const io = captureIo();
    assert.equal(await runCli([...c.name.split(' '), '--help'], io), 0, c.name);
    assert.ok(io.out.includes(c.usage.split('\n')[0]), `${c.name} --help shows its usage`);
  }
});

test('an unknown command is an error that points at --help', async () => {
  const io = captureIo();
  assert.equal(await runCli(['no-such-command'], io), 2);
  assert.match(io.err, /unknown command "no-such-command"/);
  assert.match(io.err, /--help/);
});

test('command names are unique', () => {
  const names = cliCommands.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
});

test('every command group answers --help with its subcommands, a line each, and exits 0', async () => {
  const groups = [...new Set(cliCommands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] ?? ''))];
  assert.ok(groups.includes('train') && groups.includes('index'), 'the CLI has command groups');
  for (const group of groups) {
    const io = captureIo();
    assert.equal(await runCli([group, '--help'], io), 0, `${group} --help`);
    for (const sub of cliCommands.filter((c) => c.name.startsWith(`${group} `))) {
      const line = io.out.split('\n').find((l) => l.trimStart().startsWith(sub.name));
      assert.ok(line?.includes(sub.summary), `${group} --help lists "${sub.name}" with its summary`);
    }
  }
});

test('a group without a subcommand, or with an unknown one, says so and shows the subcommands (exit 2)', async () => {
  const bare = captureIo();
  assert.equal(await runCli(['train'], bare), 2);
  assert.match(bare.err, /a subcommand is required/);
  assert.match(bare.err, /train launch/);
  const unknown = captureIo();
  assert.equal(await runCli(['train', 'lanch'], unknown), 2);
  assert.match(unknown.err, /unknown subcommand "lanch"/);
  assert.match(unknown.err, /train status/);
});
