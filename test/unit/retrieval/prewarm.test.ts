import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prewarmAutoMaxCorpusBytes, shouldPrewarm } from '../../../src/retrieval/lanceIndex';

void test('prewarm: auto loads the full-text indexes of small corpora only, and only with memory to spare', () => {
  const small = 50 * 1024 * 1024;
  const plenty = 64 * 1024 ** 3;
  assert.equal(shouldPrewarm('auto', small, plenty), true);
  assert.equal(shouldPrewarm(undefined, small, plenty), true, 'auto is the default');
  assert.equal(shouldPrewarm('auto', prewarmAutoMaxCorpusBytes + 1, plenty), false, 'a corpus over the limit is not prewarmed');
  assert.equal(shouldPrewarm('auto', small, small * 2), false, 'not when free memory is short');
  assert.equal(shouldPrewarm('always', prewarmAutoMaxCorpusBytes * 20, 0), true);
  assert.equal(shouldPrewarm('never', small, plenty), false);
});
