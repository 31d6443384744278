import type { AuditEvent, Category, Outcome } from '../core/event.js';

/** Filters for {@link AuditStore.query}. Every filter is optional; they combine with AND. */
export interface AuditQuery {
  /** Inclusive lower bound on occurredAt. */
  from?: Date;
  /** Exclusive upper bound on occurredAt. */
  to?: Date;
  category?: Category | Category[];
  /** Exact action, or a prefix ending with `*` (`user.*`). */
  action?: string | string[];
  outcome?: Outcome | Outcome[];
  /** One organisation, or any of several (an empty list matches nothing). */
  tenantId?: string | string[];
  actorId?: string;
  actorType?: string;
  targetType?: string;
  targetId?: string;
  requestId?: string;
  /** Events of one business process (`correlation.processId`): its state changes and what its steps recorded. */
  processId?: string;
  /** Events sharing `correlation.correlationId`, e.g. the per-organisation copies of one security event. */
  correlationId?: string;
  /** Matches request.path by prefix. */
  pathPrefix?: string;
  /** Exact HTTP status, or a class such as `5xx`. */
  status?: number | `${1 | 2 | 3 | 4 | 5}xx`;
  /** Case-insensitive substring over message, action, reason, actor and target labels and ids. */
  text?: string;
  /** Page size, 1..1000, default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of events, newest first. */
export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface AppendResult {
  /** Events stored by this call. */
  inserted: number;
  /** Events skipped because an event with the same id was already stored (a replay). */
  duplicates: number;
}

/**
 * Where events live. Implementations: PGlite (embedded), PostgreSQL, and more in later modules.
 * Every implementation passes the shared contract suite in `test/contract/store-contract.ts`.
 */
export interface AuditStore {
  /** A short name for messages and metrics, e.g. `pglite` or `postgres`. */
  readonly name: string;
  /** Creates or upgrades the schema; safe to call concurrently and repeatedly. */
  migrate(): Promise<void>;
  /** Stores a batch atomically. Idempotent by event id: a replayed event is counted as a duplicate. */
  append(events: readonly AuditEvent[]): Promise<AppendResult>;
  query(query?: AuditQuery): Promise<AuditPage>;
  get(id: string): Promise<AuditEvent | null>;
  /**
   * Optional: counts of the events matching `query` (its `cursor` and `limit` are ignored) over time, by
   * category, outcome, actor and reason, computed in the database. Callers fall back to scanning pages
   * when a store has no such method (see the admin UI's dashboard).
   */
  summarize?(query: AuditQuery, options: SummaryOptions): Promise<AuditSummary>;
  close(): Promise<void>;
}

/** How {@link AuditStore.summarize} groups events. */
export interface SummaryOptions {
  /** Width of a timeline bucket (UTC). */
  bucket: 'minute' | 'hour' | 'day';
  /** How many actors and reasons to list (default 10). */
  top?: number;
}

/** Aggregates of the events matching a query. */
export interface AuditSummary {
  total: number;
  byCategory: Partial<Record<Category, number>>;
  byOutcome: Partial<Record<Outcome, number>>;
  /** Events per bucket and category, oldest bucket first; `at` is the bucket's start (ISO 8601, UTC). */
  timeline: { at: string; category: Category; count: number }[];
  /** The actors with the most events, most first. */
  topActors: { type: string; id: string | null; label: string | null; count: number }[];
  /** The most frequent `reason` values (events without one are not counted), most first. */
  topReasons: { reason: string; count: number }[];
}

export const DEFAULT_QUERY_LIMIT = 50;
export const MAX_QUERY_LIMIT = 1000;
