import type { IncomingMessage, ServerResponse } from 'node:http';
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

  // Fastify answers some requests before any hook runs (a path whose percent-encoding does not decode:
  // 400 FST_ERR_BAD_URL; a too-long route parameter: 414). So that they too get their access event, a
  // listener on the server notes every request, and a response that closes without onRequest having
  // seen it is recorded from Node's objects. Only for the root instance: registered inside an
  // encapsulated context, the plugin audits that context's routes and nothing else.
  const root = Object.getPrototypeOf(fastify) === Object.prototype;
  const server = fastify.server as typeof fastify.server | undefined;
  if (root && server && typeof server.prependListener === 'function') {
    const onRawClose = function auditOnRawClose(this: RawResponse) {
      if (this[SEEN] === true) return;
      try {
        core.begin(this.req, this, {
          req: this.req as unknown as FastifyRequest,
          bare: true,
          startedAt: this[SEEN],
          route: () => undefined,
          user: () => undefined,
        });
      } catch (error) {
        audit.reportError(error, 'http_capture_failed');
      }
    };
    const onRawRequest = (_req: IncomingMessage, res: RawResponse) => {
      res[SEEN] = performance.now();
      res.on('close', onRawClose);
    };
    server.prependListener('request', onRawRequest);
    fastify.addHook('onClose', (_instance, hookDone) => {
      server.removeListener('request', onRawRequest);
      hookDone();
    });
  }

  fastify.addHook('onRequest', function auditOnRequest(request, reply, hookDone) {
    (reply.raw as RawResponse)[SEEN] = true;
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

/** On a raw response: when it arrived (a number) until Fastify's onRequest saw it (`true`). */
const SEEN = Symbol('auditkit.fastifySeen');
type RawResponse = ServerResponse & { [SEEN]?: number | true };

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
