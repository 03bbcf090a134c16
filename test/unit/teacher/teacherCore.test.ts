import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { defaultProfile } from '../../../src/llm/profiles';
import { type ChatRequest, type ChatResult } from '../../../src/llm/types';
import { greedySampling } from '../../../src/llm/profiles';
import { newTrajectory, parseTrajectory, type Task, type Trajectory } from '../../../src/trajectory/schema';
import {
  assertCanContinueAssistantMessage,
  firstParagraph,
  prefixFromParagraph,
  requestFirstThought,
  TeacherConfigError,
} from '../../../src/teacher/firstThoughtPrefix';
import { QuestionSetError, readQuestionSet, sampleTasks } from '../../../src/trajectory/questionSet';
import { manifestPathFor, readManifest, teacherRunConfigSchema } from '../../../src/teacher/runConfig';
import { runTeacherGeneration, type TeacherEpisodeRunner, type TeacherRunEvent } from '../../../src/teacher/teacherRun';
import { decideTeacherFilter, defaultFilterSettings, filterDecisionOf } from '../../../src/teacher/trajectoryFilter';

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'teacher-core-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A chat model that answers chain-of-thought requests with two paragraphs. */
function cotModel(reply = 'First I look at the numbers.\n\nThen I add them.\n\n\\boxed{5}') {
  const requests: ChatRequest[] = [];
  return {
    requests,
    complete(request: ChatRequest): Promise<ChatResult> {
      requests.push(request);
      return Promise.resolve({ choices: [{ text: reply, finishReason: 'stop' }], usage: { promptTokens: 7, completionTokens: 11 }, model: 'm', sampling: greedySampling, latencyMs: 1, attempts: 1, fromCache: false });
    },
  };
}

/** An agent that answers with the gold answer, except for the tasks listed in `wrong` / `failing`. */
function fakeAgent(options: { wrong?: Set<string>; failing?: Set<string>; delayMs?: number; seen?: string[] } = {}): TeacherEpisodeRunner {
  return async ({ task, firstThought, signal }) => {
    options.seen?.push(task.id);
    const firstThoughtPrefix = (await firstThought)?.prefix;
    if (options.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, options.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        }, { once: true });
      });
    }
    if (options.failing?.has(task.id)) throw new Error('teacher: 6 attempts failed; last: 503 Service Unavailable');
    const answer = options.wrong?.has(task.id) ? 'no idea' : task.goldAnswer ?? '';
    const t = newTrajectory({ task, origin: { kind: 'teacher', model: 'm', ...(firstThoughtPrefix ? { firstThoughtPrefix } : {}) } });
    t.steps = [{ thought: `${firstThoughtPrefix ?? ''}I answer.`, code: `final_answer(${JSON.stringify(answer)})`, modelOutput: `${firstThoughtPrefix ?? 'Thought: '}I answer.`, tokens: { prompt: 100, completion: 20 } }];
    t.finalAnswer = answer;
    return t;
  };
}

function writeQuestions(dir: string, count: number): string {
  const file = path.join(dir, 'q.jsonl');
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ id: `q${i + 1}`, question: `What is ${i} + 1?`, answer: String(i + 1), domain: 'math' }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function config(dir: string, questionFile: string, extra: Record<string, unknown> = {}) {
  return teacherRunConfigSchema.parse({ questionFile, outputFile: path.join(dir, 'out.traj.jsonl'), teacher: { model: 'm' }, concurrency: 3, ...extra });
}

async function collect(events: AsyncIterable<TeacherRunEvent>): Promise<TeacherRunEvent[]> {
  const out: TeacherRunEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

function records(file: string): Trajectory[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => parseTrajectory(l));
}

