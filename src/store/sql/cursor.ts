import { AuditkitError } from '../../core/errors.js';

/** Where a page ended: the (occurred_at, id) of its last event, occurred_at with microseconds in UTC. */
export interface CursorPosition {
  /** e.g. `2026-11-05T10:00:00.123456Z` */
  occurredAt: string;
  id: string;
}

const VERSION = 'v1';
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An opaque, URL-safe cursor. It keeps the microseconds of the database timestamp (events written by
 * database triggers have them, JavaScript dates do not), so no event is skipped or repeated between pages.
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${VERSION}|${position.occurredAt}|${position.id}`, 'utf8').toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}; anything else throws `invalid_cursor`. */
export function decodeCursor(cursor: unknown): CursorPosition {
  const invalid = () =>
    new AuditkitError(
      'invalid_cursor',
      'The cursor is not valid: pass the nextCursor of a previous page unchanged (or no cursor for the first page).',
      { details: { cursor } },
    );
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 200) throw invalid();
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const [version, occurredAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== VERSION || rest.length > 0 || !occurredAt || !id) throw invalid();
  if (!TIME.test(occurredAt) || Number.isNaN(Date.parse(occurredAt)) || !UUID.test(id)) throw invalid();
  return { occurredAt, id: id.toLowerCase() };
}
