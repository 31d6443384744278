import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Auditor } from '../../core/auditor.js';
import type { HttpAuditOptions } from '../config.js';
import { createHttpAudit, type FrameworkBinding, type HttpRequestCapture } from '../http-audit.js';
import type { RequestAudit } from '../request-audit.js';

export type { HttpAuditOptions } from '../config.js';
export { flushHttpAudit } from '../http-audit.js';
export type { RequestAudit } from '../request-audit.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by Auditkit's `auditMiddleware`: adds to this request's access event. */
      audit?: RequestAudit;
    }
  }
}

/** Options of the Express adapter; the callables receive Express's `req`. */
export type ExpressAuditOptions = HttpAuditOptions<Request>;

/**
 * Express middleware that records one `access` event per request (plus `auth` events on login/logout
 * routes and an `error` event for a 5xx), and runs the rest of the chain inside the request's audit
 * context. Register it first; register `auditErrorHandler()` after your routes so thrown errors keep
 * their stack.
 *
 * @example
 * app.use(auditMiddleware(audit, { loginPaths: ['/login'] }));
 * app.post('/orders', (req, res) => { req.audit?.extra({ plan: 'pro' }); res.status(201).json(order) });
 * app.use(auditErrorHandler());
 */
export function auditMiddleware(audit: Auditor, options: ExpressAuditOptions = {}): RequestHandler {
  const core = createHttpAudit<Request>(audit, options);
  return function auditMiddleware(req, res, next) {
    let capture: HttpRequestCapture | undefined;
    try {
      capture = core.begin(req, res, new ExpressBinding(req));
    } catch (error) {
      audit.reportError(error, 'http_capture_failed');
    }
    if (!capture) {
      next();
      return;
    }
    req.audit = capture;
    try {
      const started = capture.run(() => next());
      if (started instanceof Promise) started.catch(next);
    } catch (error) {
      next(error);
    }
  };
}

/**
 * Express error middleware that gives the request's `error` event the thrown error (message, stack),
 * then passes the error on untouched to your own error handlers. Register it after your routes.
 *
 * @example
 * app.use(auditErrorHandler());
 */
export function auditErrorHandler(): ErrorRequestHandler {
  return function auditErrorHandler(error, req, _res, next) {
    req.audit?.error(error);
    next(error);
  };
}

/** What the capture core asks Express, as one object per request rather than a closure per question. */
class ExpressBinding implements FrameworkBinding<Request> {
  constructor(readonly req: Request) {}
  route(): string | undefined {
    return expressRoute(this.req);
  }
  user(): unknown {
    return (this.req as { user?: unknown }).user;
  }
}

/** `/users/:id`, including the mount path of a sub-router; undefined when no route matched. */
function expressRoute(req: Request): string | undefined {
  const route = (req as { route?: { path?: unknown } }).route;
  if (!route || route.path === undefined) return undefined;
  const path = Array.isArray(route.path) ? route.path.map(String).join('|') : String(route.path);
  return `${req.baseUrl ?? ''}${path}` || '/';
}
