import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '../core/event.js';

/** The header carrying the signature: `sha256=<hex HMAC-SHA256 of the raw body>` (as the webhook notifier). */
export const SIGNATURE_HEADER = 'x-auditkit-signature';
/** The header naming a delivery; the same batch sent again carries the same id. */
export const DELIVERY_HEADER = 'x-auditkit-delivery';

/** `sha256=<hex>`: the HMAC-SHA256 of the raw body with the shared secret. */
export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Checks a webhook delivery on the receiving side, in constant time. Pass the raw body exactly as
 * received (before any JSON parsing) and the `x-auditkit-signature` header.
 *
 * @example
 * app.post('/audit-in', express.raw({ type: 'application/json' }), (req, res) => {
 *   if (!verifyWebhookSignature(secret, req.body, req.get('x-auditkit-signature'))) return res.sendStatus(401);
 *   ...
 * });
 */
export function verifyWebhookSignature(
  secret: string,
  body: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A delivery id derived from the event ids, so a batch sent again is recognisable. */
export function deliveryId(events: readonly AuditEvent[]): string {
  const hash = createHash('sha256');
  for (const event of events) hash.update(event.id).update('\n');
  return hash.digest('hex').slice(0, 32);
}
