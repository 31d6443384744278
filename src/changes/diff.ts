/*
 * The change event, shared by app-level capture (Kysely, Drizzle, TypeORM) and trigger mode. Keep it
 * stable; a convention that changes is written here first, so both capture modes move together.
 *
 * - category `change`; action `record.created` | `record.updated` | `record.deleted` for row changes,
 *   `relation.added` | `relation.removed` for rows of a join table configured with `relation`.
 * - target `{ type: <table name without schema>, id }`. `id` is the key column's `::text`; for a
 *   composite key the compact JSON array of each key column's `::text` in key order (`["7","A-1"]`,
 *   what `to_json(ARRAY[a::text, b::text])::text` gives). App-level capture computes it in SQL too.
 *   A table without a primary key (and no `primaryKey` setting) gives events without `target.id`.
 * - changes `{ column: [before, after] }` with values as `to_jsonb(row)` gives them: every recorded
 *   column for inserts (`[null, value]`) and deletes (`[value, null]`), only the changed ones for
 *   updates; an update that changes no recorded column records nothing (`recordNoOpUpdates` keeps it).
 *   Masked columns (`mask`, and the redactor's secret names such as `password_hash`) are `"[REDACTED]"`
 *   on each side that is not null (`[REDACTED, REDACTED]` when a masked value changed).
 * - relation events go to the owning record: target `{ type: ownerType, id: <owner key text> }`,
 *   changes `{ <name>: [null, <related key text>] }` when added, `{ <name>: [<related key text>, null] }`
 *   when removed. An update of a join row that moves a key is a removal followed by an addition; one
 *   that changes neither key records nothing.
 * - actor, tenant, request and correlation come from the audit context of the transaction; outside any
 *   context the actor is `{ type: 'system' }`. `withoutAuditing` / `forceLog` is `captureScope()` (scope.ts).
 */
import { REDACTED } from '../core/redact.js';

/** A row as `to_jsonb(row)` gives it: database column names, JSON values. */
export type RowImage = Record<string, unknown>;

/** What happened to a row. */
export type ChangeOperation = 'insert' | 'update' | 'delete';

/** `{ column: [before, after] }`: the diff stored in `event.changes`. */
export type ColumnChanges = Record<string, [unknown, unknown]>;

/** The event action of each operation; trigger mode uses the same names. */
export const CHANGE_ACTIONS: Readonly<Record<ChangeOperation, string>> = {
  insert: 'record.created',
  update: 'record.updated',
  delete: 'record.deleted',
};

/** The event actions of join-table rows configured with `relation`. */
export const RELATION_ACTIONS = { added: 'relation.added', removed: 'relation.removed' } as const;

/**
 * A join table (many-to-many) recorded as links on the owning record rather than as rows of its own.
 *
 * @example
 * // order_tags(order_id, tag_id): `relation.added` / `relation.removed` in the history of orders/<id>
 * { ownerType: 'orders', ownerColumns: 'order_id', relatedType: 'tags', relatedColumns: 'tag_id' }
 */
export interface RelationCaptureOptions {
  /** The owning record's type, as its own events name it (its table name). */
  ownerType: string;
  /** The join-table column(s) holding the owner's key, in the owner's key order. */
  ownerColumns: string | readonly string[];
  /** The related record's type (its table name). */
  relatedType: string;
  /** The join-table column(s) holding the related record's key, in its key order. */
  relatedColumns: string | readonly string[];
  /** The name the link is listed under in `changes`; default `relatedType`. */
  name?: string;
}

/** Per-table capture settings, by database column name. */
export interface TableCaptureOptions {
  /** Only these columns are recorded (the primary key is still used for `target.id`). */
  include?: readonly string[];
  /** These columns are never recorded. */
  exclude?: readonly string[];
  /** These columns are recorded as `[REDACTED]`: the diff shows that they changed, never the value. */
  mask?: readonly string[];
  /** The primary key columns, when the catalog should not be asked (views, tables without a key). */
  primaryKey?: readonly string[];
  /** Record deletes of this table even inside `withoutAuditing` (like `forceLog`). */
  forceLogDeletes?: boolean;
  /** Record updates that changed no recorded column (default false: no event). */
  recordNoOpUpdates?: boolean;
  /** This is a join table: record its rows as `relation.added` / `relation.removed` on the owner. */
  relation?: RelationCaptureOptions;
}

const hasOwn = (row: RowImage, key: string) => Object.hasOwn(row, key);

