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
  tenantId?: string;
  actorId?: string;
  actorType?: string;
  targetType?: string;
  targetId?: string;
  requestId?: string;
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
  close(): Promise<void>;
}

export const DEFAULT_QUERY_LIMIT = 50;
export const MAX_QUERY_LIMIT = 1000;
