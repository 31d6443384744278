import { quoteIdent } from '../../store/sql/sql-executor.js';
import {
  type CapturedRow,
  type CapturePlan,
  type ChangeAuditor,
  ChangeCapture,
  type ChangeCaptureOptions,
  type ExecuteSql,
  qualifiedName,
  type RowChange,
  type TableRef,
} from '../capture.js';
import type { ChangeOperation, RowImage } from '../diff.js';
import { forceLog } from '../scope.js';

/** The part of TypeORM's EntityMetadata capture reads (structural, so typeorm stays an optional peer). */
interface EntityMetadataLike {
  tableName: string;
  schema?: string | undefined;
  primaryColumns: readonly { databaseName: string; getEntityValue(entity: object): unknown }[];
}

/** The part of a TypeORM QueryRunner capture uses: the connection (and transaction) of the change. */
interface QueryRunnerLike {
  query(text: string, parameters?: unknown[], structured?: boolean): Promise<unknown>;
  data?: Record<string, unknown>;
  isTransactionActive?: boolean;
}

/** What TypeORM passes to the insert, update, remove, soft-remove and recover hooks. */
export interface EntityEventLike {
  entity?: object | undefined;
  databaseEntity?: object | undefined;
  /** The key of the row as TypeORM knows it (join-table rows have no entity, only this). */
  entityId?: object | undefined;
  metadata: EntityMetadataLike;
  queryRunner: QueryRunnerLike;
}

type Hook = (event: EntityEventLike) => Promise<void> | void;

/** The subscriber's hooks, in TypeORM's EntitySubscriberInterface names. */
export interface AuditkitChangeSubscriber {
  beforeInsert: Hook;
  afterInsert: Hook;
  beforeUpdate: Hook;
  afterUpdate: Hook;
  beforeRemove: Hook;
  afterRemove: Hook;
  beforeSoftRemove: Hook;
  afterSoftRemove: Hook;
  beforeRecover: Hook;
  afterRecover: Hook;
}

/** `remove(entity, { data: { forceLog: true } })`: record this delete even inside `withoutAuditing`. */
export const FORCE_LOG_DATA_KEY = 'forceLog';

/** Rows per key lookup statement (PostgreSQL takes at most 65,535 parameters). */
const LOOKUP_CHUNK = 1000;

/**
 * Adds the change subscriber to an initialized DataSource.
 *
 * @example
 * await dataSource.initialize();
 * installAuditSubscriber(dataSource, audit, { tables: { users: { mask: ['email'] } } });
 */
export function installAuditSubscriber(
  dataSource: { subscribers: unknown[] },
  audit: ChangeAuditor,
  options: ChangeCaptureOptions = {},
): AuditkitChangeSubscriber {
  const subscriber = auditSubscriber(audit, options);
  dataSource.subscribers.push(subscriber);
  return subscriber;
}

const executorOf =
  (runner: QueryRunnerLike): ExecuteSql =>
  async (text, values) => {
    const result = (await runner.query(text, [...values], true)) as { records?: unknown[] };
    return { rows: (result.records ?? []) as RowImage[] };
  };

/** A row TypeORM is about to write or has written, waiting to be read in one statement per table. */
interface Lookup {
  table: TableRef;
  metadata: EntityMetadataLike;
  /** The row's key, or null when TypeORM did not say which row (a QueryBuilder update or delete). */
  key: unknown[] | null;
  operation: ChangeOperation;
  /** `remove(x, { data: { forceLog: true } })`: recorded even inside `withoutAuditing`. */
  forced: boolean;
  /** Before hooks read the row locked and remember it; after hooks read the new row and record. */
  phase: 'before' | 'after';
  resolve(): void;
  reject(error: unknown): void;
}

/** What the subscriber keeps per query runner (one connection, one transaction at a time). */
interface RunnerState {
  queue: Lookup[];
  /** Flushes run one after another: one connection runs one statement at a time. */
  tail: Promise<void>;
  /** Before-images by table and key, taken in a before hook, used by the matching after hook. */
  before: Map<string, CapturedRow>;
}

/**
 * A TypeORM EntitySubscriber recording `save()`, `insert()`, `remove()`, `softRemove()` and `recover()`
 * (and many-to-many join rows they write) as `change` events through the event's query runner, so each
 * event commits or rolls back with its change. TypeORM calls the hooks of one `save()` together; the
 * subscriber answers them with one key lookup per table (updates and removals read `FOR UPDATE`
 * before TypeORM writes, new rows are read back after) and one event INSERT per table.
 *
 * QueryBuilder `update()` / `delete()` (and `repository.update/delete(criteria)`) tell subscribers no
 * rows, so they cannot be captured here: each such table is reported once to `onError` with code
 * `change_not_captured`; use Kysely, Drizzle or trigger mode for those statements.
 *
 * TypeORM only instantiates subscriber classes it finds itself, so this one is an instance: add it to
 * `dataSource.subscribers` (or use {@link installAuditSubscriber}).
 *
 * @example
 * await dataSource.initialize();
 * dataSource.subscribers.push(auditSubscriber(audit, { tables: { users: { mask: ['email'] } } }));
 */
