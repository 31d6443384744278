import { AuditkitError } from '../../core/errors.js';
import { CATEGORIES, OUTCOMES } from '../../core/event.js';
import { toStorableString } from '../../core/redact.js';
import { decodeCursor, encodeCursor } from '../sql/cursor.js';
import { resolveLimit } from '../sql/query-builder.js';
import type { AuditQuery } from '../store.js';

export type MongoFilter = Record<string, unknown>;

/** A find ready to run: filter, newest-first sort, and one more document than the page to see if another follows. */
export interface MongoFind {
  filter: MongoFilter;
  sort: { occurredAt: -1; _id: -1 };
  /** Page size; fetch `limit + 1`. */
  limit: number;
}

function invalid(message: string, field: string, value: unknown): AuditkitError {
  return new AuditkitError('invalid_query', message, { details: { field, value } });
}

/** Escapes every regular-expression character, so the text matches itself literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
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
  return toStorableString(value);
}

/** The cursor for the page ending with this document: the same format as the SQL stores' cursors. */
export function cursorAfter(doc: { _id: string; occurredAt: Date }): string {
  return encodeCursor({ occurredAt: doc.occurredAt.toISOString().replace('Z', '000Z'), id: doc._id });
}

/**
 * Translates an {@link AuditQuery} into a MongoDB find with the same meaning as the SQL stores: filters
 * combined with AND, newest first, ties on occurredAt broken by id, keyset pagination after the cursor.
 * Throws `invalid_query` / `invalid_cursor` before anything runs.
 */
export function buildMongoFind(query: AuditQuery = {}): MongoFind {
  const and: MongoFilter[] = [];
  const limit = resolveLimit(query.limit);

  const from = checkDate(query.from, 'from');
  const to = checkDate(query.to, 'to');
  if (from || to) and.push({ occurredAt: { ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) } });

  const categories = list(query.category);
  if (categories) {
    for (const c of categories) {
      if (!(CATEGORIES as readonly unknown[]).includes(c)) {
        throw invalid(`category must be one of ${CATEGORIES.join(', ')}.`, 'category', c);
      }
    }
    and.push({ category: { $in: categories } });
  }

  const outcomes = list(query.outcome);
  if (outcomes) {
    for (const o of outcomes) {
      if (!(OUTCOMES as readonly unknown[]).includes(o)) {
        throw invalid(`outcome must be one of ${OUTCOMES.join(', ')}.`, 'outcome', o);
      }
    }
    and.push({ outcome: { $in: outcomes } });
  }

  const actions = list(query.action);
  if (actions) {
    const exact: string[] = [];
    const alternatives: MongoFilter[] = [];
    for (const a of actions) {
      if (typeof a !== 'string' || a.length === 0)
        throw invalid('action must be a non-empty string.', 'action', a);
      if (a.endsWith('*')) {
        alternatives.push({ action: { $regex: `^${escapeRegex(toStorableString(a.slice(0, -1)))}` } });
      } else exact.push(toStorableString(a));
    }
    if (exact.length > 0) alternatives.unshift({ action: { $in: exact } });
    and.push(alternatives.length === 1 ? (alternatives[0] as MongoFilter) : { $or: alternatives });
  }

  const tenants = list(query.tenantId);
  if (tenants) {
    const values = tenants.map((t) => checkText(t, 'tenantId') as string);
    and.push({ tenantId: values.length === 1 ? { $eq: values[0] } : { $in: values } });
  }

  const equals: [keyof AuditQuery, string][] = [
    ['actorId', 'actorId'],
    ['actorType', 'actorType'],
    ['targetType', 'targetType'],
    ['targetId', 'targetId'],
    ['requestId', 'requestId'],
    ['processId', 'processId'],
    ['correlationId', 'correlationId'],
  ];
  for (const [field, path] of equals) {
    const value = checkText(query[field], field);
    // $eq, so a value can never be read as an operator.
    if (value !== undefined) and.push({ [path]: { $eq: value } });
  }

  const pathPrefix = checkText(query.pathPrefix, 'pathPrefix');
  if (pathPrefix !== undefined) and.push({ requestPath: { $regex: `^${escapeRegex(pathPrefix)}` } });

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
      and.push({ status: { $eq: status } });
    } else {
      const match = typeof status === 'string' ? /^([1-5])xx$/i.exec(status) : null;
      if (!match)
        throw invalid('status must be an HTTP status code or a class such as 5xx.', 'status', status);
      const low = Number(match[1]) * 100;
      and.push({ status: { $gte: low, $lt: low + 100 } });
    }
  }

  const text = checkText(query.text, 'text');
  if (text !== undefined && text.length > 0) {
    const pattern = { $regex: escapeRegex(text), $options: 'i' };
    const fields = ['message', 'action', 'reason', 'actorLabel', 'actorId', 'targetLabel', 'targetId'];
    and.push({ $or: fields.map((f) => ({ [f]: pattern })) });
  }

  if (query.cursor !== undefined && query.cursor !== null) {
    const position = decodeCursor(query.cursor);
    const at = new Date(position.occurredAt);
    and.push({ $or: [{ occurredAt: { $lt: at } }, { occurredAt: at, _id: { $lt: position.id } }] });
  }

  const filter: MongoFilter =
    and.length === 0 ? {} : and.length === 1 ? (and[0] as MongoFilter) : { $and: and };
  return { filter, sort: { occurredAt: -1, _id: -1 }, limit };
}
