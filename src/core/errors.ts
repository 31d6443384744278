/** Every error Auditkit raises or reports carries one of these codes. */
export type AuditkitErrorCode =
  | 'invalid_event'
  | 'invalid_config'
  | 'invalid_query'
  | 'invalid_cursor'
  | 'no_context'
  | 'closed'
  | 'actor_resolution_failed'
  | 'store_unavailable'
  | 'store_error'
  | 'migration_failed'
  | 'write_failed'
  | 'spool_failed'
  | 'spool_corrupt'
  | (string & {});

export interface AuditkitErrorOptions {
  cause?: unknown;
  /** Structured detail, e.g. the list of invalid fields. */
  details?: Record<string, unknown>;
}

/**
 * The one error type of Auditkit: `code` tells what went wrong, the message what to do about it.
 *
 * @example
 * try { audit.record({ category: 'nope' as never, action: 'x' }) }
 * catch (e) { if (e instanceof AuditkitError && e.code === 'invalid_event') console.log(e.details) }
 */
export class AuditkitError extends Error {
  override readonly name: string = 'AuditkitError';
  readonly code: AuditkitErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AuditkitErrorCode, message: string, options: AuditkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export function isAuditkitError(value: unknown, code?: AuditkitErrorCode): value is AuditkitError {
  return value instanceof AuditkitError && (code === undefined || value.code === code);
}

/** Wraps anything thrown into an AuditkitError, keeping the original as `cause`. */
export function toAuditkitError(error: unknown, code: AuditkitErrorCode, message: string): AuditkitError {
  if (error instanceof AuditkitError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new AuditkitError(code, `${message}: ${reason}`, { cause: error });
}
