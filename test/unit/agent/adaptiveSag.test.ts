import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type AgentMode, runAgentEpisode } from '../../../src/agent/agentLoop';
import { adaptiveSagDefaults, adaptiveStop, roundSeed, roundSizeOf, type VoteInput, voteOnCandidates } from '../../../src/agent/candidateVote';
import { loadPromptProfile, type PromptProfile } from '../../../src/agent/promptProfiles';
import { canonicalOutput, voteKeysOf } from '../../../src/agent/voteKeys';
import { ModelEndpoint } from '../../../src/llm/modelEndpoint';
import { defaultProfile } from '../../../src/llm/profiles';
import { startEpisode } from '../../../src/sandbox/index';
import { SympyChecker } from '../../../src/scoring/sympyChecker';
import { trajectorySchema } from '../../../src/trajectory/schema';
import { countFakeTokens, type FakeModelServer, firstAnswering, renderAgentTurn, type ReplyScript, startFakeModelServer } from '../../support/fakeModelServer';
import { agreementProfiles, samplingAnswer, samplingQuestion, samplingStudent, stepsOf } from '../../support/samplingStudent';

// ---------------------------------------------------------------------------------------------------------
// The stopping rule, checked against every way the remaining budget could be filled
// ---------------------------------------------------------------------------------------------------------

/** Candidates as letters: a, b, c are valid outputs, x an invalid candidate. */
function candidates(letters: string): VoteInput[] {
  return [...letters].map((l) => ({ valid: l !== 'x', voteKey: l }));
}

function* sequences(length: number): Generator<string> {
  if (length === 0) {
    yield '';
    return;
  }
  for (const rest of sequences(length - 1)) for (const l of 'abcx') yield rest + l;
}

/** True when every completion of `prefix` to `budget` candidates gives the vote the prefix gives. */
function outcomeIsFixed(prefix: string, budget: number): boolean {
  const winner = voteOnCandidates(candidates(prefix)).winner;
  for (const rest of sequences(budget - prefix.length)) {
    if (voteOnCandidates(candidates(prefix + rest)).winner !== winner) return false;
  }
  return true;
}

void describe('adaptive SAG: the stopping rule', () => {
  void it('stops as decided exactly when no way of drawing the rest of the budget changes the winner', () => {
    const budget = 6;
    let decided = 0;
    let open = 0;
    for (let length = 1; length < budget; length++) {
      for (const prefix of sequences(length)) {
        // An agreement above 1 is never reached, so only the decision rule can stop.
        const stop = adaptiveStop(candidates(prefix), budget, 2);
        const fixed = outcomeIsFixed(prefix, budget);
        assert.equal(stop === 'decided', fixed, `${prefix} with ${budget - length} left: ${stop ?? 'goes on'}, but the outcome ${fixed ? 'cannot' : 'can'} still change`);
        if (fixed) decided++;
        else open++;
      }
    }
    assert.ok(decided > 0 && open > 0, 'both kinds of prefix were met');
  });

  void it('stops at the budget, and never for agreement among invalid candidates', () => {
    assert.equal(adaptiveStop(candidates('abcabc'), 6, 1), 'budget');
    assert.equal(adaptiveStop(candidates('xxx'), 8, 0.6), undefined, 'a later valid candidate would win over the all-fail rule');
  });

  void it('stops for agreement when the leading group holds the set share of the candidates drawn', () => {
    assert.equal(adaptiveStop(candidates('aaa'), 8, 1), 'agreement');
    assert.equal(adaptiveStop(candidates('aab'), 8, 1), undefined);
    assert.equal(adaptiveStop(candidates('aax'), 8, 1), undefined, 'an invalid candidate is a disagreement');
    assert.equal(adaptiveStop(candidates('aab'), 8, 0.6), 'agreement');
    assert.equal(adaptiveStop(candidates('abab'), 8, 0.6), undefined);
  });

  void it('draws rounds of the set sizes up to the budget, with reproducible seeds per round', () => {
    const sizes: number[] = [];
    for (let round = 0, drawn = 0; drawn < 8; round++) {
      const size = roundSizeOf(adaptiveSagDefaults, round, drawn, 8);
      sizes.push(size);
      drawn += size;
    }
    assert.deepEqual(sizes, [adaptiveSagDefaults.firstRound, adaptiveSagDefaults.roundSize, 8 - adaptiveSagDefaults.firstRound - adaptiveSagDefaults.roundSize]);
    assert.equal(roundSeed(42, 0), 42, 'the first round sends the run seed, as a fixed run does');
    assert.equal(roundSeed(undefined, 3), undefined);
    const seeds = Array.from({ length: 20 }, (_v, round) => roundSeed(42, round) ?? -1);
    assert.equal(new Set(seeds).size, seeds.length, 'every round draws with its own seed');
    for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 31, `${s} is a non-negative 31-bit seed`);
    assert.deepEqual(Array.from({ length: 20 }, (_v, round) => roundSeed(42, round)), seeds, 'seeds are derived, not drawn');
  });
});

