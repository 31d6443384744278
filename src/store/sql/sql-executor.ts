import { AuditkitError } from '../../core/errors.js';

/** The result of one statement: its rows (an empty array for statements that return none). */
export interface SqlResult<T> {
  rows: T[];
}

/**
 * The one thing the shared SQL needs from a database driver: run a single statement with positional
 * parameters (`$1`, `$2`, ...), and optionally run a function inside a transaction. Adapters exist for
 * PGlite and for a `pg` pool; anything that speaks PostgreSQL can be plugged in.
 */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<T>>;
  /**
   * Runs `fn` in one transaction on one connection: committed when `fn` resolves, rolled back when it
   * throws. Without it, statements that must be atomic run one by one (only acceptable for tests).
   */
  transaction?<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** Which PostgreSQL features the schema uses. */
export interface SqlDialect {
  /** Range-partition `audit_events` by month (PostgreSQL); PGlite uses a plain table. */
  partitioned: boolean;
}

/** The longest identifier PostgreSQL keeps without truncating it. */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes an identifier (schema, table, index) so any name is safe inside SQL text.
 * Rejects names PostgreSQL would silently truncate or cannot store.
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new AuditkitError('invalid_config', 'A database identifier must be a non-empty string.');
  }
  if (name.includes('\u0000') || !name.isWellFormed()) {
    throw new AuditkitError(
      'invalid_config',
      `The database identifier ${JSON.stringify(name)} is not valid.`,
    );
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new AuditkitError(
      'invalid_config',
      `The database identifier "${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would truncate it.`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs `fn` in a transaction when the executor supports one, else directly on the executor. */
export function inTransaction<T>(executor: SqlExecutor, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return executor.transaction ? executor.transaction(fn) : fn(executor);
}
