import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Auditor } from '../../core/auditor.js';
import { AuditkitError } from '../../core/errors.js';
import type { HttpAuditOptions } from '../config.js';
import { createHttpAudit, type HttpRequestCapture } from '../http-audit.js';
import type { RequestAudit } from '../request-audit.js';

export type { HttpAuditOptions } from '../config.js';
export { flushHttpAudit } from '../http-audit.js';
export type { RequestAudit } from '../request-audit.js';

/** Context variables the middleware sets: `c.get('audit')`. Add to your app's `Variables`. */
export interface AuditVariables {
  audit: RequestAudit;
}

/** Options of the Hono adapter; the callables receive Hono's `c`. */
export type HonoAuditOptions = HttpAuditOptions<Context>;

/**
 * Hono middleware that records one `access` event per request (plus `auth` events on login/logout
 * routes and an `error` event for a thrown error or a 5xx) and runs the handlers inside the request's
 * audit context. It needs the Node.js server of `@hono/node-server`, whose `incoming`/`outgoing`
 * bindings it reads bodies from; elsewhere it reports `unsupported_runtime` once and passes through.
 *
 * @example
 * const app = new Hono<{ Variables: AuditVariables }>();
 * app.use(auditMiddleware(audit, { loginPaths: ['/login'] }));
 * app.get('/orders/:id', (c) => { c.get('audit').extra({ cache: 'miss' }); return c.json(order) });
 */
export function auditMiddleware(
  audit: Auditor,
  options: HonoAuditOptions = {},
): MiddlewareHandler<{ Variables: AuditVariables }> {
  const core = createHttpAudit<Context>(audit, options);
  let warned = false;
  return async function auditMiddleware(c, next) {
    const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    if (!env?.incoming || !env.outgoing) {
      if (!warned && core.options.enabled) {
        warned = true;
        audit.reportError(
          new AuditkitError(
            'unsupported_runtime',
            'auditkit/hono needs @hono/node-server (serve() or getRequestListener()); requests are not audited here.',
          ),
          'unsupported_runtime',
        );
      }
      await next();
      return;
    }
    let route: string | undefined;
    let capture: HttpRequestCapture | undefined;
    try {
      capture = core.begin(env.incoming, env.outgoing, {
        req: c as unknown as Context,
        route: () => route,
        // `user` by convention, `jwtPayload` from hono/jwt.
        user: () => {
          const vars = c as unknown as { get(key: string): unknown };
          return vars.get('user') ?? vars.get('jwtPayload');
        },
      });
    } catch (error) {
      audit.reportError(error, 'http_capture_failed');
    }
    if (!capture) {
      await next();
      return;
    }
    const current = capture;
    c.set('audit', current);
    await current.run(async () => {
      await next();
      route = honoRoute(c as unknown as Context);
      if (c.error) current.error(c.error);
    });
  };
}

/** The route pattern of the handler that answered; undefined when only middleware ran (not found). */
function honoRoute(c: Context): string | undefined {
  try {
    const route = matchedRoutes(c)[c.req.routeIndex];
    if (!route) return undefined;
    // Middleware takes (c, next): when the last one to run is middleware, no route answered.
    if (route.handler.length >= 2) return undefined;
    return route.path;
  } catch {
    return undefined;
  }
}