void describe('question sets', () => {
  void test('JSON with examples and JSONL are read, numbers and alias lists become text', async () => {
    using tmp = tempDir();
    const json = path.join(tmp.dir, 'set.json');
    writeFileSync(json, JSON.stringify({ examples: [{ id: 1, question: 'q?', answer: 4, domain: 'math' }, { id: 'b', question: 'who?', answer: ['Al', 'Alan'], domain: 'factual' }] }));
    const set = await readQuestionSet(json);
    assert.deepEqual(set.tasks.map((t) => [t.id, t.goldAnswer, t.domain]), [['1', '4', 'math'], ['b', '["Al","Alan"]', 'factual']]);
    assert.match(set.sha256, /^[0-9a-f]{64}$/);
  });

  void test('a bad record names the file, the line and the field', async () => {
    using tmp = tempDir();
    const file = path.join(tmp.dir, 'bad.jsonl');
    writeFileSync(file, '{"id":"a","question":"q","answer":"1","domain":"math"}\n{"id":"b","question":"q","answer":"1"}\n');
    await assert.rejects(readQuestionSet(file), (err: Error) => err instanceof QuestionSetError && /bad\.jsonl:2: field "domain"/.test(err.message));
    assert.equal((await readQuestionSet(file, { defaultDomain: 'math' })).tasks.length, 2);
    writeFileSync(file, '{"id":"a","question":"q","domain":"math"}\n{"id":"a","question":"r","domain":"math"}\n');
    await assert.rejects(readQuestionSet(file), /id "a" is used by questions 1 and 2/);
  });

  void test('a sample is deterministic for a seed, a subset, and in file order', () => {
    const tasks: Task[] = Array.from({ length: 50 }, (_, i) => ({ id: `t${i}`, question: 'q', domain: 'math' }));
    const a = sampleTasks(tasks, 10, 42);
    assert.deepEqual(a, sampleTasks(tasks, 10, 42));
    assert.notDeepEqual(a.map((t) => t.id), sampleTasks(tasks, 10, 7).map((t) => t.id));
    assert.equal(new Set(a.map((t) => t.id)).size, 10);
    const order = a.map((t) => tasks.indexOf(t));
    assert.deepEqual(order, [...order].sort((x, y) => x - y));
  });
});

