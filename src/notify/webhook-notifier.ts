import { createHmac } from 'node:crypto';
import { AuditkitError } from '../core/errors.js';
import type { Notice, Notifier } from './notifier.js';

export interface WebhookNotifierOptions {
  /** Where the notice is POSTed as JSON. */
  url: string;
  /** Extra request headers, e.g. an API key of the receiving service. */
  headers?: Record<string, string>;
  /** When set, the body is signed: `x-auditkit-signature: sha256=<hex HMAC of the body>`. */
  secret?: string;
  /** Per-attempt timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Shapes the JSON body (e.g. `(n) => ({ text: n.subject })` for a chat webhook). Default: the notice. */
  body?: (notice: Notice) => unknown;
}

/**
 * A notifier that POSTs each notice as JSON; any status other than 2xx is a failed attempt.
 *
 * @example
 * webhookNotifier({ url: 'https://hooks.example.com/audit', secret: process.env.HOOK_SECRET })
 */
export function webhookNotifier({
  url,
  headers = {},
  secret,
  timeoutMs = 5000,
  body = (notice) => notice,
}: WebhookNotifierOptions): Notifier {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new AuditkitError(
      'invalid_config',
      `webhookNotifier needs an http(s) URL, got "${target.protocol}".`,
    );
  }
  return {
    name: 'webhook',
    async notify(notice) {
      const payload = JSON.stringify(body(notice));
      const signature: Record<string, string> = secret
        ? { 'x-auditkit-signature': `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}` }
        : {};
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers, ...signature },
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Drain so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) {
        throw new AuditkitError(
          'notify_failed',
          `Webhook answered ${response.status} ${response.statusText}.`,
          {
            details: { status: response.status },
          },
        );
      }
    },
  };
}
