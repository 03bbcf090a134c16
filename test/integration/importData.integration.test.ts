import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type ImportDataOutcome } from '../../src/dataImport/importData.vscode';
import { referenceRecordsFile } from '../support/referenceRecords';
import { activateStudio } from './support';
import { captureErrorMessages } from './messageCapture';

suite('Import… (importData) in the extension host', () => {
  let dir: string;
  let records: string;
  suiteSetup(async () => {
    await activateStudio();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-data-'));
    records = path.join(dir, 'records.jsonl');
    fs.writeFileSync(records, referenceRecordsFile().text);
  });
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('bad arguments are refused with an error that names the field, and nothing is written', async () => {
    const output = path.join(dir, 'never.traj.jsonl');
    const cases: [unknown, RegExp][] = [
      [{ input: 'records.jsonl', output }, /^Import failed: invalid arguments: input: must be an absolute path/],
      [{ input: records, output: 42 }, /invalid arguments: output: .*expected string/i],
      [{ input: records, output, format: 'csv' }, /invalid arguments: format: /],
      [{ input: records, output, domain: 'chemistry' }, /invalid arguments: domain: /],
      [{ input: records, output, compatibility: 'paper' }, /invalid arguments: compatibility: /],
      [{ input: records, outptu: output }, /invalid arguments: "outptu": not an option \(options: input, output, format, domain, compatibility, model, overwrite\)/],
      [{ input: records, output, format: 'questions', domain: 'guess' }, /domain: "guess" is only for reference records/],
      [{ input: path.join(dir, 'missing.jsonl'), output }, /input: .*missing\.jsonl is not a file that can be read/],
    ];
    const errors = captureErrorMessages();
    try {
      for (const [args, expected] of cases) {
        const before = errors.messages.length;
        const result = await vscode.commands.executeCommand<unknown>('trajectoryStudio.importData', args);
        assert.equal(result, undefined, `${JSON.stringify(args)} was accepted`);
        const shown = errors.messages.slice(before);
        assert.equal(shown.length, 1, `one error for ${JSON.stringify(args)}, got ${JSON.stringify(shown)}`);
        assert.match(shown[0], expected);
      }
    } finally {
      errors.restore();
    }
    assert.equal(fs.existsSync(output), false);
  });

  test('reference records import into the named file with the filter decisions; the skipped line is reported; no overwrite without consent', async () => {
    const output = path.join(dir, 'imported.traj.jsonl');
    const { badLine } = referenceRecordsFile();
    const outcome = await vscode.commands.executeCommand<ImportDataOutcome>('trajectoryStudio.importData', { input: records, output, domain: 'guess', compatibility: 'reference' });
    assert.ok(outcome, 'the command resolves with what it did');
    assert.equal(outcome.written, 2);
    assert.deepEqual(outcome.skipped.map((s) => [s.where, s.field]), [[`line ${badLine}`, 'log_data']]);
    assert.match(outcome.report, new RegExp(`records\\.jsonl, line ${badLine} \\(field \`log_data\`\\): is a string but not JSON`));
    assert.equal(outcome.teacherFilter?.kept, 1);
    const lines = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { task: { question: string; domain: string }; meta: { teacherFilter: { verdict: string } } });
    assert.deepEqual(lines.map((t) => [t.task.question, t.task.domain, t.meta.teacherFilter.verdict]), [
      ['What is 17 times 23?', 'math', 'correct'],
      ['What is 2 to the power 10?', 'math', 'wrong-answer'],
    ]);
    // the report is open as a read-only document
    const report = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'trajectory-studio-view' && d.getText().includes(`line ${badLine}`));
    assert.ok(report, 'the report of skipped records is open');

    const before = fs.readFileSync(output, 'utf8');
    const errors = captureErrorMessages();
    try {
      const again = await vscode.commands.executeCommand<unknown>('trajectoryStudio.importData', { input: records, output, domain: 'math' });
      assert.equal(again, undefined);
      assert.match(errors.messages.at(-1) ?? '', /output: .*imported\.traj\.jsonl already exists; choose a new file or pass "overwrite": true/);
    } finally {
      errors.restore();
    }
    assert.equal(fs.readFileSync(output, 'utf8'), before, 'the existing file is untouched');
    const replaced = await vscode.commands.executeCommand<ImportDataOutcome>('trajectoryStudio.importData', { input: records, output, domain: 'factual', overwrite: true });
    assert.equal(replaced.written, 2);
    assert.match(fs.readFileSync(output, 'utf8'), /"domain":"factual"/);
  });

  test('a question set without domains takes the given domain; the output is never the input', async () => {
    const csv = path.join(dir, 'set.csv');
    fs.writeFileSync(csv, 'question,answer\nWhat is 2+2?,4\nCapital of France?,Paris\n');
    const output = path.join(dir, 'set.questions.jsonl');
    const outcome = await vscode.commands.executeCommand<ImportDataOutcome>('trajectoryStudio.importData', { input: csv, output, domain: 'math' });
    assert.equal(outcome.format, 'questions');
    assert.equal(outcome.written, 2);
    assert.deepEqual(outcome.skipped, []);
    const tasks = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string; domain: string });
    assert.deepEqual(tasks.map((t) => [t.question, t.domain]), [['What is 2+2?', 'math'], ['Capital of France?', 'math']]);

    const errors = captureErrorMessages();
    try {
      await vscode.commands.executeCommand('trajectoryStudio.importData', { input: csv, output: csv, domain: 'math', overwrite: true });
      assert.match(errors.messages.at(-1) ?? '', /output: .*set\.csv is the file being imported/);
    } finally {
      errors.restore();
    }
    assert.match(fs.readFileSync(csv, 'utf8'), /^question,answer/);
  });
});
