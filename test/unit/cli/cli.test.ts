import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from 'node:util';
import { type CliCommand, type CliOptionSpec, parseArgsOptions } from '../../../src/cli/command';
import { formatCommandHelp, helpWidth, optionLabel, wrapText } from '../../../src/cli/commandHelp';
import { runCli } from '../../../src/cli/main';
import { cliCommands } from '../../../src/cli/registry';
import { captureCliIo } from '../../support/cliIo';

test('--help lists every registered command with its summary', async () => {
  const io = captureCliIo();
  assert.equal(await runCli(['--help'], io), 0);
  for (const c of cliCommands) {
    assert.ok(io.out.includes(c.name), `help lists ${c.name}`);
    assert.ok(io.out.includes(c.summary), `help shows the summary of ${c.name}`);
  }
});

function synopsisLines(c: CliCommand): readonly string[] {
  return typeof c.synopsis === 'string' ? [c.synopsis] : c.synopsis;
}

test('every command answers --help with its usage and exits 0', async () => {
  for (const c of cliCommands) {
    const io = captureCliIo();
    assert.equal(await runCli([...c.name.split(' '), '--help'], io), 0, c.name);
    for (const line of synopsisLines(c)) assert.ok(io.out.includes(line), `${c.name} --help shows its usage line "${line}"`);
    assert.ok(synopsisLines(c)[0]?.startsWith(`trajectory-studio ${c.name}`), `${c.name}: the usage line starts with the command`);
  }
});

/** Help text with line breaks and indentation folded away, so wrapped text compares with its declaration. */
function folded(text: string): string {
  return text.replace(/\s+/g, ' ');
}

test('--help of every registered command lists each declared option, its value placeholder and its help', async () => {
  for (const c of cliCommands) {
    const io = captureCliIo();
    assert.equal(await runCli([...c.name.split(' '), '--help'], io), 0, c.name);
    const lines = io.out.split('\n');
    for (const [name, spec] of Object.entries(c.options)) {
      assert.ok(spec.help.trim().length > 0, `${c.name} --${name} has help`);
      const label = optionLabel(name, spec);
      assert.ok(
        lines.some((l) => l.startsWith(`  ${label}  `) || l === `  ${label}`),
        `${c.name} --help lists "${label}" at the start of a line:\n${io.out}`,
      );
      assert.ok(folded(io.out).includes(folded(spec.help)), `${c.name} --help shows the help of --${name}`);
      if (spec.type === 'string' && spec.multiple) assert.ok(folded(io.out).includes(`${folded(spec.help)} (repeatable)`), `${c.name} --${name} is marked repeatable`);
    }
  }
});

test('every option a command\'s help mentions is one the command accepts', () => {
  // Documented but not declared would pass --help and fail on use; quoted text (`train_lora.py --check`)
  // names another program's flags.
  for (const c of cliCommands) {
    const text = formatCommandHelp(c).replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)) {
      assert.ok(m[1] !== undefined && m[1] in c.options, `${c.name} --help mentions --${m[1]}, which the command does not declare`);
    }
  }
});

test('the parser accepts every declared option, with a value where it takes one', () => {
  for (const c of cliCommands) {
    for (const [name, spec] of Object.entries(c.options)) {
      const args = spec.type === 'string' ? [`--${name}`, 'x'] : [`--${name}`];
      const parsed = parseArgs({ args, options: parseArgsOptions(c.options), strict: true, allowPositionals: true });
      assert.deepEqual(parsed.values[name], spec.type === 'string' ? (spec.multiple ? ['x'] : 'x') : true, `${c.name} --${name}`);
    }
  }
});

test('option help is laid out in aligned columns within the help width', () => {
  for (const c of cliCommands) {
    const help = formatCommandHelp(c);
    const start = help.search(/^ {2}--/m);
    if (start < 0) continue;
    // The option table: option lines and their continuation lines (headings and notes are not indented).
    const table = help.slice(start).split('\n').filter((l) => l.startsWith('  '));
    const columns = new Set<number>();
    for (const line of table) {
      assert.ok(line.length <= helpWidth, `${c.name}: "${line}" is wider than ${helpWidth} columns`);
      const optionLine = /^( {2}--\S+(?: \S+)? {2,})\S/.exec(line);
      if (optionLine?.[1]) columns.add(optionLine[1].length);
      else if (!line.startsWith('  --')) columns.add(/^ */.exec(line)?.[0].length ?? 0);
    }
    assert.ok(columns.size <= 1, `${c.name}: option help and its continuation lines start in one column, not ${[...columns].join(', ')}`);
  }
});

