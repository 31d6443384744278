import {
  AliasNode,
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  FromNode,
  IdentifierNode,
  type InsertQueryNode,
  type Kysely,
  type OperationNode,
  type QueryCompiler,
  type QueryResult,
  RawNode,
  ReturningNode,
  type RootOperationNode,
  SelectionNode,
  type SelectQueryNode,
  type TransactionSettings,
} from 'kysely';
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

/**
 * Wraps a Kysely dialect so every insert, update and delete issued through Kysely is recorded as a
 * `change` event in the same transaction. Updates first read their rows with `SELECT ... FOR UPDATE`
 * (the before-image), every statement gets a `RETURNING to_jsonb(row)` (the after-image, or for deletes
 * the deleted row), and the events are inserted into `audit_events` on the same connection before the
 * statement returns. A statement outside a transaction gets one of its own. Rows returned to the app are
 * unchanged. (A Kysely plugin cannot run statements, hence a dialect.)
 *
 * @example
 * const db = new Kysely<DB>({
 *   dialect: auditDialect(new PostgresDialect({ pool }), audit, { tables: { users: { mask: ['email'] } } }),
 * });
 */
export function auditDialect(
  dialect: Dialect,
  audit: ChangeAuditor,
  options: ChangeCaptureOptions = {},
): Dialect {
  const capture = new ChangeCapture(audit, options);
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db: Kysely<unknown>) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new AuditedDriver(dialect.createDriver(), dialect.createQueryCompiler(), capture),
  };
}

/**
 * The database port on a Kysely instance or transaction: `executeSql(text, values)` runs on its
 * connection, so statements given to it join the transaction.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await fromKysely(trx).executeSql("SELECT set_config('app.x', $1, true)", ['1']);
 * });
 */
export function fromKysely(db: Pick<Kysely<unknown>, 'executeQuery'>): { executeSql: ExecuteSql } {
  return {
    executeSql: async (text, values) => {
      const result = await db.executeQuery(CompiledQuery.raw(text, [...values]));
      return { rows: result.rows as RowImage[] };
    },
  };
}

class AuditedDriver implements Driver {
  readonly #inner: Driver;
  readonly #compiler: QueryCompiler;
  readonly #capture: ChangeCapture;
  readonly #connections = new WeakMap<DatabaseConnection, AuditedConnection>();

