import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MemoizedSymbolicEquality, type SymbolicEquality, SympyChecker } from '../../../src/scoring/sympyChecker';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void test('equal and unequal expressions are told apart, with the method that decided', async () => {
  const checker = new SympyChecker();
  try {
    const same = await checker.check('x**2-1', '(x-1)*(x+1)');
    assert.equal(same.equal, true);
    assert.equal(same.method, 'simplify');
    const different = await checker.check('x**2+1', '(x+1)**2');
    assert.equal(different.equal, false);
  } finally {
    await checker.close();
  }
});

void test('text that is not a plain expression is refused before sympy evaluates it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sympy-hostile-'));
  const checker = new SympyChecker();
  try {
    const marker = path.join(dir, 'ran');
    const hostile = [`__import__('os').system('touch ${marker}')`, `open('${marker}','w')`, 'x.__class__', 'lambda: 1'];
    for (const text of hostile) {
      const result = await checker.check(text, '1');
      assert.equal(result.equal, undefined, text);
      assert.equal(result.method, 'error', text);
    }
    assert.deepEqual(readdirSync(dir), [], 'no code ran');
  } finally {
    await checker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a check that runs past its time budget is reported as a timeout and the next check still works', async () => {
  const checker = new SympyChecker({ timeoutMs: 100 });
  try {
    // Expanding a large power takes far longer than 100 ms.
    const slow = await checker.check('(x+y+z+1)**60 - (x+y+z+1)**60*(1+x-x)', '(x+y+z+2)**40');
    assert.equal(slow.equal, undefined);
    assert.equal(slow.method, 'timeout');
    assert.equal((await checker.check('2', '1+1')).equal, true);
  } finally {
    await checker.close();
  }
});

void test('a helper that stops answering is killed, and the next check starts a fresh one', async () => {
  const silent = path.join(__dirname, '../../fixtures/scoring/silent_helper.py');
  const checker = new SympyChecker({ scriptPath: silent, timeoutMs: 100 });
  try {
    const started = Date.now();
    const result = await checker.check('1', '1');
    assert.equal(result.method, 'timeout');
    assert.ok(Date.now() - started < 5000, 'the backstop fired within seconds');
  } finally {
    await checker.close();
  }
});

void test('without Python the check is unavailable, not a crash', async () => {
  const checker = new SympyChecker({ python: '/nonexistent/python3' });
  const result = await checker.check('1', '1');
  assert.equal(result.method, 'unavailable');
  assert.equal(result.equal, undefined);
  assert.match(result.error ?? '', /python3/);
  await checker.close();
});

void test('close ends the helper process', async () => {
  const checker = new SympyChecker();
  await checker.check('1', '1');
  const pid = (checker as unknown as { child?: { pid?: number } }).child?.pid;
  assert.ok(pid, 'the helper is running');
  await checker.close();
  assert.equal(processAlive(pid), false);
});

void test('a numeric comparison reports the relative difference, so another tolerance can be applied to it', async () => {
  const checker = new SympyChecker();
  try {
    // 1.41421 is √2 to 5 decimals: beyond the studio's 1e-6, within the reference's 1e-4.
    const result = await checker.check('1.41421', 'sqrt(2)');
    assert.equal(result.method, 'numeric');
    assert.equal(result.equal, false);
    assert.ok(result.relativeDifference !== undefined && result.relativeDifference > 1e-6 && result.relativeDifference < 1e-4, String(result.relativeDifference));
  } finally {
    await checker.close();
  }
});

void test('the memoizing wrapper asks each question once and forgets failures', async () => {
  let calls = 0;
  let fail = true;
  const inner: SymbolicEquality = {
    check: () => {
      calls++;
      return Promise.resolve(fail ? { equal: undefined, method: 'error', error: 'boom' } : { equal: true, method: 'simplify' });
    },
    close: () => Promise.resolve(),
  };
  const memo = new MemoizedSymbolicEquality(inner);
  assert.equal((await memo.check('a', 'b')).method, 'error');
  fail = false;
  assert.equal((await memo.check('a', 'b')).equal, true);
  assert.equal((await memo.check('a', 'b')).equal, true);
  assert.equal(calls, 2);
});
