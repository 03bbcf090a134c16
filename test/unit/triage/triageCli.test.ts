import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliIo } from '../../../src/cli/command';
import { runCli } from '../../../src/cli/main';
import { type Trajectory } from '../../../src/trajectory/schema';
import { computedMath, groundedFactual, trajectory } from '../../support/triageTrajectories';

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTty: false, env: {}, cwd, signal: new AbortController().signal };
  const code = await runCli(argv, io);
  return { code, out, err };
}

function accepted(t: Trajectory): Trajectory {
  return { ...t, review: { status: 'accepted', reasonTags: [] } };
}

describe('trajectory-studio triage and export --skip-flag', () => {
  let dir: string;
  const clean = accepted(trajectory(computedMath()));
  const fromMemory = accepted(trajectory({ ...groundedFactual(), steps: [{ thought: 'I know this one.', code: 'final_answer("Kestrel Bay")', finalAnswer: 'Kestrel Bay' }] }));
  const silent = accepted(trajectory({ ...computedMath(), question: 'What is 17 times 23, computed after an import?', steps: [{ code: 'import math' }, ...computedMath().steps] }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triage-cli-'));
    await writeFile(join(dir, 'data.traj.jsonl'), `${[clean, fromMemory, silent].map((t) => JSON.stringify(t)).join('\n')}\n`);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('lists each flagged trajectory with its line, step, rule and evidence, then the counts by rule', async () => {
    const r = await cli(['triage', 'data.traj.jsonl'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`data\\.traj\\.jsonl:2  task ${fromMemory.task.id}`));
    assert.match(r.out, /step 1 +high +no-search/);
    assert.match(r.out, /data\.traj\.jsonl:3 .*\n.*step 1 +low +silent-step/);
    assert.doesNotMatch(r.out, /data\.traj\.jsonl:1 /, 'the clean trajectory is not listed');
    assert.match(r.out, /3 trajectories, 2 flagged/);
    assert.match(r.out, /no-search +1/);
  });

  it('sorts by risk, filters by rule and writes JSON Lines for tools', async () => {
    const sorted = await cli(['triage', 'data.traj.jsonl', '--sort', 'risk'], dir);
    assert.ok(sorted.out.indexOf(':2  task') < sorted.out.indexOf(':3  task'), 'the high-severity flag comes first');
    const only = await cli(['triage', 'data.traj.jsonl', '--rule', 'silent-step'], dir);
    assert.doesNotMatch(only.out, /:2  task/);
    const json = await cli(['triage', 'data.traj.jsonl', '--json'], dir);
    const lines = json.out.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; line?: number; flags?: { rule: string; step?: number }[]; flagged?: number });
    assert.deepEqual(
      lines.filter((l) => l.kind === 'trajectory').map((l) => l.line),
      [2, 3],
    );
    assert.deepEqual(lines[0].flags?.map((f) => [f.rule, f.step]), [['no-search', 0]]);
    assert.equal(lines.at(-1)?.kind, 'summary');
    assert.equal(lines.at(-1)?.flagged, 2);
  });

  it('exits 1 with --fail-on when a flag is that severe, and rejects unknown rules with the list of rules', async () => {
    assert.equal((await cli(['triage', 'data.traj.jsonl', '--fail-on', 'high'], dir)).code, 1);
    const unknown = await cli(['triage', 'data.traj.jsonl', '--rule', 'made-up'], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown rule "made-up".*no-search/);
  });

  it('export --skip-flag leaves the flagged trajectories out, each with its rule and step in the manifest', async () => {
    const r = await cli(['export', 'data.traj.jsonl', '--out', 'train.jsonl', '--skip-flag', 'no-search,silent-step'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /triage: left out 2 flagged trajectories/);
    const manifest = JSON.parse(await readFile(join(dir, 'train.jsonl.manifest.json'), 'utf8')) as { trajectoryIds: string[]; skipped: { id: string; reason: string }[] };
    assert.deepEqual(manifest.trajectoryIds, [clean.id]);
    assert.match(manifest.skipped.find((s) => s.id === fromMemory.id)?.reason ?? '', /^triage flag no-search at step 1: /);
    assert.match(manifest.skipped.find((s) => s.id === silent.id)?.reason ?? '', /^triage flag silent-step at step 1: /);
  });
});
