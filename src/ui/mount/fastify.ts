import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { AuditUi } from '../audit-ui.js';
import { type NodeRequestLike, toFetchRequest } from './node.js';

/** The parts of a Fastify instance the plugin uses (structural: Fastify stays an optional peer). */
export interface FastifyInstanceLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: unknown, body: Buffer, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  route(options: {
    method: string[];
    url: string;
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;
  }): unknown;
}

export interface FastifyRequestLike {
  raw: IncomingMessage;
  body?: unknown;
  ip?: string;
}

export interface FastifyReplyLike {
  raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string | string[]): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/**
 * A Fastify plugin serving the UI at its `basePath`. Register it without `fastify-plugin`: it keeps its
 * own body parsing (raw forms) inside its encapsulated context.
 *
 * @example
 * const ui = auditUi({ audit, basePath: '/audit', users });
 * await app.register(auditUiFastify(ui));
 */
export function auditUiFastify(ui: AuditUi): (instance: FastifyInstanceLike) => Promise<void> {
  return async function auditUiFastifyPlugin(instance) {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_request, body, done) =>
      done(null, body),
    );
    const handler = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
      const raw = request.raw as NodeRequestLike;
      const fetchRequest = await toFetchRequest(
        Object.assign(Object.create(raw) as NodeRequestLike, { body: request.body, headers: raw.headers }),
        raw.url,
        false,
      );
      const clientIp = request.ip ?? raw.socket?.remoteAddress;
      const response = await ui.handle(fetchRequest, { native: request, ...(clientIp ? { clientIp } : {}) });
      reply.code(response.status);
      const cookies = response.headers.getSetCookie();
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') reply.header(name, value);
      });
      if (cookies.length > 0) reply.header('set-cookie', cookies);
      return reply.send(response.body ? Readable.fromWeb(response.body as NodeReadableStream) : null);
    };
    const methods = ['GET', 'HEAD', 'POST'];
    instance.route({ method: methods, url: ui.basePath || '/', handler });
    instance.route({ method: methods, url: `${ui.basePath}/*`, handler });
  };
}
