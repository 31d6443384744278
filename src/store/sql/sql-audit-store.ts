import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import type {
  AppendResult,
  AuditPage,
  AuditQuery,
  AuditStore,
  AuditSummary,
  SummaryOptions,
} from '../store.js';
import { encodeCursor } from './cursor.js';
import {
  type EventRow,
  eventRowSelect,
  INSERT_COLUMNS,
  insertRowSource,
  rowToEvent,
  toInsertParams,
} from './event-rows.js';
import { MIGRATIONS, type Migration, runMigrations } from './migrations.js';
import { createMonthPartition, type MonthIndex, monthOf, monthsBetween } from './partitions.js';
import { buildEventQuery } from './query-builder.js';
import { toStoreError } from './sql-errors.js';
import { inTransaction, quoteIdent, type SqlExecutor } from './sql-executor.js';
import { summarizeEvents } from './summary-query.js';

/** Events per INSERT statement; larger batches are split and written in one transaction. */
export const DEFAULT_CHUNK_SIZE = 5000;

/** Months of partitions `migrate()` keeps ready: from last month to this many months ahead. */
export const PARTITION_MONTHS_AHEAD = 3;

export interface SqlAuditStoreOptions {
  /** Short name for messages and metrics: `pglite`, `postgres`. */
  name: string;
  executor: SqlExecutor;
  /** Range-partition `audit_events` by month (PostgreSQL) or use a plain table (PGlite). */
  partitioned: boolean;
  /** Schema holding the tables; default `public`. Any name is fine: it is always quoted. */
  schema?: string;
  /** Where the database is, for error messages, without secrets: `PostgreSQL at postgres://app@db:5432/audit`. */
  target?: string;
  /** Events per INSERT statement (default 5000). */
  chunkSize?: number;
  /** Migrations to apply (default {@link MIGRATIONS}); later modules pass theirs appended. */
  migrations?: readonly Migration[];
  /** Releases what the store owns (its pool, its database); called once by `close()`. */
  onClose?: () => Promise<void>;
  /** The clock used to pick partitions to create ahead; tests replace it. */
  now?: () => Date;
  /**
   * Keep a pg_trgm index for free-text search (default true; see `text-search.ts`). It makes a search
   * for a rare term read a few rows instead of the table, and costs every insert; false drops it.
   */
  textSearchIndex?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The AuditStore shared by PGlite and PostgreSQL: the same tables, the same SQL, the same behaviour
 * (see `test/contract/store-contract.ts`). The driver is reached only through a {@link SqlExecutor}.
 *
 * - `append` writes a batch with one `INSERT ... SELECT FROM ROWS FROM (unnest(...), ...)` statement per
 *   5,000 events (a constant number of parameters whatever the batch size), skipping ids already stored.
 * - `query` filters on indexed columns and pages with a keyset on (occurred_at, id), newest first.
 * - `get` of an id that is not a UUID returns null (no event can have it).
 * - When `partitioned`, `append` creates the monthly partition of any month it has not seen yet first.
 */
export class SqlAuditStore implements AuditStore {
  readonly name: string;
  readonly schema: string;
  readonly partitioned: boolean;
  /** The executor, for modules that add their own SQL (sealer, retention...). */
  readonly executor: SqlExecutor;
  /** `"schema"."audit_events"`, quoted. */
  readonly table: string;
  readonly #target: string;
  readonly #chunkSize: number;
  readonly #migrations: readonly Migration[];
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #now: () => Date;
  readonly #textSearchIndex: boolean;
  readonly #insertSql: string;
  readonly #insertIdempotentSql: string;
  /** Months whose partition is known to exist, and creations under way. */
  readonly #months = new Map<MonthIndex, Promise<void> | true>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: SqlAuditStoreOptions) {
    this.name = options.name;
    this.schema = options.schema ?? 'public';
    this.partitioned = options.partitioned;
    this.executor = options.executor;
    this.table = `${quoteIdent(this.schema)}.${quoteIdent('audit_events')}`;
    this.#target = options.target ?? options.name;
    this.#chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    this.#migrations = options.migrations ?? MIGRATIONS;
    this.#onClose = options.onClose;
    this.#now = options.now ?? (() => new Date());
    this.#textSearchIndex = options.textSearchIndex ?? true;
    const columns = INSERT_COLUMNS.map(([name]) => name).join(', ');
    this.#insertSql =
      `WITH inserted AS (INSERT INTO ${this.table} (${columns}) SELECT * FROM ${insertRowSource()} ` +
      'ON CONFLICT (id, occurred_at) DO NOTHING RETURNING 1) SELECT count(*)::int AS inserted FROM inserted';
    // Batches with idempotency keys: claim each (tenant, key) first; an event whose key was claimed
    // before (a client retry with a new id) is counted as a duplicate. One statement, so atomic.
    const keys = `${quoteIdent(this.schema)}.${quoteIdent('audit_idempotency_keys')}`;
    this.#insertIdempotentSql =
      `WITH batch AS MATERIALIZED (SELECT * FROM ${insertRowSource()} AS b(${columns})), ` +
      `claimed AS (INSERT INTO ${keys} (tenant_key, idempotency_key, event_id) ` +
      "SELECT DISTINCT ON (coalesce(tenant_id, ''), idempotency_key) coalesce(tenant_id, ''), idempotency_key, id " +
      'FROM batch WHERE idempotency_key IS NOT NULL ' +
      "ORDER BY coalesce(tenant_id, ''), idempotency_key, occurred_at, id " +
      'ON CONFLICT DO NOTHING RETURNING event_id), ' +
      `inserted AS (INSERT INTO ${this.table} (${columns}) SELECT * FROM batch ` +
      'WHERE idempotency_key IS NULL OR id IN (SELECT event_id FROM claimed) ' +
      'ON CONFLICT (id, occurred_at) DO NOTHING RETURNING 1) SELECT count(*)::int AS inserted FROM inserted';
  }