export function auditSubscriber(
  audit: ChangeAuditor,
  options: ChangeCaptureOptions = {},
): AuditkitChangeSubscriber {
  const capture = new ChangeCapture(audit, options);
  const states = new WeakMap<QueryRunnerLike, RunnerState>();

  const tableOf = (metadata: EntityMetadataLike): TableRef => {
    const table: TableRef = { name: metadata.tableName };
    if (metadata.schema) table.schema = metadata.schema;
    return table;
  };
  const stateOf = (runner: QueryRunnerLike): RunnerState => {
    let state = states.get(runner);
    if (!state) {
      state = { queue: [], tail: Promise.resolve(), before: new Map() };
      states.set(runner, state);
    }
    return state;
  };
  const rowKey = (table: TableRef, key: unknown[]) => `${qualifiedName(table)}\u0000${JSON.stringify(key)}`;

  /**
   * Queues a row for the runner's next flush. Every hook of one TypeORM broadcast runs before the
   * microtask, so they share a flush.
   */
  const enqueue = (
    event: EntityEventLike,
    operation: ChangeOperation,
    phase: Lookup['phase'],
    source: object | undefined,
  ): Promise<void> | undefined => {
    // Queued even for a table capture has no settings for: it may have audit triggers (the flush asks).
    const table = tableOf(event.metadata);
    const forced = event.queryRunner.data?.[FORCE_LOG_DATA_KEY] === true;
    const columns = event.metadata.primaryColumns;
    const values = source ? columns.map((column) => column.getEntityValue(source)) : [];
    const key =
      columns.length === 0 || values.length === 0 || values.some((v) => v === undefined || v === null)
        ? null
        : values;
    const state = stateOf(event.queryRunner);
    return new Promise<void>((resolve, reject) => {
      state.queue.push({
        table,
        metadata: event.metadata,
        key,
        operation,
        forced,
        phase,
        resolve,
        reject,
      });
      if (state.queue.length === 1) {
        queueMicrotask(() => {
          const jobs = state.queue.splice(0);
          state.tail = state.tail.then(() =>
            flush(event.queryRunner, state, jobs).then(
              () => {
                for (const job of jobs) job.resolve();
              },
              (error: unknown) => {
                for (const job of jobs) job.reject(error);
              },
            ),
          );
        });
      }
    });
  };

  /** Reads the queued rows (one statement per table and phase) and records the after-phase changes. */
  const flush = async (runner: QueryRunnerLike, state: RunnerState, jobs: Lookup[]) => {
    const execute = executorOf(runner);
    const groups = new Map<string, Lookup[]>();
    for (const job of jobs) {
      const group = `${job.phase}\u0000${qualifiedName(job.table)}`;
      const list = groups.get(group);
      if (list) list.push(job);
      else groups.set(group, [job]);
    }
    for (const group of groups.values()) {
      const first = group[0] as Lookup;
      const { table, metadata, phase } = first;
      if (await capture.byTriggers(execute, table)) {
        // The table's audit triggers record TypeORM's statements (QueryBuilder ones too): before them,
        // they get the context; after them, nothing is left to do.
        if (phase === 'after') continue;
        if (runner.isTransactionActive === false) {
          // A context lasts a transaction: without one (QueryBuilder, upsert(), transaction: false)
          // the triggers record TypeORM's statement as the database user.
          capture.reportContextLost(table, 'A TypeORM write');
          continue;
        }
        const forced = group.some((job) => job.forced);
        if (
          await (forced ? forceLog(() => capture.handOver(execute, table)) : capture.handOver(execute, table))
        ) {
          continue;
        }
      }
      const jobs = group.filter((job) => {
        if (!capture.captures(table, job.operation, job.forced)) return false;
        if (job.key !== null) return true;
        if (job.operation !== 'insert') {
          capture.reportUncaptured(
            table,
            `A TypeORM QueryBuilder ${job.operation}`,
            'TypeORM tells subscribers no rows for it; use save()/remove(), Kysely, Drizzle or trigger mode',
          );
        }
        return false;
      }) as (Lookup & { key: unknown[] })[];
      const options = capture.tableOptions(table);
      if (jobs.length === 0 || !options) continue;
      const plan = await capture.plan(execute, table, {
        ...options,
        primaryKey: options.primaryKey ?? metadata.primaryColumns.map((c) => c.databaseName),
      });
      const reads = jobs.filter((job) => phase === 'before' || job.operation !== 'delete');
      const found = await lookup(execute, plan, metadata, reads, phase === 'before');
      if (phase === 'before') {
        for (const [key, row] of found) state.before.set(rowKey(table, JSON.parse(key)), row);
        continue;
      }
      const changes: RowChange[] = [];
      for (const job of jobs) {
        const id = rowKey(job.table, job.key);
        const before = state.before.get(id) ?? null;
        state.before.delete(id);
        const after = job.operation === 'delete' ? null : (found.get(JSON.stringify(job.key)) ?? null);
        // A save() whose insert met an existing row (an upsert) changed that row.
        const operation = job.operation === 'insert' && before ? 'update' : job.operation;
        if ((operation === 'delete' && !before) || (operation !== 'delete' && !after)) continue;
        changes.push({ operation, before, after });
      }
      await capture.record(execute, plan, changes);
    }
  };

  return {
    beforeInsert: (event) => enqueue(event, 'insert', 'before', event.entity),
    afterInsert: (event) => enqueue(event, 'insert', 'after', event.entity ?? event.entityId),
    beforeUpdate: (event) => enqueue(event, 'update', 'before', event.databaseEntity ?? keyed(event)),
    afterUpdate: (event) => enqueue(event, 'update', 'after', event.databaseEntity ?? keyed(event)),
    beforeRemove: (event) => enqueue(event, 'delete', 'before', removed(event)),
    afterRemove: (event) => enqueue(event, 'delete', 'after', removed(event)),
    beforeSoftRemove: (event) => enqueue(event, 'update', 'before', removed(event)),
    afterSoftRemove: (event) => enqueue(event, 'update', 'after', removed(event)),
    beforeRecover: (event) => enqueue(event, 'update', 'before', removed(event)),
    afterRecover: (event) => enqueue(event, 'update', 'after', removed(event)),
  };
}

