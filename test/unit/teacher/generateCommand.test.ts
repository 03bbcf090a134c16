import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { progressLine, teacherConfigFromArgs } from '../../../src/cli/commands/teacher';
import { arithmeticAgent, arithmeticCot, evaluateIntegerExpression, firstAnswering, type FakeModelServer, startFakeModelServer } from '../../support/fakeModelServer';
import { captureCliIo } from '../../support/cliIo';

let dir: string;
let server: FakeModelServer;
let questions: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'generate-cli-'));
  const cot = arithmeticCot();
  server = await startFakeModelServer({ script: firstAnswering((req) => (req.messages[0]?.role === 'system' ? undefined : cot(req)), arithmeticAgent()), models: ['teacher'] });
  questions = path.join(dir, 'q.jsonl');
  const expressions = ['1 + 2', '3 * 4', '10 - 7', '5 * 5'];
  writeFileSync(questions, expressions.map((e, i) => JSON.stringify({ id: `q${i}`, question: `What is ${e}?`, answer: String(evaluateIntegerExpression(e)), domain: 'math' })).join('\n') + '\n');
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureCliIo({ env: { PATH: process.env.PATH, ...env }, cwd: dir });
  return { code: await runCli(argv, io), out: io.out, err: io.err };
}

void test('generate prints progress per question and a summary by domain, and a re-run skips what is done', async () => {
  const r = await cli(['generate', '--questions', 'q.jsonl', '--out', 'out.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--concurrency', '2']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /4 of 4 question\(s\) to run/);
  assert.equal((r.out.match(/^\[[#-]+\] \d+\/4 /gm) ?? []).length, 4, 'one progress line per question');
  assert.match(r.out, /math with prefix: 4\/4 correct \(100\.0%\), 4 passed the filter/);
  const again = await cli(['generate', '--questions', 'q.jsonl', '--out', 'out.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher']);
  assert.match(again.out, /0 of 4 question\(s\) to run \(4 already in the file\)/);
  assert.equal(readFileSync(path.join(dir, 'out.traj.jsonl'), 'utf8').trim().split('\n').length, 4);
});

void test('the prefix against a server that cannot continue an assistant message is refused before any request', async () => {
  const before = server.requests.length;
  const r = await cli(['generate', '--questions', 'q.jsonl', '--out', 'openai.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--flavor', 'openai']);
  assert.equal(r.code, 1);
  assert.match(r.err, /first-thought prefix needs a server that continues an assistant message/);
  assert.equal(server.requests.length, before, 'nothing was sent');
  assert.equal(existsSync(path.join(dir, 'openai.traj.jsonl')), false, 'no output was started');
  const plain = await cli(['generate', '--questions', 'q.jsonl', '--out', 'openai.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--flavor', 'openai', '--no-prefix', '--limit', '2']);
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /math: 2\/2 correct/);
});

void test('generate summary compares files made with and without the prefix, by domain', async () => {
  const r = await cli(['generate', 'summary', 'out.traj.jsonl', 'openai.traj.jsonl']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /math with prefix: 4\/4 correct \(100\.0%\)/);
  assert.match(r.out, /math without prefix: 2\/2 correct \(100\.0%\)/);
  assert.match(r.out, /6 trajectories, 6 passed the filter/);
});

void test('the progress line shows the bar, counts, ETA and throughput', () => {
  const line = progressLine({ total: 10, done: 5, doneThisRun: 5, correct: 4, accepted: 4, failures: 1, elapsedMs: 10_000, etaMs: 65_000, tokensPerSecond: 42.4, promptTokens: 0, completionTokens: 0 }, 10);
  assert.equal(line, '[#####-----] 5/10  correct 4  failed 1  ETA 1m05s  42 tok/s');
});

function manifestOf(file: string): { config: { scoring: { factual: string; judgeModel?: string }; compatibility: string } } {
  return JSON.parse(readFileSync(path.join(dir, file.replace(/\.jsonl$/, '.manifest.json')), 'utf8')) as { config: { scoring: { factual: string; judgeModel?: string }; compatibility: string } };
}

void test('with a judge endpoint set, factual answers are judged by default; --no-judge opts out; the manifest records which', async () => {
  const judgeEnv = { TRAJECTORY_STUDIO_JUDGE_BASE_URLS: server.baseUrl, TRAJECTORY_STUDIO_JUDGE_MODEL: 'judge-model' };
  const judged = await cli(['generate', '--questions', 'q.jsonl', '--out', 'judged.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--limit', '1'], judgeEnv);
  assert.equal(judged.code, 0, judged.err);
  assert.match(judged.out, /note: factual answers are judged by judge-model/);
  assert.deepEqual(manifestOf('judged.traj.jsonl').config.scoring, { factual: 'judge', judgeModel: 'judge-model' });

  const optedOut = await cli(['generate', '--questions', 'q.jsonl', '--out', 'nojudge.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--limit', '1', '--no-judge'], judgeEnv);
  assert.equal(optedOut.code, 0, optedOut.err);
  assert.match(optedOut.out, /note: factual answers are scored by exact match/);
  assert.equal(manifestOf('nojudge.traj.jsonl').config.scoring.factual, 'exact-match');

  const noEndpoint = await cli(['generate', '--questions', 'q.jsonl', '--out', 'nojudge2.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--limit', '1']);
  assert.equal(noEndpoint.code, 0, noEndpoint.err);
  assert.equal(manifestOf('nojudge2.traj.jsonl').config.scoring.factual, 'exact-match', 'without a judge endpoint, exact match');

  const insisted = await cli(['generate', '--questions', 'q.jsonl', '--out', 'never.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--judge']);
  assert.equal(insisted.code, 2);
  assert.match(insisted.err, /--judge needs the judge endpoint: set TRAJECTORY_STUDIO_JUDGE_BASE_URLS/);
  assert.equal(existsSync(path.join(dir, 'never.traj.jsonl')), false);
});

void test('--compat reference: the records hold both verdicts, the run counts the reference one, the summary shows both', async () => {
  const r = await cli(['generate', '--questions', 'q.jsonl', '--out', 'ref.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--compat', 'reference', '--limit', '2']);
  assert.equal(r.code, 0, r.err);
  assert.equal(manifestOf('ref.traj.jsonl').config.compatibility, 'reference');
  const records = readFileSync(path.join(dir, 'ref.traj.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { judgement: { profile?: string; byProfile?: { studio: { correct: boolean }; reference: { correct: boolean } } } });
  assert.deepEqual(records.map((t) => [t.judgement.profile, t.judgement.byProfile?.studio.correct, t.judgement.byProfile?.reference.correct]), [['reference', true, true], ['reference', true, true]]);
  assert.match(r.out, /Paper's scoring \(reference\) ◀ this run 2\/2 \(100\.0%\) · Corrected \(studio\) 2\/2 \(100\.0%\)/);
  assert.match(r.out, /0 trajectory\(ies\) judged differently by the two profiles/);

  const bad = await cli(['generate', '--questions', 'q.jsonl', '--out', 'x.traj.jsonl', '--teacher-url', server.baseUrl, '--model', 'teacher', '--compat', 'paper']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--compat must be studio or reference, got "paper"/);
});

void test('the filter flags reach the run config: --drop-syntax-errors and --keep-parse-errors', () => {
  const io = captureCliIo({ cwd: dir });
  const base = { questions: 'q.jsonl', out: 'x.traj.jsonl', 'teacher-url': 'http://127.0.0.1:9/v1', model: 'teacher' };
  const byDefault = teacherConfigFromArgs({ values: base, positionals: [] }, io).filter;
  assert.deepEqual([byDefault.dropParseErrors, byDefault.dropSyntaxErrors ?? false], [true, false], 'by default a reply without code is dropped and a recovered SyntaxError kept');
  const strict = teacherConfigFromArgs({ values: { ...base, 'drop-syntax-errors': true, 'keep-parse-errors': true }, positionals: [] }, io).filter;
  assert.deepEqual([strict.dropParseErrors, strict.dropSyntaxErrors], [false, true]);
});
