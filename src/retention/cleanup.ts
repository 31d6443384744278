import { z } from 'zod';
import { AuditkitError } from '../core/errors.js';
import { CATEGORIES, type Category, categorySchema } from '../core/event.js';
import { ensureIntegritySchema } from '../integrity/migrations.js';
import { parseIntegrityOptions, seal } from '../integrity/sealer.js';
import { type IntegrityTables, inMaintenance, type SqlAccess, tablesOf } from '../integrity/sql-access.js';
import { quoteIdent, type SqlExecutor } from '../store/sql/sql-executor.js';
import {
  accessOf,
  defaultActor,
  type MaintenanceTarget,
  recordMaintenanceEvent,
} from './maintenance-target.js';
import { expiredPartitions, listMonthPartitions } from './partitions.js';
import { type Cutoffs, commonCutoff, cutoffsOf, retentionPolicySchema } from './policy.js';

const actorSchema = z.custom<import('../core/event.js').Actor>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string',
);

export const cleanupOptionsSchema = z.strictObject({
  /** How long each category is kept (see `RetentionPolicy`). */
  policy: retentionPolicySchema.optional(),
  /** Shortcut: keep `days` days (for `categories` only, when given). */
  days: z.number().int().positive().max(100_000).optional(),
  /** With `days`: the categories it applies to (default all). */
  categories: z.array(categorySchema).min(1).optional(),
  /** Count what would be removed, change nothing. */
  dryRun: z.boolean().default(false),
  /** Events removed per transaction (default 10,000): short transactions, no long table lock. */
  batchSize: z.number().int().min(1).max(1_000_000).default(10_000),
  /** On PostgreSQL, drop whole monthly partitions older than the cut of every category (default true). */
  dropPartitions: z.boolean().default(true),
  /** Key that signs the checkpoint sealed before removal (so the cut is a signed anchor). */
  signingKey: z
    .custom<import('../integrity/keys.js').KeyInput>((v) => v !== undefined && v !== null)
    .optional(),
  /** Who runs the cleanup, for the `retention.purged` event (default the system retention job). */
  actor: actorSchema.optional(),
  /** The clock; tests replace it. */
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
  /** Called after each batch with the number of events removed so far. */
  onProgress: z.custom<(removed: number) => void>((v) => typeof v === 'function').optional(),
});

export type CleanupOptions = z.input<typeof cleanupOptionsSchema>;

export interface CleanupReport {
  dryRun: boolean;
  /** The cut of each category (ISO time), null for kept forever. */
  cutoffs: Record<Category, string | null>;
  /** Events removed (or that would be, in a dry run), in total and per category. */
  removed: number;
  byCategory: Partial<Record<Category, number>>;
  /** Monthly partitions dropped whole (PostgreSQL), or that would be. */
  droppedPartitions: string[];
  /** Transactions used for batch removal. */
  batches: number;
  /** Old events left because they are not sealed yet (removing them would leave no trace in the chain). */
  skippedUnsealed: number;
  /** Where each chain now starts: the last checkpoint before the cut. */
  anchors: { tenantId: string | null; seq: number; checkpointId: string }[];
  /** Id of the `retention.purged` event, when one was recorded. */
  eventId: string | null;
}

/** The SQL condition "expired under these cutoffs" and its parameters (from `$first`). */
function expiredCondition(cutoffs: Cutoffs, first: number): { sql: string; params: string[] } | null {
  const parts: string[] = [];
  const params: string[] = [];
  for (const category of CATEGORIES) {
    const cut = cutoffs[category];
    if (cut === null) continue;
    params.push(category, cut.toISOString());
    parts.push(
      `(category = $${first + params.length - 2} AND occurred_at < $${first + params.length - 1}::timestamptz)`,
    );
  }
  return parts.length === 0 ? null : { sql: `(${parts.join(' OR ')})`, params };
}

