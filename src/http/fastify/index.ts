import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Auditor } from '../../core/auditor.js';
import { AuditkitError } from '../../core/errors.js';
import type { HttpAuditOptions } from '../config.js';
import { createHttpAudit, type FrameworkBinding, type HttpRequestCapture } from '../http-audit.js';
import type { RequestAudit } from '../request-audit.js';

export type { HttpAuditOptions } from '../config.js';
export { flushHttpAudit } from '../http-audit.js';
export type { RequestAudit } from '../request-audit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by Auditkit's `auditPlugin`: adds to this request's access event (null when disabled). */
    audit: RequestAudit | null;
  }
}

/** Options of `app.register(auditPlugin, { audit, ... })`; the callables receive Fastify's `request`. */
export interface FastifyAuditOptions extends HttpAuditOptions<FastifyRequest> {
  audit: Auditor;
}

/** Keys Fastify itself may put in a plugin's options; they are not ours to validate. */
const FASTIFY_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

const plugin: FastifyPluginCallback<FastifyAuditOptions> = (fastify, pluginOptions, done) => {
  const { audit, ...rest } = pluginOptions;
  if (!audit) {
    done(
      new AuditkitError(
        'invalid_config',
        'auditPlugin needs an auditor: app.register(auditPlugin, { audit }).',
      ),
    );
    return;
  }
  const options = Object.fromEntries(Object.entries(rest).filter(([key]) => !FASTIFY_KEYS.has(key)));
  let core: ReturnType<typeof createHttpAudit<FastifyRequest>>;
  try {
    core = createHttpAudit<FastifyRequest>(audit, options);
  } catch (error) {
    done(error as Error);
    return;
  }
  const captureOf = (request: FastifyRequest) => request.audit as HttpRequestCapture | null;

  fastify.decorateRequest('audit', null);

  fastify.addHook('onRequest', function auditOnRequest(request, reply, hookDone) {
    let capture: HttpRequestCapture | undefined;
    try {
      capture = core.begin(request.raw, reply.raw, new FastifyBinding(request));
    } catch (error) {
      audit.reportError(error, 'http_capture_failed');
    }
    if (!capture) {
      hookDone();
      return;
    }
    request.audit = capture;
    try {
      const started = capture.run(() => hookDone());
      if (started instanceof Promise) started.catch((error: Error) => hookDone(error));
    } catch (error) {
      hookDone(error as Error);
    }
  });

  // Body parsing runs on stream events, which lose the async context: step back into the request's.
  fastify.addHook('preValidation', function auditPreValidation(request, _reply, hookDone) {
    const capture = captureOf(request);
    if (capture) capture.resume(() => hookDone());
    else hookDone();
  });

  fastify.addHook('onError', function auditOnError(request, _reply, error, hookDone) {
    captureOf(request)?.error(error);
    hookDone();
  });

  done();
};

/** What the capture core asks Fastify, as one object per request rather than a closure per question. */
class FastifyBinding implements FrameworkBinding<FastifyRequest> {
  constructor(readonly req: FastifyRequest) {}
  route(): string | undefined {
    return this.req.routeOptions.url;
  }
  user(): unknown {
    return (this.req as { user?: unknown }).user;
  }
}

/**
 * Fastify plugin (wrapped with fastify-plugin, so it applies to the whole app) that records one
 * `access` event per request, `auth` events on login/logout routes and an `error` event for a thrown
 * error or a 5xx, and runs handlers inside the request's audit context.
 *
 * @example
 * await app.register(auditPlugin, { audit, loginPaths: ['/login'] });
 * app.get('/orders/:id', async (request) => { request.audit?.extra({ cache: 'miss' }); return order });
 */
export const auditPlugin = fp(plugin, { fastify: '5.x', name: 'auditkit' });
