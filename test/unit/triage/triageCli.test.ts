import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/main';
import { type Trajectory } from '../../../src/trajectory/schema';
import { computedMath, groundedFactual, trajectory } from '../../support/triageTrajectories';
import { startFakeModelServer } from '../../support/fakeModelServer';
import { captureCliIo } from '../../support/cliIo';

async function cli(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo({ env, cwd });
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
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

  it('--rubric judges each trajectory once, saves the findings in the file and flags failed criteria at their step', async () => {
    const rubric = { name: 'review', criteria: [{ id: 'thought-matches-code', description: 'Each thought announces what its code does.', severity: 'high' }] };
    await writeFile(join(dir, 'review.rubric.json'), JSON.stringify(rubric));
    await writeFile(join(dir, 'judged.traj.jsonl'), `${[clean, silent].map((t) => JSON.stringify(t)).join('\n')}\n`);
    const server = await startFakeModelServer({
      script: (request) => {
        const text = JSON.stringify(request.messages);
        // The judge sees steps numbered from 1; it blames step 2 of the trajectory with the import.
        const fails = text.includes('import math');
        return JSON.stringify({ findings: [{ criterion: 'thought-matches-code', verdict: fails ? 'fail' : 'pass', step: fails ? 2 : null, reason: fails ? 'The thought says it multiplies; the code only imports.' : 'Matches.' }] });
      },
    });
    try {
      const env = { TRAJECTORY_STUDIO_JUDGE_BASE_URLS: server.baseUrl, TRAJECTORY_STUDIO_JUDGE_MODEL: 'judge' };
      const first = await cli(['triage', 'judged.traj.jsonl', '--rubric', 'review.rubric.json'], dir, env);
      assert.equal(first.code, 0, first.err);
      assert.match(first.err, /rubric "review": 2 judged, 0 unchanged since the last judging, 0 judge errors, 2 records updated/);
      assert.match(first.out, /step 2 +high +rubric:thought-matches-code +The thought says it multiplies/);
      const requests = server.chatRequests().length;
      const second = await cli(['triage', 'judged.traj.jsonl', '--rubric', 'review.rubric.json'], dir, env);
      assert.match(second.err, /0 judged, 2 unchanged since the last judging/);
      assert.equal(server.chatRequests().length, requests, 'nothing is sent again for unchanged trajectories');
      // Without --rubric the stored findings still flag the step.
      assert.match((await cli(['triage', 'judged.traj.jsonl'], dir)).out, /rubric:thought-matches-code/);
    } finally {
      await server.close();
    }
  });

  it('--rubric without a judge endpoint, or with a broken rubric file, says what is missing and where', async () => {
    await writeFile(join(dir, 'broken.rubric.json'), JSON.stringify({ name: 'x', criteria: [{ id: 'ok', description: 'fine' }, { description: 'no id' }] }));
    const broken = await cli(['triage', 'data.traj.jsonl', '--rubric', 'broken.rubric.json'], dir);
    assert.equal(broken.code, 2);
    assert.match(broken.err, /broken\.rubric\.json(:\d+)?: \$\.criteria\[1\]\.id/);
    await writeFile(join(dir, 'fine.rubric.json'), JSON.stringify({ name: 'x', criteria: [{ id: 'ok', description: 'fine' }] }));
    const noJudge = await cli(['triage', 'data.traj.jsonl', '--rubric', 'fine.rubric.json'], dir);
    assert.equal(noJudge.code, 2);
    assert.match(noJudge.err, /--rubric needs the judge endpoint: set TRAJECTORY_STUDIO_JUDGE_BASE_URLS/);
  });
});
