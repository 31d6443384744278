import { AuditkitError } from '../../core/errors.js';
import { type AuditEvent, auditEventSchema, describeIssues } from '../../core/event.js';
import { toStorableString } from '../../core/redact.js';

/**
 * The columns `append` writes, in order, with the PostgreSQL array type each is sent as.
 * `data` holds the whole event as JSON, so reading it back gives exactly the event that was written;
 * the other columns are copies of its fields, for filtering and indexes.
 */
export const INSERT_COLUMNS = [
  ['id', 'uuid'],
  ['occurred_at', 'timestamptz'],
  ['category', 'text'],
  ['action', 'text'],
  ['outcome', 'text'],
  ['tenant_id', 'text'],
  ['actor_type', 'text'],
  ['actor_id', 'text'],
  ['actor_label', 'text'],
  ['target_type', 'text'],
  ['target_id', 'text'],
  ['target_label', 'text'],
  ['request_id', 'text'],
  ['request_path', 'text'],
  ['status', 'int4'],
  ['message', 'text'],
  ['reason', 'text'],
  ['idempotency_key', 'text'],
  ['seq', 'int8'],
  ['hash', 'text'],
  ['data', 'jsonb'],
] as const;

type ColumnValue = string | number | null;

/** One array per column of {@link INSERT_COLUMNS}: the parameters of the `unnest(...)` insert. */
export type ColumnArrays = ColumnValue[][];

/** `\u0000` or an escaped UTF-16 surrogate in JSON text: jsonb rejects both when unpaired or NUL. */
const SUSPECT_JSON = /\\u(?:0000|[dD][89a-fA-F])/;

/** Text PostgreSQL accepts: NUL and lone surrogates become U+FFFD (valid strings pass through untouched). */
function storable(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return value.isWellFormed() && !value.includes('\u0000') ? value : toStorableString(value);
}

/** Recursively cleans every string and key of a parsed JSON value. */
function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[storable(key) as string] = storableJson(inner);
    return out;
  }
  return value;
}

/**
 * The event as JSON text that jsonb accepts. The fast path is one `JSON.stringify` and one regex test;
 * only events that contain NUL or (possibly) lone surrogates are parsed back and cleaned.
 */
export function eventJson(event: AuditEvent): string {
  const json = JSON.stringify(event);
  if (!SUSPECT_JSON.test(json)) return json;
  // Paired surrogates are never escaped by JSON.stringify, so any escaped surrogate is a lone one;
  // a false positive (an escaped backslash before "u0000") is harmless: the value comes back unchanged.
  return JSON.stringify(storableJson(JSON.parse(json)));
}

function occurredAtIso(event: AuditEvent): string {
  const time = event.occurredAt instanceof Date ? event.occurredAt.getTime() : Number.NaN;
  if (Number.isNaN(time)) {
    throw new AuditkitError(
      'invalid_event',
      `Event ${event.id} has no valid occurredAt; nothing was stored.`,
    );
  }
  return (event.occurredAt as Date).toISOString();
}

/** Turns a batch of events into one array per column, ready for `unnest`. */
export function toColumnArrays(events: readonly AuditEvent[]): ColumnArrays {
  const columns: ColumnArrays = INSERT_COLUMNS.map(() => new Array<ColumnValue>(events.length));
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as AuditEvent;
    const status = e.request?.status;
    const row: ColumnValue[] = [
      e.id,
      occurredAtIso(e),
      storable(e.category),
      storable(e.action),
      storable(e.outcome),
      storable(e.tenantId),
      storable(e.actor?.type),
      storable(e.actor?.id),
      storable(e.actor?.label),
      storable(e.target?.type),
      storable(e.target?.id),
      storable(e.target?.label),
      storable(e.correlation?.requestId ?? e.request?.id),
      storable(e.request?.path),
      typeof status === 'number' && Number.isInteger(status) ? status : null,
      storable(e.message),
      storable(e.reason),
      storable(e.idempotencyKey),
      typeof e.seq === 'number' ? e.seq : null,
      storable(e.hash),
      eventJson(e),
    ];
    for (let c = 0; c < row.length; c++) (columns[c] as ColumnValue[])[i] = row[c] as ColumnValue;
  }
  return columns;
}

/** A row as `query`/`get` select it. */
export interface EventRow {
  data: unknown;
  seq: string | number | bigint | null;
  hash: string | null;
  /** occurred_at in UTC with microseconds, e.g. `2026-11-05T10:00:00.123456Z`: the cursor's time. */
  cursor_at: string;
  cursor_id: string;
}

/** The select list that produces an {@link EventRow}. */
export const EVENT_ROW_SELECT =
  `data, seq, hash, ` +
  `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at, id::text AS cursor_id`;

/**
 * Reads a stored event back: the JSON of `data` with its dates revived, plus `seq` and `hash` from their
 * columns (the sealer sets them after the event is written), validated by {@link auditEventSchema}.
 */
export function rowToEvent(row: EventRow): AuditEvent {
  const data = typeof row.data === 'string' ? (JSON.parse(row.data) as unknown) : row.data;
  const raw: Record<string, unknown> =
    data !== null && typeof data === 'object' ? { ...(data as Record<string, unknown>) } : {};
  if (typeof raw.occurredAt === 'string' || typeof raw.occurredAt === 'number') {
    raw.occurredAt = new Date(raw.occurredAt);
  } else if (raw.occurredAt === undefined) {
    raw.occurredAt = new Date(row.cursor_at);
  }
  if (raw.id === undefined) raw.id = row.cursor_id;
  if (row.seq !== null && row.seq !== undefined) raw.seq = Number(row.seq);
  if (row.hash !== null && row.hash !== undefined) raw.hash = row.hash;
  const parsed = auditEventSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AuditkitError(
      'store_error',
      `The stored event ${row.cursor_id} is not a valid AuditEvent: ${describeIssues(parsed.error).join('; ')}`,
      { details: { id: row.cursor_id, fields: describeIssues(parsed.error) } },
    );
  }
  return parsed.data;
}