/** The recorded part of a row: included columns minus excluded ones, masked ones as `[REDACTED]`. */
export function recordedColumns(row: RowImage, options: TableCaptureOptions = {}): RowImage {
  const out: RowImage = {};
  const keys = options.include ? options.include.filter((k) => hasOwn(row, k)) : Object.keys(row);
  const exclude = options.exclude;
  const mask = options.mask;
  for (const key of keys) {
    if (exclude?.includes(key)) continue;
    const value = row[key];
    out[key] = mask?.includes(key) && value !== null && value !== undefined ? REDACTED : value;
  }
  return out;
}

/** Deep equality of JSON values (what `to_jsonb` produces). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => sameJson(v, other[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as RowImage)[k], (b as RowImage)[k]));
}

/**
 * The diff of one row change: every recorded column for inserts (`[null, value]`) and deletes
 * (`[value, null]`), only the changed ones for updates. Masking is applied before comparing, so a
 * masked column that changed shows `['[REDACTED]', '[REDACTED]']`.
 *
 * @example
 * diffRows('update', { id: 1, status: 'new' }, { id: 1, status: 'paid' }); // { status: ['new', 'paid'] }
 */
export function diffRows(
  operation: ChangeOperation,
  before: RowImage | null,
  after: RowImage | null,
  options: TableCaptureOptions = {},
): ColumnChanges {
  const changes: ColumnChanges = {};
  if (operation === 'insert' && after) {
    for (const [key, value] of Object.entries(recordedColumns(after, options))) changes[key] = [null, value];
    return changes;
  }
  if (operation === 'delete' && before) {
    for (const [key, value] of Object.entries(recordedColumns(before, options))) changes[key] = [value, null];
    return changes;
  }
  const old = before ? recordedColumns(before, options) : {};
  const now = after ? recordedColumns(after, options) : {};
  for (const key of new Set([...Object.keys(old), ...Object.keys(now)])) {
    const a = old[key] ?? null;
    const b = now[key] ?? null;
    const maskedChange =
      options.mask?.includes(key) && before && after && !sameJson(before[key] ?? null, after[key] ?? null);
    if (maskedChange) changes[key] = [a === null ? null : REDACTED, b === null ? null : REDACTED];
    else if (!sameJson(a, b)) changes[key] = [a, b];
  }
  return changes;
}

/** A JSON value as PostgreSQL's `::text` would print it, for keys (numbers, strings, booleans). */
function keyText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * `target.id` of a row: the key's text, or for a composite key a compact JSON array of each key
 * column's text, in key order (`["7","A-1"]`, what `to_json(ARRAY[a::text, b::text])::text` gives).
 */
export function recordId(row: RowImage, primaryKey: readonly string[]): string {
  if (primaryKey.length === 1) return keyText(row[primaryKey[0] as string]);
  return JSON.stringify(primaryKey.map((k) => keyText(row[k])));
}

/** The column list of a relation side, whether given as one name or several. */
export function relationColumns(columns: string | readonly string[]): readonly string[] {
  return typeof columns === 'string' ? [columns] : columns;
}

/** One link change of a join table: the owner it is listed on, the related key, added or removed. */
export interface RelationChange {
  action: (typeof RELATION_ACTIONS)[keyof typeof RELATION_ACTIONS];
  ownerId: string;
  changes: ColumnChanges;
}

/**
 * The link changes of one join-table row change, with key texts given as `::text` would print them:
 * an insert adds, a delete removes, an update that moves either key removes the old link and adds the
 * new one (an update of other columns changes no link).
 *
 * @example
 * relationChanges('insert', null, { owner: '42', related: '7' }, 'tags');
 * // [{ action: 'relation.added', ownerId: '42', changes: { tags: [null, '7'] } }]
 */
export function relationChanges(
  operation: ChangeOperation,
  before: { owner: string; related: string } | null,
  after: { owner: string; related: string } | null,
  name: string,
): RelationChange[] {
  const removed = (link: { owner: string; related: string }): RelationChange => ({
    action: RELATION_ACTIONS.removed,
    ownerId: link.owner,
    changes: { [name]: [link.related, null] },
  });
  const added = (link: { owner: string; related: string }): RelationChange => ({
    action: RELATION_ACTIONS.added,
    ownerId: link.owner,
    changes: { [name]: [null, link.related] },
  });
  if (operation === 'insert') return after ? [added(after)] : [];
  if (operation === 'delete') return before ? [removed(before)] : [];
  if (!before || !after) return after ? [added(after)] : before ? [removed(before)] : [];
  if (before.owner === after.owner && before.related === after.related) return [];
  return [removed(before), added(after)];
}
