import { AuditkitError } from '../../core/errors.js';

const DUPLICATE_KEY = 11000;

/**
 * Server error codes that mean "no usable server right now": host unreachable or not found, network
 * timeout, shutdown in progress, not primary, primary stepped down, socket exception.
 */
const UNAVAILABLE_CODES = new Set([6, 7, 89, 91, 189, 10107, 11600, 11602, 13435, 13436, 9001]);
/** Driver error classes for lost or missing connections. */
const UNAVAILABLE_NAMES =
  /^(MongoNetworkError|MongoNetworkTimeoutError|MongoServerSelectionError|MongoNotConnectedError|MongoTopologyClosedError|PoolClearedError|PoolClosedError|MongoPoolClearedError|MongoPoolClosedError)$/;

/** Where the data is, for messages: host list, database and collection, never credentials. */
export function describeMongo(
  url: string | undefined,
  database: string | undefined,
  collection: string,
): string {
  if (!url) return `MongoDB (${database ?? 'default database'}.${collection})`;
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/]*@)?([^/?]*)(?:\/([^?]*))?/.exec(url);
  const hosts = match?.[2] || 'unknown host';
  const db = database ?? (match?.[3] || 'auditkit');
  return `MongoDB at ${match?.[1] ?? 'mongodb://'}${hosts}/${db} (collection ${collection})`;
}

function hasLabel(error: unknown, label: string): boolean {
  const fn = (error as { hasErrorLabel?: (l: string) => boolean } | null)?.hasErrorLabel;
  return typeof fn === 'function' && fn.call(error, label);
}

/** True when the error says MongoDB could not be reached or has no primary right now. */
export function isMongoUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && UNAVAILABLE_NAMES.test(name)) return true;
  if (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) return true;
  return hasLabel(error, 'ResetPool') || hasLabel(error, 'NetworkError');
}

/**
 * For an unordered insert that failed only on duplicate keys (ids or idempotency keys already stored):
 * how many documents were duplicates. Null for any other failure.
 */
export function duplicateKeyErrors(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const { writeErrors, code, writeConcernError, errorResponse } = error as {
    writeErrors?: unknown;
    code?: unknown;
    writeConcernError?: unknown;
    errorResponse?: { writeConcernError?: unknown };
  };
  if (writeConcernError || errorResponse?.writeConcernError) return null;
  if (writeErrors === undefined) return code === DUPLICATE_KEY ? 1 : null;
  const list = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
  if (list.length === 0) return null;
  return list.every((e) => (e as { code?: unknown })?.code === DUPLICATE_KEY) ? list.length : null;
}

/** Turns a driver error into an AuditkitError: `store_unavailable` for connection trouble, else `store_error`. */
export function toMongoStoreError(
  error: unknown,
  context: { operation: string; target: string },
): AuditkitError {
  if (error instanceof AuditkitError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const details = typeof code === 'number' || typeof code === 'string' ? { mongoCode: code } : undefined;
  if (isMongoUnavailable(error)) {
    return new AuditkitError(
      'store_unavailable',
      `Could not ${context.operation}: ${context.target} is unavailable (${reason}). ` +
        'Check that the server is running and reachable, and that the connection string and credentials are right.',
      { cause: error, details },
    );
  }
  const hint =
    code === 13 || code === 8000 ? ' The user lacks a privilege: it needs find, insert and createIndex.' : '';
  return new AuditkitError(
    'store_error',
    `Could not ${context.operation} in ${context.target}: ${reason}.${hint}`,
    {
      cause: error,
      details,
    },
  );
}
