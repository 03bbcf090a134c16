import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildIndex } from '../../../src/retrieval/indexBuilder';
import { defaultProfile } from '../../../src/llm/profiles';
import { parseTrajectory, type Trajectory } from '../../../src/trajectory/schema';
import { teacherRunConfigSchema, type TeacherRunConfigInput, readManifest } from '../../../src/teacher/runConfig';
import { runTeacherGeneration, type TeacherRunEvent } from '../../../src/teacher/teacherRun';
import { prepareTeacherRun } from '../../../src/teacher/teacherRunSetup';
import { filterDecisionOf } from '../../../src/teacher/trajectoryFilter';
import { allFaultKinds, type FakeModelServer, startFakeModelServer } from '../../support/fakeModelServer';
import { startProcessGroup } from '../../support/processGroup';
import { corpusFixture, mixedQuestions, scriptedTeacher, writeMixedQuestions } from './scriptedTeacher';

let dir: string;
let indexDir: string;
let questionsFile: string;
let server: FakeModelServer;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'teacher-e2e-'));
  indexDir = path.join(dir, 'index');
  questionsFile = writeMixedQuestions(dir);
  for await (const _ of buildIndex({ corpus: corpusFixture, indexDir })) {
    // the build reports progress; the test only needs it finished
  }
  server = await startFakeModelServer({ script: scriptedTeacher(), models: ['teacher'] });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(out: string, extra: Partial<TeacherRunConfigInput> = {}) {
  return teacherRunConfigSchema.parse({
    questionFile: questionsFile,
    outputFile: path.join(dir, out),
    teacher: { model: 'teacher', baseUrls: [server.baseUrl], flavor: 'vllm', scripted: 'test-suite scripted teacher' },
    retrieval: { kind: 'lancedb', indexDir, mode: 'fts' },
    concurrency: 6,
    ...extra,
  });
}

async function run(cfg: ReturnType<typeof config>, options: { retryFailed?: boolean } = {}): Promise<TeacherRunEvent[]> {
  const prepared = await prepareTeacherRun(cfg, { teacherProfile: { ...defaultProfile('teacher'), baseUrls: [server.baseUrl], maxAttempts: 8 } });
  const events: TeacherRunEvent[] = [];
  try {
    for await (const e of runTeacherGeneration(cfg, prepared.deps, new AbortController().signal, options)) events.push(e);
  } finally {
    await prepared.close();
  }
  return events;
}

function readOutput(file: string): Trajectory[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => parseTrajectory(l));
}

void test('30 mixed questions with the prefix: prefixed first turns, vLLM continuation flags, verdicts as scripted, a manifest', async () => {
  const cfg = config('mixed.traj.jsonl');
  const firstRequest = server.requests.length;
  const events = await run(cfg);
  const trajectories = readOutput(cfg.outputFile);
  const questions = mixedQuestions();
  assert.equal(trajectories.length, questions.length);
  assert.deepEqual(trajectories.map((t) => t.task.id).sort(), questions.map((q) => q.id).sort(), 'every question exactly once');

  for (const q of questions) {
    const t = trajectories.find((x) => x.task.id === q.id)!;
    const decision = filterDecisionOf(t);
    assert.equal(decision?.verdict, q.expected, `${q.id}: ${decision?.reason}`);
    assert.equal(decision?.accepted, q.expected === 'correct');
    const prefix = t.origin.firstThoughtPrefix ?? '';
    assert.ok(prefix.startsWith('Thought: ') && prefix.endsWith('\n\n'), `${q.id}: prefix recorded`);
    assert.ok(t.origin.cotReply?.startsWith(prefix.slice('Thought: '.length, -2)), `${q.id}: the prefix is the CoT reply's first paragraph`);
    assert.ok(t.steps[0].modelOutput.startsWith(prefix), `${q.id}: the first turn starts with the prefix`);
    assert.equal(t.origin.meta?.scriptedTeacher, 'test-suite scripted teacher');
  }

  // Agent calls with an assistant prefix carry the vLLM continuation flags; no other call does.
  const bodies = server.requests.slice(firstRequest).filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as Record<string, unknown> & { messages: { role: string; content: string }[] });
  const continued = bodies.filter((b) => b.messages.at(-1)?.role === 'assistant');
  assert.equal(continued.length, questions.length, 'one continuation per question: the first call only');
  for (const b of continued) {
    assert.equal(b.continue_final_message, true);
    assert.equal(b.add_generation_prompt, false);
  }
  for (const b of bodies.filter((x) => x.messages.at(-1)?.role !== 'assistant')) assert.equal(b.continue_final_message, undefined);

  // Lookups went through the real index: the observation holds the retrieved passage.
  const capital = trajectories.find((t) => t.task.id === 'f1')!;
  assert.match(capital.steps[0].observation?.printOutput ?? '', /Retrieved documents:[\s\S]*Quellen/);

  const manifest = await readManifest(cfg.outputFile);
  assert.ok(manifest);
  assert.equal(manifest.config.firstThoughtPrefix, true);
  assert.equal(manifest.config.teacher.model, 'teacher');
  assert.equal(manifest.config.seed, 42);
  assert.equal(manifest.questionCount, questions.length);
  assert.match(manifest.environment.retrieval ?? '', /lancedb/);
  assert.equal(manifest.runs.length, 1);
  assert.equal(manifest.runs[0].attempted, questions.length);
  const end = events.at(-1);
  assert.equal(end?.type, 'end');
  if (end?.type === 'end') {
    assert.equal(end.summary.accepted, questions.filter((q) => q.expected === 'correct').length);
    assert.equal(end.snapshot.done, questions.length);
  }
});

