import { AuditkitError } from '../../core/errors.js';
import { SqlAuditStore } from '../sql/sql-audit-store.js';
import { isConnectionError } from '../sql/sql-errors.js';
import type { SqlExecutor, SqlResult } from '../sql/sql-executor.js';

/** What the store needs from a pooled `pg` client. */
export interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Returns the client to the pool; a truthy argument destroys it instead (after a broken connection). */
  release(destroy?: Error | boolean): void;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * The part of a `pg.Pool` the store uses, so `pg` stays an optional peer dependency: any `pg.Pool`
 * (8.11 or later) fits, and so do compatible pools.
 */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  connect(): Promise<PgClientLike>;
  end(): Promise<void>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
  /** pg.Pool keeps its configuration here; used only to describe the server in error messages. */
  options?: {
    connectionString?: string;
    host?: string;
    port?: number | string;
    database?: string;
    user?: string;
  };
}

export type PostgresConnection =
  | { connectionString: string; pool?: never }
  | { pool: PgPoolLike; connectionString?: never };

export interface PostgresStoreOptions {
  /** Schema holding the audit tables; default `public`. Created by `migrate()` when missing. */
  schema?: string;
  /** Connections in the pool the store creates (default 10); ignored with `pool`. */
  max?: number;
  /** How long to wait for a connection before failing with `store_unavailable` (default 5000 ms). */
  connectionTimeoutMillis?: number;
  /** Receives errors of idle pooled connections (the server restarted, the network dropped them). */
  onPoolError?: (error: AuditkitError) => void;
  /**
   * Keep the pg_trgm index that makes free-text search fast (default true). Every insert pays for it
   * (see docs/ui.md); false drops it at the next `migrate()` and searches scan again.
   */
  textSearchIndex?: boolean;
}

/**
 * Describes a server for error messages: `PostgreSQL at postgres://app@db.internal:5432/audit`.
 * Never includes the password (nor any query parameter, which may carry one).
 */
export function describeServer(connection: {
  connectionString?: string;
  host?: string;
  port?: number | string;
  database?: string;
  user?: string;
}): string {
  const { connectionString } = connection;
  if (connectionString) {
    try {
      const url = new URL(connectionString);
      const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
      const socket = url.searchParams.get('host');
      const host = url.host || (socket ? `(socket ${socket})` : 'localhost');
      return `PostgreSQL at ${url.protocol}//${user}${host}${url.pathname}`;
    } catch {
      return 'PostgreSQL (the connection string could not be parsed as a URL; it is not shown because it may hold a password)';
    }
  }
  const user = connection.user ? `${connection.user}@` : '';
  const host = connection.host ?? 'localhost';
  const port = connection.port ? `:${connection.port}` : '';
  const database = connection.database ? `/${connection.database}` : '';
  return `PostgreSQL at ${user}${host}${port}${database}`;
}

async function createPool(connectionString: string, options: PostgresStoreOptions): Promise<PgPoolLike> {
  let pg: typeof import('pg');
  try {
    pg = await import('pg');
  } catch (error) {
    throw new AuditkitError(
      'store_unavailable',
      'The PostgreSQL store needs the optional dependency pg: npm install pg',
      { cause: error },
    );
  }
  // pg is CommonJS: its exports are on `default` when imported from ESM.
  const Pool = pg.default?.Pool ?? pg.Pool;
  return new Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'auditkit',
  }) as unknown as PgPoolLike;
}

function poolExecutor(getPool: () => Promise<PgPoolLike>): SqlExecutor {
  return {
    async query<T>(text: string, params?: readonly unknown[]): Promise<SqlResult<T>> {
      const pool = await getPool();
      return (await pool.query(text, params as unknown[] | undefined)) as SqlResult<T>;
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const pool = await getPool();
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client has no error listener of the pool's: a connection lost between two
      // statements would otherwise be an unhandled 'error' event and crash the process.
      const onError = (error: Error) => {
        broken = error;
      };
      client.on?.('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R>(text: string, params?: readonly unknown[]) =>
            (await client.query(text, params as unknown[] | undefined)) as SqlResult<R>,
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isConnectionError(error)) broken = error instanceof Error ? error : new Error(String(error));
        else {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackError) {
            broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          }
        }
        throw error;
      } finally {
        client.removeListener?.('error', onError);
        client.release(broken);
      }
    },
  };
}

/**
 * The production store: PostgreSQL through a `pg` pool, `audit_events` range-partitioned by month.
 *
 * @example
 * import { postgresStore } from 'auditkit/pg';
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL! }, { schema: 'audit' });
 * // or with a pool you already have (close() leaves it open):
 * const shared = postgresStore({ pool });
 */
export function postgresStore(
  connection: PostgresConnection & PostgresStoreOptions,
  options: PostgresStoreOptions = {},
): SqlAuditStore {
  const settings: PostgresStoreOptions = {
    schema: options.schema ?? connection.schema,
    max: options.max ?? connection.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? connection.connectionTimeoutMillis,
    onPoolError: options.onPoolError ?? connection.onPoolError,
    textSearchIndex: options.textSearchIndex ?? connection.textSearchIndex,
  };
  const given = connection.pool;
  if (!given && (typeof connection.connectionString !== 'string' || connection.connectionString === '')) {
    throw new AuditkitError(
      'invalid_config',
      'postgresStore needs { connectionString } (postgres://user:password@host:5432/database) or { pool }.',
    );
  }
  const target = describeServer(given?.options ?? { connectionString: connection.connectionString });

  // Idle connections that break (server restart, network) emit `error` on the pool; without a listener
  // that would crash the process. The pool drops them and the next query opens a fresh connection.
  const onIdleError = (error: Error) => {
    settings.onPoolError?.(
      new AuditkitError('store_unavailable', `An idle connection to ${target} failed: ${error.message}`, {
        cause: error,
      }),
    );
  };

  let opening: Promise<PgPoolLike> | undefined;
  const getPool = (): Promise<PgPoolLike> => {
    if (!opening) {
      opening = (
        given ? Promise.resolve(given) : createPool(connection.connectionString as string, settings)
      ).then((pool) => {
        pool.on?.('error', onIdleError);
        return pool;
      });
      opening.catch(() => {
        opening = undefined;
      });
    }
    return opening;
  };

  return new SqlAuditStore({
    name: 'postgres',
    executor: poolExecutor(getPool),
    partitioned: true,
    schema: settings.schema,
    target,
    ...(settings.textSearchIndex === undefined ? {} : { textSearchIndex: settings.textSearchIndex }),
    onClose: async () => {
      if (!opening) return;
      const pool = await opening.catch(() => undefined);
      if (!pool) return;
      if (given) pool.removeListener?.('error', onIdleError);
      else await pool.end();
    },
  });
}
