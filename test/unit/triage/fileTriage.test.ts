import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileTriage, triageFile, type TriagedRecord } from '../../../src/triage/fileTriage';
import { NearDuplicateIndex } from '../../../src/triage/nearDuplicates';
import { computedMath, groundedFactual, trajectory } from '../../support/triageTrajectories';

describe('near-duplicate rule', () => {
  it('flags a later trajectory with the same question (case and punctuation aside), pointing at the first', () => {
    const index = new NearDuplicateIndex();
    const first = trajectory(groundedFactual());
    const again = trajectory({ ...groundedFactual(), question: 'which harbour town was the painter Ilse Varn born in' });
    assert.equal(index.add({ slot: 0, id: first.id }, first), undefined);
    const f = index.add({ slot: 1, id: again.id }, again);
    assert.equal(f?.rule, 'near-duplicate');
    assert.match(f?.message ?? '', new RegExp(`${first.id} \\(record 1\\)`));
  });

  it('flags a copy of an episode under another question by its shared text, and not a different episode', () => {
    const long = 'First I list the prime factors of the number and then combine the exponents to count the divisors carefully, checking each factor with sympy before I trust it.';
    const base = { ...computedMath(), steps: computedMath().steps.map((s) => ({ ...s, thought: long })) };
    const index = new NearDuplicateIndex();
    const a = trajectory(base);
    const b = trajectory({ ...base, question: 'A reworded question about 17 and 23 that shares no wording?' });
    const other = trajectory({
      ...groundedFactual(),
      steps: groundedFactual().steps.map((s) => ({ ...s, thought: 'Look the painter up in the coastal archive and read which town the passage names as her birthplace.' })),
    });
    index.add({ slot: 0, id: a.id }, a);
    assert.equal(index.add({ slot: 1, id: other.id }, other), undefined);
    assert.match(index.add({ slot: 2, id: b.id }, b)?.message ?? '', /Shares about \d+%/);
  });
});

describe('triageFile', () => {
  it('reads every record, counts trajectories per rule and reports invalid lines instead of dropping them', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'triage-'));
    try {
      const file = join(folder, 'mixed.traj.jsonl');
      const noSearch = trajectory({ ...groundedFactual(), steps: [{ code: 'final_answer("Kestrel Bay")', finalAnswer: 'Kestrel Bay' }] });
      const lines = [trajectory(computedMath()), noSearch, trajectory(computedMath())].map((t) => JSON.stringify(t));
      lines.splice(1, 0, '{"schema": 1, "id": ""}');
      await writeFile(file, `${lines.join('\n')}\n`);
      const seen: TriagedRecord[] = [];
      const result = await triageFile(file, { onRecord: (r) => seen.push(r) });
      assert.equal(result.records, 4);
      assert.equal(result.valid, 3);
      assert.equal(result.invalid[0]?.line, 2);
      assert.deepEqual(
        seen.map((r) => r.line),
        [1, 3, 4],
      );
      const flagged = seen.find((r) => r.id === noSearch.id);
      assert.ok(flagged && flagged.risk > 0 && flagged.flags.some((f) => f.rule === 'no-search'));
      // The two math trajectories share their question: the second is a near duplicate of the first.
      assert.equal(result.byRule.get('near-duplicate'), 1);
      assert.equal(result.byRule.get('no-search'), 1);
      assert.equal(result.flagged, 2);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('counts a trajectory once per rule however many steps the rule flags', () => {
    const triage = new FileTriage();
    const twice = trajectory({ ...computedMath(), steps: [{ code: 'import math' }, { code: 'import sympy' }, ...computedMath().steps] });
    assert.equal(triage.add(0, twice).filter((f) => f.rule === 'silent-step').length, 2);
    assert.equal(triage.byRule().get('silent-step'), 1);
  });
});
