import { AsyncLocalStorage } from 'node:async_hooks';
import { getTableName, is, Param, type SQL, sql } from 'drizzle-orm';
import { tryGetContext } from '../../core/context.js';
import { AuditkitError } from '../../core/errors.js';
import { quoteIdent } from '../../store/sql/sql-executor.js';
import {
  CAPTURE_COLUMNS,
  type CapturedRow,
  type CapturePlan,
  type ChangeAuditor,
  ChangeCapture,
  type ChangeCaptureOptions,
  type ExecuteSql,
  pair,
  qualifiedName,
  type TableRef,
} from '../capture.js';
import type { ChangeOperation, RowImage, TableCaptureOptions } from '../diff.js';
import { captureScope } from '../scope.js';

const SCHEMA = Symbol.for('drizzle:Schema');
const ORIGINAL_NAME = Symbol.for('drizzle:OriginalName');
const COLUMNS = Symbol.for('drizzle:Columns');

/** The driver client under a Drizzle session: `pg` Pool/PoolClient/Client, or PGlite (or its transaction). */
interface RawClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** What capture uses of a Drizzle database or transaction (node-postgres and PGlite fit). */
interface DrizzleLike {
  session: { client: RawClient };
  select(fields: Record<string, unknown>): unknown;
  with(...queries: unknown[]): { select(fields: Record<string, unknown>): unknown };
  transaction<T>(fn: (tx: DrizzleLike) => Promise<T>, config?: unknown): Promise<T>;
}

interface JoinConfig {
  table: unknown;
  on: unknown;
  joinType: 'left' | 'right' | 'inner' | 'full' | 'cross';
}

/** A built insert/update/delete, as Drizzle keeps it. */
interface DrizzleStatement {
  config: {
    table: object;
    where?: SQL;
    values?: Record<string, unknown>[];
    from?: unknown;
    joins?: JoinConfig[];
    withList?: unknown[];
    returningFields?: Record<string, unknown>;
  };
  session: unknown;
  execute(placeholders?: Record<string, unknown>): Promise<unknown>;
  returning(fields?: Record<string, unknown>): DrizzleStatement;
  toSQL(): { sql: string; params: unknown[] };
}

function clientOf(db: unknown): RawClient {
  const client = (db as { session?: { client?: RawClient } }).session?.client;
  if (!client || typeof client.query !== 'function') {
    throw new AuditkitError(
      'invalid_config',
      'auditkit/drizzle supports Drizzle on node-postgres (drizzle-orm/node-postgres) and PGlite ' +
        '(drizzle-orm/pglite); this database has no such client. Use trigger mode for other drivers.',
    );
  }
  return client;
}

/**
 * The database port on a Drizzle database or transaction (node-postgres or PGlite):
 * `executeSql(text, values)` runs on its connection. Pass the transaction (`tx`) so statements join it.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await fromDrizzle(tx).executeSql("SELECT set_config('app.x', $1, true)", ['1']);
 * });
 */
export function fromDrizzle(tx: unknown): { executeSql: ExecuteSql } {
  const client = clientOf(tx);
  return {
    executeSql: async (text, values) => {
      const result = await client.query(text, [...values]);
      return { rows: result.rows as RowImage[] };
    },
  };
}

/**
 * Wraps a Drizzle database (node-postgres or PGlite) so `insert`, `update` and `delete`, on it, on
 * `db.with(...)` and on the transactions it opens, are recorded as `change` events in the same
 * transaction: updates read their rows first with `SELECT ... FOR UPDATE`, every statement gets a
 * `RETURNING to_jsonb(row)`, and the events are inserted before the statement resolves. A statement
 * run on the database itself gets a transaction of its own. Results are what Drizzle returns.
 *
 * @example
 * const db = auditDrizzle(drizzle(pool), audit, { tables: { users: { mask: ['email'] } } });
 * await db.update(orders).set({ status: 'paid' }).where(eq(orders.id, 42));
 */
