import { AuditkitError } from '../../core/errors.js';
import { type AuditEvent, auditEventSchema, describeIssues } from '../../core/event.js';
import { toStorableString } from '../../core/redact.js';

/**
 * The columns `append` writes, in order, with the PostgreSQL type of each. `data` holds the whole event
 * as JSON, so reading it back gives exactly the event that was written; the other columns are copies of
 * its fields, for filtering and indexes.
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

/**
 * The row source of the batch insert: every flat column arrives as one PostgreSQL array parameter
 * (`$n::type[]`, unnested), and `data` as one JSON array (`$21::jsonb`, split by jsonb_array_elements);
 * ROWS FROM zips them into rows. The number of parameters is the same for 1 or 5,000 events.
 */
export function insertRowSource(): string {
  const sources = INSERT_COLUMNS.map(([name, type], i) =>
    name === 'data' ? `jsonb_array_elements($${i + 1}::jsonb)` : `unnest($${i + 1}::${type}[])`,
  );
  return `ROWS FROM (${sources.join(', ')})`;
}

/** `\u0000` or an escaped UTF-16 surrogate in JSON text: jsonb rejects NUL and unpaired surrogates. */
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
 * JSON text of `value` that jsonb accepts. The fast path is one `JSON.stringify` and one regex test;
 * only values containing NUL or (possibly) lone surrogates are parsed back and cleaned.
 */
export function storableJsonText(value: unknown): string {
  const json = JSON.stringify(value);
  if (!SUSPECT_JSON.test(json)) return json;
  // JSON.stringify never escapes paired surrogates, so an escaped surrogate is a lone one; a false
  // positive (an escaped backslash before "u0000") is harmless: the value comes back unchanged.
  return JSON.stringify(storableJson(JSON.parse(json)));
}

/** The event as JSON text that jsonb accepts. */
export function eventJson(event: AuditEvent): string {
  return storableJsonText(event);
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

/** One element of a PostgreSQL array literal: always quoted (so no value can break the array apart). */
function element(value: string | null): string {
  if (value === null) return 'NULL';
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}

function integerElement(value: unknown): string {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : 'NULL';
}

/**
 * The parameters of the batch insert for these events: one array literal per flat column and the JSON
 * array of the events, all as text (drivers pass strings through untouched, which is much faster than
 * letting them serialize arrays). Strings are made storable on the way.
 */
export function toInsertParams(events: readonly AuditEvent[]): string[] {
  // One stringify for the whole batch. Every flat column is a string inside the events, so when the JSON
  // shows no NUL and no lone surrogate, no column has one either and the per-field cleaning is skipped.
  let data = JSON.stringify(events);
  const clean = !SUSPECT_JSON.test(data);
  if (!clean) data = `[${events.map(eventJson).join(',')}]`;
  const text: (value: unknown) => string = (value) => {
    if (value === undefined || value === null) return 'NULL';
    const string = typeof value === 'string' ? value : String(value);
    return element(clean ? string : storable(string));
  };
  const flat = INSERT_COLUMNS.length - 1;
  const parts: string[][] = Array.from({ length: flat }, () => new Array<string>(events.length));
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as AuditEvent;
    const row = [
      text(e.id),
      element(occurredAtIso(e)),
      text(e.category),
      text(e.action),
      text(e.outcome),
      text(e.tenantId),
      text(e.actor?.type),
      text(e.actor?.id),
      text(e.actor?.label),
      text(e.target?.type),
      text(e.target?.id),
      text(e.target?.label),
      text(e.correlation?.requestId ?? e.request?.id),
      text(e.request?.path),
      integerElement(e.request?.status),
      text(e.message),
      text(e.reason),
      text(e.idempotencyKey),
      integerElement(e.seq),
      text(e.hash),
    ];
    for (let c = 0; c < flat; c++) (parts[c] as string[])[i] = row[c] as string;
  }
  const params = parts.map((column) => `{${column.join(',')}}`);
  params.push(data);
  return params;
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

/** `"schema"."audit_seals"` next to `"schema"."audit_events"`. */
export function sealsTableOf(eventsTable: string): string {
  const suffix = '"audit_events"';
  if (!eventsTable.endsWith(suffix)) {
    throw new AuditkitError('invalid_config', `Not an audit_events table name: ${eventsTable}`);
  }
  return `${eventsTable.slice(0, -suffix.length)}"audit_seals"`;
}

/**
 * The select list that produces an {@link EventRow} from `eventsTable` (unaliased): `seq` and `hash` come
 * from the event's seal (migration 4) when the sealer reached it, else from the event's own columns.
 */
export function eventRowSelect(eventsTable: string): string {
  const seal = (column: string) =>
    `(SELECT s.${column} FROM ${sealsTableOf(eventsTable)} s WHERE s.event_id = audit_events.id ` +
    `AND s.occurred_at = audit_events.occurred_at LIMIT 1)`;
  return (
    `data, coalesce(${seal('seq')}, seq) AS seq, coalesce(${seal('hash')}, hash) AS hash, ` +
    `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at, id::text AS cursor_id`
  );
}

/**
 * Reads a stored event back: the JSON of `data` with its dates revived, plus `seq` and `hash` from its
 * seal (the sealer sets them after the event is written), validated by {@link auditEventSchema}.
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