/** The entity of an update when it carries its whole key (QueryBuilder updates pass only the new values). */
function keyed(event: EntityEventLike): object | undefined {
  return event.entity;
}

/** What names the removed row: the loaded entity, the entity, or (join rows) the key TypeORM has. */
function removed(event: EntityEventLike): object | undefined {
  return event.databaseEntity ?? event.entity ?? event.entityId;
}

/**
 * The rows of these keys, by `JSON.stringify(key)`: one `SELECT ... WHERE (k1, k2) IN (...)` per 1,000
 * keys, `FOR UPDATE` in before hooks so nobody changes them before TypeORM's statement does.
 */
async function lookup(
  execute: ExecuteSql,
  plan: CapturePlan,
  metadata: EntityMetadataLike,
  jobs: readonly (Lookup & { key: unknown[] })[],
  lock: boolean,
): Promise<Map<string, CapturedRow>> {
  const found = new Map<string, CapturedRow>();
  if (jobs.length === 0) return found;
  const alias = '__auditkit_t';
  const select = plan
    .selectItems(alias)
    .map((item) => `${item.sql} AS ${quoteIdent(item.alias)}`)
    .join(', ');
  const names = metadata.primaryColumns.map((c) => `${quoteIdent(alias)}.${quoteIdent(c.databaseName)}`);
  const keyItems = names.map((name, i) => `${name} AS ${quoteIdent(`__auditkit_k${i}`)}`).join(', ');
  for (let start = 0; start < jobs.length; start += LOOKUP_CHUNK) {
    const chunk = jobs.slice(start, start + LOOKUP_CHUNK);
    const params: unknown[] = [];
    const tuples = chunk.map((job) => {
      const placeholders = job.key.map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const result = await execute(
      `SELECT ${select}, ${keyItems} FROM ${qualifiedName(plan.table)} AS ${quoteIdent(alias)} ` +
        `WHERE (${names.join(', ')}) IN (${tuples.join(', ')})${lock ? ' FOR UPDATE' : ''}`,
      params,
    );
    // The key as the job holds it: the row's key columns, matched by their text to the job's values.
    const byText = new Map(chunk.map((job) => [JSON.stringify(job.key.map(keyText)), job.key]));
    for (const row of result.rows) {
      const text = JSON.stringify(names.map((_, i) => keyText(row[`__auditkit_k${i}`])));
      const key = byText.get(text);
      if (key) found.set(JSON.stringify(key), plan.read(row));
    }
  }
  return found;
}

/** A key value as text, the same for the entity's value and the value the driver read back. */
function keyText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
