import { randomUUID } from 'node:crypto';

/** Printable, no spaces, short enough to index: anything else from a client is replaced. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The incoming request id when it is a sane value, else a new UUID. */
export function pickRequestId(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value !== undefined && VALID_REQUEST_ID.test(value) ? value : randomUUID();
}

/** Trace and span id of a W3C `traceparent` header (`00-<trace>-<span>-<flags>`), when it is valid. */
export function parseTraceparent(
  header: string | string[] | undefined,
): { traceId: string; spanId: string } | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value.trim());
  if (!match || match[1] === 'ff') return undefined;
  const traceId = match[2] as string;
  const spanId = match[3] as string;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId };
}
