import type { Auditor } from '../core/auditor.js';
import { type AuditContext, normaliseActor, tryGetContext } from '../core/context.js';
import { AuditkitError } from '../core/errors.js';
import type { Actor, AuditEvent } from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { REDACTED } from '../core/redact.js';
import { INSERT_COLUMNS, insertRowSource, toInsertParams } from '../store/sql/event-rows.js';
import { quoteIdent } from '../store/sql/sql-executor.js';
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
 * roll back with it.
 */
export class ChangeCapture {
  readonly #audit: ChangeAuditor;
  readonly #options: ChangeCaptureOptions;
  readonly #eventsTable: string;
  readonly #chunkSize: number;
  readonly #keys = new Map<string, Promise<string[]>>();
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

  /** The primary key columns of a table: the `primaryKey` setting, else the catalog's (asked once). */
  primaryKey(execute: ExecuteSql, table: TableRef, options: TableCaptureOptions): Promise<string[]> {
    if (options.primaryKey && options.primaryKey.length > 0) return Promise.resolve([...options.primaryKey]);
    const qualified = qualifiedName(table);
    let found = this.#keys.get(qualified);
    if (!found) {
      found = execute(
        'SELECT a.attname AS name FROM pg_index i ' +
          'JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) ' +
          'WHERE i.indrelid = to_regclass($1) AND i.indisprimary ' +
          'ORDER BY array_position(i.indkey::int2[], a.attnum)',
        [qualified],
      ).then((result) => result.rows.map((row) => String(row.name)));
      found.catch(() => this.#keys.delete(qualified));
      this.#keys.set(qualified, found);
    }
    return found;
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
    const context = tryGetContext();
    const actor = await this.#actor(context);
    const occurredAt = new Date();
    const tenantId = context?.tenantId ?? this.#audit.options.tenantId ?? null;
    const { options, table } = plan;
    let batch: AuditEvent[] = [];
    let bytes = 0;
    let written = 0;
    const push = async (action: string, targetType: string, id: string | null, changes: ColumnChanges) => {
      const target: { type: string; id?: string } = { type: targetType };
      if (id !== null) target.id = id;
      const event = this.#audit.redactor.redactEvent(
        buildEvent(context, actor, tenantId, { occurredAt, action, target, changes }),
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

  /** Reports a change this adapter cannot capture (once per table and kind), naming what to do instead. */
  reportUncaptured(table: TableRef, what: string, instead: string): void {
    this.#reportOnce(
      `not_captured:${qualifiedName(table)}:${what}`,
      new AuditkitError('change_not_captured', `${what} of ${table.name} left no change event: ${instead}.`, {
        details: { table: table.name },
      }),
    );
  }

  /** The context's actor, resolved now; a failing actor source is reported and replaced, never thrown. */
  async #actor(context: AuditContext | undefined): Promise<Actor> {
    let found: Actor | undefined;
    if (context?.actor !== undefined) {
      try {
        const source = context.actor;
        found = normaliseActor(await (typeof source === 'function' ? source() : source));
      } catch (error) {
        this.#audit.reportError(error, 'actor_resolution_failed');
      }
    }
    let actor: Actor = found ?? { type: context ? 'anonymous' : 'system' };
    if (context) {
      actor = { ...actor };
      if (context.ip !== undefined) actor.ip ??= context.ip;
      if (context.userAgent !== undefined) actor.userAgent ??= context.userAgent;
      if (context.sessionId !== undefined) actor.sessionId ??= context.sessionId;
    }
    return actor;
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
  context: AuditContext | undefined,
  actor: Actor,
  tenantId: string | null,
  input: Pick<AuditEvent, 'occurredAt' | 'action' | 'target' | 'changes'>,
): AuditEvent {
  const event: AuditEvent = {
    id: newEventId(),
    occurredAt: input.occurredAt,
    category: 'change',
    action: input.action,
    outcome: 'success',
    tenantId,
    actor,
    target: input.target,
    changes: input.changes,
  };
  const correlation = compact({
    requestId: context?.requestId,
    traceId: context?.traceId,
    spanId: context?.spanId,
    correlationId: context?.correlationId,
    processId: context?.processId,
    stepId: context?.stepId,
  });
  if (correlation) event.correlation = correlation;
  if (context?.request) {
    const request = compact({ ...context.request, id: context.request.id ?? context.requestId });
    if (request) event.request = request;
  }
  if (context?.metadata) event.metadata = { ...context.metadata };
  return event;
}

function compact<T extends Record<string, unknown>>(value: T): T | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[key] = v;
    kept += 1;
  }
  return kept === 0 ? undefined : (out as T);
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
