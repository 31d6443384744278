import { z } from 'zod';
import { AuditkitError } from '../core/errors.js';
import type { Actor } from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { dataObject } from '../integrity/event-hash.js';
import { ensureIntegritySchema } from '../integrity/migrations.js';
import { parseIntegrityOptions } from '../integrity/sealer.js';
import { type IntegrityTables, inMaintenance, tablesOf, textArray } from '../integrity/sql-access.js';
import { storableJsonText } from '../store/sql/event-rows.js';
import type { SqlExecutor } from '../store/sql/sql-executor.js';
import {
  accessOf,
  defaultActor,
  type MaintenanceTarget,
  recordMaintenanceEvent,
} from './maintenance-target.js';
import { pseudonymOf } from './pseudonym.js';
import { PERSONAL_KEY, type ScrubRules, scrubEvent, stringsUnder, usableIdentifiers } from './scrub.js';

export const ERASE_MODES = ['pseudonymise', 'anonymise', 'delete'] as const;
export type EraseMode = (typeof ERASE_MODES)[number];

export const eraseOptionsSchema = z.strictObject({
  /** The person's id, as events carry it in `actor.id` or `target.id`. */
  subject: z.string().min(1),
  /**
   * - `pseudonymise` (default): personal data becomes a keyed pseudonym (`user#a1b2c3d4e5f6`), the same
   *   for every event of the subject, so the trail keeps its shape.
   * - `anonymise`: the same, with `anonymous` instead of a pseudonym (nothing links the events any more).
   * - `delete`: the subject's own events (as actor or target) are removed; mentions elsewhere anonymised.
   */
  mode: z.enum(ERASE_MODES).default('pseudonymise'),
  /** Secret for the pseudonym (at least 16 characters); needed for `pseudonymise`. */
  pseudonymKey: z.union([z.string(), z.instanceof(Buffer)]).optional(),
  /** More identifiers of the person to remove wherever they appear: email, name, phone... */
  identifiers: z.array(z.string().min(1)).default([]),
  /** Only this tenant's events (default every tenant). */
  tenantId: z.string().optional(),
  /** Count what would change, change nothing. */
  dryRun: z.boolean().default(false),
  /** Events changed per transaction (default 1000). */
  batchSize: z.number().int().min(1).max(100_000).default(1000),
  /** Who runs the erasure, for the `privacy.erased` event (default the system erasure job). */
  actor: z.custom<Actor>((v) => typeof v === 'object' && v !== null && 'type' in v).optional(),
});

export type EraseOptions = z.input<typeof eraseOptionsSchema>;

export interface EraseReport {
  mode: EraseMode;
  dryRun: boolean;
  /** What replaced the subject (never the subject itself). */
  pseudonym: string;
  /** Events whose personal data was replaced. */
  changed: number;
  /** Events removed (mode `delete`). */
  deleted: number;
  /** How many identifiers of the subject were looked for (their values are not reported). */
  identifiers: number;
  /** Id of this erasure in `auditkit_erasures`, and of the `privacy.erased` event. */
  erasureId: string | null;
  eventId: string | null;
}

interface CandidateRow {
  id: string;
  occurred_at: string;
  seq: string | number | null;
  hash: string | null;
  tenant_id: string | null;
  data: unknown;
}

/**
 * Erases a person from the audit trail (GDPR right to be forgotten): their id, name, email, IP, user agent,
 * their fields in diffs and the bodies of their requests are replaced by a keyed pseudonym (or removed),
 * in every event that carries them. The hash chain still verifies: an event's hash covers its personal
 * fields through a salted digest, which is kept while the salt is dropped. Recorded as a
 * `privacy.erased` event that names the pseudonym, never the person.
 *
 * @example
 * await erase(audit, { subject: 'u_123', identifiers: ['alice@example.com'], pseudonymKey: process.env.AUDITKIT_PSEUDONYM_KEY });
 */
