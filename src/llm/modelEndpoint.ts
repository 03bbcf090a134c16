import OpenAI, { APIUserAbortError } from 'openai';
import { type ChatCompletion, type ChatCompletionChunk, type ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { ConcurrencyLimiter } from './concurrencyLimiter';
import { describeEndpointFailure, EndpointError } from './endpointErrors';
import { type ApiKeyProvider, type EndpointProfile, EndpointProfileError, validateProfile } from './profiles';
import { type ResponseCache, requestCacheKey } from './responseCache';
import {
  abortableSleep,
  abortReason,
  backoffDelayMs,
  type BackoffSettings,
  defaultBackoff,
  errorHeaders,
  IncompleteReplyError,
  isRetriable,
  retryAfterMs,
} from './retryPolicy';
import { type ChatChoice, type ChatRequest, type ChatResult, type FinishReason, type SamplingSettings, type TokenUsage } from './types';

export interface ModelEndpointOptions {
  /** Where the API key comes from (SecretStorage in VS Code, environment variables in the CLI). */
  apiKeys?: ApiKeyProvider;
  /** Replies keyed by the full request; a hit costs no request. */
  cache?: ResponseCache;
  backoff?: BackoffSettings;
  /** Randomness for jitter (injectable for tests). */
  random?: () => number;
  /** Told about every failed attempt that will be retried (for logs and progress). */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  attempt: number;
  baseUrl: string;
  delayMs: number;
  error: unknown;
}

/** A retry as logs and terminals show it: "attempt 1 at http://…/v1 failed (503 …); retrying in 500 ms". */
export function describeRetry(info: RetryInfo): string {
  return `attempt ${info.attempt} at ${info.baseUrl} failed (${info.error instanceof Error ? info.error.message : String(info.error)}); retrying in ${Math.round(info.delayMs)} ms`;
}

/** Running totals of one endpoint, for progress lines and run manifests. */
export interface EndpointUsage {
  /** Calls that produced a result (cache hits included). */
  requests: number;
  /** HTTP attempts made (retries included, cache hits not). */
  attempts: number;
  retries: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
}

/** The JSON body we send: the OpenAI fields plus vLLM's extensions. */
export type ChatRequestBody = ChatCompletionCreateParamsNonStreaming & {
  top_k?: number;
  repetition_penalty?: number;
  continue_final_message?: boolean;
  add_generation_prompt?: boolean;
};

class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
}

interface BaseUrlSlot {
  url: string;
  client?: OpenAI;
  inFlight: number;
}

function finishReasonOf(value: string | null | undefined): FinishReason | undefined {
  if (value === null || value === undefined) return undefined;
  return value === 'stop' || value === 'length' ? value : 'other';
}

