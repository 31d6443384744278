import type { AuditUi } from '../audit-ui.js';

/** The parts of a Hono context the handler uses (structural: Hono stays an optional peer). */
export interface HonoContextLike {
  req: { raw: Request };
  /** On @hono/node-server: the node request, for the client address. */
  env?: unknown;
}

/**
 * A Hono handler serving the UI; route both the base path and everything under it to it.
 *
 * @example
 * const ui = auditUi({ audit, basePath: '/audit', users });
 * const handler = auditUiHono(ui);
 * app.all('/audit', handler);
 * app.all('/audit/*', handler);
 */
export function auditUiHono(ui: AuditUi): (c: HonoContextLike) => Promise<Response> {
  return function auditUiHonoHandler(c) {
    const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
    const clientIp = incoming?.socket?.remoteAddress;
    return ui.handle(c.req.raw, { native: c, ...(clientIp ? { clientIp } : {}) });
  };
}
