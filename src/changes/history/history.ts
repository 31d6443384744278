import { AuditkitError } from '../../core/errors.js';
import type { Actor, AuditEvent, Correlation, RequestInfo } from '../../core/event.js';
import type { AuditQuery, AuditStore } from '../../store/store.js';
import type { ColumnChanges } from '../diff.js';

/** The record whose history is read: the `target` of its change events. */
export interface HistoryTarget {
  /** The record's type: its table name (`orders`). */
  type: string;
  /** The record's id as its events name it (a composite key is a JSON array: `["7","A-1"]`). */
  id: string;
  /** Only events of this organisation (default: every one). */
  tenantId?: string;
}

export interface HistoryOptions {
  /** Events from this moment on (inclusive). */
  from?: Date;
  /** Events before this moment (exclusive). */
  to?: Date;
  /** Events read from the store per query, 1..1000 (default 500): the most held in memory at once. */
  pageSize?: number;
}

/** One entry of a record's timeline. */
export interface HistoryEntry {
  eventId: string;
  at: Date;
  /** `record.created`, `record.updated`, `record.deleted`, `relation.added`, `relation.removed`. */
  action: string;
  actor: Actor;
  tenantId: string | null;
  /** The request that caused the change, when it was made inside one. */
  requestId?: string;
  request?: RequestInfo;
  correlation?: Correlation;
  /** `{ column: [before, after] }`, as stored (masked values stay masked). */
  changes: ColumnChanges;
  /** The whole stored event. */
  event: AuditEvent;
}

type HistoryStore = Pick<AuditStore, 'query'>;

const DEFAULT_PAGE_SIZE = 500;

function historyQuery(target: HistoryTarget, options: HistoryOptions): AuditQuery {
  if (typeof target?.type !== 'string' || target.type === '' || typeof target.id !== 'string') {
    throw new AuditkitError(
      'invalid_query',
      'history needs a target with a type and an id, e.g. { type: "orders", id: "42" }.',
    );
  }
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new AuditkitError('invalid_query', `pageSize must be an integer from 1 to 1000, got ${pageSize}.`);
  }
  const query: AuditQuery = {
    category: 'change',
    targetType: target.type,
    targetId: target.id,
    limit: pageSize,
  };
  if (target.tenantId !== undefined) query.tenantId = target.tenantId;
  if (options.from) query.from = options.from;
  if (options.to) query.to = options.to;
  return query;
}

/** A stored change event as a timeline entry. */
export function toHistoryEntry(event: AuditEvent): HistoryEntry {
  const entry: HistoryEntry = {
    eventId: event.id,
    at: event.occurredAt,
    action: event.action,
    actor: event.actor,
    tenantId: event.tenantId ?? null,
    changes: (event.changes ?? {}) as ColumnChanges,
    event,
  };
  const requestId = event.correlation?.requestId ?? event.request?.id;
  if (requestId !== undefined) entry.requestId = requestId;
  if (event.request) entry.request = event.request;
  if (event.correlation) entry.correlation = event.correlation;
  return entry;
}

/**
 * The timeline of one record, oldest first, as an async iterator that holds at most two pages in
 * memory however long the history is. Stores page newest first, so a first pass walks the pages and
 * keeps only where each starts; the second reads them again from the oldest. Events of one page that
 * are stored between the passes are still returned; events newer than the first pass are not.
 *
 * @example
 * for await (const entry of iterateHistory(audit.store, { type: 'orders', id: '42' })) console.log(entry.action);
 */
export async function* iterateHistory(
  store: HistoryStore,
  target: HistoryTarget,
  options: HistoryOptions = {},
): AsyncGenerator<HistoryEntry, void, undefined> {
  const query = historyQuery(target, options);
  const newest = await store.query(query);
  if (!newest.nextCursor) {
    for (let i = newest.events.length - 1; i >= 0; i--) yield toHistoryEntry(newest.events[i] as AuditEvent);
    return;
  }
  // Pages after the newest one: the cursor each starts after, the ids of its newest and oldest events.
  const pages: Page[] = [];
  let cursor: string | null = newest.nextCursor;
  let oldest: AuditEvent[] = [];
  while (cursor) {
    const page = await store.query({ ...query, cursor });
    if (page.events.length === 0) break;
    pages.push({
      cursor,
      firstId: (page.events[0] as AuditEvent).id,
      lastId: (page.events.at(-1) as AuditEvent).id,
    });
    oldest = page.events;
    cursor = page.nextCursor;
  }
  for (let i = oldest.length - 1; i >= 0; i--) yield toHistoryEntry(oldest[i] as AuditEvent);
  oldest = [];
  for (let p = pages.length - 2; p >= 0; p--) {
    yield* reversedPage(store, query, pages[p] as Page, (pages[p + 1] as Page).firstId);
  }
  for (let i = newest.events.length - 1; i >= 0; i--) yield toHistoryEntry(newest.events[i] as AuditEvent);
}

interface Page {
  cursor: string;
  firstId: string;
  lastId: string;
}

/**
 * A page read again, oldest first: the events after its start down to its oldest one, or (should that
 * one be gone, removed by retention meanwhile) to the newest of the older page, which was returned already.
 */
async function* reversedPage(
  store: HistoryStore,
  query: AuditQuery,
  page: Page,
  olderFirstId: string,
): AsyncGenerator<HistoryEntry, void, undefined> {
  const events: AuditEvent[] = [];
  let cursor: string | null = page.cursor;
  while (cursor) {
    const found = await store.query({ ...query, cursor });
    const last = found.events.findIndex((event) => event.id === page.lastId);
    const older = found.events.findIndex((event) => event.id === olderFirstId);
    if (last >= 0 || older >= 0) {
      events.push(...found.events.slice(0, last >= 0 ? last + 1 : older));
      break;
    }
    events.push(...found.events);
    cursor = found.nextCursor;
  }
  for (let i = events.length - 1; i >= 0; i--) yield toHistoryEntry(events[i] as AuditEvent);
}

/**
 * The whole timeline of one record, oldest first: each entry with its actor, request and diff.
 * For very long histories prefer {@link iterateHistory}, which holds two pages at most.
 *
 * @example
 * const timeline = await readHistory(audit.store, { type: 'orders', id: '42' });
 * timeline.map((entry) => `${entry.at.toISOString()} ${entry.actor.id} ${entry.action}`);
 */
export async function readHistory(
  store: HistoryStore,
  target: HistoryTarget,
  options: HistoryOptions = {},
): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for await (const entry of iterateHistory(store, target, options)) entries.push(entry);
  return entries;
}