  constructor(inner: Driver, compiler: QueryCompiler, capture: ChangeCapture) {
    this.#inner = inner;
    this.#compiler = compiler;
    this.#capture = capture;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection();
    let wrapped = this.#connections.get(inner);
    if (!wrapped) {
      wrapped = new AuditedConnection(inner, this.#compiler, this.#capture);
      this.#connections.set(inner, wrapped);
    }
    return wrapped;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const audited = connection as AuditedConnection;
    await this.#inner.beginTransaction(audited.inner, settings);
    audited.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const audited = connection as AuditedConnection;
    audited.inTransaction = false;
    await this.#inner.commitTransaction(audited.inner);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const audited = connection as AuditedConnection;
    audited.inTransaction = false;
    await this.#inner.rollbackTransaction(audited.inner);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.savepoint?.((connection as AuditedConnection).inner, name, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.((connection as AuditedConnection).inner, name, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.((connection as AuditedConnection).inner, name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection((connection as AuditedConnection).inner);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

interface Target {
  operation: ChangeOperation;
  table: TableRef;
  /** How the row is named inside the statement: its alias or its table name. */
  ref: string;
}

/** The written table of an insert, update, delete or merge node, or null for anything else. */
function targetOf(node: RootOperationNode): (Target & { merge?: true }) | null {
  let operation: ChangeOperation;
  let tableNode: OperationNode | undefined;
  let merge: true | undefined;
  if (node.kind === 'InsertQueryNode') {
    operation = 'insert';
    tableNode = node.into;
  } else if (node.kind === 'UpdateQueryNode') {
    operation = 'update';
    tableNode = node.table;
  } else if (node.kind === 'DeleteQueryNode') {
    operation = 'delete';
    tableNode = node.from.froms.length === 1 ? node.from.froms[0] : undefined;
  } else if (node.kind === 'MergeQueryNode') {
    operation = 'update';
    tableNode = node.into;
    merge = true;
  } else {
    return null;
  }
  let alias: string | undefined;
  if (tableNode?.kind === 'AliasNode') {
    const aliasNode = tableNode as AliasNode;
    if (aliasNode.alias.kind === 'IdentifierNode') alias = (aliasNode.alias as IdentifierNode).name;
    tableNode = aliasNode.node;
  }
  if (tableNode?.kind !== 'TableNode') return null;
  const identifier = (
    tableNode as unknown as { table: { schema?: IdentifierNode; identifier: IdentifierNode } }
  ).table;
  const table: TableRef = { name: identifier.identifier.name };
  if (identifier.schema) table.schema = identifier.schema.name;
  const target: Target & { merge?: true } = { operation, table, ref: alias ?? table.name };
  if (merge) target.merge = merge;
  return target;
}

/** Raw statements that open or end a transaction (`sql\`begin\`.execute(conn)`), to keep track of it. */
const BEGINS = /^\s*(begin|start\s+transaction)\b/i;
const ENDS = /^\s*(commit|end|abort|rollback|prepare\s+transaction)\b/i;
const ROLLBACK_TO = /^\s*rollback\s+(work\s+|transaction\s+)?to\b/i;

class AuditedConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  inTransaction = false;
  readonly #compiler: QueryCompiler;
  readonly #capture: ChangeCapture;
  readonly #execute: ExecuteSql;

  constructor(inner: DatabaseConnection, compiler: QueryCompiler, capture: ChangeCapture) {
    this.inner = inner;
    this.#compiler = compiler;
    this.#capture = capture;
    this.#execute = async (text, values) => {
      const result = await inner.executeQuery(CompiledQuery.raw(text, [...values]));
      return { rows: result.rows as RowImage[] };
    };
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (compiled.query.kind === 'RawNode') {
      this.#track(compiled.sql);
      return this.inner.executeQuery<R>(compiled);
    }
    const target = targetOf(compiled.query);
    if (!target) return this.inner.executeQuery<R>(compiled);
    const triggered = await this.#capture.byTriggers(this.#execute, target.table);
    if (!triggered && !this.#capture.captures(target.table, target.operation)) {
      return this.inner.executeQuery<R>(compiled);
    }
    if (this.inTransaction) return this.#recorded<R>(compiled, target, triggered);
    // One statement outside a transaction: the before-image (or the context handed to the triggers),
    // the change and its events commit together.
    await this.inner.executeQuery(CompiledQuery.raw('begin'));
    try {
      const result = await this.#recorded<R>(compiled, target, triggered);
      await this.inner.executeQuery(CompiledQuery.raw('commit'));
      return result;
    } catch (error) {
      await this.inner.executeQuery(CompiledQuery.raw('rollback')).catch(() => undefined);
      throw error;
    }
  }

  /** A recorded statement streamed (`.stream()`) is run whole, then handed over as one chunk. */
  async *streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    const target = compiled.query.kind === 'RawNode' ? null : targetOf(compiled.query);
    const recorded =
      target !== null &&
      ((await this.#capture.byTriggers(this.#execute, target.table)) ||
        this.#capture.tableOptions(target.table) !== null);
    if (!recorded) {
      yield* this.inner.streamQuery<R>(compiled, chunkSize);
      return;
    }
    yield await this.executeQuery<R>(compiled);
  }

  /**
   * Runs a statement of a recorded table inside the transaction: as it is after handing the context to
   * the table's audit triggers, else captured here.
   */
  async #recorded<R>(
    compiled: CompiledQuery,
    target: Target & { merge?: true },
    triggered: boolean,
  ): Promise<QueryResult<R>> {
    if (triggered && (await this.#capture.handOver(this.#execute, target.table))) {
      return this.inner.executeQuery<R>(compiled);
    }
    const options = this.#capture.captures(target.table, target.operation);
    if (!options) return this.inner.executeQuery<R>(compiled);
    if (target.merge) {
      this.#capture.reportUncaptured(
        target.table,
        'A MERGE statement',
        'PostgreSQL cannot return its rows before version 17; use insert/update/delete or trigger mode',
      );
      return this.inner.executeQuery<R>(compiled);
    }
    return this.#captured<R>(compiled, target, options);
  }

  #track(sql: string): void {
    if (BEGINS.test(sql)) this.inTransaction = true;
    else if (ENDS.test(sql) && !ROLLBACK_TO.test(sql)) this.inTransaction = false;
  }