export function auditDrizzle<T extends object>(
  db: T,
  audit: ChangeAuditor,
  options: ChangeCaptureOptions = {},
): T {
  clientOf(db);
  return wrapDatabase(db, db as unknown as DrizzleLike, new ChangeCapture(audit, options), false);
}

/** `db`, `tx` or `db.with(...)`: its insert/update/delete builders are captured; `root` runs them. */
function wrapDatabase<T extends object>(
  builder: T,
  root: DrizzleLike,
  capture: ChangeCapture,
  inTransaction: boolean,
): T {
  return new Proxy(builder, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'insert' || prop === 'update' || prop === 'delete') {
        const operation: ChangeOperation = prop;
        return (table: object) =>
          wrapBuilder(value.call(target, table) as object, {
            operation,
            table: tableRefOf(table),
            root,
            capture,
            inTransaction,
            created: AsyncLocalStorage.snapshot(),
          });
      }
      if (prop === 'with') {
        return (...queries: unknown[]) =>
          wrapDatabase(value.apply(target, queries) as object, root, capture, inTransaction);
      }
      if (prop === 'transaction') {
        return (fn: (tx: unknown) => Promise<unknown>, config?: unknown) =>
          value.call(
            target,
            (tx: object) => fn(wrapDatabase(tx, tx as unknown as DrizzleLike, capture, true)),
            config,
          );
      }
      return value.bind(target);
    },
  });
}

/** The table a Drizzle table object names (its original name when it is an alias). */
function tableRefOf(table: object): TableRef {
  const original = (table as Record<symbol, unknown>)[ORIGINAL_NAME];
  const table_: TableRef = {
    name: typeof original === 'string' ? original : getTableName(table as never),
  };
  const schema = (table as Record<symbol, unknown>)[SCHEMA];
  if (typeof schema === 'string') table_.schema = schema;
  return table_;
}

interface StatementContext {
  operation: ChangeOperation;
  table: TableRef;
  root: DrizzleLike;
  capture: ChangeCapture;
  inTransaction: boolean;
  /**
   * The async context the builder was made in. A builder is lazy: returned unawaited from
   * `audit.runWithContext(ctx, () => db.insert(...))` it runs after the context ended, so when it runs
   * outside any audit context it runs in the one it was made in.
   */
  created: <R>(fn: () => R) => R;
}

/** The conflict target of `onConflictDoUpdate`, per builder: its before-images are read by it. */
const upsertTargets = new WeakMap<object, object[]>();

function wrapBuilder<B extends object>(builder: B, context: StatementContext): B {
  const isStatement = typeof (builder as { execute?: unknown }).execute === 'function';
  return new Proxy(builder, {
    get(target, prop, receiver) {
      if (isStatement) {
        const run = () => {
          const statement = target as unknown as DrizzleStatement;
          if (tryGetContext() !== undefined || captureScope() !== undefined)
            return runStatement(statement, context);
          return context.created(() => runStatement(statement, context));
        };
        if (prop === 'execute') return run;
        if (prop === 'then')
          return (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => run().then(ok, fail);
        if (prop === 'catch') return (fail?: (e: unknown) => unknown) => run().catch(fail);
        if (prop === 'finally') return (done?: () => void) => run().finally(done);
        if (prop === 'prepare' && context.capture.tableOptions(context.table)) {
          return () => {
            throw new AuditkitError(
              'unsupported',
              `A prepared ${context.operation} of ${context.table.name} cannot be captured by ` +
                'auditkit/drizzle: run the statement without .prepare(), or use trigger mode for it.',
            );
          };
        }
      }
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'onConflictDoUpdate') {
          const config = args[0] as { target?: object | object[] } | undefined;
          const columns = config?.target;
          if (columns) upsertTargets.set(target, Array.isArray(columns) ? columns : [columns]);
        }
        const result = value.apply(target, args);
        const chained =
          result !== null &&
          typeof result === 'object' &&
          (typeof result.execute === 'function' ||
            typeof result.set === 'function' ||
            typeof result.values === 'function');
        return chained ? wrapBuilder(result, context) : result;
      };
    },
  });
}

