import { AuditkitError } from '../../core/errors.js';
import { CATEGORIES, OUTCOMES } from '../../core/event.js';
import { toStorableString } from '../../core/redact.js';
import { type AuditQuery, DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from '../store.js';
import { decodeCursor } from './cursor.js';
import { eventRowSelect } from './event-rows.js';
import { CORRELATION_INDEX_EXPRESSIONS } from './migrations.js';
import { textSearchCondition } from './text-search.js';

/** A statement ready for {@link SqlExecutor.query}, and the page size it was built for. */
export interface BuiltQuery {
  text: string;
  params: unknown[];
  /** Rows wanted; the statement fetches one more to know whether another page follows. */
  limit: number;
}

function invalid(message: string, field: string, value: unknown): AuditkitError {
  return new AuditkitError('invalid_query', message, { details: { field, value } });
}

/** Escapes `%`, `_` and `\` so the text matches itself literally in LIKE / ILIKE (escape char `\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function list<T>(value: T | readonly T[] | undefined): T[] | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

function checkDate(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalid(`${field} must be a valid Date.`, field, value);
  }
  return value;
}

function checkText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string.`, field, value);
  // Stored text never holds NUL or lone surrogates (they become U+FFFD), so neither may a filter.
  return toStorableString(value);
}

/** Validates `limit`: an integer from 1 to 1000, 50 when absent. */
export function resolveLimit(limit: unknown): number {
  if (limit === undefined || limit === null) return DEFAULT_QUERY_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw invalid(`limit must be an integer from 1 to ${MAX_QUERY_LIMIT}.`, 'limit', limit);
  }
  return limit;
}

/**
 * Builds the SELECT for {@link AuditStore.query}: every filter combined with AND, newest first, ties on
 * occurred_at broken by id, keyset pagination after the cursor's (occurred_at, id).
 *
 * Throws `invalid_query` for a bad limit or filter and `invalid_cursor` for a bad cursor, before any SQL runs.
 */
export function buildEventQuery(table: string, query: AuditQuery = {}): BuiltQuery {
  const { where, params, limit } = buildEventConditions(query);
  params.push(limit + 1);
  const sql =
    `SELECT ${eventRowSelect(table)} FROM ${table}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY occurred_at DESC, id DESC LIMIT $${params.length}`;
  return { text: sql, params, limit };
}

/** The WHERE conditions (joined with AND) of a query, their parameters, and the page size. */
export interface EventConditions {
  where: string[];
  params: unknown[];
  limit: number;
}

/**
 * The conditions of {@link buildEventQuery} on their own, for statements that aggregate or count the
 * same events (the UI's dashboard). Validates exactly as `buildEventQuery` does.
 */
export function buildEventConditions(query: AuditQuery = {}): EventConditions {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  const limit = resolveLimit(query.limit);

  const from = checkDate(query.from, 'from');
  if (from) where.push(`occurred_at >= ${param(from.toISOString())}::timestamptz`);
  const to = checkDate(query.to, 'to');
  if (to) where.push(`occurred_at < ${param(to.toISOString())}::timestamptz`);

  const categories = list(query.category);
  if (categories) {
    for (const c of categories) {
      if (!(CATEGORIES as readonly unknown[]).includes(c)) {
        throw invalid(`category must be one of ${CATEGORIES.join(', ')}.`, 'category', c);
      }
    }
    where.push(`category = ANY(${param(categories)}::text[])`);
  }

  const outcomes = list(query.outcome);
  if (outcomes) {
    for (const o of outcomes) {
      if (!(OUTCOMES as readonly unknown[]).includes(o)) {
        throw invalid(`outcome must be one of ${OUTCOMES.join(', ')}.`, 'outcome', o);
      }
    }
    where.push(`outcome = ANY(${param(outcomes)}::text[])`);
  }

  const actions = list(query.action);
  if (actions) {
    const exact: string[] = [];
    const alternatives: string[] = [];
    for (const a of actions) {
      if (typeof a !== 'string' || a.length === 0)
        throw invalid('action must be a non-empty string.', 'action', a);
      if (a.endsWith('*')) {
        alternatives.push(`action LIKE ${param(`${escapeLike(toStorableString(a.slice(0, -1)))}%`)}`);
      } else exact.push(toStorableString(a));
    }
    if (exact.length === 1) alternatives.unshift(`action = ${param(exact[0])}`);
    else if (exact.length > 1) alternatives.unshift(`action = ANY(${param(exact)}::text[])`);
    where.push(alternatives.length === 1 ? (alternatives[0] as string) : `(${alternatives.join(' OR ')})`);
  }

  const tenants = list(query.tenantId);
  if (tenants) {
    const values = tenants.map((t) => checkText(t, 'tenantId') as string);
    where.push(
      values.length === 1 ? `tenant_id = ${param(values[0])}` : `tenant_id = ANY(${param(values)}::text[])`,
    );
  }

  const equals: [keyof AuditQuery, string][] = [
    ['actorId', 'actor_id'],
    ['actorType', 'actor_type'],
    ['targetType', 'target_type'],
    ['targetId', 'target_id'],
    ['requestId', 'request_id'],
  ];
  for (const [field, column] of equals) {
    const value = checkText(query[field], field);
    if (value !== undefined) where.push(`${column} = ${param(value)}`);
  }

  // Read from the event JSON, the expressions indexed by migration 3 (`CORRELATION_INDEX_EXPRESSIONS`).
  for (const field of ['processId', 'correlationId'] as const) {
    const value = checkText(query[field], field);
    if (value !== undefined) where.push(`${CORRELATION_INDEX_EXPRESSIONS[field]} = ${param(value)}`);
  }

  const pathPrefix = checkText(query.pathPrefix, 'pathPrefix');
  if (pathPrefix !== undefined) where.push(`request_path LIKE ${param(`${escapeLike(pathPrefix)}%`)}`);

  const status = query.status;
  if (status !== undefined && status !== null) {
    if (typeof status === 'number') {
      if (!Number.isInteger(status) || status < 0 || status > 999) {
        throw invalid(
          'status must be an HTTP status code (an integer) or a class such as 5xx.',
          'status',
          status,
        );
      }
      where.push(`status = ${param(status)}`);
    } else {
      const match = typeof status === 'string' ? /^([1-5])xx$/i.exec(status) : null;
      if (!match)
        throw invalid('status must be an HTTP status code or a class such as 5xx.', 'status', status);
      const low = Number(match[1]) * 100;
      where.push(`status >= ${param(low)} AND status < ${param(low + 100)}`);
    }
  }

  const text = checkText(query.text, 'text');
  if (text !== undefined && text.length > 0) {
    // Uses the trigram index of migration 5 when there is one; the same rows either way.
    where.push(textSearchCondition(text, param(`%${escapeLike(text)}%`)));
  }

  if (query.cursor !== undefined && query.cursor !== null) {
    const position = decodeCursor(query.cursor);
    const at = param(position.occurredAt);
    // `occurred_at <=` is implied by the row comparison, but lets PostgreSQL skip newer partitions.
    where.push(
      `occurred_at <= ${at}::timestamptz AND (occurred_at, id) < (${at}::timestamptz, ${param(position.id)}::uuid)`,
    );
  }

  return { where, params, limit };
}
