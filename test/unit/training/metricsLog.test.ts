import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventsFrom, parseMetricsChunk } from '../../../src/training/metricsLog';

const step = (n: number) => JSON.stringify({ event: 'step', time: 1, step: n, epoch: n / 10, loss: 1 / n, lr: 1e-4 });

void test('only complete lines are consumed; a partial last line waits for the next read', () => {
  const text = `${step(1)}\n${step(2)}\n${step(3).slice(0, 20)}`;
  const first = parseMetricsChunk(Buffer.from(text), 0);
  assert.deepEqual(first.events.map((e) => e.event === 'step' && e.step), [1, 2]);
  assert.equal(first.nextOffset, Buffer.byteLength(`${step(1)}\n${step(2)}\n`));
  const rest = Buffer.from(`${step(3)}\n`);
  const second = parseMetricsChunk(rest, first.nextOffset);
  assert.deepEqual(second.events.map((e) => e.event === 'step' && e.step), [3]);
  assert.equal(second.nextOffset, first.nextOffset + rest.length);
});

void test('byte offsets count bytes, not characters, so non-ASCII messages do not shift the next read', () => {
  const err = JSON.stringify({ event: 'error', time: 1, message: 'données ✓ 模型' });
  const chunk = parseMetricsChunk(Buffer.from(`${err}\n`), 100);
  assert.equal(chunk.nextOffset, 100 + Buffer.byteLength(`${err}\n`));
  assert.equal(chunk.events[0]?.event === 'error' && chunk.events[0].message, 'données ✓ 模型');
});

void test('bad lines are reported with their byte offset; unknown event types from newer trainers are ignored', () => {
  const lines = [step(1), 'not json', JSON.stringify({ event: 'step', time: 1, step: 2 }), JSON.stringify({ event: 'future', x: 1 }), step(3)];
  const chunk = parseMetricsChunk(Buffer.from(`${lines.join('\n')}\n`), 0, 'run/metrics.jsonl');
  assert.deepEqual(chunk.events.map((e) => e.event === 'step' && e.step), [1, 3]);
  assert.equal(chunk.problems.length, 2);
  assert.match(chunk.problems[0] ?? '', new RegExp(`run/metrics.jsonl at byte ${step(1).length + 1}: not JSON`));
  assert.match(chunk.problems[1] ?? '', /"step" event is invalid: epoch/);
});

void test('a chunk that overlaps what a view already shows gives only its later events', () => {
  // A snapshot read the file up to the end of step 2 while the monitor's chunk (steps 1 to 4) was on its way.
  const lines = [1, 2, 3, 4].map((n) => `${step(n)}\n`);
  const chunk = parseMetricsChunk(Buffer.from(lines.join('')), 0);
  assert.deepEqual(chunk.eventOffsets, [0, 1, 2, 3].map((i) => Buffer.byteLength(lines.slice(0, i).join(''))));
  const shown = Buffer.byteLength(lines.slice(0, 2).join(''));
  assert.deepEqual(eventsFrom(chunk, shown).map((e) => e.event === 'step' && e.step), [3, 4]);
  assert.deepEqual(eventsFrom(chunk, 0).map((e) => e.event === 'step' && e.step), [1, 2, 3, 4], 'nothing shown yet: every event');
  assert.deepEqual(eventsFrom(chunk, chunk.nextOffset), [], 'everything shown: nothing again');
});
