import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { openTrajectoryFile } from '../../../src/trajectory/trajectoryFile';
import { saveTrajectoryEdits, serializeTrajectory } from '../../../src/trajectory/jsonlWriters';
import { loadPromptProfile, renderSystemPrompt } from '../../../src/agent/promptProfiles';
import { defaultAgentTools } from '../../../src/agent/tools';
import { taskTurn } from '../../../src/agent/agentMessages';
import { DEFAULT_ALLOWED_IMPORTS } from '../../../src/sandbox/prepare';
import { captureCliIo } from '../../support/cliIo';

const fixtures = join(__dirname, '..', '..', 'fixtures', 'trajectory');

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo({ cwd });
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

void test('import → validate → stats → export from the command line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'traj-cli-'));
  try {
    const imported = await cli(['import', join(fixtures, 'reference-records.jsonl'), '--format', 'reference', '--out', 'data.traj.jsonl'], dir);
    assert.equal(imported.code, 1, 'one record could not be imported, so the exit code says so');
    assert.match(imported.err, /reference-records\.jsonl:4: log_data/);
    assert.match(imported.out, /wrote 3 trajectories/);

    const valid = await cli(['validate', 'data.traj.jsonl'], dir);
    assert.equal(valid.code, 0, valid.out);
    assert.match(valid.out, /3 records, 3 valid, 0 with problems/);

    // Accept two of them, then break a line: validate names the line and the field.
    const file = await openTrajectoryFile(join(dir, 'data.traj.jsonl'));
    const [a, b] = [await file.readTrajectory(0), await file.readTrajectory(1)];
    a.review = { status: 'accepted', reasonTags: [] };
    b.review = { status: 'accepted', reasonTags: [] };
    await saveTrajectoryEdits(file, { replace: new Map([[0, a], [1, b]]) });
    await file.close();
    const broken = JSON.parse(serializeTrajectory(a));
    broken.steps[0].observation.error.kind = 'meltdown';
    await writeFile(join(dir, 'broken.traj.jsonl'), `${JSON.stringify(broken)}\n`);
    const invalid = await cli(['validate', 'broken.traj.jsonl'], dir);
    assert.equal(invalid.code, 1);
    assert.match(invalid.out, /broken\.traj\.jsonl:1: \$\.steps\[0\]\.observation\.error\.kind: /);

    const stats = await cli(['stats', 'data.traj.jsonl'], dir);
    assert.equal(stats.code, 0);
    assert.match(stats.out, /accepted\s+2\s+66\.7%/);

    const refused = await cli(['export', 'data.traj.jsonl', 'broken.traj.jsonl', '--out', 'x.jsonl'], dir);
    assert.equal(refused.code, 1, 'invalid input refuses the export');
    assert.match(refused.err, /--skip-invalid/);

    const exported = await cli(['export', 'data.traj.jsonl', '--out', 'train.jsonl', '--format', 'axolotl', '--benchmark', join(fixtures, 'questions.json'), '--refuse-leaks', '--tokens', '--preview', '1'], dir);
    assert.equal(exported.code, 0, exported.err);
    assert.match(exported.err, /leak: trajectory .*exact duplicate of questions\.json question m2/);
    assert.match(exported.out, /exported 1 examples \(axolotl, studio profile\)/);
    assert.match(exported.out, /⟦Thought:/);
    assert.match(exported.out, /tokens: \d+ in 1 examples/);
    const manifest = JSON.parse(await readFile(join(dir, 'train.jsonl.manifest.json'), 'utf8')) as { snapshot: string; compatibility: string; extra: { tokens: { examples: number } }; skipped: { reason: string }[] };
    assert.match(manifest.snapshot, /^sha256:[0-9a-f]{64}$/);
    assert.equal(manifest.compatibility, 'studio', 'without --compat the export is built the studio way, and says so');
    assert.equal(manifest.extra.tokens.examples, 1);
    assert.ok(manifest.skipped.some((s) => /leaks into the benchmark/.test(s.reason)));
    assert.ok(manifest.skipped.some((s) => /review status is unreviewed/.test(s.reason)));

    // Training shows the model what evaluation shows it: the student profile's system prompt and task turn.
    const example = JSON.parse((await readFile(join(dir, 'train.jsonl'), 'utf8')).split('\n')[0]) as { messages: { role: string; content: string }[] };
    const student = await loadPromptProfile('student');
    assert.equal(example.messages[0].content, renderSystemPrompt(student, defaultAgentTools, DEFAULT_ALLOWED_IMPORTS));
    assert.equal(example.messages[1].content, taskTurn(b.task.question, student));

    const questions = await cli(['import', join(fixtures, 'questions.csv'), '--format', 'questions', '--out', 'q.jsonl', '--keep-going'], dir);
    assert.equal(questions.code, 0);
    assert.match(questions.err, /line 5: expected 4 columns/);
    assert.equal((await readFile(join(dir, 'q.jsonl'), 'utf8')).trim().split('\n').length, 3);

    const traj = await cli(['validate', join(fixtures, 'example.traj')], dir);
    assert.equal(traj.code, 0, traj.out);
    await writeFile(join(dir, 'bad.traj'), (await readFile(join(fixtures, 'example.traj'), 'utf8')).replace('## Step 2', '## Step 5'));
    const badTraj = await cli(['validate', 'bad.traj'], dir);
    assert.equal(badTraj.code, 1);
    assert.match(badTraj.out, /bad\.traj:\d+: expected "## Step 2"/);

    const usage = await cli(['export', 'data.traj.jsonl', '--out', 'y.jsonl', '--format', 'csv'], dir);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--format expects one of openai, axolotl, sharegpt/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('export --compat reference writes the fallback example of a run that hit the step limit and records the profile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'traj-cli-compat-'));
  try {
    const records = join(__dirname, '..', 'fidelity', 'fixtures', 'records-fallback.jsonl');
    const imported = await cli(['import', records, '--format', 'reference', '--out', 'data.traj.jsonl', '--compat', 'reference'], dir);
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, /teacher filter \(reference\): 4 of 4 kept \(correct 4\)/);
    const exported = await cli(['export', 'data.traj.jsonl', '--out', 'train.jsonl', '--status', 'unreviewed', '--compat', 'reference', '--preview', '2'], dir);
    assert.equal(exported.code, 0, exported.err);
    assert.match(exported.out, /exported 5 examples \(openai, reference profile, 1 of them fallback examples\)/);
    assert.match(exported.out, /loss mask \(reference\): assistant turns: the newline after <\|im_start\|>assistant, the content, <\|im_end\|> and the newline after it/);
    assert.match(exported.out, /===== ref-[0-9a-f]+ \(fallback example\): \d+ tokens, \d+ with loss =====/);
    // The reference profile trains the newline after the header: the marked span opens before the reply.
    assert.match(exported.out, /<\|im_start\|>assistant⟦\nThought:/);
    const manifest = JSON.parse(await readFile(join(dir, 'train.jsonl.manifest.json'), 'utf8')) as { compatibility: string; examples: number; fallbackExamples: number };
    assert.deepEqual([manifest.compatibility, manifest.examples, manifest.fallbackExamples], ['reference', 5, 1]);

    const studio = await cli(['export', 'data.traj.jsonl', '--out', 'studio.jsonl', '--status', 'unreviewed', '--preview', '1'], dir);
    assert.match(studio.out, /<\|im_start\|>assistant\n⟦Thought:/, 'the studio trains from the reply on');

    // The filter's decisions travel with imported records: the record with no code block in a step is left out.
    const filterRecords = join(__dirname, '..', 'fidelity', 'fixtures', 'records-filter.jsonl');
    const filtered = await cli(['import', filterRecords, '--format', 'reference', '--out', 'f.traj.jsonl', '--compat', 'reference', '--keep-going'], dir);
    assert.match(filtered.err, /records-filter\.jsonl:6: log_data: is null: the reference's agent run for this question failed/);
    assert.match(filtered.out, /teacher filter \(reference\): 3 of 5 kept \(correct 3, parse-error 1, wrong-answer 1\)/);
    const fromFiltered = await cli(['export', 'f.traj.jsonl', '--out', 'f.jsonl', '--status', 'unreviewed', '--compat', 'reference'], dir);
    assert.match(fromFiltered.out, /exported 3 examples/);
    assert.match(fromFiltered.out, /left out 1: the generation filter rejected it \(correct answer, but the reply had no code block in step 1\)/);

    const bad = await cli(['export', 'data.traj.jsonl', '--out', 'x.jsonl', '--compat', 'paper'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--compat must be studio or reference, got "paper"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