void describe('first-thought prefix', () => {
  void test('the prefix is "Thought: " + the first paragraph + a blank line', () => {
    const reply = 'We need the sum.\nIt is small.\n\nSo 2 + 3 = 5.\n\n\\boxed{5}';
    assert.equal(firstParagraph(reply), 'We need the sum.\nIt is small.');
    assert.equal(prefixFromParagraph(firstParagraph(reply)), 'Thought: We need the sum.\nIt is small.\n\n');
    assert.equal(firstParagraph('\n\nLeading blank lines.\n\nMore.'), 'Leading blank lines.');
  });

  void test('the CoT request carries the question, the temperature and the seed', async () => {
    const model = cotModel();
    const thought = await requestFirstThought(model, 'What is 2 + 3?', 'math', { temperature: 0.5, seed: 42 });
    assert.equal(thought.prefix, 'Thought: First I look at the numbers.\n\n');
    assert.ok(model.requests[0].messages.at(-1)?.content.includes('What is 2 + 3?'));
    assert.deepEqual([model.requests[0].sampling?.temperature, model.requests[0].sampling?.seed], [0.5, 42]);
  });

  void test('a server that cannot continue an assistant message is refused before the run', () => {
    const vllm = { ...defaultProfile('teacher') };
    assert.doesNotThrow(() => assertCanContinueAssistantMessage(vllm));
    assert.throws(() => assertCanContinueAssistantMessage({ ...vllm, flavor: 'openai' }), TeacherConfigError);
    assert.throws(() => assertCanContinueAssistantMessage({ ...vllm, baseUrls: ['https://api.openai.com/v1'] }), /OpenAI's API/);
  });
});

void describe('filter decisions (METHOD §6)', () => {
  const task: Task = { id: 'x', question: 'q', domain: 'math', goldAnswer: '1' };
  const base = () => {
    const t = newTrajectory({ task, origin: { kind: 'teacher' } });
    t.finalAnswer = '1';
    t.judgement = { correct: true, method: 'math-equivalence' };
    t.steps = [{ thought: 'a', code: 'x', modelOutput: 'a', observation: { printOutput: '', lastValue: 'None', webSearchCalls: [] } }];
    return t;
  };
  void test('correct answers are kept, also after an execution error or a syntax error; a reply without code is dropped', () => {
    assert.deepEqual(decideTeacherFilter(base(), defaultFilterSettings).verdict, 'correct');
    const exec = base();
    exec.steps[0].observation!.error = { kind: 'execution', type: 'NameError', message: 'x' };
    const execDecision = decideTeacherFilter(exec, defaultFilterSettings);
    assert.equal(execDecision.accepted, true);
    assert.match(execDecision.reason, /recovered from an error in step 1/);
    assert.equal(decideTeacherFilter(exec, { ...defaultFilterSettings, dropExecutionErrors: true }).verdict, 'execution-error');
    const syntax = base();
    syntax.steps[0].observation!.error = { kind: 'parse', type: 'SyntaxError', message: 'x' };
    assert.equal(decideTeacherFilter(syntax, defaultFilterSettings).accepted, true, 'a SyntaxError the model recovered from teaches recovery');
    const parse = base();
    parse.steps[0].observation!.error = { kind: 'parse', type: 'CodeBlockMissing', message: 'x' };
    assert.deepEqual([decideTeacherFilter(parse, defaultFilterSettings).verdict, decideTeacherFilter(parse, defaultFilterSettings).accepted], ['parse-error', false]);
    assert.equal(decideTeacherFilter(parse, { ...defaultFilterSettings, dropParseErrors: false }).accepted, true);
  });
  void test('wrong answers, missing answers and run errors are dropped with their reason', () => {
    const wrong = base();
    wrong.judgement = { correct: false, method: 'math-equivalence', detail: 'numeric: 2 ≠ 1' };
    assert.deepEqual(decideTeacherFilter(wrong, defaultFilterSettings), { verdict: 'wrong-answer', accepted: false, reason: 'numeric: 2 ≠ 1' });
    const none = base();
    delete none.finalAnswer;
    assert.equal(decideTeacherFilter(none, defaultFilterSettings).verdict, 'no-answer');
    assert.deepEqual(decideTeacherFilter(base(), defaultFilterSettings, '503 from the server'), { verdict: 'run-error', accepted: false, reason: '503 from the server' });
  });
});

void describe('teacher runs', () => {
  void test('each question is written once with its verdict; a second run has nothing to do', async () => {
    using tmp = tempDir();
    const cfg = config(tmp.dir, writeQuestions(tmp.dir, 9));
    const deps = { runEpisode: fakeAgent({ wrong: new Set(['q2']) }), cot: cotModel(), scorer: {} };
    const events = await collect(runTeacherGeneration(cfg, deps, new AbortController().signal));
    const out = records(cfg.outputFile);
    assert.equal(out.length, 9);
    assert.equal(filterDecisionOf(out.find((t) => t.task.id === 'q2')!)?.verdict, 'wrong-answer');
    assert.equal(out.filter((t) => filterDecisionOf(t)?.accepted).length, 8);
    for (const t of out) {
      assert.equal(t.origin.firstThoughtPrefix, 'Thought: First I look at the numbers.\n\n');
      assert.ok(t.origin.cotReply);
    }
    const questionEvents = events.filter((e) => e.type === 'question');
    assert.equal(questionEvents.length, 9);
    const last = events.at(-1)!;
    assert.equal(last.type, 'end');
    if (last.type === 'end') {
      assert.deepEqual([last.snapshot.done, last.snapshot.correct, last.snapshot.accepted, last.cancelled], [9, 8, 8, false]);
      assert.equal(last.snapshot.completionTokens, 9 * (11 + 20), 'CoT and step tokens are counted');
      assert.deepEqual(last.summary.byDomain.map((d) => [d.domain, d.withPrefix, d.correct, d.total]), [['math', true, 8, 9]]);
    }
    const seen: string[] = [];
    const again = await collect(runTeacherGeneration(cfg, { ...deps, runEpisode: fakeAgent({ seen }) }, new AbortController().signal));
    assert.deepEqual(seen, []);
    assert.equal(records(cfg.outputFile).length, 9);
    assert.match(again[0].type === 'start' ? again[0].message : '', /0 of 9/);
    assert.equal((await readManifest(cfg.outputFile))?.runs.length, 2);
  });

  void test('a cancelled run writes only finished questions, and the next run does the rest', async () => {
    using tmp = tempDir();
    const cfg = config(tmp.dir, writeQuestions(tmp.dir, 12), { concurrency: 2 });
    const controller = new AbortController();
    const events: TeacherRunEvent[] = [];
    for await (const e of runTeacherGeneration(cfg, { runEpisode: fakeAgent({ delayMs: 30 }), cot: cotModel(), scorer: {} }, controller.signal)) {
      events.push(e);
      if (e.type === 'question' && e.snapshot.done === 3) controller.abort();
    }
    const end = events.at(-1)!;
    assert.ok(end.type === 'end' && end.cancelled);
    const written = records(cfg.outputFile).length;
    assert.ok(written >= 3 && written < 12, `${written} written`);
    assert.equal((await readManifest(cfg.outputFile))?.runs[0].cancelled, true);
    const seen: string[] = [];
    await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent({ seen }), cot: cotModel(), scorer: {} }, new AbortController().signal));
    assert.equal(seen.length, 12 - written);
    assert.deepEqual(records(cfg.outputFile).map((t) => t.task.id).sort(), Array.from({ length: 12 }, (_, i) => `q${i + 1}`).sort());
  });

  void test('failed questions are recorded with the server message, and Retry Failed runs them again without duplicates', async () => {
    using tmp = tempDir();
    const cfg = config(tmp.dir, writeQuestions(tmp.dir, 6), { firstThoughtPrefix: false });
    const events = await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent({ failing: new Set(['q3', 'q5']) }), scorer: {} }, new AbortController().signal));
    const failed = records(cfg.outputFile).filter((t) => filterDecisionOf(t)?.verdict === 'run-error');
    assert.deepEqual(failed.map((t) => t.task.id).sort(), ['q3', 'q5']);
    assert.match(JSON.stringify(failed[0].meta?.runError), /503 Service Unavailable/);
    const end = events.at(-1)!;
    assert.ok(end.type === 'end' && end.snapshot.failures === 2);

    const seen: string[] = [];
    await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent({ seen }), scorer: {} }, new AbortController().signal, { retryFailed: true }));
    assert.deepEqual(seen.sort(), ['q3', 'q5']);
    const after = records(cfg.outputFile);
    assert.equal(after.length, 6);
    assert.ok(after.every((t) => filterDecisionOf(t)?.verdict === 'correct'));
    const aside = readdirSync(tmp.dir).filter((f) => f.includes('.retried-'));
    assert.equal(aside.length, 1, 'the failed records are kept in a side file');
    assert.equal(readFileSync(path.join(tmp.dir, aside[0]), 'utf8').trim().split('\n').length, 2);
  });

  void test('appending with different settings is refused, naming what differs', async () => {
    using tmp = tempDir();
    const questions = writeQuestions(tmp.dir, 2);
    const cfg = config(tmp.dir, questions);
    await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent(), cot: cotModel(), scorer: {} }, new AbortController().signal));
    const changed = config(tmp.dir, questions, { firstThoughtPrefix: false, maxSteps: 3 });
    await assert.rejects(collect(runTeacherGeneration(changed, { runEpisode: fakeAgent(), scorer: {} }, new AbortController().signal)), /firstThoughtPrefix[\s\S]*maxSteps/);
    assert.ok(manifestPathFor(cfg.outputFile).endsWith('out.traj.manifest.json'));
  });

  void test('a torn last line from a crash is set aside and its question run again', async () => {
    using tmp = tempDir();
    const cfg = config(tmp.dir, writeQuestions(tmp.dir, 3), { firstThoughtPrefix: false });
    await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent(), scorer: {} }, new AbortController().signal, {}));
    const lines = readFileSync(cfg.outputFile, 'utf8').trim().split('\n');
    writeFileSync(cfg.outputFile, `${lines.slice(0, 2).join('\n')}\n`);
    appendFileSync(cfg.outputFile, lines[2].slice(0, 40));
    const events = await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent(), scorer: {} }, new AbortController().signal, {}));
    const start = events[0];
    assert.ok(start.type === 'start' && start.notes.some((n) => /incomplete last line/.test(n)));
    assert.equal(records(cfg.outputFile).length, 3);
  });
});

