import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { trajectoryFileName } from '../../../src/eval/evalConfig';
import { evalOutcome, setFailedEvalRecordsAside } from '../../../src/eval/liveEvalRun';
import { runAQuestions, writeProfileRun } from './profileRunFixture';

function taskIds(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { task: { id: string } }).task.id);
}

test('Retry Failed for an evaluation: failed records leave the run folder (kept in a side file), so a resume runs them again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-eval-'));
  try {
    const runFolder = path.join(dir, 'run');
    await writeProfileRun(runFolder, 'studio', runAQuestions);
    const factual = path.join(runFolder, trajectoryFileName('factual-mini'));
    const math = path.join(runFolder, trajectoryFileName('math-mini'));
    const mathBefore = fs.readFileSync(math, 'utf8');
    assert.deepEqual(taskIds(factual), ['f1', 'f2', 'f3']);

    assert.equal(await setFailedEvalRecordsAside(runFolder, Date.parse('2026-03-02T10:00:00Z')), 1);
    assert.deepEqual(taskIds(factual), ['f1', 'f2'], 'the failed question is no longer in the run, so a resume runs it');
    assert.equal(fs.readFileSync(math, 'utf8'), mathBefore, 'a benchmark without failures is left as it was');
    const side = fs.readdirSync(path.dirname(factual)).filter((f) => f.includes('.retried-'));
    assert.equal(side.length, 1);
    assert.deepEqual(taskIds(path.join(path.dirname(factual), side[0])), ['f3'], 'the old record is kept beside the run');

    assert.equal(await setFailedEvalRecordsAside(runFolder), 0, 'nothing left to retry');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder without a manifest is refused with its name', async () => {
  await assert.rejects(setFailedEvalRecordsAside('/nonexistent/run'), /\/nonexistent\/run has no evaluation run manifest/);
});

test('evaluation outcomes in the live view: failed with the error, correct, wrong', () => {
  assert.deepEqual(evalOutcome({ correct: false, runError: 'server gave up' }), { status: 'failed', detail: 'server gave up' });
  assert.deepEqual(evalOutcome({ correct: true }), { status: 'correct' });
  assert.deepEqual(evalOutcome({ correct: false }), { status: 'wrong' });
});
