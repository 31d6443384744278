import type { Auditor } from '../../core/auditor.js';
import { tryGetContext } from '../../core/context.js';
import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { newEventId } from '../../core/ids.js';
import { storableJsonText } from '../../store/sql/event-rows.js';
import type { ExecuteSql } from '../capture.js';
import { changeContext } from '../change-context.js';
import { captureScope } from '../scope.js';
import { CONTEXT_SETTING } from './trigger-sql.js';

/** The parts of an auditor the context needs (any `Auditor` fits). */
export type ContextAuditor = Pick<Auditor, 'redactor' | 'options' | 'reportError'>;

/** A `pg` client (`Client`, or a `PoolClient` checked out of a pool). */
export interface PgQueryClient {
  query(text: string, values?: unknown[]): Promise<unknown>;
  /** `pg` 8.12+: `I` idle, `T` in a transaction, `E` in a failed transaction. */
  getTransactionStatus?(): string | null;
}

/** A `pg.Pool`: a client is checked out for the transaction and released after it. */
export interface PgPoolClientSource {
  connect(): Promise<PgQueryClient & { release(destroy?: Error | boolean): void }>;
  readonly totalCount: number;
}

/** A PGlite database: the transaction is `db.transaction(...)`. */
export interface PGliteDatabase {
  query(text: string, values?: unknown[]): Promise<unknown>;
  transaction<T>(callback: (tx: never) => Promise<T>): Promise<T>;
}

/** A PGlite transaction (inside `db.transaction(...)`). */
export interface PGliteTransaction {
  query(text: string, values?: unknown[]): Promise<unknown>;
  rollback(): Promise<void>;
}

/**
 * What `withTransactionContext` runs on: a `pg` client or pool, a PGlite database or transaction, an
 * `ExecuteSql` function, or an object with `executeSql` (`fromKysely(trx)`, `fromDrizzle(tx)`).
 */
export type TransactionClient =
  | ExecuteSql
  | { executeSql: ExecuteSql }
  | PgPoolClientSource
  | PGliteDatabase
  | PGliteTransaction
  | PgQueryClient;

/** What `fn` receives: the checked-out client of a pool, the transaction of a PGlite database, else the client. */
export type TransactionOf<C> = C extends (...args: never[]) => unknown
  ? C
  : C extends { totalCount: number; connect(): Promise<infer X> }
    ? X
    : C extends { transaction<T>(callback: (tx: infer X) => Promise<T>): Promise<T> }
      ? X
      : C;

/** The statement that hands the context to the triggers, for the rest of the transaction. */
export const SET_CONTEXT_SQL = `SELECT set_config('${CONTEXT_SETTING}', $1, true)`;

/**
 * The JSON the audit triggers read from `auditkit.context`: tenant, actor (resolved now, so a lazy
 * actor set by authentication is seen), correlation ids, request summary and metadata of the running
 * audit context, masked by the auditor's redactor like every event. Outside any context the actor is
 * `system`, as for `audit.record()`. Inside `withoutAuditing` it says `"capture": "off"`: the triggers
 * record nothing of the transaction then, except deletes under `forceLog` or of `forceLogDeletes` tables.
 *
 * @example
 * const json = await auditContextJson(audit);
 * await prisma.$transaction([prisma.$executeRaw`SELECT set_config('auditkit.context', ${json}, true)`, prisma.order.update(...)]);
 */
export async function auditContextJson(audit: ContextAuditor): Promise<string> {
  const off = captureScope() === 'off';
  const draft: AuditEvent = {
    id: newEventId(),
    occurredAt: new Date(),
    category: 'change',
    action: 'record.updated',
    outcome: 'success',
    ...(await changeContext(audit, tryGetContext())),
  };
  // The same masking and cutting as any event: the triggers store these parts as they are.
  const clean = audit.redactor.redactEvent(draft);
  return storableJsonText({
    tenantId: clean.tenantId ?? null,
    actor: clean.actor,
    correlation: clean.correlation,
    request: clean.request,
    metadata: clean.metadata,
    ...(off ? { capture: 'off' } : {}),
  });
}

const isFunction = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === 'function';

function failedTransactionError(cause?: unknown): AuditkitError {
  return new AuditkitError(
    'invalid_state',
    'The transaction on this client has already failed; roll it back before setting its audit context.',
    cause === undefined ? undefined : { cause },
  );
}

/** True when this `pg` client is inside a transaction block. */
async function insideTransaction(client: PgQueryClient): Promise<boolean> {
  const status = client.getTransactionStatus?.();
  if (status === 'T') return true;
  if (status === 'E') throw failedTransactionError();
  if (status === 'I') return false;
  // Older drivers: in a transaction block a later statement starts after the transaction did.
  const result = (await client.query(
    'SELECT transaction_timestamp() <> statement_timestamp() AS inside',
  )) as { rows: { inside: boolean }[] };
  return result.rows[0]?.inside === true;
}

