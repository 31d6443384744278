import type { Auditor } from '../core/auditor.js';
import { tryGetContext } from '../core/context.js';
import { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { REDACTED } from '../core/redact.js';
import { INSERT_COLUMNS, insertRowSource, toInsertParams } from '../store/sql/event-rows.js';
import { quoteIdent } from '../store/sql/sql-executor.js';
import {
  allTriggers,
  CATALOG_SQL,
  catalogGeneration,
  catalogParams,
  HAND_OVER_SQL,
  handOverParams,
  type TableCatalog,
  tableCatalogOf,
} from './capture-catalog.js';
import { type ChangeContext, changeContext } from './change-context.js';
import {
  CHANGE_ACTIONS,
  type ChangeOperation,
  type ColumnChanges,
  diffRows,
  type RowImage,
  relationChanges,
  relationColumns,
  type TableCaptureOptions,
} from './diff.js';
import { captureScope } from './scope.js';
import { auditContextJson } from './triggers/transaction-context.js';

export { refreshCaptureCatalog } from './capture-catalog.js';
export { forceLog, withoutAuditing } from './scope.js';

/**
 * The one thing capture needs from a database client: run one statement with `$n` parameters on the
 * connection (and transaction) the change itself runs on. Adapters: `fromKysely(trx)`, `fromDrizzle(tx)`.
 */
export type ExecuteSql = (text: string, values: readonly unknown[]) => Promise<{ rows: RowImage[] }>;

/** The parts of an auditor capture uses (any `Auditor` fits). */
export type ChangeAuditor = Pick<Auditor, 'redactor' | 'options' | 'store' | 'reportError'>;

export interface ChangeCaptureOptions {
  /**
   * Settings per table, by table name (`orders`) or schema-qualified name (`shop.orders`); `false`
   * switches a table off. The audit tables themselves (`audit_*`) are never captured.
   */
  tables?: Record<string, TableCaptureOptions | boolean>;
  /** Capture only the tables listed in `tables` (default false: every table). */
  onlyListed?: boolean;
  /**
   * The events table, as SQL (`"audit"."audit_events"`), when the auditor's store is not the SQL store
   * of the same database. Default: the auditor's store table, else `"public"."audit_events"`.
   */
  eventsTable?: string;
  /** Most events per INSERT statement (default 10,000); a statement is also cut at about 16 MB of JSON. */
  chunkSize?: number;
}

/** A table as a statement names it. */
export interface TableRef {
  name: string;
  schema?: string;
}

/** Select-list aliases of the values capture adds to statements (row image, key texts, upsert flag). */
export const CAPTURE_COLUMNS = {
  row: '__auditkit_row',
  id: '__auditkit_id',
  owner: '__auditkit_owner',
  related: '__auditkit_related',
  created: '__auditkit_created',
} as const;

/** One row as a capture statement returns it: its image and its keys as `::text`. */
export interface CapturedRow {
  row: RowImage;
  /** `target.id` of the row (null when the table has no key). */
  id: string | null;
  /** For join tables: the owner's and the related record's key texts. */
  owner?: string | null;
  related?: string | null;
}

/** One row change of a statement. */
export interface RowChange {
  operation: ChangeOperation;
  before: CapturedRow | null;
  after: CapturedRow | null;
}

/** How one table is captured: its settings, its key, and the SQL that reads rows of it. */
export interface CapturePlan {
  table: TableRef;
  options: TableCaptureOptions;
  primaryKey: readonly string[];
  /** `expr AS "__auditkit_row", ...`: the select items that give a {@link CapturedRow} for `ref`. */
  selectItems(ref: string): { alias: string; sql: string }[];
  /** The captured row of a result row (the `selectItems` columns). */
  read(result: Record<string, unknown>): CapturedRow;
}

const AUDIT_TABLE = /^audit_/;
const DEFAULT_CHUNK_SIZE = 10_000;
/** About this much JSON per event INSERT statement: bulk statements stay bounded in memory. */
const CHUNK_BYTES = 16 * 1024 * 1024;

/** `'text'` as an SQL string literal. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The `::text` key expression of columns of `ref`: one column's text, or the JSON array of several. */
function keySql(ref: string, columns: readonly string[]): string {
  const texts = columns.map((column) => `${ref}.${quoteIdent(column)}::text`);
  return texts.length === 1 ? (texts[0] as string) : `to_json(ARRAY[${texts.join(', ')}])::text`;
}

const textOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

/**
 * The capture core shared by the Kysely, Drizzle and TypeORM adapters: decides what is captured,
 * finds primary keys, builds the events (actor, tenant and request from the running audit context,
 * the auditor's redactor) and inserts them through the change's own connection, so they commit or
 * roll back with it. A table whose changes Auditkit's audit triggers record is left to them
 * ({@link ChangeCapture.byTriggers}): the adapter only hands them the context ({@link ChangeCapture.handOver}).
 */
export class ChangeCapture {
  readonly #audit: ChangeAuditor;
  readonly #options: ChangeCaptureOptions;
  readonly #eventsTable: string;
  readonly #chunkSize: number;
  readonly #catalogs = new Map<string, Promise<TableCatalog>>();
  #generation = catalogGeneration();
  readonly #insertSql: string;
  readonly #reported = new Set<string>();

  constructor(audit: ChangeAuditor, options: ChangeCaptureOptions = {}) {
    this.#audit = audit;
    this.#options = options;
    const storeTable = (audit.store as { table?: unknown } | undefined)?.table;
    this.#eventsTable =
      options.eventsTable ??
      (typeof storeTable === 'string' ? storeTable : `${quoteIdent('public')}.${quoteIdent('audit_events')}`);
    this.#chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    const columns = INSERT_COLUMNS.map(([name]) => name).join(', ');
    this.#insertSql = `INSERT INTO ${this.#eventsTable} (${columns}) SELECT * FROM ${insertRowSource()}`;
  }

  /** The settings of a table, or null when it is not captured at all. */
  tableOptions(table: TableRef): TableCaptureOptions | null {
    if (AUDIT_TABLE.test(table.name)) return null;
    const tables = this.#options.tables ?? {};
    const entry =
      (table.schema !== undefined && Object.hasOwn(tables, `${table.schema}.${table.name}`)
        ? tables[`${table.schema}.${table.name}`]
        : undefined) ?? (Object.hasOwn(tables, table.name) ? tables[table.name] : undefined);
    if (entry === false) return null;
    if (entry === undefined || entry === true) return this.#options.onlyListed ? null : {};
    return entry;
  }

  /**
   * The settings of a table when a change of this kind is captured here and now: `withoutAuditing`
   * switches capture off, `forceLog` (or `forced`) and `forceLogDeletes` keep it on.
   */
  captures(table: TableRef, operation: ChangeOperation, forced = false): TableCaptureOptions | null {
    const options = this.tableOptions(table);
    if (!options) return null;
    if (captureScope() === 'off' && !forced && !(operation === 'delete' && options.forceLogDeletes)) {
      return null;
    }
    return options;
  }

  /**
   * What the database says of a table: its primary key, and whether audit triggers record its changes.
   * Asked once per table, again after `refreshCaptureCatalog()` (which installing triggers calls).
   */
  catalog(execute: ExecuteSql, table: TableRef): Promise<TableCatalog> {
    const generation = catalogGeneration();
    if (generation !== this.#generation) {
      this.#catalogs.clear();
      this.#generation = generation;
    }
    const qualified = qualifiedName(table);
    let found = this.#catalogs.get(qualified);
    if (!found) {
      found = execute(CATALOG_SQL, catalogParams(qualified)).then((result) => tableCatalogOf(result.rows[0]));
      found.catch(() => this.#catalogs.delete(qualified));
      this.#catalogs.set(qualified, found);
    }
    return found;
  }

  /**
   * True when the table's changes are recorded by its audit triggers, so app-level capture must not
   * record them again: the adapter hands the triggers the context ({@link handOver}) and runs the
   * statement as it is, whatever the capture settings say of the table (the triggers have their own).
   */
  async byTriggers(execute: ExecuteSql, table: TableRef): Promise<boolean> {
    if (AUDIT_TABLE.test(table.name)) return false;
    return (await this.catalog(execute, table)).triggered;
  }

  /**
   * Hands the running audit context (and `withoutAuditing`) to the table's triggers for the rest of the
   * transaction, which must be open on `execute`. False when the triggers are gone since the catalog
   * was read: the change is then the adapter's to capture (the catalog is corrected, no change is lost).
   */
  async handOver(execute: ExecuteSql, table: TableRef): Promise<boolean> {
    const qualified = qualifiedName(table);
    const result = await execute(
      HAND_OVER_SQL,
      handOverParams(await auditContextJson(this.#audit), qualified),
    );
    if (allTriggers(result.rows[0])) return true;
    const known = this.#catalogs.get(qualified);
    if (known)
      this.#catalogs.set(
        qualified,
        known.then((catalog) => ({ ...catalog, triggered: false })),
      );
    return false;
  }

  /** The primary key columns of a table: the `primaryKey` setting, else the catalog's (asked once). */
  async primaryKey(execute: ExecuteSql, table: TableRef, options: TableCaptureOptions): Promise<string[]> {
    if (options.primaryKey && options.primaryKey.length > 0) return [...options.primaryKey];
    return [...(await this.catalog(execute, table)).primaryKey];
  }

  /** How rows of this table are read and recorded (asks the catalog for the key on first use). */
  async plan(execute: ExecuteSql, table: TableRef, options: TableCaptureOptions): Promise<CapturePlan> {
    const primaryKey = await this.primaryKey(execute, table, options);
    if (primaryKey.length === 0 && !options.relation) {
      this.#reportOnce(
        `no_primary_key:${qualifiedName(table)}`,
        new AuditkitError(
          'no_primary_key',
          `Table ${table.name} has no primary key: its change events have no target.id and its updates ` +
            `are paired by position. Set tables.${table.name}.primaryKey in the capture options.`,
        ),
      );
    }
    const exclude = options.exclude ?? [];
    const relation = options.relation;
    const owner = relation ? relationColumns(relation.ownerColumns) : [];
    const related = relation ? relationColumns(relation.relatedColumns) : [];
    return {
      table,
      options,
      primaryKey,
      selectItems(ref) {
        const quoted = quoteIdent(ref);
        const image =
          exclude.length > 0
            ? `(to_jsonb(${quoted}) - ARRAY[${exclude.map(literal).join(', ')}]::text[])`
            : `to_jsonb(${quoted})`;
        const items: { alias: string; sql: string }[] = [{ alias: CAPTURE_COLUMNS.row, sql: image }];
        if (primaryKey.length > 0) items.push({ alias: CAPTURE_COLUMNS.id, sql: keySql(quoted, primaryKey) });
        if (relation) {
          items.push({ alias: CAPTURE_COLUMNS.owner, sql: keySql(quoted, owner) });
          items.push({ alias: CAPTURE_COLUMNS.related, sql: keySql(quoted, related) });
        }
        return items;
      },
      read(result) {
        const captured: CapturedRow = {
          row: (result[CAPTURE_COLUMNS.row] ?? {}) as RowImage,
          id: textOrNull(result[CAPTURE_COLUMNS.id]),
        };
        if (relation) {
          captured.owner = textOrNull(result[CAPTURE_COLUMNS.owner]);
          captured.related = textOrNull(result[CAPTURE_COLUMNS.related]);
        }
        return captured;
      },
    };
  }

  /**
   * Records the row changes of one statement: one event per row (per link for join tables), inserted
   * through `execute` (the change's transaction) with one statement per 10,000 events or 16 MB. No-op updates are
   * skipped unless the table asks for them. Resolves with the number of events written.
   */
  async record(execute: ExecuteSql, plan: CapturePlan, rows: readonly RowChange[]): Promise<number> {
    if (rows.length === 0) return 0;
    const context = await changeContext(this.#audit, tryGetContext());
    const occurredAt = new Date();
    const { options, table } = plan;
    let batch: AuditEvent[] = [];
    let bytes = 0;
    let written = 0;
    const push = async (action: string, targetType: string, id: string | null, changes: ColumnChanges) => {
      const target: { type: string; id?: string } = { type: targetType };
      if (id !== null) target.id = id;
      const event = this.#audit.redactor.redactEvent(
        buildEvent(context, { occurredAt, action, target, changes }),
      );
      keepNullSides(changes, event.changes);
      batch.push(event);
      bytes += approximateSize(event.changes);
      if (batch.length >= this.#chunkSize || bytes >= CHUNK_BYTES) {
        written += await this.#insert(execute, batch, table);
        batch = [];
        bytes = 0;
      }
    };
    for (const change of rows) {
      const { operation, before, after } = change;
      if (options.relation) {
        const link = (row: CapturedRow | null) =>
          row && row.owner != null && row.related != null ? { owner: row.owner, related: row.related } : null;
        const name = options.relation.name ?? options.relation.relatedType;
        for (const found of relationChanges(operation, link(before), link(after), name)) {
          await push(found.action, options.relation.ownerType, found.ownerId, found.changes);
        }
        continue;
      }
      const changes = diffRows(operation, before?.row ?? null, after?.row ?? null, options);
      if (operation === 'update' && !options.recordNoOpUpdates && Object.keys(changes).length === 0) continue;
      const id = (operation === 'delete' ? before?.id : after?.id) ?? before?.id ?? after?.id ?? null;
      await push(CHANGE_ACTIONS[operation], table.name, id, changes);
    }
    if (batch.length > 0) written += await this.#insert(execute, batch, table);
    return written;
  }

  async #insert(execute: ExecuteSql, events: AuditEvent[], table: TableRef): Promise<number> {
    try {
      await execute(this.#insertSql, toInsertParams(events));
    } catch (error) {
      // The change's transaction is aborted now: the change fails with its event, never commits without it.
      throw new AuditkitError(
        'write_failed',
        `Could not record ${events.length} change(s) of ${table.name} in ${this.#eventsTable}, so the ` +
          `change was not made: ${error instanceof Error ? error.message : String(error)}. Run ` +
          'audit.migrate() on this database (or set eventsTable to its audit table), and grant the ' +
          "application's database user INSERT on it.",
        { cause: error },
      );
    }
    return events.length;
  }

  /** Reports a problem to the auditor's onError once per key (a table without a key, say). */
  #reportOnce(key: string, error: AuditkitError): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#audit.reportError(error, error.code);
  }

  /**
   * Reports (once per table and kind) a write outside a transaction that the table's audit triggers
   * record without the audit context: a context lasts a transaction, so the adapter could not hand it over.
   */
  reportContextLost(table: TableRef, what: string): void {
    this.#reportOnce(
      `context_lost:${qualifiedName(table)}:${what}`,
      new AuditkitError(
        'change_context_lost',
        `${what} of ${table.name} ran outside a transaction: its audit trigger records it as the ` +
          'database user, without the audit context, which only a transaction can carry. Run the ' +
          'write in a transaction to record its actor and request.',
        { details: { table: table.name } },
      ),
    );
  }

  /** Reports a change this adapter cannot capture (once per table and kind), naming what to do instead. */
  reportUncaptured(table: TableRef, what: string, instead: string): void {
    this.#reportOnce(
      `not_captured:${qualifiedName(table)}:${what}`,
      new AuditkitError('change_not_captured', `${what} of ${table.name} left no change event: ${instead}.`, {
        details: { table: table.name },
      }),
    );
  }
}

