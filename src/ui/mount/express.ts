import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditUi } from '../audit-ui.js';
import { type NodeRequestLike, sendFetchResponse, toFetchRequest } from './node.js';

/** What the Express adapter reads of Express's request (structural: Express stays an optional peer). */
export interface ExpressRequestLike extends NodeRequestLike {
  /** With `trust proxy`, the client address Express computed. */
  ip?: string;
}

/**
 * Express middleware serving the UI. Mount it on the UI's `basePath` (or anywhere above it); requests
 * outside the base path go to `next()`. Works whether or not a body parser ran before it.
 *
 * @example
 * const ui = auditUi({ audit, basePath: '/audit', users });
 * app.use('/audit', auditUiExpress(ui));
 */
export function auditUiExpress(
  ui: AuditUi,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return function auditUiExpressMiddleware(req, res, next) {
    const request = req as ExpressRequestLike;
    const url = request.originalUrl ?? request.url ?? '/';
    const path = url.split('?')[0] as string;
    if (path !== ui.basePath && !path.startsWith(`${ui.basePath}/`)) {
      next();
      return;
    }
    (async () => {
      const fetchRequest = await toFetchRequest(request, url);
      const clientIp = request.ip ?? req.socket?.remoteAddress;
      const response = await ui.handle(fetchRequest, { native: req, ...(clientIp ? { clientIp } : {}) });
      await sendFetchResponse(res, response);
    })().catch(next);
  };
}
