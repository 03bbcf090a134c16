import { type z } from 'zod';
import { PendingRequests } from '../../src/protocol/pendingRequests';
import { type Envelope, envelopeSchema, describeZodError, type HostNotificationParams, type ProtocolDefinition, type RequestParams, type RequestResult, type WebviewNotificationParams } from '../../src/protocol/envelope';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;
/** The page's one VS Code API handle (acquireVsCodeApi may be called only once). */
export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

/** The version of the saved-state wrapper; a page's own state shape is checked by its schema. */
const savedStateVersion = 1;

/**
 * The page state VS Code kept for this page (across hiding and reloads), checked against the page's schema.
 * State from an older build that no longer fits is dropped for `fallback` (and said so in the console),
 * never used half-valid. State saved before it was versioned is read as version 1.
 */
export function readSavedState<S extends z.ZodType>(schema: S, fallback: z.infer<S>): z.infer<S> {
  const raw = vscodeApi().getState();
  if (raw === undefined || raw === null) return fallback;
  const wrapped = typeof raw === 'object' && 'savedStateVersion' in raw ? (raw as { savedStateVersion: unknown; state?: unknown }) : { savedStateVersion: 1, state: raw };
  if (wrapped.savedStateVersion !== savedStateVersion) {
    console.warn(`saved page state has version ${String(wrapped.savedStateVersion)}, this page reads ${savedStateVersion}; starting fresh`);
    return fallback;
  }
  const parsed = schema.safeParse(wrapped.state);
  if (!parsed.success) {
    console.warn(`saved page state does not fit this page (${describeZodError(parsed.error)}); starting fresh`);
    return fallback;
  }
  return parsed.data;
}

/** Saves the page state (read back with {@link readSavedState}). */
export function writeSavedState(state: unknown): void {
  vscodeApi().setState({ savedStateVersion, state });
}

/** Reads the JSON the host rendered into the page (`renderWebviewHtml`'s initialState). */
export function readInitialState(): unknown {
  const el = document.getElementById('initial-state');
  return el?.textContent ? (JSON.parse(el.textContent) as unknown) : null;
}

type NotificationListener = (params: unknown) => void;

/**
 * The webview end of a typed protocol: `request()` returns a promise of the validated result (or rejects
 * with a {@link ChannelError} that carries the reason's code, also when the host does not answer in time),
 * host notifications are validated before listeners see them, and `ready` is sent once listeners are attached.
 */
export class HostChannel<P extends ProtocolDefinition> {
  private readonly pending: PendingRequests<P>;
  private readonly listeners = new Map<string, NotificationListener[]>();

  constructor(private readonly protocol: P) {
    this.pending = new PendingRequests(protocol);
    window.addEventListener('message', (event: MessageEvent<unknown>) => this.receive(event.data));
  }

  /** Tells the host the page is listening; call after registering notification listeners. */
  start(): void {
    this.post({ kind: 'ready' });
  }

  request<M extends keyof P['requests'] & string>(method: M, params: RequestParams<P, M>): Promise<RequestResult<P, M>> {
    return this.pending.start(method, (id) => this.post({ kind: 'request', id, method, params })) as Promise<RequestResult<P, M>>;
  }

  notify<M extends keyof P['webviewNotifications'] & string>(method: M, params: WebviewNotificationParams<P, M>): void {
    this.post({ kind: 'notification', method, params });
  }

  on<M extends keyof P['hostNotifications'] & string>(method: M, listener: (params: HostNotificationParams<P, M>) => void): void {
    const list = this.listeners.get(method) ?? [];
    list.push(listener as NotificationListener);
    this.listeners.set(method, list);
  }

  private post(message: Envelope): void {
    vscodeApi().postMessage(message);
  }

  private receive(raw: unknown): void {
    const parsed = envelopeSchema.safeParse(raw);
    if (!parsed.success) {
      console.warn(`host sent a malformed message: ${describeZodError(parsed.error)}`);
      return;
    }
    const message = parsed.data;
    if (message.kind === 'response') {
      this.pending.settle(message);
      return;
    }
    if (message.kind === 'notification') {
      const schema = this.protocol.hostNotifications[message.method];
      const params = schema?.safeParse(message.params);
      if (!params?.success) {
        console.warn(`host notification "${message.method}" rejected${params ? `: ${describeZodError(params.error)}` : ' (unknown)'}`);
        return;
      }
      for (const l of this.listeners.get(message.method) ?? []) l(params.data);
    }
  }
}

/** Sets text content, never HTML: every string from a trajectory file or a model is untrusted. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}
