import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ChannelError, channelErrorCodes, defineProtocol, type Envelope, envelopeSchema } from '../../../src/protocol/envelope';
import { PendingRequests } from '../../../src/protocol/pendingRequests';
import { type ChannelWebview, WebviewChannel } from '../../../src/platform/webviewChannel';
import { webviewShellHtml } from '../../../src/platform/webviewShell';
import { evalDashboardProtocol } from '../../../src/protocol/evalDashboard';
import { liveRunProtocol } from '../../../src/protocol/liveRun';
import { trainingPreviewProtocol } from '../../../src/protocol/trainingPreview';
import { trainingRunProtocol } from '../../../src/protocol/trainingRun';
import { trajectoryEditorProtocol } from '../../../src/protocol/trajectoryEditor';

// The channel between the extension host and a webview page, as a page would notice it: nothing is lost
// while the page is hidden or reloading, every failure comes back with a reason and a code, and a host that
// never answers does not leave the page waiting forever.

const protocol = defineProtocol({
  requests: {
    add: { params: z.object({ a: z.number(), b: z.number() }), result: z.object({ sum: z.number() }) },
    fail: { params: z.object({}), result: z.object({}) },
    slow: { params: z.object({}), result: z.object({}), timeoutMs: 30 },
    dialog: { params: z.object({}), result: z.object({}), timeoutMs: null },
  },
  hostNotifications: { progress: z.object({ done: z.number() }) },
  webviewNotifications: { selected: z.object({ slot: z.number() }) },
});

/** A webview whose page can be "hidden" (VS Code then drops messages) and whose sent messages are recorded. */
class FakeWebview implements ChannelWebview {
  live = true;
  readonly delivered: Envelope[] = [];
  private listener: ((message: unknown) => void) | undefined;
  private posts: Promise<unknown>[] = [];

  postMessage(message: unknown): Thenable<boolean> {
    const live = this.live;
    if (live) this.delivered.push(message as Envelope);
    const result = Promise.resolve(live);
    this.posts.push(result);
    return result;
  }

  onDidReceiveMessage = (listener: (message: unknown) => void): { dispose(): void } => {
    this.listener = listener;
    return { dispose: () => (this.listener = undefined) };
  };

  /** The page sends a message; resolves once the channel has handled it and every post it made has settled. */
  async fromPage(message: unknown): Promise<void> {
    this.listener?.(message);
    await this.settled();
  }

