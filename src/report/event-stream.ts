import type { AuditEvent } from '../core/event.js';
import type { AuditQuery, AuditStore } from '../store/store.js';
import { MAX_QUERY_LIMIT } from '../store/store.js';

/**
 * Every event matching `query`, newest first, read a page at a time with the store's cursor: memory
 * stays at one page whatever the number of events. Works with any `AuditStore`.
 */
export async function* streamEvents(
  store: AuditStore,
  query: Omit<AuditQuery, 'cursor' | 'limit'> = {},
  pageSize = MAX_QUERY_LIMIT,
): AsyncGenerator<AuditEvent> {
  let cursor: string | undefined;
  for (;;) {
    const page = await store.query({ ...query, limit: pageSize, ...(cursor ? { cursor } : {}) });
    yield* page.events;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}
