import { z } from 'zod';

/**
 * The wire format between the extension host and every webview. Each view defines its own protocol with
 * `defineProtocol` (request/response pairs and notifications, each a zod schema); the envelope below
 * carries them. Both sides validate every inbound message; a bad message gets a structured error reply.
 * This module imports neither `vscode` nor the DOM, so both builds can use it.
 */

/**
 * Why a request failed, so a page can tell a bug (`unknown-request`, `invalid-params`, `invalid-result`) from
 * a failure the user can act on (`failed`: the handler's own message) and from a host that never answered
 * (`timeout`).
 */
export const channelErrorCodes = ['unknown-request', 'invalid-params', 'failed', 'invalid-result', 'timeout'] as const;
export type ChannelErrorCode = (typeof channelErrorCodes)[number];

/** A failed request as the page sees it: the host's message and its code. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ChannelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** How long a page waits for the answer to a request unless its definition says otherwise. */
export const defaultRequestTimeoutMs = 60_000;

export const envelopeSchema = z.discriminatedUnion('kind', [
  /** Webview → host, once its script has run and it can receive messages. */
  z.object({ kind: z.literal('ready') }),
  z.object({ kind: z.literal('request'), id: z.number().int(), method: z.string(), params: z.unknown() }),
  z.object({
    kind: z.literal('response'),
    id: z.number().int(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.string().optional(),
    code: z.enum(channelErrorCodes).optional(),
  }),
  z.object({ kind: z.literal('notification'), method: z.string(), params: z.unknown() }),
]);
export type Envelope = z.infer<typeof envelopeSchema>;

export interface RequestDefinition<P extends z.ZodType, R extends z.ZodType> {
  params: P;
  result: R;
  /**
   * How long the page waits for the answer (default {@link defaultRequestTimeoutMs}); `null` for a request
   * that waits on the user (a dialog) or on long work the user watches and can cancel (a download).
   */
  timeoutMs?: number | null;
}

export interface ProtocolDefinition {
  /** Requests the webview sends to the host (the host answers). */
  requests: Record<string, RequestDefinition<z.ZodType, z.ZodType>>;
  /** Notifications the host pushes to the webview. */
  hostNotifications: Record<string, z.ZodType>;
  /** Notifications the webview sends to the host (no answer). */
  webviewNotifications: Record<string, z.ZodType>;
}

/** Identity function that keeps the literal types of a protocol definition. */
export function defineProtocol<const P extends ProtocolDefinition>(protocol: P): P {
  return protocol;
}

export type RequestParams<P extends ProtocolDefinition, M extends keyof P['requests']> = z.infer<P['requests'][M]['params']>;
export type RequestResult<P extends ProtocolDefinition, M extends keyof P['requests']> = z.infer<P['requests'][M]['result']>;
export type HostNotificationParams<P extends ProtocolDefinition, M extends keyof P['hostNotifications']> = z.infer<P['hostNotifications'][M]>;
export type WebviewNotificationParams<P extends ProtocolDefinition, M extends keyof P['webviewNotifications']> = z.infer<P['webviewNotifications'][M]>;

/** Formats a zod error as `path: message; …` for error replies and logs (in src/environment/, since the core uses it too). */
export { describeZodError } from '../environment/zodErrors';