void describe('factual scoring in a run', () => {
  void test('with a judge model the verdict and its explanation are stored; without one, exact match decides', async () => {
    using tmp = tempDir();
    const file = path.join(tmp.dir, 'facts.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: 'f1', question: 'Who wrote it?', answer: 'Ada Lovelace', domain: 'factual' })}\n`);
    const judgeRequests: ChatRequest[] = [];
    const judge = {
      complete(request: ChatRequest): Promise<ChatResult> {
        judgeRequests.push(request);
        return Promise.resolve({ choices: [{ text: '{"correct": true, "score": 1, "explanation": "Same person, full name."}', finishReason: 'stop' }], usage: { promptTokens: 1, completionTokens: 1 }, model: 'judge', sampling: greedySampling, latencyMs: 1, attempts: 1, fromCache: false });
      },
    };
    const judged = config(tmp.dir, file, { firstThoughtPrefix: false, scoring: { factual: 'judge' } });
    await collect(runTeacherGeneration(judged, { runEpisode: fakeAgent(), scorer: { judge } }, new AbortController().signal));
    const [t] = records(judged.outputFile);
    assert.deepEqual([t.judgement?.correct, t.judgement?.method], [true, 'llm-judge']);
    assert.match(t.judgement?.detail ?? '', /Same person, full name\./);
    // Both profiles' verdicts are stored: the judge is asked once with each profile's prompt (a reply both
    // formats can read, so neither is retried).
    assert.equal(judgeRequests.length, 2);
    assert.ok(judgeRequests.every((r) => r.messages.some((m) => m.content.includes('Who wrote it?'))));
    assert.deepEqual([t.judgement?.profile, t.judgement?.byProfile?.studio.correct, t.judgement?.byProfile?.studio.method, t.judgement?.byProfile?.reference.method], ['studio', true, 'llm-judge', 'llm-judge']);

    const offline = config(tmp.dir, file, { firstThoughtPrefix: false, outputFile: path.join(tmp.dir, 'offline.traj.jsonl') });
    await collect(runTeacherGeneration(offline, { runEpisode: fakeAgent(), scorer: {} }, new AbortController().signal));
    const [u] = records(offline.outputFile);
    assert.deepEqual([u.judgement?.correct, u.judgement?.method, u.judgement?.score], [true, 'exact-match', 1]);
  });
});

void test('a question without a gold answer is written as unscored, for review', async () => {
  using tmp = tempDir();
  const file = path.join(tmp.dir, 'open.jsonl');
  writeFileSync(file, `${JSON.stringify({ id: 'o1', question: 'What is a good name for a cat?', domain: 'factual' })}\n`);
  const cfg = config(tmp.dir, file, { firstThoughtPrefix: false });
  // The agent answers something ("no idea"); with no gold answer there is nothing to score it against.
  await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent({ wrong: new Set(['o1']) }), scorer: {} }, new AbortController().signal));
  const [t] = records(cfg.outputFile);
  assert.equal(t.finalAnswer, 'no idea');
  assert.equal(t.judgement, undefined);
  assert.deepEqual([filterDecisionOf(t)?.verdict, filterDecisionOf(t)?.accepted], ['unscored', false]);
});

void test('Retry Failed after a crash: the torn last line is set aside first, never rewritten into the file', async () => {
  using tmp = tempDir();
  const cfg = config(tmp.dir, writeQuestions(tmp.dir, 4), { firstThoughtPrefix: false });
  await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent({ failing: new Set(['q1']) }), scorer: {} }, new AbortController().signal));
  const lines = readFileSync(cfg.outputFile, 'utf8').trim().split('\n');
  writeFileSync(cfg.outputFile, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 30)}`);
  await collect(runTeacherGeneration(cfg, { runEpisode: fakeAgent(), scorer: {} }, new AbortController().signal, { retryFailed: true }));
  const text = readFileSync(cfg.outputFile, 'utf8');
  const out = text.trim().split('\n');
  for (const line of out) assert.doesNotThrow(() => parseTrajectory(line));
  assert.deepEqual(out.map((l) => parseTrajectory(l).task.id).sort(), ['q1', 'q2', 'q3', 'q4']);
});
