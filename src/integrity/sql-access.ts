import { AuditkitError } from '../core/errors.js';
import { inTransaction, quoteIdent, type SqlExecutor } from '../store/sql/sql-executor.js';
import type { AuditStore } from '../store/store.js';

/**
 * What integrity, retention and erasure need beyond the `AuditStore` interface: SQL on the store's own
 * database. The PGlite and PostgreSQL stores (`SqlAuditStore`) already have these three members, so they
 * can be passed directly; anything else that speaks PostgreSQL can provide them.
 */
export interface SqlAccess {
  /** Runs statements on the store's database. */
  readonly executor: SqlExecutor;
  /** The schema holding `audit_events` (unquoted). */
  readonly schema: string;
  /** True when `audit_events` is range-partitioned by month (PostgreSQL). */
  readonly partitioned: boolean;
  /** A short name for messages: `pglite`, `postgres`. */
  readonly name?: string;
}

/** True when `value` has SQL access (an executor and a schema). */
export function hasSqlAccess(value: unknown): value is SqlAccess {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SqlAccess>;
  return (
    typeof v.executor === 'object' &&
    v.executor !== null &&
    typeof v.executor.query === 'function' &&
    typeof v.schema === 'string' &&
    typeof v.partitioned === 'boolean'
  );
}

/**
 * The SQL access of a store: the store itself when it is a SQL store, or its `sql` member when a wrapper
 * (fan-out, for instance) exposes one. Anything else throws `not_supported`.
 */
export function sqlAccessOf(store: AuditStore | SqlAccess): SqlAccess {
  if (hasSqlAccess(store)) return store;
  const inner = (store as { sql?: unknown }).sql;
  if (hasSqlAccess(inner)) return inner;
  const name = (store as { name?: unknown }).name;
  throw new AuditkitError(
    'not_supported',
    `Tamper evidence, retention and erasure need a SQL store (PGlite or PostgreSQL); the ${String(name ?? 'given')} store has no SQL access.`,
  );
}

/** The quoted, schema-qualified names of the tables these modules use. */
export interface IntegrityTables {
  events: string;
  /** Per event: its seq, chain hash and personal digest; stays (marked removed) when the event goes. */
  seals: string;
  /** Where the sealer is in the stream of writing transactions. */
  sealCursor: string;
  heads: string;
  checkpoints: string;
  anchors: string;
  erasures: string;
  erasedEvents: string;
}

export function tablesOf(access: SqlAccess): IntegrityTables {
  const schema = quoteIdent(access.schema);
  const q = (name: string) => `${schema}.${quoteIdent(name)}`;
  return {
    events: q('audit_events'),
    seals: q('audit_seals'),
    sealCursor: q('auditkit_seal_cursor'),
    heads: q('auditkit_chain_heads'),
    checkpoints: q('auditkit_checkpoints'),
    anchors: q('auditkit_anchors'),
    erasures: q('auditkit_erasures'),
    erasedEvents: q('auditkit_erased_events'),
  };
}

/** The transaction-local setting the append-only trigger reads. */
export const MAINTENANCE_SETTING = 'auditkit.maintenance';

/**
 * Why a transaction takes the maintenance lock: `seal` only inserts seals (it changes no event);
 * `retention` and `erasure` may delete and rewrite events and mark their seals removed; `partition` is
 * for the store moving rows out of the DEFAULT partition into a new monthly one.
 */
export type MaintenanceMode = 'seal' | 'retention' | 'erasure' | 'partition';

/** Advisory lock class ("audj") taken by the sealer, retention and erasure, one key per schema. */
const MAINTENANCE_LOCK_CLASS = 0x6175646a;

export interface MaintenanceOptions {
  /** Wait for another sealer, cleanup or erasure to finish (default); false returns `busy` at once. */
  wait?: boolean;
}

/**
 * Runs `fn` in one transaction that holds the maintenance lock of the schema (so the sealer, retention
 * and erasure never interleave) and lifts the append-only rule for `mode` only, only inside this
 * transaction. Writers never take this lock. Resolves `{ busy: true }` when `wait` is false and someone
 * else holds it.
 */
export async function withMaintenance<T>(
  access: SqlAccess,
  mode: MaintenanceMode,
  fn: (tx: SqlExecutor) => Promise<T>,
  options: MaintenanceOptions = {},
): Promise<{ busy: true } | { busy: false; value: T }> {
  return inTransaction(access.executor, async (tx) => {
    if (options.wait === false) {
      const got = await tx.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_xact_lock(${MAINTENANCE_LOCK_CLASS}, hashtext($1)) AS ok`,
        [access.schema],
      );
      if (got.rows[0]?.ok !== true) return { busy: true as const };
    } else {
      await tx.query(`SELECT pg_advisory_xact_lock(${MAINTENANCE_LOCK_CLASS}, hashtext($1))`, [
        access.schema,
      ]);
    }
    await tx.query(`SELECT set_config('${MAINTENANCE_SETTING}', $1, true)`, [mode]);
    // Every join here matches one batch (a few thousand keys) against the whole events table: probing the
    // primary key per row is what scales; a hash join would scan every row of the table per batch.
    await tx.query('SET LOCAL enable_hashjoin = off');
    await tx.query('SET LOCAL enable_mergejoin = off');
    // The switches add "disable cost" to estimates, which would make PostgreSQL JIT-compile every query.
    await tx.query('SET LOCAL jit = off');
    return { busy: false as const, value: await fn(tx) };
  });
}

/** Like {@link withMaintenance} with `wait: true`: the value of `fn`. */
export async function inMaintenance<T>(
  access: SqlAccess,
  mode: MaintenanceMode,
  fn: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  const result = await withMaintenance(access, mode, fn);
  if (result.busy) throw new AuditkitError('store_error', 'The maintenance lock could not be taken.');
  return result.value;
}

/** The tenant of a chain key ({@link chainKey} reversed). */
export function tenantOfChain(chain: string): string | null {
  return chain.startsWith('=') ? chain.slice(1) : null;
}

/** SQL giving the chain key of an `audit_events` row (`alias.tenant_id`), as {@link chainKey} does. */
export function chainKeySql(alias: string): string {
  return `CASE WHEN ${alias}.tenant_id IS NULL THEN '-' ELSE '=' || ${alias}.tenant_id END`;
}

/**
 * The key of a tenant's chain in the integrity tables: `-` for events without a tenant, `=` + the id
 * otherwise (so no tenant id can collide with "no tenant").
 */
export function chainKey(tenantId: string | null | undefined): string {
  return tenantId === null || tenantId === undefined ? '-' : `=${tenantId}`;
}

/** The SQL condition selecting one tenant's events, with its parameter (none for "no tenant"). */
export function tenantCondition(tenantId: string | null, index: number): { sql: string; params: unknown[] } {
  return tenantId === null
    ? { sql: 'tenant_id IS NULL', params: [] }
    : { sql: `tenant_id = $${index}`, params: [tenantId] };
}

/** A PostgreSQL array literal of text values, every element quoted (safe for any string). */
export function textArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
}

/** `occurred_at` (of `alias`, when given) as UTC text with microseconds, as the integrity code hashes it. */
export function occurredAtText(alias?: string): string {
  return `to_char(${alias ? `${alias}.` : ''}occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** `occurred_at` as UTC text with microseconds, as the integrity code hashes it. */
export const OCCURRED_AT_TEXT = occurredAtText();
