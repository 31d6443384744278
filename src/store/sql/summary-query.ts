import { AuditkitError } from '../../core/errors.js';
import { CATEGORIES, type Category, OUTCOMES, type Outcome } from '../../core/event.js';
import type { AuditQuery, AuditSummary, SummaryOptions } from '../store.js';
import { buildEventConditions } from './query-builder.js';
import type { SqlExecutor } from './sql-executor.js';

const BUCKETS = ['minute', 'hour', 'day'] as const;

/**
 * Computes {@link AuditSummary} for the events matching `query` with four GROUP BY statements over the
 * same conditions as `query()` (so the same indexes apply). `cursor` and `limit` are ignored.
 */
export async function summarizeEvents(
  executor: SqlExecutor,
  table: string,
  query: AuditQuery,
  options: SummaryOptions,
): Promise<AuditSummary> {
  if (!(BUCKETS as readonly unknown[]).includes(options.bucket)) {
    throw new AuditkitError('invalid_query', `bucket must be one of ${BUCKETS.join(', ')}.`, {
      details: { field: 'bucket', value: options.bucket },
    });
  }
  const top = options.top ?? 10;
  if (!Number.isInteger(top) || top < 1 || top > 100) {
    throw new AuditkitError('invalid_query', 'top must be an integer from 1 to 100.', {
      details: { field: 'top', value: top },
    });
  }
  const { cursor: _cursor, limit: _limit, ...filters } = query;
  const { where, params } = buildEventConditions(filters);
  const from = `FROM ${table}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const and = where.length > 0 ? ' AND' : ' WHERE';
  const n = params.length;

  const [counts, timeline, actors, reasons] = await Promise.all([
    executor.query<{ category: string; outcome: string; count: number | string }>(
      `SELECT category, outcome, count(*)::bigint AS count ${from} GROUP BY category, outcome`,
      params,
    ),
    executor.query<{ at: string; category: string; count: number | string }>(
      // UTC buckets whatever the session time zone; ISO text so every driver returns the same thing.
      `SELECT to_char(date_trunc('${options.bucket}', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, ` +
        `category, count(*)::bigint AS count ${from} GROUP BY 1, 2 ORDER BY 1, 2`,
      params,
    ),
    executor.query<{ type: string; id: string | null; label: string | null; count: number | string }>(
      `SELECT actor_type AS type, actor_id AS id, max(actor_label) AS label, count(*)::bigint AS count ${from} ` +
        `GROUP BY actor_type, actor_id ORDER BY count DESC, actor_type, actor_id LIMIT $${n + 1}`,
      [...params, top],
    ),
    executor.query<{ reason: string; count: number | string }>(
      `SELECT reason, count(*)::bigint AS count ${from}${and} reason IS NOT NULL ` +
        `GROUP BY reason ORDER BY count DESC, reason LIMIT $${n + 1}`,
      [...params, top],
    ),
  ]);

  const byCategory: Partial<Record<Category, number>> = {};
  const byOutcome: Partial<Record<Outcome, number>> = {};
  let total = 0;
  for (const row of counts.rows) {
    const count = Number(row.count);
    total += count;
    if ((CATEGORIES as readonly string[]).includes(row.category)) {
      const c = row.category as Category;
      byCategory[c] = (byCategory[c] ?? 0) + count;
    }
    if ((OUTCOMES as readonly string[]).includes(row.outcome)) {
      const o = row.outcome as Outcome;
      byOutcome[o] = (byOutcome[o] ?? 0) + count;
    }
  }
  return {
    total,
    byCategory,
    byOutcome,
    timeline: timeline.rows.map((r) => ({
      at: r.at,
      category: r.category as Category,
      count: Number(r.count),
    })),
    topActors: actors.rows.map((r) => ({ type: r.type, id: r.id, label: r.label, count: Number(r.count) })),
    topReasons: reasons.rows.map((r) => ({ reason: r.reason, count: Number(r.count) })),
  };
}
