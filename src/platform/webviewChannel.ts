import type * as vscode from 'vscode';
import { type ChannelErrorCode, type Envelope, envelopeSchema, describeZodError, type HostNotificationParams, type ProtocolDefinition, type RequestParams, type RequestResult, type WebviewNotificationParams } from '../protocol/envelope';

export type RequestHandlers<P extends ProtocolDefinition> = {
  [M in keyof P['requests']]: (params: RequestParams<P, M>) => Promise<RequestResult<P, M>> | RequestResult<P, M>;
};
export type WebviewNotificationHandlers<P extends ProtocolDefinition> = {
  [M in keyof P['webviewNotifications']]?: (params: WebviewNotificationParams<P, M>) => void;
};

/** The part of `vscode.Webview` the channel uses (a test passes its own). */
export type ChannelWebview = Pick<vscode.Webview, 'postMessage' | 'onDidReceiveMessage'>;

/**
 * The host end of a typed webview protocol. Nothing is posted before the webview said `ready` (messages
 * wait in a queue), every inbound message is validated, and a request that fails validation or throws
 * gets an error reply with a code instead of silence. A message VS Code could not deliver (the page is
 * hidden, so VS Code dropped it, or it is reloading) goes back into the queue and the channel waits for the
 * next `ready`: a recreated page sends `ready` again, gets the queued notifications (answers to the old
 * page's requests are dropped: its request ids start over), and `onReady` lets the owner re-send what the
 * fresh page needs.
 */
export class WebviewChannel<P extends ProtocolDefinition> implements vscode.Disposable {
  private ready = false;
  /** Whether a page said `ready` before: a later `ready` is a recreated page. */
  private handshakes = 0;
  private queue: Envelope[] = [];
  private readonly subscription: vscode.Disposable;
  private readonly readyListeners: (() => void)[] = [];

  constructor(
    private readonly webview: ChannelWebview,
    private readonly protocol: P,
    private readonly handlers: RequestHandlers<P>,
    private readonly notificationHandlers: WebviewNotificationHandlers<P> = {},
    private readonly log?: (message: string) => void,
  ) {
    this.subscription = webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw));
  }

  /** Called each time the page (re)starts and is ready for messages. */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  notify<M extends keyof P['hostNotifications'] & string>(method: M, params: HostNotificationParams<P, M>): void {
    this.post({ kind: 'notification', method, params });
  }

  private post(message: Envelope): void {
    if (!this.ready) {
      this.queue.push(message);
      return;
    }
    this.deliver(message);
  }

  private deliver(message: Envelope): void {
    void Promise.resolve(this.webview.postMessage(message)).then(
      (delivered) => {
        if (delivered) return;
        // The page is gone (hidden without retained context, or reloading): keep the message for the next one.
        this.ready = false;
        this.queue.push(message);
      },
      (err: unknown) => this.log?.(`a message to the webview could not be posted: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  private reply(id: number, error: string, code: ChannelErrorCode): void {
    this.post({ kind: 'response', id, ok: false, error, code });
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = envelopeSchema.safeParse(raw);
    if (!parsed.success) {
      this.log?.(`webview sent a malformed message: ${describeZodError(parsed.error)}`);
      return;
    }
    const message = parsed.data;
    switch (message.kind) {
      case 'ready': {
        this.ready = true;
        const recreated = this.handshakes++ > 0;
        const pending = recreated ? this.queue.filter((m) => m.kind !== 'response') : this.queue;
        this.queue = [];
        for (const m of pending) this.deliver(m);
        for (const l of this.readyListeners) l();
        return;
      }
      case 'request':
        await this.answer(message.id, message.method, message.params);
        return;
      case 'notification': {
        const schema = this.protocol.webviewNotifications[message.method];
        const handler = (this.notificationHandlers as Record<string, ((p: unknown) => void) | undefined>)[message.method];
        if (!schema || !handler) {
          this.log?.(`webview sent an unknown notification "${message.method}"`);
          return;
        }
        const params = schema.safeParse(message.params);
        if (!params.success) {
          this.log?.(`webview notification "${message.method}" is invalid: ${describeZodError(params.error)}`);
          return;
        }
        handler(params.data);
        return;
      }
      case 'response':
        return;
    }
  }

  private async answer(id: number, method: string, rawParams: unknown): Promise<void> {
    const definition = this.protocol.requests[method];
    const handler = (this.handlers as Record<string, ((p: unknown) => unknown) | undefined>)[method];
    if (!definition || !handler) {
      this.reply(id, `unknown request "${method}"`, 'unknown-request');
      return;
    }
    const params = definition.params.safeParse(rawParams);
    if (!params.success) {
      this.reply(id, `invalid parameters for "${method}": ${describeZodError(params.error)}`, 'invalid-params');
      return;
    }
    try {
      const result = await handler(params.data);
      this.post({ kind: 'response', id, ok: true, result });
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.log?.(`request "${method}" failed: ${text}`);
      this.reply(id, text, 'failed');
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.queue = [];
  }
}
