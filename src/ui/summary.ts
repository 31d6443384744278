import type { Category, Outcome } from '../core/event.js';
import type { AuditQuery, AuditStore, AuditSummary, SummaryOptions } from '../store/store.js';

/** Events read at most when a store cannot aggregate itself. */
export const SCAN_LIMIT = 10_000;

/**
 * The store's own `summarize` when it has one; otherwise a bounded scan of the newest matching events
 * (`approximate` then says the figures may be partial).
 */
export async function summarizeStore(
  store: AuditStore,
  query: AuditQuery,
  options: SummaryOptions,
): Promise<{ summary: AuditSummary; approximate: boolean }> {
  if (typeof store.summarize === 'function') {
    return { summary: await store.summarize(query, options), approximate: false };
  }
  return scanSummary(store, query, options);
}

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** Aggregates up to {@link SCAN_LIMIT} of the newest matching events in memory. */
export async function scanSummary(
  store: AuditStore,
  query: AuditQuery,
  options: SummaryOptions,
  limit = SCAN_LIMIT,
): Promise<{ summary: AuditSummary; approximate: boolean }> {
  const { cursor: _c, limit: _l, ...filters } = query;
  const top = options.top ?? 10;
  const width = BUCKET_MS[options.bucket];
  const byCategory: Partial<Record<Category, number>> = {};
  const byOutcome: Partial<Record<Outcome, number>> = {};
  const timeline = new Map<string, number>();
  const actors = new Map<string, { type: string; id: string | null; label: string | null; count: number }>();
  const reasons = new Map<string, number>();
  let total = 0;
  let cursor: string | undefined;
  let more = true;
  while (more && total < limit) {
    const page = await store.query({
      ...filters,
      limit: Math.min(1000, limit - total),
      ...(cursor ? { cursor } : {}),
    });
    for (const e of page.events) {
      total += 1;
      byCategory[e.category] = (byCategory[e.category] ?? 0) + 1;
      byOutcome[e.outcome] = (byOutcome[e.outcome] ?? 0) + 1;
      const at = new Date(Math.floor(e.occurredAt.getTime() / width) * width)
        .toISOString()
        .replace('.000Z', 'Z');
      const key = `${at}|${e.category}`;
      timeline.set(key, (timeline.get(key) ?? 0) + 1);
      const actorKey = `${e.actor.type}|${e.actor.id ?? ''}`;
      const actor = actors.get(actorKey) ?? {
        type: e.actor.type,
        id: e.actor.id ?? null,
        label: e.actor.label ?? null,
        count: 0,
      };
      actor.count += 1;
      actors.set(actorKey, actor);
      if (e.reason) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    }
    cursor = page.nextCursor ?? undefined;
    more = page.nextCursor !== null;
  }
  return {
    approximate: more,
    summary: {
      total,
      byCategory,
      byOutcome,
      timeline: [...timeline]
        .map(([key, count]) => {
          const [at, category] = key.split('|') as [string, Category];
          return { at, category, count };
        })
        .sort((a, b) => (a.at === b.at ? a.category.localeCompare(b.category) : a.at < b.at ? -1 : 1)),
      topActors: [...actors.values()].sort((a, b) => b.count - a.count).slice(0, top),
      topReasons: [...reasons]
        .map(([reason, count]) => ({ reason, count }))
        .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0))
        .slice(0, top),
    },
  };
}
