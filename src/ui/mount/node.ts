import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AuditUi } from '../audit-ui.js';

/** Largest request body the UI reads (its forms are small). */
const MAX_BODY_BYTES = 256 * 1024;

/** How the node adapters see a request: node's own, maybe with a body a framework already read. */
export interface NodeRequestLike extends IncomingMessage {
  /** Express keeps the full URL here when the UI is mounted under a path. */
  originalUrl?: string;
  /** A body already read (and parsed) by a framework's body parser. */
  body?: unknown;
}

/** Reads a node request as a Fetch `Request` (the body bounded, or taken from a parser that already ran). */
export async function toFetchRequest(req: NodeRequestLike, url?: string, readBody = true): Promise<Request> {
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const host = req.headers.host ?? 'localhost';
  const target = new URL(
    url ?? req.originalUrl ?? req.url ?? '/',
    `${encrypted ? 'https' : 'http'}://${host}`,
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  let body: string | Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    if (req.body !== undefined || !readBody) {
      body = parsedBody(req.body);
      headers.delete('content-length');
    } else body = await readNodeBody(req);
  }
  return new Request(target, {
    method,
    headers,
    ...(body === undefined ? {} : { body: body as NonNullable<RequestInit['body']> }),
  });
}

/** A body a parser already turned into an object becomes an urlencoded form again. */
function parsedBody(body: unknown): string | Buffer {
  if (Buffer.isBuffer(body) || typeof body === 'string') return body;
  if (typeof body === 'object' && body !== null) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form.set(k, v);
    return form.toString();
  }
  return '';
}

function readNodeBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Error('request body too large'));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes a Fetch `Response` to a node response, streaming its body. */
export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  const cookies = response.headers.getSetCookie();
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    body.on('error', () => {
      res.destroy(); // a broken export: the client sees a cut download, never a half-valid file as complete
      resolve();
    });
    res.on('close', resolve);
    body.pipe(res);
  });
}

/**
 * A node `(req, res)` handler for the UI, for `http.createServer` or any framework that passes node's
 * objects. The client address comes from the socket.
 *
 * @example
 * http.createServer(auditUiNode(auditUi({ audit, users }))).listen(4600);
 */
export function auditUiNode(ui: AuditUi): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async function auditUiNodeHandler(req, res) {
    try {
      const request = await toFetchRequest(req as NodeRequestLike);
      const response = await ui.handle(request, {
        native: req,
        ...(req.socket?.remoteAddress ? { clientIp: req.socket.remoteAddress } : {}),
      });
      await sendFetchResponse(res, response);
    } catch {
      if (!res.headersSent) {
        res.statusCode = 400;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end('Bad request\n');
      } else res.destroy();
    }
  };
}
