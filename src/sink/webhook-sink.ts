import { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import type { SendOptions, Sink } from './sink.js';
import { DELIVERY_HEADER, deliveryId, SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

export interface WebhookSinkOptions {
  /** Where batches are POSTed as JSON: `{ deliveryId, sentAt, events }`. */
  url: string;
  /** Shared secret: each body is signed, `x-auditkit-signature: sha256=<hex HMAC-SHA256 of the body>`. */
  secret?: string;
  /** Extra request headers, e.g. the receiver's API key. */
  headers?: Record<string, string>;
  /** Per-request timeout. Default 10,000 ms. */
  timeoutMs?: number;
  /** Names the sink (and its stored cursor). Default `webhook`. */
  name?: string;
}

/**
 * Sends batches of events to an HTTP endpoint, signed with HMAC-SHA256 when a secret is given. Any
 * status other than 2xx (or a timeout, or a refused connection) fails the batch, which is sent again
 * later with the same `x-auditkit-delivery` id.
 *
 * @example
 * webhookSink({ url: 'https://siem.example.com/auditkit', secret: process.env.AUDIT_WEBHOOK_SECRET! })
 */
export function webhookSink({
  url,
  secret,
  headers = {},
  timeoutMs = 10_000,
  name = 'webhook',
}: WebhookSinkOptions): Sink {
  let target: URL;
  try {
    target = new URL(url);
  } catch (error) {
    throw new AuditkitError('invalid_config', `webhookSink needs a valid URL, got "${url}".`, {
      cause: error,
    });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new AuditkitError('invalid_config', `webhookSink needs an http(s) URL, got "${target.protocol}".`);
  }
  if (secret !== undefined && secret.length < 16) {
    throw new AuditkitError('invalid_config', 'webhookSink secret must be at least 16 characters long.');
  }
  // fetch refuses credentials in a URL: they travel as basic authentication instead.
  const auth: Record<string, string> = {};
  if (target.username || target.password) {
    const pair = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    auth.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  // Messages name the endpoint without credentials or query string.
  const where = `${target.origin}${target.pathname}`;
  const hideUrl = (text: string) => text.split(url).join(where).split(target.href).join(where);

  return {
    name,
    async send(events: readonly AuditEvent[], options: SendOptions = {}) {
      const id = deliveryId(events);
      const body = JSON.stringify({ deliveryId: id, sentAt: new Date().toISOString(), events });
      const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
      let response: Response;
      try {
        response = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...auth,
            ...headers,
            [DELIVERY_HEADER]: id,
            ...(secret ? { [SIGNATURE_HEADER]: signWebhookBody(secret, body) } : {}),
          },
          body,
          signal: AbortSignal.any(signals),
        });
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        const reason = hideUrl(cause instanceof Error ? cause.message : String(cause));
        throw new AuditkitError('sink_failed', `Webhook ${where} could not be reached: ${reason}.`, {
          cause: error,
        });
      }
      // Read the body so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) {
        throw new AuditkitError(
          'sink_failed',
          `Webhook ${where} answered ${response.status} ${response.statusText}.`,
          {
            details: { status: response.status },
          },
        );
      }
    },
  };
}