/** The database port on a Drizzle database or transaction's driver client. */
function executorOf(db: DrizzleLike): ExecuteSql {
  const client = clientOf(db);
  return async (text, values) => ({ rows: (await client.query(text, [...values])).rows as RowImage[] });
}

async function runStatement(statement: DrizzleStatement, context: StatementContext): Promise<unknown> {
  const { capture, table, operation } = context;
  const triggered = await capture.byTriggers(executorOf(context.root), table);
  if (!triggered && !capture.captures(table, operation)) return statement.execute();
  if (context.inTransaction) return recorded(statement, context, context.root, triggered);
  return context.root.transaction((tx) => recorded(statement, context, tx, triggered));
}

/**
 * Runs a statement of a recorded table in the transaction `tx`: as it is after handing the context to
 * the table's audit triggers, else captured here.
 */
async function recorded(
  statement: DrizzleStatement,
  context: StatementContext,
  tx: DrizzleLike,
  triggered: boolean,
): Promise<unknown> {
  if (triggered && (await context.capture.handOver(executorOf(tx), context.table))) {
    return runOn(statement, tx);
  }
  const options = context.capture.captures(context.table, context.operation);
  if (!options) return runOn(statement, tx);
  return captured(statement, context, tx, options);
}

/** Runs a statement built on the database on the connection of the transaction `tx`. */
async function runOn(statement: DrizzleStatement, tx: DrizzleLike): Promise<unknown> {
  const session = statement.session;
  statement.session = (tx as unknown as { session: unknown }).session;
  try {
    return await statement.execute();
  } finally {
    statement.session = session;
  }
}

async function captured(
  statement: DrizzleStatement,
  context: StatementContext,
  tx: DrizzleLike,
  options: TableCaptureOptions,
): Promise<unknown> {
  const { operation, table, capture } = context;
  const client = clientOf(tx);
  const execute = executorOf(tx);
  const plan = await capture.plan(execute, table, options);
  const ref = getTableName(statement.config.table as never);
  const items = plan.selectItems(ref);
  const upsert = operation === 'insert' && upsertTargets.has(statement);

  let before: CapturedRow[] = [];
  if (operation === 'update') before = await beforeImage(statement, tx, execute, plan, items, ref);
  else if (upsert) before = await conflictingRows(statement, execute, plan);

  const extra = [...items];
  if (upsert) extra.push({ alias: CAPTURE_COLUMNS.created, sql: `(${quoteIdent(ref)}.xmax = 0)` });
  const rows: Record<string, unknown>[] = [];
  let result: unknown;
  if (statement.config.returningFields) {
    // The statement was built on the database: run it on this transaction's connection.
    const session = statement.session;
    const original = statement.config.returningFields;
    const fields = { ...original };
    for (const item of extra) fields[item.alias] = sql.raw(item.sql);
    statement.session = (tx as unknown as { session: unknown }).session;
    try {
      statement.returning(fields);
      const returned = (await statement.execute()) as Record<string, unknown>[];
      for (const row of returned) {
        rows.push({ ...row });
        for (const item of extra) delete row[item.alias];
      }
      result = returned;
    } finally {
      statement.session = session;
      statement.returning(original);
    }
  } else {
    // Without `.returning()` Drizzle resolves with the driver's result: run it on the driver.
    const query = statement.toSQL();
    const selected = extra.map((item) => `${item.sql} AS ${quoteIdent(item.alias)}`).join(', ');
    const raw = await client.query(`${query.sql} returning ${selected}`, query.params);
    rows.push(...raw.rows);
    raw.rows = [];
    result = raw;
  }
  const returned = rows.map((row) => {
    const found: CapturedRow & { created?: boolean } = plan.read(row);
    if (upsert) found.created = row[CAPTURE_COLUMNS.created] !== false;
    return found;
  });
  const changes =
    operation === 'delete' ? pair('delete', returned, []) : pair(operation, before, returned, upsert);
  await capture.record(execute, plan, changes);
  return result;
}