void describe('adaptive SAG: normalised vote keys', () => {
  void it('puts outputs that differ only in form together', () => {
    assert.equal(canonicalOutput('7.0\n'), canonicalOutput('7'));
    assert.equal(canonicalOutput('total: 1e3   \n\n'), canonicalOutput('total: 1000'));
    assert.equal(canonicalOutput('-0.0'), canonicalOutput('0'));
    assert.notEqual(canonicalOutput('x2 = 7'), canonicalOutput('x2 = 7.5'));
    assert.equal(canonicalOutput('v1.2.3'), 'v1.2.3', 'a version string is not a number');
    assert.equal(canonicalOutput('12345678901234567890'), '12345678901234567890', 'digits beyond float precision are kept');
  });

  void it('keeps exact keys by default and groups equal expressions with the symbolic checker', async () => {
    const outputs = ['0.5\n', '1/2', '2*x+1', '1+2*x', 'pi', 'ip', 'x = 5', 'y = 5', '7.00'];
    assert.deepEqual(await voteKeysOf(outputs, 'exact'), outputs);
    const symbolic = new SympyChecker();
    try {
      const keys = await voteKeysOf(outputs, 'normalized', symbolic);
      const sameKey = (a: string, b: string): boolean => keys[outputs.indexOf(a)] === keys[outputs.indexOf(b)];
      assert.ok(sameKey('0.5\n', '1/2'), '0.5 and 1/2 vote together');
      assert.ok(sameKey('2*x+1', '1+2*x'), 'reordered sums vote together');
      assert.ok(!sameKey('pi', 'ip'), 'words are not read as products of variables');
      assert.ok(!sameKey('x = 5', 'y = 5'), 'prose stays apart');
      assert.ok(!sameKey('0.5\n', '7.00'));
      assert.equal(keys[outputs.indexOf('1/2')], canonicalOutput('0.5\n'), 'the class keeps the key of its first output');
    } finally {
      await symbolic.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Whole episodes through the model server and the sandbox
// ---------------------------------------------------------------------------------------------------------

const splitQuestion = 'Which value does the split student settle on?';

/**
 * Round 1 (the run seed) prints A, B, A: no agreement and not decided with 5 candidates left. Round 2 (its
 * own seed) prints A, A, B through codes not seen before, so they run: 4 A against 2 B with 2 left, decided
 * for the first A — a candidate of the first round, whose state the episode must continue from.
 */
function splitStudent(runSeed: number): ReplyScript {
  return (req) => {
    if (!req.task.includes(splitQuestion)) return undefined;
    if (req.step > 0) return renderAgentTurn({ thought: 'Report the value.', code: 'final_answer(x)' });
    const first = req.body.seed === runSeed;
    const a = first ? 'x = 1\nprint("A")' : `x = 1  # again, ${req.choiceIndex}\nprint("A")`;
    const b = first ? 'x = 2\nprint("B")' : 'x = 3\nprint("B")';
    const pattern = first ? ['a', 'b', 'a'] : ['a', 'a', 'b'];
    return renderAgentTurn({ thought: 'Pick a value.', code: pattern[req.choiceIndex] === 'a' ? a : b });
  };
}

void describe('adaptive SAG: episodes', () => {
  let server: FakeModelServer;
  let prompt: PromptProfile;
  const seed = 42;
  before(async () => {
    server = await startFakeModelServer({ script: firstAnswering(samplingStudent(agreementProfiles.always), splitStudent(seed)) });
    prompt = await loadPromptProfile('student');
  });
  after(() => server.close());

  async function episode(question: string, mode: AgentMode) {
    const python = await startEpisode({});
    try {
      const endpoint = new ModelEndpoint({ ...defaultProfile('student'), baseUrls: [server.baseUrl], model: 'student', timeoutMs: 10_000 });
      const start = server.chatRequests().length;
      const trajectory = await runAgentEpisode({ task: { id: 'q', question, domain: 'math' }, endpoint, episode: python, prompt, originKind: 'student', mode, sampling: { seed } });
      return { trajectory, requests: server.chatRequests().slice(start) };
    } finally {
      await python.close();
    }
  }

  void it('stops after the first round when its candidates agree, and records what it drew', async () => {
    const question = 3;
    const mode: AgentMode = { kind: 'sag', candidates: 8, isolation: 'isolated', adaptive: adaptiveSagDefaults };
    const { trajectory, requests } = await episode(samplingQuestion(question), mode);
    trajectorySchema.parse(trajectory);
    assert.equal(trajectory.finalAnswer, String(samplingAnswer(question)));
    assert.deepEqual(trajectory.origin.sag, { candidates: 8, isolation: 'isolated', adaptive: adaptiveSagDefaults });
    assert.equal(trajectory.steps.length, stepsOf(question));
    assert.deepEqual(requests.map((r) => r.n), trajectory.steps.map(() => adaptiveSagDefaults.firstRound), 'one request of the first round per step');
    assert.ok(requests.every((r) => r.seed === seed), 'the first round sends the run seed');
    for (const step of trajectory.steps) {
      assert.equal(step.candidates?.length, adaptiveSagDefaults.firstRound);
      assert.equal(step.sagStop, 'agreement');
      assert.equal(step.sagRounds?.length, 1);
      assert.equal(step.sagRounds?.[0].seed, seed);
      // The server counts the reply without the stop string the loop restores.
      const generated = step.candidates.reduce((n, c) => n + countFakeTokens(c.text.replace(/<end_code>$/, '')), 0);
      assert.equal(step.tokens?.completion, generated, 'completion tokens count every candidate drawn');
      assert.equal(step.sagRounds?.[0].tokens?.completion, generated);
    }
  });

  void it('draws more rounds while the vote is open, votes over every candidate drawn and continues from the winner of an earlier round', async () => {
    const mode: AgentMode = { kind: 'sag', candidates: 8, isolation: 'isolated', adaptive: adaptiveSagDefaults };
    const { trajectory, requests } = await episode(splitQuestion, mode);
    const step = trajectory.steps[0];
    assert.deepEqual(requests.slice(0, 2).map((r) => [r.n, r.seed]), [
      [3, seed],
      [3, roundSeed(seed, 1)],
    ]);
    assert.deepEqual(step.sagRounds?.map((r) => [r.candidates, r.seed]), [
      [3, seed],
      [3, roundSeed(seed, 1)],
    ]);
    assert.equal(step.sagStop, 'decided');
    assert.equal(step.candidates?.length, 6);
    assert.deepEqual(step.voteGroups?.map((g) => g.members), [[0, 2, 3, 4], [1, 5]]);
    assert.equal(step.winner, 0);
    assert.equal(step.observation?.printOutput, 'A\n');
    assert.equal(trajectory.finalAnswer, '1', "the next step runs in the winner's state, not in a later candidate's");
  });

  void it('draws every candidate at once without the adaptive setting', async () => {
    const { trajectory, requests } = await episode(samplingQuestion(1), { kind: 'sag', candidates: 8, isolation: 'isolated' });
    assert.ok(requests.every((r) => r.n === 8 && r.seed === seed));
    assert.ok(trajectory.steps.every((s) => s.candidates?.length === 8 && s.sagRounds === undefined && s.sagStop === undefined));
    assert.equal(trajectory.origin.sag?.adaptive, undefined);
  });
});
