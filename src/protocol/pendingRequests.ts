import { ChannelError, defaultRequestTimeoutMs, describeZodError, type Envelope, type ProtocolDefinition } from './envelope';

type Response = Extract<Envelope, { kind: 'response' }>;

/**
 * The requests a page has sent and not yet had answered, with their deadlines: each answer is matched by
 * id, checked against the request's result schema and settles its promise; a request the host does not
 * answer in its time rejects with a `timeout` {@link ChannelError}. No DOM here, so it is tested on its own.
 */
export class PendingRequests<P extends ProtocolDefinition> {
  private nextId = 1;
  private readonly waiting = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer?: ReturnType<typeof setTimeout> }>();

  constructor(private readonly protocol: P) {}

  /** Registers a request; `send` posts it with the id it got. */
  start(method: string, send: (id: number) => void): Promise<unknown> {
    const id = this.nextId++;
    const definition = this.protocol.requests[method];
    const timeoutMs = definition?.timeoutMs === undefined ? defaultRequestTimeoutMs : definition.timeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      const timer =
        timeoutMs === null
          ? undefined
          : setTimeout(() => {
              this.waiting.delete(id);
              reject(new ChannelError('timeout', `"${method}" got no answer from the extension within ${Math.round(timeoutMs / 1000)} s; see the Trajectory Studio log`));
            }, timeoutMs);
      this.waiting.set(id, { method, resolve, reject, ...(timer ? { timer } : {}) });
      send(id);
    });
  }

  /** Settles the request a response answers; a response to no waiting request (timed out, or for an earlier page) is ignored. */
  settle(message: Response): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    clearTimeout(waiting.timer);
    if (!message.ok) {
      waiting.reject(new ChannelError(message.code ?? 'failed', message.error ?? `request "${waiting.method}" failed`));
      return;
    }
    const result = this.protocol.requests[waiting.method]?.result.safeParse(message.result);
    if (!result?.success) {
      waiting.reject(new ChannelError('invalid-result', `host answered "${waiting.method}" with an invalid result${result ? `: ${describeZodError(result.error)}` : ''}`));
      return;
    }
    waiting.resolve(result.data);
  }

  /** How many requests wait for an answer. */
  get size(): number {
    return this.waiting.size;
  }
}