export async function erase(target: MaintenanceTarget, options: EraseOptions): Promise<EraseReport> {
  const config = parseIntegrityOptions(eraseOptionsSchema, options, 'erase');
  if (config.mode === 'pseudonymise' && config.pseudonymKey === undefined) {
    throw new AuditkitError(
      'invalid_config',
      'Pseudonymising needs a secret key: pass pseudonymKey (or AUDITKIT_PSEUDONYM_KEY to the CLI), or use mode anonymise.',
    );
  }
  const access = accessOf(target);
  await ensureIntegritySchema(access);
  const tables = tablesOf(access);
  const pseudonym =
    config.mode === 'pseudonymise'
      ? pseudonymOf(config.subject, config.pseudonymKey as string | Buffer)
      : 'anonymous';
  const erased = config.mode === 'pseudonymise' ? '[erased]' : '[anonymised]';
  const tenant = config.tenantId;

  // The subject's own events tell what else identifies them: their labels and personal fields.
  const found = new Set<string>([...config.identifiers]);
  const ownWhere = `(actor_id = $1 OR target_id = $1)${tenant === undefined ? '' : ' AND tenant_id = $2'}`;
  const ownParams = tenant === undefined ? [config.subject] : [config.subject, tenant];
  for await (const rows of pages(access.executor, tables, ownWhere, ownParams, 2000)) {
    for (const row of rows) {
      const data = dataObject(row.data);
      const actor = data.actor as Record<string, unknown> | undefined;
      const targetValue = data.target as Record<string, unknown> | undefined;
      if (actor?.id === config.subject && typeof actor.label === 'string') found.add(actor.label);
      if (targetValue?.id === config.subject) {
        if (typeof targetValue.label === 'string') found.add(targetValue.label);
        for (const value of stringsUnder(data.changes, PERSONAL_KEY)) found.add(value);
      }
    }
  }
  const identifiers = usableIdentifiers([...found].filter((v) => v !== config.subject));
  const rules: ScrubRules = { subject: config.subject, pseudonym, erased, identifiers };

  // Candidates: their own events, and any event whose text holds the subject id or an identifier.
  const params: unknown[] = [config.subject, `%${jsonFragment(config.subject, true)}%`];
  const clauses = ['actor_id = $1', 'target_id = $1', 'data::text LIKE $2'];
  for (const identifier of identifiers) {
    params.push(`%${jsonFragment(identifier, false).toLowerCase()}%`);
    clauses.push(`lower(data::text) LIKE $${params.length}`);
  }
  let where = `(${clauses.join(' OR ')})`;
  if (tenant !== undefined) {
    params.push(tenant);
    where += ` AND tenant_id = $${params.length}`;
  }
  const report: EraseReport = {
    mode: config.mode,
    dryRun: config.dryRun,
    pseudonym,
    changed: 0,
    deleted: 0,
    identifiers: identifiers.length + 1,
    erasureId: null,
    eventId: null,
  };
  const erasureId = newEventId();
  for await (const rows of pages(access.executor, tables, where, params, config.batchSize)) {
    const updates: { row: CandidateRow; data: Record<string, unknown> }[] = [];
    const removals: CandidateRow[] = [];
    for (const row of rows) {
      const data = dataObject(row.data);
      const own =
        (data.actor as { id?: unknown } | undefined)?.id === config.subject ||
        (data.target as { id?: unknown } | undefined)?.id === config.subject;
      if (config.mode === 'delete' && own) {
        removals.push(row);
        continue;
      }
      const scrubbed = scrubEvent(data, rules);
      if (scrubbed) updates.push({ row, data: scrubbed });
    }
    report.changed += updates.length;
    report.deleted += removals.length;
    if (config.dryRun || (updates.length === 0 && removals.length === 0)) continue;
    await inMaintenance(access, 'erasure', async (tx) => {
      if (report.erasureId === null) {
        await tx.query(
          `INSERT INTO ${tables.erasures} (id, mode, pseudonym, events) VALUES ($1, $2, $3, 0)`,
          [erasureId, config.mode, pseudonym],
        );
        report.erasureId = erasureId;
      }
      await applyUpdates(tx, tables, updates, erasureId);
      await applyRemovals(tx, tables, removals);
    });
  }
  if (!config.dryRun && report.erasureId !== null) {
    await access.executor.query(`UPDATE ${tables.erasures} SET events = $2 WHERE id = $1`, [
      erasureId,
      report.changed + report.deleted,
    ]);
  }
  if (!config.dryRun) {
    const event = await recordMaintenanceEvent(target, {
      action: 'privacy.erased',
      actor: config.actor ?? defaultActor('erasure'),
      targetType: 'subject',
      targetId: pseudonym === 'anonymous' ? erasureId : pseudonym,
      tenantId: tenant ?? null,
      message: `Personal data of ${pseudonym === 'anonymous' ? 'a subject' : pseudonym} erased (${config.mode}): ${report.changed} event(s) changed, ${report.deleted} removed.`,
      metadata: {
        mode: config.mode,
        changed: report.changed,
        deleted: report.deleted,
        erasureId: report.erasureId,
      },
    });
    report.eventId = event?.id ?? null;
  }
  return report;
}

/** How `value` appears inside JSON text: escaped, without the quotes (or with them, for exact matches). */
function jsonFragment(value: string, quoted: boolean): string {
  const json = JSON.stringify(value);
  const inner = quoted ? json : json.slice(1, -1);
  return inner.replace(/[\\%_]/g, '\\$&');
}