/**
 * Runs `fn` in a database transaction whose changes the audit triggers record with the running audit
 * context (actor resolved now, tenant, request and correlation ids, metadata): it runs
 * `set_config('auditkit.context', <json>, true)` in the transaction.
 *
 * - Owns the transaction (BEGIN, then COMMIT, or ROLLBACK when `fn` throws) for a `pg` client that is
 *   not in one, a `pg.Pool` (a client is checked out, passed to `fn` and released) and a PGlite
 *   database (`db.transaction`, `fn` gets the transaction).
 * - Only sets the context, for the rest of the transaction, when already inside one: a `pg` client in
 *   a transaction block, a PGlite transaction, an `ExecuteSql` function or `{ executeSql }`
 *   (`fromKysely(trx)`, `fromDrizzle(tx)`), which always run inside the caller's transaction.
 *
 * @example
 * await audit.runWithContext({ actor: () => req.user, requestId }, () =>
 *   audit.withTransactionContext(pool, (client) => client.query('UPDATE orders SET status = $1 WHERE id = $2', ['paid', 42])),
 * );
 */
export async function withTransactionContext<C extends TransactionClient, T>(
  audit: ContextAuditor,
  client: C,
  fn: (tx: TransactionOf<C>) => Promise<T>,
): Promise<T> {
  const json = await auditContextJson(audit);
  const run = fn as (tx: unknown) => Promise<T>;
  const target = client as unknown as Record<string, unknown>;
  if (isFunction(client)) {
    await (client as ExecuteSql)(SET_CONTEXT_SQL, [json]);
    return run(client);
  }
  if (isFunction(target.executeSql)) {
    await (target.executeSql as ExecuteSql)(SET_CONTEXT_SQL, [json]);
    return run(client);
  }
  if (isFunction(target.connect) && typeof target.totalCount === 'number') {
    const pooled = await (client as PgPoolClientSource).connect();
    let broken: Error | undefined;
    try {
      return await ownTransaction(pooled, json, run, (error) => {
        broken = error;
      });
    } finally {
      pooled.release(broken);
    }
  }
  if (isFunction(target.transaction) && isFunction(target.query)) {
    return (client as PGliteDatabase).transaction(async (tx: never) => {
      await (tx as PGliteTransaction).query(SET_CONTEXT_SQL, [json]);
      return run(tx);
    });
  }
  if (isFunction(target.rollback) && isFunction(target.query)) {
    await (client as PGliteTransaction).query(SET_CONTEXT_SQL, [json]);
    return run(client);
  }
  if (isFunction(target.query)) {
    const pg = client as PgQueryClient;
    if (await insideTransaction(pg)) {
      await pg.query(SET_CONTEXT_SQL, [json]).catch((error: unknown) => {
        // The driver learns that the transaction failed from the message after the error, which may not
        // have been read yet when the caller's catch ran: PostgreSQL's refusal says the same.
        if ((error as { code?: unknown } | null)?.code === '25P02') throw failedTransactionError(error);
        throw error;
      });
      return run(client);
    }
    return ownTransaction(pg, json, run);
  }
  throw new AuditkitError(
    'invalid_config',
    'withTransactionContext needs a pg client or pool, a PGlite database or transaction, an ExecuteSql ' +
      'function or { executeSql } (fromKysely(trx), fromDrizzle(tx)).',
  );
}

async function ownTransaction<T>(
  client: PgQueryClient,
  json: string,
  run: (tx: unknown) => Promise<T>,
  onBroken?: (error: Error) => void,
): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(SET_CONTEXT_SQL, [json]);
    const result = await run(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is gone: a pool must not hand it out again.
      onBroken?.(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)));
    }
    throw error;
  }
}

/** The part of a Prisma client (or interactive transaction) the helper uses; no Prisma dependency. */
export interface PrismaRawClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<unknown>;
}

/**
 * Sets the audit context inside a Prisma interactive transaction, so the triggers record its changes
 * with the running context (Prisma's own engine cannot be extended here; trigger mode records it).
 *
 * @example
 * await prisma.$transaction(async (tx) => {
 *   await setPrismaAuditContext(audit, tx);
 *   await tx.order.update({ where: { id: 42 }, data: { status: 'paid' } });
 * });
 */
export async function setPrismaAuditContext(audit: ContextAuditor, tx: PrismaRawClient): Promise<void> {
  await tx.$executeRawUnsafe(SET_CONTEXT_SQL, await auditContextJson(audit));
}
