import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ModelEndpoint } from '../../../src/llm/modelEndpoint';
import { defaultProfile, type EndpointProfile, EndpointProfileError, environmentApiKeys, profileFromEnvironment } from '../../../src/llm/profiles';
import { DiskResponseCache } from '../../../src/llm/responseCache';
import { EndpointError } from '../../../src/llm/endpointErrors';
import { formatConnectionReport, testConnection } from '../../../src/llm/testConnection';
import { backoffDelayMs, defaultBackoff, retryAfterMs } from '../../../src/llm/retryPolicy';
import { type ChatMessage } from '../../../src/llm/types';
import {
  allFaultKinds,
  arithmeticCot,
  countFakeTokens,
  type FakeModelServer,
  startFakeModelServer,
} from '../../support/fakeModelServer';

const fastBackoff = { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1000 };

function profileFor(server: FakeModelServer, overrides: Partial<EndpointProfile> = {}): EndpointProfile {
  return { ...defaultProfile('teacher'), baseUrls: [server.baseUrl], model: 'teacher', timeoutMs: 5000, ...overrides };
}

const question = 'What is 6 * (7 + 1)?';
const messages: ChatMessage[] = [{ role: 'user', content: question }];

/** A port nothing listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

void describe('ModelEndpoint', () => {
  let server: FakeModelServer;
  before(async () => {
    server = await startFakeModelServer({ script: arithmeticCot() });
  });
  after(() => server.close());

  void it('sends every sampling parameter explicitly, with the vLLM extras, stops and n', async () => {
    const endpoint = new ModelEndpoint(profileFor(server), { backoff: fastBackoff });
    const before = server.requests.length;
    const result = await endpoint.complete({ messages, n: 2, stop: ['<end_code>', 'Observation:'], sampling: { temperature: 0.4, topP: 0.8 } });
    const body = server.requests[before].body as Record<string, unknown>;
    const profile = endpoint.profile.sampling;
    assert.equal(body.temperature, 0.4);
    assert.equal(body.top_p, 0.8);
    assert.equal(body.top_k, profile.topK);
    assert.equal(body.repetition_penalty, profile.repetitionPenalty);
    assert.equal(body.max_tokens, profile.maxTokens);
    assert.equal(body.seed, profile.seed);
    assert.equal(body.n, 2);
    assert.deepEqual(body.stop, ['<end_code>', 'Observation:']);
    assert.equal(body.continue_final_message, undefined);
    assert.equal(result.choices.length, 2);
    assert.deepEqual(result.sampling, { ...profile, temperature: 0.4, topP: 0.8 });
  });

  void it('continues a final assistant message with continue_final_message and no generation prompt', async () => {
    const endpoint = new ModelEndpoint(profileFor(server));
    const before = server.requests.length;
    await endpoint.complete({ messages: [...messages, { role: 'assistant', content: 'To find' }], continueFinalMessage: true });
    const body = server.requests[before].body as Record<string, unknown>;
    assert.equal(body.continue_final_message, true);
    assert.equal(body.add_generation_prompt, false);
  });

  void it('sends only standard fields to an OpenAI-flavoured server and refuses what needs vLLM', async () => {
    const endpoint = new ModelEndpoint(profileFor(server, { flavor: 'openai' }));
    const before = server.requests.length;
    await endpoint.complete({ messages });
    const body = server.requests[before].body as Record<string, unknown>;
    assert.equal('top_k' in body, false);
    assert.equal('repetition_penalty' in body, false);
    assert.equal(typeof body.temperature, 'number');
    await assert.rejects(endpoint.complete({ messages: [...messages, { role: 'assistant', content: 'x' }], continueFinalMessage: true }), EndpointProfileError);
  });

  void it('streams text whose concatenation is the returned text, and counts the tokens the server reports', async () => {
    const endpoint = new ModelEndpoint(profileFor(server));
    const streamed = ['', ''];
    const result = await endpoint.complete({ messages, n: 2, onText: (e) => (streamed[e.choiceIndex] += e.delta) });
    assert.deepEqual(streamed, result.choices.map((c) => c.text));
    const expectedCompletion = result.choices.reduce((s, c) => s + countFakeTokens(c.text), 0);
    assert.equal(result.usage.completionTokens, expectedCompletion);
    assert.equal(result.usage.promptTokens, countFakeTokens(question));
    assert.deepEqual(endpoint.usage, { requests: 1, attempts: 1, retries: 0, cacheHits: 0, promptTokens: result.usage.promptTokens, completionTokens: expectedCompletion });
  });

  for (const kind of allFaultKinds) {
    void it(`recovers from "${kind}" with the same reply, streamed or not`, async () => {
      // The per-attempt deadline sits well above a normal reply's time even on a busy machine, and well below the slow first byte.
      const faulty = await startFakeModelServer({ script: arithmeticCot(), faultSchedule: (i) => (i === 0 || i === 2 ? kind : undefined), faults: { rate: 0, kinds: [], slowFirstByteMs: 4000 } });
      try {
        const endpoint = new ModelEndpoint(profileFor(faulty, { timeoutMs: 1500 }), { backoff: fastBackoff });
        const clean = await new ModelEndpoint(profileFor(server)).complete({ messages });
        const plain = await endpoint.complete({ messages });
        let restarted = false;
        let streamedText = '';
        const streamed = await endpoint.complete({
          messages,
          onText: (e) => {
            if (e.restarted) {
              restarted = true;
              streamedText = '';
            }
            streamedText += e.delta;
          },
        });
        assert.equal(plain.choices[0].text, clean.choices[0].text);
        assert.equal(streamed.choices[0].text, clean.choices[0].text);
        assert.equal(streamedText, clean.choices[0].text);
        assert.equal(plain.attempts, 2);
        assert.equal(streamed.attempts, 2);
        if (kind === 'truncated-stream') assert.ok(restarted, 'a cut-off stream restarts the text');
        assert.equal(faulty.requests.filter((r) => r.delivered).length, 2, 'exactly one delivered reply per call');
      } finally {
        await faulty.close();
      }
    });
  }

  void it('waits as long as Retry-After says before retrying', async () => {
    const limited = await startFakeModelServer({ script: arithmeticCot(), faultSchedule: (i) => (i === 0 ? 'rate-limit' : undefined), faults: { rate: 0, kinds: [], retryAfterMs: 300 } });
    try {
      const endpoint = new ModelEndpoint(profileFor(limited), { backoff: fastBackoff });
      const started = performance.now();
      await endpoint.complete({ messages });
      assert.ok(performance.now() - started >= 300);
      assert.equal(endpoint.usage.retries, 1);
    } finally {
      await limited.close();
    }
  });

  void it('gives up after maxAttempts with a message naming the profile and the last failure', async () => {
    const broken = await startFakeModelServer({ script: arithmeticCot(), faults: { rate: 1, kinds: ['server-error'] } });
    try {
      const endpoint = new ModelEndpoint(profileFor(broken, { maxAttempts: 3 }), { backoff: fastBackoff });
      await assert.rejects(endpoint.complete({ messages }), (err: unknown) => err instanceof EndpointError && /teacher: 3 attempts failed/.test(err.message) && /500/.test(err.message));
      assert.equal(broken.requests.length, 3);
    } finally {
      await broken.close();
    }
  });

  void it('does not retry a request the server rejects, and says what to fix', async () => {
    const endpoint = new ModelEndpoint(profileFor(server, { model: 'missing-model' }), { backoff: fastBackoff });
    const before = server.requests.length;
    await assert.rejects(endpoint.complete({ messages }), (err: unknown) => err instanceof EndpointError && /does not serve the model "missing-model"/.test(err.message));
    assert.equal(server.requests.length - before, 1);
  });

  void it('never has more requests in flight than the profile allows', async () => {
    const slow = await startFakeModelServer({ script: arithmeticCot(), latencyMs: 40 });
    try {
      const endpoint = new ModelEndpoint(profileFor(slow, { concurrency: 3 }));
      await Promise.all(Array.from({ length: 12 }, () => endpoint.complete({ messages })));
      assert.equal(slow.maxInFlight, 3);
    } finally {
      await slow.close();
    }
  });

  void it('spreads requests over several base URLs', async () => {
    const other = await startFakeModelServer({ script: arithmeticCot(), latencyMs: 20 });
    const first = await startFakeModelServer({ script: arithmeticCot(), latencyMs: 20 });
    try {
      const endpoint = new ModelEndpoint(profileFor(first, { baseUrls: [first.baseUrl, other.baseUrl], concurrency: 4 }));
      await Promise.all(Array.from({ length: 8 }, () => endpoint.complete({ messages })));
      // Which server frees up first depends on timing; both must carry a fair share.
      assert.equal(first.requests.length + other.requests.length, 8);
      assert.ok(first.requests.length >= 3 && other.requests.length >= 3, `split ${first.requests.length}/${other.requests.length}`);
    } finally {
      await other.close();
      await first.close();
    }
  });

  void it('stops at once when aborted: in the queue, in flight, and while backing off', async () => {
    const slow = await startFakeModelServer({ script: arithmeticCot(), latencyMs: 10_000 });
    try {
      const endpoint = new ModelEndpoint(profileFor(slow, { concurrency: 1 }));
      const controller = new AbortController();
      const inFlight = endpoint.complete({ messages, signal: controller.signal });
      const queued = endpoint.complete({ messages, signal: controller.signal });
      // Abort once the first call is in flight at the server.
      const deadline = Date.now() + 10_000;
      while (slow.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(slow.requests.length, 1, 'the first call reached the server');
      controller.abort(new Error('user cancelled'));
      const started = performance.now();
      await assert.rejects(inFlight, /user cancelled/);
      await assert.rejects(queued, /user cancelled/);
      assert.ok(performance.now() - started < 5000, 'did not wait for the reply');
      assert.equal(slow.requests.length, 1, 'the queued call never reached the server');
    } finally {
      await slow.close();
    }
    const limited = await startFakeModelServer({ script: arithmeticCot(), faults: { rate: 1, kinds: ['rate-limit'], retryAfterMs: 10_000 } });
    try {
      const endpoint = new ModelEndpoint(profileFor(limited), { backoff: { ...fastBackoff, maxRetryAfterMs: 20_000 } });
      const started = performance.now();
      await assert.rejects(endpoint.complete({ messages, signal: AbortSignal.timeout(100) }));
      assert.ok(performance.now() - started < 5000, 'did not sit out the Retry-After');
    } finally {
      await limited.close();
    }
  });

  void it('answers a repeated request from the disk cache without calling the server', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ts-llm-cache-'));
    try {
      const endpoint = new ModelEndpoint(profileFor(server), { cache: new DiskResponseCache(folder) });
      const before = server.requests.length;
      const first = await endpoint.complete({ messages });
      let streamed = '';
      const again = await new ModelEndpoint(profileFor(server), { cache: new DiskResponseCache(folder) }).complete({ messages, onText: (e) => (streamed += e.delta) });
      assert.equal(server.requests.length - before, 1);
      assert.equal(again.fromCache, true);
      assert.deepEqual(again.choices, first.choices);
      assert.equal(streamed, first.choices[0].text);
      await endpoint.complete({ messages, sampling: { seed: 7 } });
      assert.equal(server.requests.length - before, 2, 'a different seed is a different request');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

void describe('testConnection', () => {
  let server: FakeModelServer;
  before(async () => {
    server = await startFakeModelServer({ apiKey: 'sk-right', models: ['teacher', 'other'] });
  });
  after(() => server.close());
  const keys = (key: string) => () => Promise.resolve(key);

  void it('lists the served models and the latency', async () => {
    const report = await testConnection(profileFor(server), keys('sk-right'));
    assert.equal(report.ok, true);
    assert.deepEqual(report.checks[0].models, ['teacher', 'other']);
    assert.ok((report.checks[0].latencyMs ?? -1) >= 0);
    assert.match(formatConnectionReport(report), /teacher \(teacher\): OK/);
  });

  void it('names the model that is not served and the ones that are', async () => {
    const report = await testConnection(profileFor(server, { model: 'Qwen' }), keys('sk-right'));
    assert.equal(report.ok, false);
    assert.match(report.checks[0].error ?? '', /does not serve the model "Qwen" \(it serves "teacher", "other"\)/);
  });

  void it('says the key is wrong and where to set it', async () => {
    const report = await testConnection(profileFor(server), keys('sk-wrong'));
    assert.match(report.checks[0].error ?? '', /refused the API key.*TRAJECTORY_STUDIO_TEACHER_API_KEY/s);
  });

  void it('says nothing is listening when the server is down', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    const report = await testConnection({ ...profileFor(server), baseUrls: [url] });
    assert.match(report.checks[0].error ?? '', new RegExp(`Nothing is listening at ${url.replace(/[.]/g, '\\.')}.*Start the model server`, 's'));
  });

  void it('suggests /v1 when the URL misses it', async () => {
    const report = await testConnection({ ...profileFor(server), baseUrls: [`http://127.0.0.1:${server.port}`] }, keys('sk-right'));
    assert.match(report.checks[0].error ?? '', /ends in \/v1/);
  });
});

void describe('profiles and retry policy', () => {
  void it('reads a CLI profile and its key from the environment, and rejects bad values with the variable named', async () => {
    const env = { TRAJECTORY_STUDIO_STUDENT_BASE_URLS: 'http://a:1/v1, http://b:2/v1', TRAJECTORY_STUDIO_STUDENT_MODEL: 'lora-1', TRAJECTORY_STUDIO_STUDENT_API_KEY: 'k1', OPENAI_API_KEY: 'k0' };
    const profile = profileFromEnvironment('student', env);
    assert.deepEqual(profile.baseUrls, ['http://a:1/v1', 'http://b:2/v1']);
    assert.equal(profile.model, 'lora-1');
    assert.equal(await environmentApiKeys(env)('student'), 'k1');
    assert.equal(await environmentApiKeys(env)('judge'), 'k0');
    assert.throws(() => profileFromEnvironment('teacher', { TRAJECTORY_STUDIO_TEACHER_CONCURRENCY: 'lots' }), /TRAJECTORY_STUDIO_TEACHER_CONCURRENCY/);
    assert.throws(() => new ModelEndpoint({ ...defaultProfile('teacher'), baseUrls: ['localhost:8000'] }), /baseUrls.*localhost:8000/);
  });

  void it('reads Retry-After in milliseconds, seconds and as a date, and backs off with jitter within bounds', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now), 250);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' }), now), 2000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now), 3000);
    assert.equal(retryAfterMs(new Headers({}), now), undefined);
    for (const r of [0, 0.5, 0.999]) {
      const d3 = backoffDelayMs(3, undefined, defaultBackoff, () => r);
      assert.ok(d3 >= defaultBackoff.baseDelayMs * 2 && d3 <= defaultBackoff.baseDelayMs * 4);
      const hinted = backoffDelayMs(1, 1000, defaultBackoff, () => r);
      assert.ok(hinted >= 1000 && hinted <= 1100);
    }
    assert.ok(backoffDelayMs(1, 10 ** 9, defaultBackoff, () => 0) <= defaultBackoff.maxRetryAfterMs);
  });
});
