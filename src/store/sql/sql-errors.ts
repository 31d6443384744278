import { AuditkitError, type AuditkitErrorCode } from '../../core/errors.js';

/** Network errors that mean the server could not be reached or the connection was lost. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ENOENT',
]);

/**
 * SQLSTATEs that mean "the database is not available to us right now" rather than "this statement is
 * wrong": connection exceptions (08), shutdown or startup (57P01-57P03), authentication (28), unknown
 * database (3D000), too many connections (53300).
 */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('28') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '3D000' ||
    code === '53300'
  );
}

/** Messages `pg` uses for lost or refused connections, which carry no code. */
const CONNECTION_MESSAGE =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|timeout expired|client has encountered a connection error|not queryable|socket hang up|connect ECONN|server closed the connection/i;

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The SQLSTATE of a database error (from `pg` or PGlite), if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = errorCode(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when the error says the database is unreachable, refused us, or dropped the connection. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof AuditkitError) return error.code === 'store_unavailable';
  const code = errorCode(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return isUnavailableSqlState(code);
  }
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  const message = error instanceof Error ? error.message : String(error);
  return CONNECTION_MESSAGE.test(message);
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(reasonOf).join('; ');
  }
  if (error instanceof Error) {
    const code = errorCode(error);
    const message = error.message || error.name;
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}

export interface ErrorContext {
  /** What was being done, e.g. `append 500 events`. */
  operation: string;
  /** Where the database is, without secrets, e.g. `PostgreSQL at postgres://app@db:5432/audit`. */
  target: string;
  /** The code for failures that are not connection failures (default `store_error`). */
  code?: AuditkitErrorCode;
}

/**
 * Turns a driver error into an AuditkitError: `store_unavailable` for connection failures (with what to
 * check), otherwise `context.code` (default `store_error`) with the database's own message. The driver
 * error stays available as `cause`, and its SQLSTATE as `details.sqlState`.
 */
export function toStoreError(error: unknown, context: ErrorContext): AuditkitError {
  if (error instanceof AuditkitError) return error;
  const reason = reasonOf(error);
  const state = sqlState(error);
  const details = state ? { sqlState: state } : undefined;
  if (isConnectionError(error)) {
    return new AuditkitError(
      'store_unavailable',
      `Could not ${context.operation}: ${context.target} is unavailable (${reason}). ` +
        'Check that the server is running and reachable, and that host, port, database name and credentials are right.',
      { cause: error, details },
    );
  }
  const hint =
    state === '42P01' || state === '3F000' ? ' The audit tables do not exist yet: run migrate() first.' : '';
  return new AuditkitError(
    context.code ?? 'store_error',
    `Could not ${context.operation} in ${context.target}: ${reason}.${hint}`,
    { cause: error, details },
  );
}