/**
 * The redactor masks both sides of a secret column (`password_hash`); a side that was null is no secret
 * and stays null, so a creation still reads `[null, "[REDACTED]"]` and a deletion `["[REDACTED]", null]`.
 */
function keepNullSides(original: ColumnChanges, redacted: Record<string, unknown> | undefined): void {
  if (!redacted) return;
  for (const [column, pair] of Object.entries(original)) {
    const masked = redacted[column];
    if (!Array.isArray(masked) || masked[0] !== REDACTED || masked[1] !== REDACTED) continue;
    if (pair[0] === null) masked[0] = null;
    if (pair[1] === null) masked[1] = null;
  }
}

/** A rough size of the changes' JSON: enough to cut a bulk statement's events into bounded chunks. */
function approximateSize(changes: Record<string, unknown> | undefined): number {
  let size = 64;
  if (!changes) return size;
  for (const [key, pair] of Object.entries(changes)) {
    size += key.length + 8;
    for (const value of Array.isArray(pair) ? pair : [pair]) {
      if (typeof value === 'string') size += value.length + 2;
      else if (value !== null && typeof value === 'object') size += JSON.stringify(value).length;
      else size += 8;
    }
  }
  return size;
}

/** `"schema"."table"` or `"table"`, quoted. */
export function qualifiedName(table: TableRef): string {
  return table.schema !== undefined
    ? `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`
    : quoteIdent(table.name);
}

