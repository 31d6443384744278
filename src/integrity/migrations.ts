import { defineMigrations, MIGRATIONS, type Migration, runMigrations } from '../store/sql/migrations.js';
import type { SqlAccess } from './sql-access.js';

/**
 * The schema of tamper evidence, retention and erasure, as migrations of the shared ledger
 * (`auditkit_migrations`). Versions 701-709 belong to this module.
 *
 * - `audit_events` gains `personal_digest` and `personal_salt`: the hash of an event covers a salted
 *   digest of its personal fields, so erasure can replace them without breaking the chain.
 * - `auditkit_chain_heads`: per tenant, the last sealed seq and hash, and the last checkpoint.
 * - `auditkit_checkpoints`: signed Merkle roots of consecutive ranges of a chain.
 * - `auditkit_anchors`: where a chain starts after retention removed its beginning (a checkpoint).
 * - `auditkit_tombstones`: seq and hash of events removed in the middle of a chain (per-category
 *   retention, erasure in delete mode), so the chain and the Merkle roots still verify around them.
 * - `auditkit_erasures` / `auditkit_erased_events`: which events had their personal data replaced.
 * - An append-only trigger on `audit_events` and `auditkit_checkpoints`: UPDATE, DELETE and TRUNCATE
 *   fail with SQLSTATE AK001 unless the transaction set `auditkit.maintenance` (see `withMaintenance`).
 */
export const INTEGRITY_MIGRATIONS: readonly Migration[] = [
  {
    version: 701,
    name: 'integrity: seal columns, chain heads, checkpoints, anchors, tombstones, erasures',
    up: ({ qualify }) => {
      const events = qualify('audit_events');
      return [
        `ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS personal_digest text, ADD COLUMN IF NOT EXISTS personal_salt text`,
        // The sealer's queue: unsealed events in arrival order.
        `CREATE INDEX IF NOT EXISTS audit_events_unsealed ON ${events} (recorded_at, occurred_at, id) WHERE seq IS NULL`,
        // Verification and proofs walk one tenant's chain by seq.
        `CREATE INDEX IF NOT EXISTS audit_events_chain ON ${events} (tenant_id, seq, id) WHERE seq IS NOT NULL`,
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_chain_heads')} (
          chain text PRIMARY KEY,
          tenant_id text,
          last_seq bigint NOT NULL,
          last_hash text NOT NULL,
          checkpoint_seq bigint NOT NULL DEFAULT 0,
          checkpoint_id text,
          checkpoint_at timestamptz,
          updated_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_checkpoints')} (
          id text PRIMARY KEY,
          chain text NOT NULL,
          tenant_id text,
          first_seq bigint NOT NULL,
          last_seq bigint NOT NULL,
          last_hash text NOT NULL,
          merkle_root text NOT NULL,
          prev_id text,
          created_at timestamptz NOT NULL,
          key_id text,
          signature text)`,
        `CREATE INDEX IF NOT EXISTS auditkit_checkpoints_chain ON ${qualify('auditkit_checkpoints')} (chain, last_seq)`,
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_anchors')} (
          chain text PRIMARY KEY,
          tenant_id text,
          seq bigint NOT NULL,
          hash text NOT NULL,
          checkpoint_id text,
          cut_before timestamptz,
          created_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_tombstones')} (
          chain text NOT NULL,
          seq bigint NOT NULL,
          hash text NOT NULL,
          event_id uuid,
          reason text NOT NULL,
          removed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (chain, seq, hash))`,
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_erasures')} (
          id text PRIMARY KEY,
          mode text NOT NULL,
          pseudonym text NOT NULL,
          events integer NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_erased_events')} (
          event_id uuid NOT NULL,
          erasure_id text NOT NULL,
          PRIMARY KEY (event_id, erasure_id))`,
      ];
    },
  },
  {
    version: 702,
    name: 'integrity: append-only trigger',
    up: ({ qualify, schema }) => {
      const fn = `${schema}.auditkit_append_only`;
      return [
        `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  mode text := coalesce(current_setting('auditkit.maintenance', true), '');
BEGIN
  -- Retention and erasure remove or rewrite rows; moving rows out of the DEFAULT partition into a new
  -- monthly one ('partition') deletes and re-inserts them unchanged.
  IF mode IN ('retention', 'erasure', 'partition') THEN
    IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  -- The sealer only fills seq and hash of events that have none yet.
  IF mode = 'seal' AND TG_OP = 'UPDATE' AND TG_ARGV[0] = 'events' THEN
    IF OLD.seq IS NULL THEN RETURN NEW; END IF;
  END IF;
  RAISE EXCEPTION USING
    ERRCODE = 'AK001',
    MESSAGE = format('%s is append-only: %s is not allowed', TG_ARGV[1], TG_OP),
    HINT = 'Old events are removed by retention (auditkit cleanup) and personal data by erasure (auditkit erase).';
END
$fn$`,
        `CREATE TRIGGER auditkit_append_only BEFORE UPDATE OR DELETE ON ${qualify('audit_events')} FOR EACH ROW EXECUTE FUNCTION ${fn}('events', 'audit_events')`,
        `CREATE TRIGGER auditkit_no_truncate BEFORE TRUNCATE ON ${qualify('audit_events')} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('events', 'audit_events')`,
        `CREATE TRIGGER auditkit_append_only BEFORE UPDATE OR DELETE ON ${qualify('auditkit_checkpoints')} FOR EACH ROW EXECUTE FUNCTION ${fn}('checkpoints', 'auditkit_checkpoints')`,
        `CREATE TRIGGER auditkit_no_truncate BEFORE TRUNCATE ON ${qualify('auditkit_checkpoints')} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('checkpoints', 'auditkit_checkpoints')`,
      ];
    },
  },
];

/** SQLSTATE of the append-only trigger's error. */
export const APPEND_ONLY_SQLSTATE = 'AK001';

const ensured = new WeakMap<object, Map<string, Promise<void>>>();

/**
 * Applies the core and integrity migrations that are missing (once per executor and process). Every
 * entry point of these modules calls it, so they work on a store that was only `migrate()`d.
 */
export function ensureIntegritySchema(access: SqlAccess): Promise<void> {
  let bySchema = ensured.get(access.executor);
  if (!bySchema) {
    bySchema = new Map();
    ensured.set(access.executor, bySchema);
  }
  const known = bySchema;
  let pending = known.get(access.schema);
  if (!pending) {
    pending = runMigrations({
      executor: access.executor,
      dialect: { partitioned: access.partitioned },
      schema: access.schema,
      migrations: defineMigrations(MIGRATIONS, INTEGRITY_MIGRATIONS),
      target: access.name ?? 'the audit store',
    }).then(() => undefined);
    pending.catch(() => known.delete(access.schema));
    known.set(access.schema, pending);
  }
  return pending;
}