test('the help of a command: usage, description, options in columns under their group headings, notes', () => {
  const command: CliCommand = {
    name: 'demo',
    summary: 'A demo command',
    synopsis: ['trajectory-studio demo FILE [options]', 'trajectory-studio demo --list'],
    description: ['Reads FILE.'],
    options: {
      out: { type: 'string', value: 'DIR', help: 'where to write' },
      list: { type: 'boolean', help: 'list and stop' },
      'a-very-long-option-name': { type: 'string', value: 'ONE|TWO|THREE', help: 'its help goes on the next line', group: 'Advanced' },
      tag: { type: 'string', value: 'T', multiple: true, help: 'a tag', group: 'Advanced' },
    },
    notes: ['Exit status 0.'],
    run: () => Promise.resolve(0),
  };
  assert.equal(
    formatCommandHelp(command),
    [
      'A demo command',
      '',
      'Usage: trajectory-studio demo FILE [options]',
      '       trajectory-studio demo --list',
      '',
      'Reads FILE.',
      '',
      'Options:',
      '  --out DIR  where to write',
      '  --list     list and stop',
      '',
      'Advanced:',
      '  --a-very-long-option-name ONE|TWO|THREE',
      '             its help goes on the next line',
      '  --tag T    a tag (repeatable)',
      '',
      'Exit status 0.',
      '',
    ].join('\n'),
  );
});

test('wrapText breaks at spaces within the width, keeps indentation, and leaves a long word whole', () => {
  assert.deepEqual(wrapText('aa bb cc dd', 5), ['aa bb', 'cc dd']);
  assert.deepEqual(wrapText('  aa bb cc', 7), ['  aa bb', '  cc']);
  assert.deepEqual(wrapText('a verylongword b', 6), ['a', 'verylongword', 'b']);
  assert.deepEqual(wrapText(''), ['']);
});

test('an unknown option is a usage error that names it, suggests the option meant and points at --help', async () => {
  const near = captureCliIo();
  assert.equal(await runCli(['eval', '--benchmark', 'b.json'], near), 2);
  assert.match(near.err, /^trajectory-studio eval: unknown option "--benchmark" \(did you mean --benchmarks\?\); "trajectory-studio eval --help" lists its options/);
  assert.ok(near.err.includes('Usage: trajectory-studio eval'), 'the help follows the error');
  const far = captureCliIo();
  assert.equal(await runCli(['validate', '--frobnicate', 'x.traj.jsonl'], far), 2);
  assert.match(far.err, /unknown option "--frobnicate"; "trajectory-studio validate --help" lists its options/);
  const inline = captureCliIo();
  assert.equal(await runCli(['index', 'info', '--jsn=1', 'dir'], inline), 2);
  assert.match(inline.err, /unknown option "--jsn" \(did you mean --json\?\)/);
});

test('an option cannot be declared without help, nor a value option without its placeholder', () => {
  // Compile-time guarantees, checked by `npm run check-types`; at run time these are plain objects.
  // @ts-expect-error: `help` is required
  const undocumented: CliOptionSpec = { type: 'boolean' };
  // @ts-expect-error: a value option needs `value`, the placeholder the help shows
  const noPlaceholder: CliOptionSpec = { type: 'string', help: 'where to write' };
  assert.ok(undocumented && noPlaceholder);
});

test('an unknown command is an error that points at --help', async () => {
  const io = captureCliIo();
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
    const io = captureCliIo();
    assert.equal(await runCli([group, '--help'], io), 0, `${group} --help`);
    for (const sub of cliCommands.filter((c) => c.name.startsWith(`${group} `))) {
      const line = io.out.split('\n').find((l) => l.trimStart().startsWith(sub.name));
      assert.ok(line?.includes(sub.summary), `${group} --help lists "${sub.name}" with its summary`);
    }
  }
});

test('a group without a subcommand, or with an unknown one, says so and shows the subcommands (exit 2)', async () => {
  const bare = captureCliIo();
  assert.equal(await runCli(['train'], bare), 2);
  assert.match(bare.err, /a subcommand is required/);
  assert.match(bare.err, /train launch/);
  const unknown = captureCliIo();
  assert.equal(await runCli(['train', 'lanch'], unknown), 2);
  assert.match(unknown.err, /unknown subcommand "lanch"/);
  assert.match(unknown.err, /train status/);
});