/** The rows an update will change, locked: the same tables, joins and WHERE as the update. */
async function beforeImage(
  statement: DrizzleStatement,
  tx: DrizzleLike,
  execute: ExecuteSql,
  plan: CapturePlan,
  items: { alias: string; sql: string }[],
  ref: string,
): Promise<CapturedRow[]> {
  const { config } = statement;
  // Run by hand, not through Drizzle's row mapping: each item names its own column.
  const fields = Object.fromEntries(
    items.map((item) => [item.alias, sql.raw(`${item.sql} AS ${quoteIdent(item.alias)}`)]),
  );
  const start = config.withList && config.withList.length > 0 ? tx.with(...config.withList) : tx;
  type Select = {
    from(t: unknown): Select;
    crossJoin(t: unknown): Select;
    leftJoin(t: unknown, on: unknown): Select;
    rightJoin(t: unknown, on: unknown): Select;
    innerJoin(t: unknown, on: unknown): Select;
    fullJoin(t: unknown, on: unknown): Select;
    where(w: unknown): Select;
    for(strength: string, config?: { of?: unknown }): Select;
    toSQL(): { sql: string; params: unknown[] };
  };
  let select = (start.select(fields) as Select).from(config.table);
  if (config.from) select = select.crossJoin(config.from);
  for (const join of config.joins ?? []) {
    select =
      join.joinType === 'cross'
        ? select.crossJoin(join.table)
        : select[`${join.joinType}Join`](join.table, join.on);
  }
  if (config.where) select = select.where(config.where);
  const query = select.toSQL();
  const locked = await execute(`${query.sql} for update of ${quoteIdent(ref)}`, query.params);
  return locked.rows.map((row) => plan.read(row));
}

/** The existing rows an upsert will update, locked, found by its conflict target in its values. */
async function conflictingRows(
  statement: DrizzleStatement,
  execute: ExecuteSql,
  plan: CapturePlan,
): Promise<CapturedRow[]> {
  const targets = upsertTargets.get(statement) ?? [];
  const rows = statement.config.values;
  const columns = (statement.config.table as Record<symbol, Record<string, object>>)[COLUMNS] ?? {};
  const keys = targets.map((column) => Object.entries(columns).find(([, c]) => c === column)?.[0]);
  if (!rows || rows.length === 0 || keys.length === 0 || keys.includes(undefined)) return [];
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const tuple: string[] = [];
    for (const key of keys) {
      const value = row[key as string];
      if (!is(value, Param)) return [];
      const encoder = value.encoder as { mapToDriverValue?: (v: unknown) => unknown } | undefined;
      params.push(encoder?.mapToDriverValue ? encoder.mapToDriverValue(value.value) : value.value);
      tuple.push(`$${params.length}`);
    }
    tuples.push(`(${tuple.join(', ')})`);
  }
  const alias = '__auditkit_t';
  const select = plan
    .selectItems(alias)
    .map((item) => `${item.sql} AS ${quoteIdent(item.alias)}`)
    .join(', ');
  const names = targets.map(
    (column) => `${quoteIdent(alias)}.${quoteIdent((column as { name: string }).name)}`,
  );
  const result = await execute(
    `SELECT ${select} FROM ${qualifiedName(plan.table)} AS ${quoteIdent(alias)} ` +
      `WHERE (${names.join(', ')}) IN (${tuples.join(', ')}) FOR UPDATE`,
    params,
  );
  return result.rows.map((row) => plan.read(row));
}