  async #captured<R>(
    compiled: CompiledQuery,
    target: Target,
    options: TableCaptureOptions,
  ): Promise<QueryResult<R>> {
    const node = compiled.query as RootOperationNode & { returning?: ReturningNode };
    const plan = await this.#capture.plan(this.#execute, target.table, options);
    const items = plan.selectItems(target.ref);
    const upsert = node.kind === 'InsertQueryNode' && node.onConflict?.updates !== undefined;

    let before: CapturedRow[] = [];
    if (target.operation === 'update') {
      before = await this.#beforeImage(node, target, plan, items, compiled.queryId);
    } else if (upsert) {
      before = await this.#conflictingRows(node as InsertQueryNode, target, plan);
    }

    const selections = items.map((item) => selectionOf(item.sql, item.alias));
    if (upsert) {
      // xmax is 0 for a row version this statement inserted, the updater's id for one it updated.
      selections.push(selectionOf(`(${quoteIdent(target.ref)}.xmax = 0)`, CAPTURE_COLUMNS.created));
    }
    const returning = node.returning
      ? ReturningNode.cloneWithSelections(node.returning, selections)
      : ReturningNode.create(selections);
    const rewritten = this.#compiler.compileQuery(
      Object.freeze({ ...node, returning }) as RootOperationNode,
      compiled.queryId,
    );
    const result = await this.inner.executeQuery<Record<string, unknown>>(rewritten);
    const returned: (CapturedRow & { created?: boolean })[] = [];
    for (const row of result.rows) {
      const captured: CapturedRow & { created?: boolean } = plan.read(row);
      if (upsert) captured.created = row[CAPTURE_COLUMNS.created] !== false;
      returned.push(captured);
      for (const item of items) delete row[item.alias];
      if (upsert) delete row[CAPTURE_COLUMNS.created];
    }
    const changes =
      target.operation === 'delete'
        ? pair('delete', returned, [])
        : pair(target.operation, before, returned, upsert);
    await this.#capture.record(this.#execute, plan, changes);
    return { ...result, rows: (node.returning ? result.rows : []) as R[] };
  }

  /** The rows an update will change, locked: `SELECT <images> FROM <its tables> WHERE <its WHERE> FOR UPDATE`. */
  async #beforeImage(
    node: RootOperationNode,
    target: Target,
    plan: CapturePlan,
    items: { alias: string; sql: string }[],
    queryId: CompiledQuery['queryId'],
  ): Promise<CapturedRow[]> {
    const n = node as unknown as {
      table?: OperationNode;
      from?: { froms: readonly OperationNode[] };
      joins?: readonly OperationNode[];
      where?: OperationNode;
      with?: { expressions: readonly { expression: OperationNode }[] };
    };
    if (n.with?.expressions.some((cte) => cte.expression.kind !== 'SelectQueryNode')) {
      // Running the WITH again would repeat its writes: record the update with after-images only.
      this.#capture.reportUncaptured(
        target.table,
        'The before-image of an update with a data-modifying WITH',
        'its events show only the new values; use trigger mode for such statements',
      );
      return [];
    }
    const select: Record<string, unknown> = {
      kind: 'SelectQueryNode',
      from: FromNode.create([n.table as OperationNode, ...(n.from?.froms ?? [])]),
      selections: items.map((item) => selectionOf(item.sql, item.alias)),
    };
    if (n.joins) select.joins = n.joins;
    if (n.where) select.where = n.where;
    if (n.with) select.with = n.with;
    const compiled = this.#compiler.compileQuery(
      Object.freeze(select) as unknown as SelectQueryNode,
      queryId,
    );
    const locked = await this.inner.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(`${compiled.sql} for update of ${quoteIdent(target.ref)}`, [...compiled.parameters]),
    );
    return locked.rows.map((row) => plan.read(row));
  }

  /**
   * The existing rows an upsert (`onConflict(...).doUpdateSet(...)`) will update, locked, found by its
   * conflict columns when its values are plain values; otherwise none (those updates show new values only).
   */
  async #conflictingRows(node: InsertQueryNode, target: Target, plan: CapturePlan): Promise<CapturedRow[]> {
    const conflict = node.onConflict?.columns?.map((column) => column.column.name) ?? [];
    const columns = node.columns?.map((column) => column.column.name) ?? [];
    const positions = conflict.map((name) => columns.indexOf(name));
    const lists = node.values?.kind === 'ValuesNode' ? (node.values as unknown as ValuesLike).values : [];
    if (conflict.length === 0 || positions.includes(-1) || lists.length === 0) return [];
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (const list of lists) {
      const tuple: string[] = [];
      for (const position of positions) {
        const value = plainValue(list, position);
        if (value === NOT_PLAIN) return [];
        params.push(value);
        tuple.push(`$${params.length}`);
      }
      tuples.push(`(${tuple.join(', ')})`);
    }
    const ref = '__auditkit_t';
    const select = plan
      .selectItems(ref)
      .map((item) => `${item.sql} AS ${quoteIdent(item.alias)}`)
      .join(', ');
    const key = conflict.map((name) => `${quoteIdent(ref)}.${quoteIdent(name)}`).join(', ');
    const result = await this.#execute(
      `SELECT ${select} FROM ${qualifiedName(target.table)} AS ${quoteIdent(ref)} ` +
        `WHERE (${key}) IN (${tuples.join(', ')}) FOR UPDATE`,
      params,
    );
    return result.rows.map((row) => plan.read(row));
  }
}

interface ValuesLike {
  values: readonly { kind: string; values: readonly unknown[] }[];
}

const NOT_PLAIN = Symbol('not a plain value');

/** The value at `position` of a values list when it is a plain value (not an expression). */
function plainValue(list: { kind: string; values: readonly unknown[] }, position: number): unknown {
  const value = list.values[position];
  if (list.kind === 'PrimitiveValueListNode') return value;
  const node = value as { kind?: string; value?: unknown } | undefined;
  return node?.kind === 'ValueNode' ? node.value : NOT_PLAIN;
}

function selectionOf(sql: string, alias: string): SelectionNode {
  return SelectionNode.create(
    AliasNode.create(RawNode.createWithSql(sql), IdentifierNode.create(alias)) as never,
  );
}
