import type { ActorLike } from '../core/context.js';

/**
 * The per-request API a handler reaches as `req.audit` (Express), `request.audit` (Fastify) or
 * `c.get('audit')` (Hono), to add to the access event of the request it is handling.
 *
 * @example
 * app.post('/orders', (req, res) => {
 *   req.audit?.extra({ orderTotal: 42 });
 *   res.json(order);
 * });
 */
export interface RequestAudit {
  /** The request id: the incoming header when it was valid, else a generated UUID. */
  readonly requestId: string;
  /** Adds fields to the access event's `metadata` (merged; later calls win per key). */
  extra(data: Record<string, unknown>): void;
  /** Names the actor of this request (e.g. right after a login), ahead of every default. */
  actor(actor: ActorLike | null): void;
  /** Sets the tenant of this request and of every event recorded in it from now on. */
  tenant(tenantId: string | null): void;
  /** Why the request failed (e.g. `bad_password` on a login route); stored as the events' `reason`. */
  reason(reason: string): void;
  /** Reports an error the app handled itself, so the request still produces an `error` event. */
  error(error: unknown): void;
  /** No access event for this request (auth and error events are still recorded). */
  skip(): void;
}
