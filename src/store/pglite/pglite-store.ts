import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AuditkitError } from '../../core/errors.js';
import { SqlAuditStore } from '../sql/sql-audit-store.js';
import type { SqlExecutor, SqlResult } from '../sql/sql-executor.js';

/** What the store needs from a PGlite transaction. */
export interface PGliteTransactionLike {
  query<T>(query: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * The part of a PGlite instance the store uses, so `@electric-sql/pglite` stays an optional peer
 * dependency: any `PGlite` (0.2 or later) fits.
 */
export interface PGliteLike extends PGliteTransactionLike {
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PgliteStoreOptions {
  /** Directory holding the database, created if needed. Without it (and without `db`) the store is in memory. */
  dataDir?: string;
  /** Schema holding the audit tables; default `public`. */
  schema?: string;
  /** An existing PGlite instance to use instead of creating one; `close()` then leaves it open. */
  db?: PGliteLike;
  /**
   * Keep the pg_trgm index that makes free-text search fast (default true). Every insert pays for it;
   * false drops it at the next `migrate()` and searches scan again. A `db` of your own must load the
   * extension for the index to be made (`PGlite.create({ extensions: { pg_trgm } })`), and once a
   * database has the index, every PGlite that writes to it must load the extension.
   */
  textSearchIndex?: boolean;
}

/** Serializes work on the single PGlite connection: one statement or transaction at a time. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

async function openPGlite(dataDir: string | undefined): Promise<PGliteLike> {
  let module: typeof import('@electric-sql/pglite');
  try {
    module = await import('@electric-sql/pglite');
  } catch (error) {
    throw new AuditkitError(
      'store_unavailable',
      'The PGlite store needs the optional dependency @electric-sql/pglite: npm install @electric-sql/pglite',
      { cause: error },
    );
  }
  const extensions = await loadTrigramExtension();
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    // The options form: `create(undefined, options)` would drop the options of an in-memory database.
    return await module.PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), extensions });
  } catch (error) {
    const where = dataDir === undefined ? 'in memory' : `in ${dataDir}`;
    const reason = error instanceof Error ? error.message : String(error);
    throw new AuditkitError(
      'store_unavailable',
      `Could not open the PGlite database ${where}: ${reason}. ` +
        'Check that the directory is writable and not used by another process.',
      { cause: error },
    );
  }
}

/**
 * pg_trgm, for the free-text index of migration 5. It is loaded with every database the store opens
 * (a database whose index exists cannot be written without it); a PGlite without the contrib bundle
 * opens without it, and free text stays a scan.
 */
async function loadTrigramExtension(): Promise<import('@electric-sql/pglite').Extensions> {
  try {
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    return { pg_trgm };
  } catch {
    return {};
  }
}

/** Adapts a PGlite transaction to the executor port. */
function transactionExecutor(tx: PGliteTransactionLike): SqlExecutor {
  return {
    query: <T>(text: string, params?: readonly unknown[]) =>
      tx.query<T>(text, params as unknown[] | undefined) as Promise<SqlResult<T>>,
  };
}

/**
 * The embedded store: PostgreSQL compiled to WebAssembly, in a directory or in memory, nothing to
 * install. One plain (non-partitioned) `audit_events` table; the same SQL and behaviour as PostgreSQL.
 *
 * @example
 * import { pgliteStore } from 'auditkit/pglite';
 * const store = pgliteStore({ dataDir: './audit-data' });
 * await store.migrate();
 */
export function pgliteStore(options: PgliteStoreOptions = {}): SqlAuditStore {
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  const owned = options.db === undefined;
  const mutex = new Mutex();
  let opening: Promise<PGliteLike> | undefined = options.db ? Promise.resolve(options.db) : undefined;
  const db = (): Promise<PGliteLike> => {
    if (!opening) {
      opening = openPGlite(dataDir);
      // A failed open is retried by the next call instead of failing forever.
      opening.catch(() => {
        opening = undefined;
      });
    }
    return opening;
  };

  const executor: SqlExecutor = {
    query: <T>(text: string, params?: readonly unknown[]) =>
      mutex.run(
        async () => (await db()).query<T>(text, params as unknown[] | undefined) as Promise<SqlResult<T>>,
      ),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
      mutex.run(async () => (await db()).transaction((tx) => fn(transactionExecutor(tx)))),
  };

  const target = dataDir === undefined ? (owned ? 'PGlite (in memory)' : 'PGlite') : `PGlite at ${dataDir}`;
  return new SqlAuditStore({
    name: 'pglite',
    executor,
    partitioned: false,
    schema: options.schema,
    target,
    ...(options.textSearchIndex === undefined ? {} : { textSearchIndex: options.textSearchIndex }),
    onClose: async () => {
      if (!owned || !opening) return;
      const instance = await mutex.run(() => opening ?? Promise.resolve(undefined)).catch(() => undefined);
      await instance?.close();
    },
  });
}