/**
 * Removes events past their retention, in batches of `batchSize` (each its own short transaction), or
 * on PostgreSQL by dropping whole monthly partitions older than every category's cut. The chain stays
 * verifiable: removed sealed events leave a tombstone (seq and hash), and once the start of a chain is
 * gone the last checkpoint before the cut becomes its anchor, so `verify` says "intact from seq N".
 * Records a `retention.purged` event (who, when, what range, how many). A dry run only counts.
 *
 * @example
 * await cleanup(audit, { policy: { categories: { access: 90, auth: 400 } }, signingKey });
 * await cleanup(store, { days: 90, categories: ['access'], dryRun: true });
 */
export async function cleanup(target: MaintenanceTarget, options: CleanupOptions): Promise<CleanupReport> {
  const config = parseIntegrityOptions(cleanupOptionsSchema, options, 'cleanup');
  if (config.policy === undefined && config.days === undefined) {
    throw new AuditkitError(
      'invalid_config',
      'cleanup needs a retention: `days` (e.g. 90) or a `policy` such as { categories: { access: 90 } }.',
    );
  }
  if (config.policy !== undefined && config.days !== undefined) {
    throw new AuditkitError('invalid_config', 'Give either `days` or `policy` to cleanup, not both.');
  }
  const now = (config.now ?? (() => new Date()))();
  const policy =
    config.policy ??
    (config.categories
      ? { categories: Object.fromEntries(config.categories.map((c) => [c, config.days as number])) }
      : { days: config.days });
  const cutoffs = cutoffsOf(policy, now);
  const access = accessOf(target);
  await ensureIntegritySchema(access);
  const tables = tablesOf(access);
  const report: CleanupReport = {
    dryRun: config.dryRun,
    cutoffs: Object.fromEntries(CATEGORIES.map((c) => [c, cutoffs[c]?.toISOString() ?? null])) as Record<
      Category,
      string | null
    >,
    removed: 0,
    byCategory: {},
    droppedPartitions: [],
    batches: 0,
    skippedUnsealed: 0,
    anchors: [],
    eventId: null,
  };
  const condition = expiredCondition(cutoffs, 1);
  if (!condition) return report;
  // Tamper evidence is in use when any chain exists: then seal what is waiting, and remove only sealed events.
  const chained =
    ((await access.executor.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tables.heads}`)).rows[0]
      ?.n ?? 0) > 0;

  if (config.dryRun) {
    await countExpired(access.executor, tables, condition, chained, report);
    if (access.partitioned && config.dropPartitions) {
      const common = commonCutoff(cutoffs);
      if (common) {
        report.droppedPartitions = expiredPartitions(
          await listMonthPartitions(access.executor, access.schema),
          common,
        ).map((p) => p.name);
      }
    }
    return report;
  }

  if (chained) {
    await seal(access, {
      ...(config.signingKey === undefined ? {} : { signingKey: config.signingKey }),
      checkpointNow: config.signingKey !== undefined,
    });
  }
  const common = commonCutoff(cutoffs);
  if (access.partitioned && config.dropPartitions && common) {
    for (const partition of expiredPartitions(
      await listMonthPartitions(access.executor, access.schema),
      common,
    )) {
      const removed = await dropPartition(access, tables, partition.name, chained);
      if (removed === null) continue;
      report.droppedPartitions.push(partition.name);
      report.removed += removed.total;
      for (const [category, n] of Object.entries(removed.byCategory)) {
        report.byCategory[category as Category] = (report.byCategory[category as Category] ?? 0) + n;
      }
      config.onProgress?.(report.removed);
    }
    if (report.droppedPartitions.length > 0)
      (access as { forgetPartitions?: () => void }).forgetPartitions?.();
  }
  for (;;) {
    const batch = await inMaintenance(access, 'retention', (tx) =>
      removeBatch(tx, tables, condition, chained, config.batchSize),
    );
    if (batch.total === 0) break;
    report.batches += 1;
    report.removed += batch.total;
    for (const [category, n] of Object.entries(batch.byCategory)) {
      report.byCategory[category as Category] = (report.byCategory[category as Category] ?? 0) + n;
    }
    config.onProgress?.(report.removed);
    if (batch.total < config.batchSize) break;
  }
  if (chained) {
    report.skippedUnsealed = Number(
      (
        await access.executor.query<{ n: string | number }>(
          `SELECT count(*) AS n FROM ${tables.events} e WHERE ${condition.sql} AND NOT ${sealedSql(tables)}`,
          condition.params,
        )
      ).rows[0]?.n ?? 0,
    );
    report.anchors = await inMaintenance(access, 'retention', (tx) =>
      advanceAnchors(tx, tables, common ?? now),
    );
  }
  const event = await recordMaintenanceEvent(target, {
    action: 'retention.purged',
    actor: config.actor ?? defaultActor('retention'),
    targetType: 'audit_log',
    message: `Retention removed ${report.removed} event(s)${report.droppedPartitions.length > 0 ? ` (${report.droppedPartitions.length} partition(s) dropped)` : ''}.`,
    metadata: {
      cutoffs: report.cutoffs,
      removed: report.removed,
      byCategory: report.byCategory,
      droppedPartitions: report.droppedPartitions,
      anchors: report.anchors,
      skippedUnsealed: report.skippedUnsealed,
    },
  });
  report.eventId = event?.id ?? null;
  return report;
}

async function countExpired(
  executor: SqlExecutor,
  tables: IntegrityTables,
  condition: { sql: string; params: string[] },
  chained: boolean,
  report: CleanupReport,
): Promise<void> {
  const rows = (
    await executor.query<{ category: Category; sealed: string | number; unsealed: string | number }>(
      `SELECT category, count(*) FILTER (WHERE ${sealedSql(tables)}) AS sealed, count(*) FILTER (WHERE NOT ${sealedSql(tables)}) AS unsealed ` +
        `FROM ${tables.events} e WHERE ${condition.sql} GROUP BY category`,
      condition.params,
    )
  ).rows;
  for (const row of rows) {
    const n = Number(row.sealed) + (chained ? 0 : Number(row.unsealed));
    if (n > 0) report.byCategory[row.category] = n;
    report.removed += n;
    if (chained) report.skippedUnsealed += Number(row.unsealed);
  }
}

/** SQL: the `audit_events` row `e` has a seal. */
function sealedSql(tables: IntegrityTables): string {
  return `EXISTS (SELECT 1 FROM ${tables.seals} s WHERE s.event_id = e.id AND s.occurred_at = e.occurred_at)`;
}

async function removeBatch(
  tx: SqlExecutor,
  tables: IntegrityTables,
  condition: { sql: string; params: string[] },
  chained: boolean,
  batchSize: number,
): Promise<{ total: number; byCategory: Record<string, number> }> {
  const limit = condition.params.length + 1;
  // Removed sealed events keep their seal, marked removed: the chain links through it.
  const rows = (
    await tx.query<{ category: string; n: number }>(
      `WITH doomed AS (SELECT e.id, e.occurred_at FROM ${tables.events} e ` +
        `WHERE ${condition.sql}${chained ? ` AND ${sealedSql(tables)}` : ''} LIMIT $${limit}), ` +
        `marked AS (UPDATE ${tables.seals} s SET removed = 'retention', removed_at = now() FROM doomed d ` +
        'WHERE s.event_id = d.id AND s.occurred_at = d.occurred_at), ' +
        `gone AS (DELETE FROM ${tables.events} e USING doomed d WHERE e.id = d.id AND e.occurred_at = d.occurred_at RETURNING e.category) ` +
        'SELECT category, count(*)::int AS n FROM gone GROUP BY category',
      [...condition.params, batchSize],
    )
  ).rows;
  const byCategory: Record<string, number> = {};
  let total = 0;
  for (const row of rows) {
    byCategory[row.category] = row.n;
    total += row.n;
  }
  return { total, byCategory };
}

/**
 * Drops one monthly partition, after marking the seals of its events removed. Returns null (and keeps
 * the partition) when it still holds unsealed events of a chained store.
 */
async function dropPartition(
  access: SqlAccess,
  tables: IntegrityTables,
  name: string,
  chained: boolean,
): Promise<{ total: number; byCategory: Record<string, number> } | null> {
  const partition = `${quoteIdent(access.schema)}.${quoteIdent(name)}`;
  return inMaintenance(access, 'retention', async (tx) => {
    const counts = (
      await tx.query<{ category: string; n: number; unsealed: number }>(
        `SELECT category, count(*)::int AS n, count(*) FILTER (WHERE NOT ${sealedSql(tables)})::int AS unsealed FROM ${partition} e GROUP BY category`,
      )
    ).rows;
    if (chained && counts.some((c) => c.unsealed > 0)) return null;
    if (chained) {
      await tx.query(
        `UPDATE ${tables.seals} s SET removed = 'retention', removed_at = now() FROM ${partition} e ` +
          'WHERE s.event_id = e.id AND s.occurred_at = e.occurred_at',
      );
    }
    await tx.query(`DROP TABLE ${partition}`);
    const byCategory: Record<string, number> = {};
    let total = 0;
    for (const row of counts) {
      byCategory[row.category] = row.n;
      total += row.n;
    }
    return { total, byCategory };
  });
}

/**
 * Moves each chain's anchor to the last checkpoint before its oldest remaining event, and forgets the
 * seals behind it (their events are all gone): the chain is then verified from the anchor on.
 */
async function advanceAnchors(
  tx: SqlExecutor,
  tables: IntegrityTables,
  cut: Date,
): Promise<CleanupReport['anchors']> {
  const chains = (
    await tx.query<{
      chain: string;
      tenant_id: string | null;
      last_seq: string | number;
      anchor: string | number | null;
    }>(
      `SELECT h.chain, h.tenant_id, h.last_seq, a.seq AS anchor FROM ${tables.heads} h ` +
        `LEFT JOIN ${tables.anchors} a ON a.chain = h.chain ` +
        `WHERE EXISTS (SELECT 1 FROM ${tables.seals} t WHERE t.chain = h.chain AND t.removed IS NOT NULL)`,
    )
  ).rows;
  const anchors: CleanupReport['anchors'] = [];
  for (const chain of chains) {
    const oldest = (
      await tx.query<{ seq: string | number | null }>(
        `SELECT min(seq) AS seq FROM ${tables.seals} WHERE chain = $1 AND removed IS NULL`,
        [chain.chain],
      )
    ).rows[0]?.seq;
    const firstKept = oldest === null || oldest === undefined ? Number(chain.last_seq) + 1 : Number(oldest);
    const checkpoint = (
      await tx.query<{ id: string; last_seq: string | number; last_hash: string }>(
        `SELECT id, last_seq, last_hash FROM ${tables.checkpoints} WHERE chain = $1 AND last_seq < $2 ` +
          'ORDER BY last_seq DESC LIMIT 1',
        [chain.chain, firstKept],
      )
    ).rows[0];
    if (!checkpoint) continue;
    const seq = Number(checkpoint.last_seq);
    if (chain.anchor !== null && Number(chain.anchor) >= seq) continue;
    await tx.query(
      `INSERT INTO ${tables.anchors} (chain, tenant_id, seq, hash, checkpoint_id, cut_before) VALUES ($1, $2, $3, $4, $5, $6) ` +
        'ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checkpoint_id = excluded.checkpoint_id, ' +
        'cut_before = excluded.cut_before, created_at = now()',
      [chain.chain, chain.tenant_id, seq, checkpoint.last_hash, checkpoint.id, cut.toISOString()],
    );
    await tx.query(`DELETE FROM ${tables.seals} WHERE chain = $1 AND seq <= $2 AND removed IS NOT NULL`, [
      chain.chain,
      seq,
    ]);
    anchors.push({ tenantId: chain.tenant_id, seq, checkpointId: checkpoint.id });
  }
  return anchors;
}