  async settled(): Promise<void> {
    // Handlers run in microtasks; wait until no new post appears.
    for (let seen = -1; seen !== this.posts.length; ) {
      seen = this.posts.length;
      await Promise.all(this.posts);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  responses(): Extract<Envelope, { kind: 'response' }>[] {
    return this.delivered.filter((m): m is Extract<Envelope, { kind: 'response' }> => m.kind === 'response');
  }
}

function channel(webview: FakeWebview, log: string[] = []): WebviewChannel<typeof protocol> {
  return new WebviewChannel(
    webview,
    protocol,
    {
      add: ({ a, b }) => ({ sum: a + b }),
      fail: () => {
        throw new Error('the run folder is gone');
      },
      slow: () => new Promise(() => undefined),
      dialog: () => ({}),
    },
    {},
    (m) => log.push(m),
  );
}

void test('notifications sent before the page is ready arrive, in order, once it says ready', async () => {
  const webview = new FakeWebview();
  const ch = channel(webview);
  ch.notify('progress', { done: 1 });
  ch.notify('progress', { done: 2 });
  await webview.settled();
  assert.equal(webview.delivered.length, 0, 'nothing is posted to a page that is not listening yet');
  await webview.fromPage({ kind: 'ready' });
  assert.deepEqual(webview.delivered, [
    { kind: 'notification', method: 'progress', params: { done: 1 } },
    { kind: 'notification', method: 'progress', params: { done: 2 } },
  ]);
});

void test('a message VS Code drops while the page is hidden is delivered to the recreated page, after which the owner re-sends its state', async () => {
  const webview = new FakeWebview();
  const ch = channel(webview);
  const readies: number[] = [];
  ch.onReady(() => readies.push(webview.delivered.length));
  await webview.fromPage({ kind: 'ready' });
  webview.live = false; // hidden: the page is destroyed and VS Code drops what is posted
  ch.notify('progress', { done: 3 });
  await webview.settled();
  ch.notify('progress', { done: 4 });
  await webview.settled();
  assert.equal(webview.delivered.length, 0);
  webview.live = true; // shown again: a fresh page starts and says ready
  await webview.fromPage({ kind: 'ready' });
  assert.deepEqual(
    webview.delivered.map((m) => (m.kind === 'notification' ? (m.params as { done: number }).done : m.kind)),
    [3, 4],
    'both notifications reach the new page, in order',
  );
  assert.deepEqual(readies, [0, 2], 'onReady runs at every handshake, after the queued messages');
});

void test('an answer meant for a page that was since reloaded is not given to the new page (its request ids start over)', async () => {
  const webview = new FakeWebview();
  channel(webview);
  await webview.fromPage({ kind: 'ready' });
  webview.live = false;
  await webview.fromPage({ kind: 'request', id: 1, method: 'add', params: { a: 1, b: 2 } });
  webview.live = true;
  await webview.fromPage({ kind: 'ready' });
  assert.deepEqual(webview.responses(), []);
  await webview.fromPage({ kind: 'request', id: 1, method: 'add', params: { a: 5, b: 6 } });
  assert.deepEqual(webview.responses(), [{ kind: 'response', id: 1, ok: true, result: { sum: 11 } }]);
});

void test('every failed request is answered with a reason and a code', async () => {
  const webview = new FakeWebview();
  const log: string[] = [];
  channel(webview, log);
  await webview.fromPage({ kind: 'ready' });
  await webview.fromPage({ kind: 'request', id: 1, method: 'nope', params: {} });
  await webview.fromPage({ kind: 'request', id: 2, method: 'add', params: { a: 1, b: 'two' } });
  await webview.fromPage({ kind: 'request', id: 3, method: 'fail', params: {} });
  const [unknown, invalid, failed] = webview.responses();
  assert.deepEqual([unknown.id, unknown.ok, unknown.code], [1, false, 'unknown-request']);
  assert.match(unknown.error ?? '', /unknown request "nope"/);
  assert.deepEqual([invalid.id, invalid.code], [2, 'invalid-params']);
  assert.match(invalid.error ?? '', /"add".*b:/, 'the field at fault is named');
  assert.deepEqual([failed.id, failed.code, failed.error], [3, 'failed', 'the run folder is gone']);
  assert.ok(log.some((l) => l.includes('the run folder is gone')), 'the failure is logged on the host');
  // A malformed message is logged, not answered and not thrown.
  await webview.fromPage({ kind: 'request', id: 'x' });
  assert.equal(webview.responses().length, 3);
  assert.ok(log.some((l) => /malformed/.test(l)));
});

void test('the page side: answers settle their requests, failures carry the host\'s code, a host that never answers times out', async () => {
  const pending = new PendingRequests(protocol);
  const sent: number[] = [];
  const added = pending.start('add', (id) => sent.push(id));
  const failed = pending.start('fail', (id) => sent.push(id));
  const invalid = pending.start('add', (id) => sent.push(id));
  const slow = pending.start('slow', (id) => sent.push(id));
  const dialog = pending.start('dialog', (id) => sent.push(id));
  assert.equal(new Set(sent).size, 5, 'each request has its own id');
  pending.settle({ kind: 'response', id: sent[0], ok: true, result: { sum: 3 } });
  pending.settle({ kind: 'response', id: sent[1], ok: false, error: 'the run folder is gone', code: 'failed' });
  pending.settle({ kind: 'response', id: sent[2], ok: true, result: { sum: 'three' } });
  assert.deepEqual(await added, { sum: 3 });
  await assert.rejects(failed, (e: unknown) => e instanceof ChannelError && e.code === 'failed' && e.message === 'the run folder is gone');
  await assert.rejects(invalid, (e: unknown) => e instanceof ChannelError && e.code === 'invalid-result' && /sum/.test(e.message));
  await assert.rejects(slow, (e: unknown) => e instanceof ChannelError && e.code === 'timeout' && /"slow" got no answer/.test(e.message));
  assert.equal(pending.size, 1, 'only the request without a deadline still waits');
  pending.settle({ kind: 'response', id: sent[4], ok: true, result: {} });
  assert.deepEqual(await dialog, {});
  // A late answer to the timed-out request is ignored.
  pending.settle({ kind: 'response', id: sent[3], ok: true, result: {} });
  assert.equal(pending.size, 0);
});

void test('the envelope: error codes travel, and anything else is refused', () => {
  for (const code of channelErrorCodes) assert.ok(envelopeSchema.safeParse({ kind: 'response', id: 1, ok: false, error: 'x', code }).success);
  assert.ok(!envelopeSchema.safeParse({ kind: 'response', id: 1, ok: false, code: 'teapot' }).success);
  assert.ok(!envelopeSchema.safeParse({ kind: 'request', id: 1.5, method: 'add', params: {} }).success);
  assert.ok(!envelopeSchema.safeParse({ kind: 'shout' }).success);
});

void test('every studio protocol declares zod schemas, and only requests that wait on the user or long work have no deadline', () => {
  const protocols = { evalDashboardProtocol, liveRunProtocol, trainingPreviewProtocol, trainingRunProtocol, trajectoryEditorProtocol };
  const unbounded: string[] = [];
  for (const [name, p] of Object.entries(protocols)) {
    for (const [method, definition] of Object.entries(p.requests)) {
      assert.ok(definition.params instanceof z.ZodType && definition.result instanceof z.ZodType, `${name}.${method}`);
      const timeout = (definition as { timeoutMs?: number | null }).timeoutMs;
      if (timeout === null) unbounded.push(`${name}.${method}`);
      else assert.ok(timeout === undefined || timeout > 0, `${name}.${method} has a positive deadline`);
    }
    for (const schema of [...Object.values(p.hostNotifications), ...Object.values(p.webviewNotifications)]) assert.ok(schema instanceof z.ZodType);
  }
  // The list is short on purpose; a new request waits at most the default unless it is added here with a reason.
  assert.deepEqual(unbounded.sort(), [
    'evalDashboardProtocol.addRun',
    'trainingRunProtocol.cancel',
    'trainingRunProtocol.download',
    'trainingRunProtocol.evaluate',
    'trainingRunProtocol.resume',
    'trainingRunProtocol.serve',
    'trajectoryEditorProtocol.continueWithTeacher',
    'trajectoryEditorProtocol.edit',
    'trajectoryEditorProtocol.reexecute',
  ]);
});

void test('the HTML shell: a strict CSP whose nonce is on every script, no inline script without it, and inert initial state', () => {
  const hostile = { question: '</script><script>alert(1)</script><!-- & \u2028' };
  const html = webviewShellHtml({ cspSource: 'vscode-resource:', asset: (...parts) => `vscode-resource:/dist/webview/${parts.join('/')}`, bundle: 'evalDashboard', title: 'A & <B>', initialState: hostile });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce && nonce.length >= 16, 'a nonce of at least 16 characters');
  for (const directive of ["default-src 'none'", "connect-src 'none'", "frame-src 'none'", "form-action 'none'", "base-uri 'none'"]) assert.ok(csp.includes(directive), directive);
  assert.ok(!/unsafe-(inline|eval)/.test(csp));
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 2, 'the initial state and the bundle, nothing else');
  for (const attrs of scripts) assert.ok(attrs.includes(`nonce="${nonce}"`));
  assert.ok(html.includes('src="vscode-resource:/dist/webview/evalDashboard.js"'));
  assert.ok(html.includes('<title>A &#38; &#60;B&#62;</title>'), 'the title is escaped');
  const stateText = /<script type="application\/json" id="initial-state"[^>]*>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  assert.ok(!/[<>&]/.test(stateText), 'no character that could end the script or open markup');
  assert.deepEqual(JSON.parse(stateText), hostile, 'the state reads back exactly');
  const other = webviewShellHtml({ cspSource: 'x', asset: () => 'x', bundle: 'b', title: 't' });
  assert.notEqual(/'nonce-([^']+)'/.exec(other)?.[1], nonce, 'each page gets a fresh nonce');
});
