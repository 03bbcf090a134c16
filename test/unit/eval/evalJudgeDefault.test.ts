import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { type CliIo, CliUsageError, type ParsedCliArgs } from '../../../src/cli/command';
import { evalConfigFromArgs } from '../../../src/cli/commands/eval';

// `eval` judges factual answers with the judge model whenever its endpoint is set, and records the choice
// in the run's config (the manifest keeps the config).

const benchmarks = path.resolve(import.meta.dirname, '../../../examples/benchmarks/factual-mini.json');

function io(env: Record<string, string>): CliIo {
  return { stdout: () => undefined, stderr: () => undefined, isTty: false, env, cwd: '/tmp', signal: new AbortController().signal };
}

function args(values: ParsedCliArgs['values']): ParsedCliArgs {
  return { values: { benchmarks, model: 'student', 'student-url': 'http://127.0.0.1:9/v1', ...values }, positionals: [] };
}

const judgeEnv = { TRAJECTORY_STUDIO_JUDGE_BASE_URLS: 'http://127.0.0.1:9/v1', TRAJECTORY_STUDIO_JUDGE_MODEL: 'gpt-4o-mini' };

void test('with a judge endpoint set, eval judges factual answers by default and names the judge model', async () => {
  const config = await evalConfigFromArgs(args({}), io(judgeEnv));
  assert.deepEqual(config.scoring, { factual: 'judge', judgeModel: 'gpt-4o-mini' });
});

void test('--no-judge scores by exact match even with a judge endpoint; without one, exact match is the default', async () => {
  assert.equal((await evalConfigFromArgs(args({ 'no-judge': true }), io(judgeEnv))).scoring.factual, 'exact-match');
  assert.equal((await evalConfigFromArgs(args({}), io({}))).scoring.factual, 'exact-match');
});

void test('--judge without a judge endpoint, or with --no-judge, is a usage error that says what to set', async () => {
  await assert.rejects(evalConfigFromArgs(args({ judge: true }), io({})), (err: unknown) => err instanceof CliUsageError && /set TRAJECTORY_STUDIO_JUDGE_BASE_URLS/.test(err.message));
  await assert.rejects(evalConfigFromArgs(args({ judge: true, 'no-judge': true }), io(judgeEnv)), /pass either --judge or --no-judge/);
});

void test('--compat is recorded; the default is the studio profile', async () => {
  assert.equal((await evalConfigFromArgs(args({ compat: 'reference' }), io({}))).compatibility, 'reference');
  assert.equal((await evalConfigFromArgs(args({}), io({}))).compatibility, 'studio');
});

void test('--judge-prompt is recorded resolved against the working folder; it needs the judge', async () => {
  const config = await evalConfigFromArgs(args({ 'judge-prompt': 'prompts/mine.judge.txt' }), io(judgeEnv));
  assert.equal(config.scoring.judgePrompt, '/tmp/prompts/mine.judge.txt');
  await assert.rejects(evalConfigFromArgs(args({ 'judge-prompt': 'mine.judge.txt', 'no-judge': true }), io(judgeEnv)), /cannot go with --no-judge/);
  await assert.rejects(evalConfigFromArgs(args({ 'judge-prompt': 'mine.judge.txt' }), io({})), /--judge-prompt needs the judge endpoint/);
});
