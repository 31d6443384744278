import type { AuditQuery, AuditStore } from '../store.js';

export interface CopyResult {
  /** Events read from the source. */
  read: number;
  /** Events the destination did not have yet. */
  inserted: number;
  /** Events the destination already had (skipped). */
  duplicates: number;
}

/**
 * Copies every event matching `query` (a time range, a tenant...) from one store to another, a page of
 * `pageSize` events at a time. Safe to repeat: the destination skips ids it already has.
 *
 * @example
 * // move an outage's events from the fallback store back to the primary
 * await copyEvents(pglite, postgres, { from: new Date('2026-03-01'), to: new Date('2026-03-02') });
 */
export async function copyEvents(
  source: AuditStore,
  destination: AuditStore,
  query: Omit<AuditQuery, 'cursor' | 'limit'> = {},
  pageSize = 1000,
): Promise<CopyResult> {
  const result: CopyResult = { read: 0, inserted: 0, duplicates: 0 };
  let cursor: string | undefined;
  do {
    const page = await source.query({ ...query, limit: pageSize, cursor });
    if (page.events.length > 0) {
      const appended = await destination.append(page.events);
      result.read += page.events.length;
      result.inserted += appended.inserted;
      result.duplicates += appended.duplicates;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return result;
}