  /** Creates or upgrades the schema (safe concurrently); on PostgreSQL also the partitions around now. */
  async migrate(): Promise<void> {
    this.#assertOpen();
    await runMigrations({
      executor: this.executor,
      dialect: { partitioned: this.partitioned },
      schema: this.schema,
      migrations: this.#migrations,
      target: this.#target,
      textSearchIndex: this.#textSearchIndex,
    });
    if (this.partitioned) {
      const now = this.#now();
      const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
      const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + PARTITION_MONTHS_AHEAD, 1));
      try {
        await this.ensurePartitions(from, to);
      } catch (error) {
        throw toStoreError(error, {
          operation: 'create the monthly partitions',
          target: this.#target,
          code: 'migration_failed',
        });
      }
    }
  }

  /**
   * Makes sure the monthly partitions covering `from` to `to` (both months included) exist.
   * A no-op for a plain table. Safe to call concurrently, from any number of processes.
   */
  async ensurePartitions(from: Date, to: Date): Promise<void> {
    this.#assertOpen();
    if (!this.partitioned) return;
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      throw new AuditkitError('invalid_query', 'ensurePartitions needs two valid dates.');
    }
    try {
      for (const month of monthsBetween(from, to)) await this.#ensureMonth(month);
    } catch (error) {
      throw toStoreError(error, { operation: 'create monthly partitions', target: this.#target });
    }
  }

  /**
   * Forgets which partitions exist, so the next append checks again (after partitions were dropped by
   * retention, for instance).
   */
  forgetPartitions(): void {
    for (const [month, state] of this.#months) if (state === true) this.#months.delete(month);
  }

  #ensureMonth(month: MonthIndex): Promise<void> {
    const known = this.#months.get(month);
    if (known === true) return Promise.resolve();
    if (known) return known;
    // Years PostgreSQL cannot name in a partition bound stay in the DEFAULT partition.
    const year = Math.floor(month / 12);
    if (year < 1 || year > 9999) return Promise.resolve();
    const creating = createMonthPartition(this.executor, this.schema, month).then(
      () => {
        this.#months.set(month, true);
      },
      (error: unknown) => {
        this.#months.delete(month);
        throw error;
      },
    );
    this.#months.set(month, creating);
    return creating;
  }

  async append(events: readonly AuditEvent[]): Promise<AppendResult> {
    this.#assertOpen();
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    const chunks: unknown[][] = [];
    try {
      for (let i = 0; i < events.length; i += this.#chunkSize) {
        chunks.push(toInsertParams(events.slice(i, i + this.#chunkSize)));
      }
    } catch (error) {
      // e.g. a BigInt or a cycle in metadata that the redactor did not remove: nothing is written.
      if (error instanceof AuditkitError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new AuditkitError('invalid_event', `A batch event cannot be stored as JSON: ${reason}`, {
        cause: error,
      });
    }
    try {
      if (this.partitioned) {
        const missing = new Set<MonthIndex>();
        for (const event of events) {
          const month = monthOf(event.occurredAt);
          if (this.#months.get(month) !== true) missing.add(month);
        }
        for (const month of missing) await this.#ensureMonth(month);
      }
      const sql = events.some((e) => e.idempotencyKey !== undefined)
        ? this.#insertIdempotentSql
        : this.#insertSql;
      const insert = async (executor: SqlExecutor, params: unknown[]) => {
        const result = await executor.query<{ inserted: number }>(sql, params);
        return Number(result.rows[0]?.inserted ?? 0);
      };
      const inserted =
        chunks.length === 1
          ? await insert(this.executor, chunks[0] as unknown[])
          : await inTransaction(this.executor, async (tx) => {
              let total = 0;
              for (const chunk of chunks) total += await insert(tx, chunk);
              return total;
            });
      return { inserted, duplicates: events.length - inserted };
    } catch (error) {
      throw toStoreError(error, { operation: `append ${events.length} event(s)`, target: this.#target });
    }
  }

  async query(query: AuditQuery = {}): Promise<AuditPage> {
    this.#assertOpen();
    const built = buildEventQuery(this.table, query);
    let rows: EventRow[];
    try {
      rows = (await this.executor.query<EventRow>(built.text, built.params)).rows;
    } catch (error) {
      throw toStoreError(error, { operation: 'query events', target: this.#target });
    }
    const page = rows.length > built.limit ? rows.slice(0, built.limit) : rows;
    const last = page[page.length - 1];
    return {
      events: page.map(rowToEvent),
      nextCursor:
        rows.length > built.limit && last
          ? encodeCursor({ occurredAt: last.cursor_at, id: last.cursor_id })
          : null,
    };
  }

  /** Counts of the matching events over time, by category, outcome, actor and reason, in SQL. */
  async summarize(query: AuditQuery, options: SummaryOptions): Promise<AuditSummary> {
    this.#assertOpen();
    try {
      return await summarizeEvents(this.executor, this.table, query, options);
    } catch (error) {
      if (error instanceof AuditkitError && error.code === 'invalid_query') throw error;
      if (error instanceof AuditkitError && error.code === 'invalid_cursor') throw error;
      throw toStoreError(error, { operation: 'summarize events', target: this.#target });
    }
  }

  /** The event with this id, or null when there is none (including when `id` is not a UUID). */
  async get(id: string): Promise<AuditEvent | null> {
    this.#assertOpen();
    if (typeof id !== 'string' || !UUID.test(id)) return null;
    let rows: EventRow[];
    try {
      rows = (
        await this.executor.query<EventRow>(
          `SELECT ${eventRowSelect(this.table)} FROM ${this.table} WHERE id = $1::uuid ORDER BY occurred_at DESC LIMIT 1`,
          [id],
        )
      ).rows;
    } catch (error) {
      throw toStoreError(error, { operation: `get event ${id}`, target: this.#target });
    }
    const row = rows[0];
    return row ? rowToEvent(row) : null;
  }

  /** Releases what the store owns. Calling it again is a no-op; other methods then throw `closed`. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = this.#onClose ? this.#onClose() : Promise.resolve();
    }
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AuditkitError('closed', `The ${this.name} audit store is closed.`);
  }
}