function comparable(t: Trajectory) {
  return {
    id: t.task.id,
    verdict: filterDecisionOf(t)?.verdict,
    finalAnswer: t.finalAnswer,
    prefix: t.origin.firstThoughtPrefix,
    steps: t.steps.map((s) => [s.modelOutput, s.observation?.printOutput, s.observation?.error?.type]),
  };
}

void test('with a fifth of the server requests failing, the run completes with the same results', async () => {
  const clean = readOutput(config('mixed.traj.jsonl').outputFile);
  server.setFaults({ rate: 0.2, kinds: allFaultKinds, seed: 11, retryAfterMs: 20 });
  const firstRequest = server.requests.length;
  try {
    const cfg = config('faulty.traj.jsonl');
    await run(cfg);
    const faulty = readOutput(cfg.outputFile);
    const injected = server.requests.slice(firstRequest).filter((r) => r.fault !== undefined).length;
    assert.ok(injected >= 10, `faults were injected (${injected})`);
    const byId = (list: Trajectory[]) => list.map(comparable).sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(byId(faulty), byId(clean));
  } finally {
    server.setFaults(undefined);
  }
});

void test('a run killed with SIGKILL in the middle resumes: every question exactly once, no damaged line', async () => {
  const out = path.join(dir, 'killed.traj.jsonl');
  server.setLatency(40);
  const cli = path.join(__dirname, '../../../src/cli/main.ts');
  const argv = ['--import', 'tsx', cli, 'generate', '--questions', questionsFile, '--out', out, '--teacher-url', server.baseUrl, '--model', 'teacher', '--index', indexDir, '--concurrency', '3'];
  const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0);
  const first = startProcessGroup(process.execPath, argv);
  try {
    await first.waitUntil(() => lines() >= 8, 'eight records written by the first run');
    await first.kill(); // the whole group: the CLI, its sandbox workers and the sympy helper
    const before = lines();
    assert.ok(before < mixedQuestions().length, 'the run was cut short');

    const cfg = config('killed.traj.jsonl', { concurrency: 3 });
    await run(cfg);
    const text = readFileSync(out, 'utf8');
    const records = text.split('\n').filter((l) => l.trim() !== '');
    for (const line of records) assert.doesNotThrow(() => parseTrajectory(line), 'every line is a whole trajectory');
    const ids = records.map((l) => parseTrajectory(l).task.id).sort();
    assert.deepEqual(ids, mixedQuestions().map((q) => q.id).sort(), 'every question exactly once');
    const manifest = await readManifest(out);
    assert.equal(manifest?.runs.length, 2);
    assert.equal(manifest?.runs[0].finishedAt, undefined, 'the killed run never finished');
    assert.equal((manifest?.runs[1].attempted ?? 0) + before, mixedQuestions().length);
  } finally {
    await first.kill();
    server.setLatency(0);
  }
});
