import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * What a tap saw of one body: the first `limit` bytes, and how many bytes went by in total. The rest is
 * counted and let through, never kept, so a 1 GB upload costs `limit` bytes of memory.
 */
export interface BodyTap {
  /** UTF-8 strings stay strings (a response written as text is not encoded and decoded again). */
  readonly chunks: Array<Buffer | string>;
  /** Bytes kept in `chunks`. */
  captured: number;
  /** Bytes seen. */
  total: number;
  /** Separate writes (responses): more than one without a content-length means it was streamed. */
  writes: number;
  /** The body ended (request fully received; response ended). */
  complete: boolean;
}

function newTap(): BodyTap {
  return { chunks: [], captured: 0, total: 0, writes: 0, complete: false };
}

function take(tap: BodyTap, limit: number, chunk: unknown, encoding?: unknown): void {
  if (chunk === null || chunk === undefined) return;
  if (typeof chunk === 'string') {
    const enc = (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding;
    const bytes = Buffer.byteLength(chunk, enc);
    tap.total += bytes;
    if (tap.captured < limit) {
      const room = limit - tap.captured;
      if (bytes <= room && (enc === 'utf8' || enc === 'utf-8') && bytes > 0) {
        tap.chunks.push(chunk);
        tap.captured += bytes;
        return;
      }
      // Convert only a prefix: a character is at least one byte, so `room` characters cover `room` bytes.
      const part = Buffer.from(chunk.length > room ? chunk.slice(0, room) : chunk, enc);
      keep(tap, part.length > room ? part.subarray(0, room) : part);
    }
    return;
  }
  if (chunk instanceof Uint8Array) {
    tap.total += chunk.byteLength;
    if (tap.captured < limit) {
      const room = limit - tap.captured;
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      keep(tap, buf.length > room ? buf.subarray(0, room) : buf);
    }
  }
}

function keep(tap: BodyTap, part: Buffer): void {
  if (part.length === 0) return;
  tap.chunks.push(part);
  tap.captured += part.length;
}

/**
 * Watches a request body as the HTTP parser hands it over (`push`), whoever reads it and however: body
 * parsers, streams, or nobody. The stream itself is untouched.
 */
export function tapRequest(req: IncomingMessage, limit: number): BodyTap {
  const tap = newTap();
  const push = req.push;
  req.push = function auditedPush(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk === null) tap.complete = true;
    else take(tap, limit, chunk, encoding);
    return push.call(this, chunk, encoding);
  };
  if (req.complete) tap.complete = true;
  return tap;
}

/** What a response tap adds: the headers given to `writeHead` (Node keeps those out of `getHeaders()`). */
export interface ResponseTap extends BodyTap {
  writeHeadHeaders: OutgoingHttpHeaders | undefined;
}

/**
 * Watches a response as the app writes it (`write`/`end`, and headers passed to `writeHead` unless
 * `watchWriteHead` is false), keeping at most `limit` bytes. With `limit` 0 only sizes are counted.
 * Arguments pass through unchanged. (Once any header was set with `setHeader`, Node keeps the headers given
 * to `writeHead` in `getHeaders()` too, so the echoed request id makes watching `writeHead` unnecessary.)
 */
export function tapResponse(res: ServerResponse, limit: number, watchWriteHead = true): ResponseTap {
  // A literal rather than a spread of newTap(): a spread with an added key takes V8's slow path.
  const tap: ResponseTap = {
    chunks: [],
    captured: 0,
    total: 0,
    writes: 0,
    complete: false,
    writeHeadHeaders: undefined,
  };
  const { write, end, writeHead } = res;
  res.write = function auditedWrite(this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) {
    // Once `end` took the last chunk, writes are the framework's own (light-my-request's `end` calls
    // `this.write` with the same chunk): counting them would store the body twice.
    if (!tap.complete) {
      tap.writes += 1;
      take(tap, limit, chunk, encoding);
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, encoding, cb);
  } as ServerResponse['write'];
  res.end = function auditedEnd(this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
    if (!tap.complete && chunk !== undefined && typeof chunk !== 'function') {
      tap.writes += 1;
      take(tap, limit, chunk, encoding);
    }
    tap.complete = true;
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, encoding, cb);
  } as ServerResponse['end'];
  if (!watchWriteHead) return tap;
  res.writeHead = function auditedWriteHead(this: ServerResponse, ...args: unknown[]) {
    const last = args[args.length - 1];
    if (args.length > 1 && typeof last === 'object' && last !== null && !Array.isArray(last)) {
      tap.writeHeadHeaders = last as OutgoingHttpHeaders;
    } else if (Array.isArray(last)) {
      tap.writeHeadHeaders = flatHeaders(last as unknown[]);
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  return tap;
}

/** `writeHead(status, ['a', '1', 'b', '2'])` or `[['a','1']]` into an object. */
function flatHeaders(list: unknown[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (list.every(Array.isArray)) {
    for (const pair of list as unknown[][]) out[String(pair[0]).toLowerCase()] = String(pair[1]);
    return out;
  }
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i]).toLowerCase()] = String(list[i + 1]);
  return out;
}

/** The bytes a tap kept, as one buffer. */
export function tapBytes(tap: BodyTap): Buffer {
  const { chunks } = tap;
  if (chunks.length === 1) {
    const only = chunks[0] as Buffer | string;
    return typeof only === 'string' ? Buffer.from(only) : only;
  }
  return Buffer.concat(
    chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)),
    tap.captured,
  );
}

/** The text a tap kept when every chunk was written as a string, else undefined (bytes to decode). */
export function tapText(tap: BodyTap): string | undefined {
  const { chunks } = tap;
  if (chunks.length === 1) return typeof chunks[0] === 'string' ? chunks[0] : undefined;
  let text = '';
  for (const chunk of chunks) {
    if (typeof chunk !== 'string') return undefined;
    text += chunk;
  }
  return text;
}