/** The rows matching `where`, a page at a time, in (occurred_at, id) order. */
async function* pages(
  executor: SqlExecutor,
  tables: IntegrityTables,
  where: string,
  params: readonly unknown[],
  size: number,
): AsyncGenerator<CandidateRow[]> {
  let after: [string, string] = ['-infinity', '00000000-0000-0000-0000-000000000000'];
  const n = params.length;
  for (;;) {
    const rows = (
      await executor.query<CandidateRow>(
        `SELECT id::text AS id, occurred_at::text AS occurred_at, seal.seal_seq AS seq, seal.seal_hash AS hash, tenant_id, data FROM ${tables.events} ` +
          `LEFT JOIN LATERAL (SELECT s.seq AS seal_seq, s.hash AS seal_hash FROM ${tables.seals} s ` +
          `WHERE s.event_id = ${tables.events}.id AND s.occurred_at = ${tables.events}.occurred_at LIMIT 1) seal ON true ` +
          `WHERE ${where} AND (occurred_at, id) > ($${n + 1}::timestamptz, $${n + 2}::uuid) ORDER BY occurred_at, id LIMIT $${n + 3}`,
        [...params, after[0], after[1], size],
      )
    ).rows;
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    const last = rows[rows.length - 1] as CandidateRow;
    after = [last.occurred_at, last.id];
  }
}

const text = (value: unknown) => (typeof value === 'string' ? value : null);

async function applyUpdates(
  tx: SqlExecutor,
  tables: IntegrityTables,
  updates: { row: CandidateRow; data: Record<string, unknown> }[],
  erasureId: string,
): Promise<void> {
  if (updates.length === 0) return;
  const rows = updates.map(({ row, data }) => {
    const actor = (data.actor ?? {}) as Record<string, unknown>;
    const target = (data.target ?? {}) as Record<string, unknown>;
    const request = (data.request ?? {}) as Record<string, unknown>;
    const correlation = (data.correlation ?? {}) as Record<string, unknown>;
    return {
      id: row.id,
      occurred_at: row.occurred_at,
      data,
      actor_id: text(actor.id),
      actor_label: text(actor.label),
      target_id: text(target.id),
      target_label: text(target.label),
      request_id: text(correlation.requestId) ?? text(request.id),
      request_path: text(request.path),
      message: text(data.message),
      reason: text(data.reason),
      idempotency_key: text(data.idempotencyKey),
    };
  });
  await tx.query(
    `UPDATE ${tables.events} AS e SET data = u.data, actor_id = u.actor_id, actor_label = u.actor_label, ` +
      'target_id = u.target_id, target_label = u.target_label, request_id = u.request_id, request_path = u.request_path, ' +
      'message = u.message, reason = u.reason, idempotency_key = u.idempotency_key ' +
      'FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, occurred_at timestamptz, data jsonb, actor_id text, actor_label text, ' +
      'target_id text, target_label text, request_id text, request_path text, message text, reason text, idempotency_key text) ' +
      'WHERE e.id = u.id AND e.occurred_at = u.occurred_at',
    [storableJsonText(rows)],
  );
  // Sealed events lose their salt: the kept digest still fits the chain, and can no longer be checked
  // against guesses of what the personal data was.
  const sealed = updates.filter((u) => u.row.seq !== null);
  if (sealed.length > 0) {
    await tx.query(
      `UPDATE ${tables.seals} AS s SET personal_salt = NULL FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) ` +
        'WHERE s.event_id = u.id AND s.occurred_at = u.at',
      [textArray(sealed.map((u) => u.row.id)), textArray(sealed.map((u) => u.row.occurred_at))],
    );
  }
  await tx.query(
    `INSERT INTO ${tables.erasedEvents} (event_id, erasure_id) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING`,
    [textArray(updates.map((u) => u.row.id)), erasureId],
  );
}

async function applyRemovals(
  tx: SqlExecutor,
  tables: IntegrityTables,
  removals: CandidateRow[],
): Promise<void> {
  if (removals.length === 0) return;
  // Removed sealed events keep their seal, marked removed: the chain links through it.
  const sealed = removals.filter((r) => r.seq !== null && r.hash !== null);
  if (sealed.length > 0) {
    await tx.query(
      `UPDATE ${tables.seals} AS s SET removed = 'erasure', removed_at = now() FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) ` +
        'WHERE s.event_id = u.id AND s.occurred_at = u.at',
      [textArray(sealed.map((r) => r.id)), textArray(sealed.map((r) => r.occurred_at))],
    );
  }
  await tx.query(
    `DELETE FROM ${tables.events} e USING unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE e.id = u.id AND e.occurred_at = u.at`,
    [textArray(removals.map((r) => r.id)), textArray(removals.map((r) => r.occurred_at))],
  );
}