/** The event, built like `audit.record()` builds one from the running context. */
function buildEvent(
  context: ChangeContext,
  input: Pick<AuditEvent, 'occurredAt' | 'action' | 'target' | 'changes'>,
): AuditEvent {
  const event: AuditEvent = {
    id: newEventId(),
    occurredAt: input.occurredAt,
    category: 'change',
    action: input.action,
    outcome: 'success',
    tenantId: context.tenantId,
    // Each event gets objects of its own: the redactor may clean them in place.
    actor: { ...context.actor },
    target: input.target,
    changes: input.changes,
  };
  if (context.correlation) event.correlation = { ...context.correlation };
  if (context.request) event.request = { ...context.request };
  if (context.metadata) event.metadata = { ...context.metadata };
  return event;
}

/**
 * The row changes of one statement from the rows read before it and the rows it returned: inserts
 * and deletes stand alone; updates are paired by key (a key the update changed is paired when it is the
 * only unmatched row on both sides). For an upsert (`upsert: true`), a returned row whose
 * `__auditkit_created` flag is false was updated, and its before-image is looked up by key.
 */
export function pair(
  operation: ChangeOperation,
  before: readonly CapturedRow[],
  after: readonly (CapturedRow & { created?: boolean })[],
  upsert = false,
): RowChange[] {
  if (operation === 'delete') return before.map((row) => ({ operation, before: row, after: null }));
  if (operation === 'insert' && !upsert) return after.map((row) => ({ operation, before: null, after: row }));
  const keyed = before.some((row) => row.id === null) ? null : new Map(before.map((row) => [row.id, row]));
  if (!keyed) {
    // Without keys, pair by position: the best that can be done (reported once per table).
    return after.map((row, i) => ({ operation: 'update', before: before[i] ?? null, after: row }));
  }
  const changes: RowChange[] = [];
  const unmatched: number[] = [];
  for (const row of after) {
    if (operation === 'insert' && row.created !== false) {
      changes.push({ operation: 'insert', before: null, after: row });
      continue;
    }
    const old = row.id !== null ? keyed.get(row.id) : undefined;
    if (old) keyed.delete(row.id);
    else unmatched.push(changes.length);
    changes.push({ operation: 'update', before: old ?? null, after: row });
  }
  if (unmatched.length === 1 && keyed.size === 1) {
    (changes[unmatched[0] as number] as RowChange).before = keyed.values().next().value ?? null;
  }
  return changes;
}