/** vLLM adds `stop_reason` (the matched stop string, or a token id) next to `finish_reason`. */
function stopStringOf(choice: object): string | undefined {
  const value = 'stop_reason' in choice ? choice.stop_reason : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * One model server role (teacher, student or judge) behind one or more base URLs. Every call goes through a
 * bounded queue, is retried with backoff on transient failures, may be served from the response cache, and
 * is counted in {@link usage}.
 */
export class ModelEndpoint {
  private readonly limiter: ConcurrencyLimiter;
  private readonly slots: BaseUrlSlot[];
  private nextSlot = 0;
  private apiKey: Promise<string | undefined> | undefined;
  private readonly backoff: BackoffSettings;
  private readonly random: () => number;
  private readonly totals: EndpointUsage = { requests: 0, attempts: 0, retries: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0 };

  constructor(
    readonly profile: EndpointProfile,
    private readonly options: ModelEndpointOptions = {},
  ) {
    validateProfile(profile);
    this.limiter = new ConcurrencyLimiter(profile.concurrency);
    this.slots = profile.baseUrls.map((url) => ({ url, inFlight: 0 }));
    this.backoff = options.backoff ?? defaultBackoff;
    this.random = options.random ?? Math.random;
  }

  get usage(): Readonly<EndpointUsage> {
    return { ...this.totals };
  }

  /** The request body for `request`, with every sampling parameter explicit. */
  buildBody(request: ChatRequest): { body: ChatRequestBody; sampling: SamplingSettings } {
    const sampling: SamplingSettings = { ...this.profile.sampling, ...request.sampling };
    const vllm = this.profile.flavor === 'vllm';
    if (request.continueFinalMessage && !vllm) {
      throw new EndpointProfileError(
        `endpoint profile "${this.profile.name}": continuing an assistant message (first-thought prefix) needs a vLLM server; set the profile's flavor to "vllm"`,
      );
    }
    if (request.continueFinalMessage && request.messages[request.messages.length - 1]?.role !== 'assistant') {
      throw new Error('continueFinalMessage needs the last message to be an assistant message');
    }
    const body: ChatRequestBody = {
      model: this.profile.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: sampling.temperature,
      top_p: sampling.topP,
      max_tokens: sampling.maxTokens,
      n: request.n ?? 1,
    };
    if (sampling.seed !== undefined) body.seed = sampling.seed;
    if (request.stop && request.stop.length > 0) body.stop = [...request.stop];
    if (vllm) {
      body.top_k = sampling.topK;
      body.repetition_penalty = sampling.repetitionPenalty;
    }
    if (request.continueFinalMessage) {
      body.continue_final_message = true;
      body.add_generation_prompt = false;
    }
    return { body, sampling };
  }

  /**
   * One chat completion. Transient failures (429 honouring `Retry-After`, 5xx, dropped or cut-off
   * connections, timeouts) are retried up to the profile's `maxAttempts`; an abort stops at once.
   */
  async complete(request: ChatRequest): Promise<ChatResult> {
    const { body, sampling } = this.buildBody(request);
    const cacheKey = this.options.cache ? requestCacheKey(body) : undefined;
    if (cacheKey !== undefined && this.options.cache) {
      const hit = await this.options.cache.get(cacheKey);
      if (hit) {
        this.totals.requests += 1;
        this.totals.cacheHits += 1;
        hit.choices.forEach((c, choiceIndex) => request.onText?.({ choiceIndex, delta: c.text }));
        return { choices: hit.choices, usage: hit.usage, model: hit.model, sampling, latencyMs: 0, attempts: 0, fromCache: true };
      }
    }
    const result = await this.limiter.run(() => this.attemptWithRetries(body, sampling, request), request.signal);
    this.totals.requests += 1;
    this.totals.promptTokens += result.usage.promptTokens;
    this.totals.completionTokens += result.usage.completionTokens;
    if (cacheKey !== undefined && this.options.cache) {
      await this.options.cache.set(cacheKey, { choices: result.choices, usage: result.usage, model: result.model });
    }
    return result;
  }

  private async attemptWithRetries(body: ChatRequestBody, sampling: SamplingSettings, request: ChatRequest): Promise<ChatResult> {
    let previous: BaseUrlSlot | undefined;
    for (let attempt = 1; ; attempt += 1) {
      request.signal?.throwIfAborted();
      const slot = this.pickSlot(previous);
      previous = slot;
      const started = performance.now();
      this.totals.attempts += 1;
      slot.inFlight += 1;
      let failure: unknown;
      try {
        const reply = await this.attemptOnce(slot, body, request, attempt);
        return { ...reply, sampling, latencyMs: performance.now() - started, attempts: attempt, fromCache: false, baseUrl: slot.url };
      } catch (err) {
        failure = err;
      } finally {
        slot.inFlight -= 1;
      }
      if (request.signal?.aborted) throw abortReason(request.signal);
      const retriable = failure instanceof AttemptTimeoutError || isRetriable(failure);
      if (!retriable || attempt >= this.profile.maxAttempts) {
        const described = describeEndpointFailure(failure, this.profile.name, slot.url, this.profile.model);
        if (retriable) {
          throw new EndpointError(`${this.profile.name}: ${attempt} attempts failed; last: ${described.message}`, 'Check the server; the run can be resumed', described.status, { cause: failure });
        }
        throw described;
      }
      // The queue slot stays taken while backing off, so a rate-limited server sees fewer requests, not more.
      const delayMs = backoffDelayMs(attempt, retryAfterMs(errorHeaders(failure)), this.backoff, this.random);
      this.totals.retries += 1;
      this.options.onRetry?.({ attempt, baseUrl: slot.url, delayMs, error: failure });
      await abortableSleep(delayMs, request.signal);
    }
  }

  /** The least busy base URL, round-robin among equals, avoiding the one that just failed when there is a choice. */
  private pickSlot(avoid: BaseUrlSlot | undefined): BaseUrlSlot {
    const candidates = this.slots.length > 1 && avoid ? this.slots.filter((s) => s !== avoid) : this.slots;
    let best: BaseUrlSlot | undefined;
    for (let i = 0; i < this.slots.length; i += 1) {
      const slot = this.slots[(this.nextSlot + i) % this.slots.length];
      if (!candidates.includes(slot)) continue;
      if (!best || slot.inFlight < best.inFlight) best = slot;
    }
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    return best ?? this.slots[0];
  }

  private async clientFor(slot: BaseUrlSlot): Promise<OpenAI> {
    if (slot.client) return slot.client;
    this.apiKey ??= this.options.apiKeys?.(this.profile.name) ?? Promise.resolve(undefined);
    // A local vLLM needs no key, but the SDK insists on one; the placeholder is never a real secret.
    const apiKey = (await this.apiKey) ?? 'no-key';
    slot.client ??= new OpenAI({ baseURL: slot.url, apiKey, maxRetries: 0, timeout: this.profile.timeoutMs });
    return slot.client;
  }

  private async attemptOnce(
    slot: BaseUrlSlot,
    body: ChatRequestBody,
    request: ChatRequest,
    attempt: number,
  ): Promise<{ choices: ChatChoice[]; usage: TokenUsage; model: string }> {
    const client = await this.clientFor(slot);
    // One controller per attempt: it carries the caller's abort and our own deadline, which covers reading a
    // streamed body too (the SDK's own timeout stops at the headers).
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(abortReason(request.signal));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new AttemptTimeoutError(`no complete reply within ${this.profile.timeoutMs} ms`)), this.profile.timeoutMs);
    try {
      if (!request.onText) {
        const completion: ChatCompletion = await client.chat.completions.create(body, { signal: controller.signal });
        return this.readCompletion(completion, body.n ?? 1);
      }
      const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal: controller.signal });
      return await this.readStream(stream, body.n ?? 1, request, attempt);
    } catch (err) {
      const reason: unknown = controller.signal.reason;
      if (controller.signal.aborted && reason instanceof AttemptTimeoutError && !request.signal?.aborted) throw reason;
      if (err instanceof APIUserAbortError && request.signal?.aborted) throw abortReason(request.signal);
      throw err;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  private readCompletion(completion: ChatCompletion, n: number): { choices: ChatChoice[]; usage: TokenUsage; model: string } {
    if (completion.choices.length !== n) throw new IncompleteReplyError(`expected ${n} choices, the server returned ${completion.choices.length}`);
    const choices = [...completion.choices]
      .sort((a, b) => a.index - b.index)
      .map((c): ChatChoice => {
        const stopString = stopStringOf(c);
        return { text: c.message.content ?? '', finishReason: finishReasonOf(c.finish_reason) ?? 'other', ...(stopString !== undefined ? { stopString } : {}) };
      });
    const usage = { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 };
    return { choices, usage, model: completion.model };
  }

  private async readStream(
    stream: AsyncIterable<ChatCompletionChunk>,
    n: number,
    request: ChatRequest,
    attempt: number,
  ): Promise<{ choices: ChatChoice[]; usage: TokenUsage; model: string }> {
    const texts = new Array<string>(n).fill('');
    const finish = new Array<FinishReason | undefined>(n).fill(undefined);
    const stops = new Array<string | undefined>(n).fill(undefined);
    let usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    let model = this.profile.model;
    let first = true;
    for await (const chunk of stream) {
      model = chunk.model || model;
      if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      for (const c of chunk.choices) {
        if (c.index < 0 || c.index >= n) throw new IncompleteReplyError(`the server streamed choice ${c.index} of ${n}`);
        const delta = c.delta.content ?? '';
        if (delta) {
          texts[c.index] += delta;
          request.onText?.({ choiceIndex: c.index, delta, ...(first && attempt > 1 ? { restarted: true } : {}) });
          first = false;
        }
        const reason = finishReasonOf(c.finish_reason);
        if (reason) {
          finish[c.index] = reason;
          stops[c.index] = stopStringOf(c);
        }
      }
    }
    const unfinished = finish.findIndex((f) => f === undefined);
    if (unfinished >= 0) throw new IncompleteReplyError(`the stream ended before choice ${unfinished} finished`);
    const choices = texts.map((text, i): ChatChoice => {
      const stopString = stops[i];
      return { text, finishReason: finish[i] ?? 'other', ...(stopString !== undefined ? { stopString } : {}) };
    });
    return { choices, usage, model };
  }
}
