import { defineMigrations, MIGRATIONS, type Migration, runMigrations } from '../store/sql/migrations.js';
import type { SqlAccess } from './sql-access.js';

/**
 * The schema of tamper evidence, retention and erasure, as migrations of the shared ledger
 * (`auditkit_migrations`). Versions 701-709 belong to this module.
 *
 * - `audit_seals` (core migration 4): per event its seq, chain hash, and the salted digest of its
 *   personal fields (so erasure can replace them without breaking the chain). A seal stays, marked
 *   `removed`, when retention or erasure removes its event: the chain and the Merkle roots still verify
 *   around it.
 * - `audit_events.recorded_xid` and `auditkit_seal_cursor`: which events the sealer has reached (the
 *   events of finished writing transactions, in transaction order).
 * - `auditkit_chain_heads`: per tenant, the last sealed seq and hash, and the last checkpoint.
 * - `auditkit_checkpoints`: signed Merkle roots of consecutive ranges of a chain.
 * - `auditkit_anchors`: where a chain starts after retention removed its beginning (a checkpoint).
 * - `auditkit_erasures` / `auditkit_erased_events`: which events had their personal data replaced.
 * - An append-only trigger on `audit_events`, `audit_seals` and `auditkit_checkpoints`: UPDATE, DELETE
 *   and TRUNCATE fail with SQLSTATE AK001 unless the transaction set `auditkit.maintenance` (see
 *   `withMaintenance`).
 */
export const INTEGRITY_MIGRATIONS: readonly Migration[] = [
  {
    version: 701,
    name: 'integrity: seal columns, chain heads, checkpoints, anchors, tombstones, erasures',
    up: ({ qualify }) => {
      const events = qualify('audit_events');
      return [
        // The first layout kept the seal in the event row; 703 moves it to audit_seals and drops these.
        // (701 once also indexed unsealed and sealed rows; 703 drops those indexes where they exist.)
        `ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS personal_digest text, ADD COLUMN IF NOT EXISTS personal_salt text`,
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
  {
    version: 703,
    name: 'integrity: seals in audit_seals, the sealer follows writing transactions',
    up: ({ qualify, schema }) => {
      const events = qualify('audit_events');
      const seals = qualify('audit_seals');
      const tombstones = qualify('auditkit_tombstones');
      const fn = `${schema}.auditkit_append_only`;
      return [
        // Events sealed by the first layout (seal in the event row) and its tombstones move to audit_seals.
        `INSERT INTO ${seals} (chain, seq, event_id, occurred_at, hash, personal_digest, personal_salt) ` +
          `SELECT CASE WHEN tenant_id IS NULL THEN '-' ELSE '=' || tenant_id END, seq, id, occurred_at, hash, personal_digest, personal_salt ` +
          `FROM ${events} WHERE seq IS NOT NULL AND hash IS NOT NULL AND personal_digest IS NOT NULL ON CONFLICT DO NOTHING`,
        `INSERT INTO ${seals} (chain, seq, event_id, hash, removed, removed_at) ` +
          `SELECT chain, seq, event_id, hash, reason, removed_at FROM ${tombstones} ON CONFLICT DO NOTHING`,
        `DROP TABLE ${tombstones}`,
        `DROP INDEX IF EXISTS ${qualify('audit_events_unsealed')}`,
        `DROP INDEX IF EXISTS ${qualify('audit_events_chain')}`,
        `ALTER TABLE ${events} DROP COLUMN IF EXISTS personal_digest, DROP COLUMN IF EXISTS personal_salt`,
        // The transaction that wrote each event. Existing rows read as 0 (a constant default costs no
        // rewrite); new rows get their transaction's id. The sealer seals the events of finished
        // transactions only, in (transaction, time, id) order, so an event committed late is never skipped.
        `ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS recorded_xid xid8 NOT NULL DEFAULT '0'`,
        `ALTER TABLE ${events} ALTER COLUMN recorded_xid SET DEFAULT pg_current_xact_id()`,
        `CREATE INDEX IF NOT EXISTS audit_events_arrival ON ${events} (recorded_xid, occurred_at, id)`,
        // Retention finds the removed seals of a chain without walking the chain.
        `CREATE INDEX IF NOT EXISTS audit_seals_removed ON ${seals} (chain, seq) WHERE removed IS NOT NULL`,
        // Events of transactions below \`lo\` (except those still running then, kept in \`pending\`) are
        // sealed. A round seals up to \`round_hi\` without \`round_running\`, and is at \`after_*\`.
        `CREATE TABLE IF NOT EXISTS ${qualify('auditkit_seal_cursor')} (
          id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
          lo xid8 NOT NULL DEFAULT '0',
          pending xid8[] NOT NULL DEFAULT '{}',
          round_hi xid8,
          round_running xid8[],
          after_xid xid8,
          after_at timestamptz,
          after_id uuid,
          legacy boolean NOT NULL DEFAULT false,
          updated_at timestamptz NOT NULL DEFAULT now())`,
        // \`legacy\`: some events written before the cursor (all read as transaction 0) are sealed already.
        `INSERT INTO ${qualify('auditkit_seal_cursor')} (id, legacy) VALUES (1, EXISTS (SELECT 1 FROM ${seals})) ON CONFLICT DO NOTHING`,
        // The sealer no longer writes event rows: nothing may update an event outside retention and erasure.
        `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  mode text := coalesce(current_setting('auditkit.maintenance', true), '');
BEGIN
  -- Retention and erasure remove or rewrite rows (and mark seals removed); moving rows out of the DEFAULT
  -- partition into a new monthly one ('partition') deletes and re-inserts them unchanged.
  IF mode IN ('retention', 'erasure') OR (mode = 'partition' AND TG_ARGV[0] = 'events') THEN
    IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION USING
    ERRCODE = 'AK001',
    MESSAGE = format('%s is append-only: %s is not allowed', TG_ARGV[1], TG_OP),
    HINT = 'Old events are removed by retention (auditkit cleanup) and personal data by erasure (auditkit erase).';
END
$fn$`,
        `CREATE TRIGGER auditkit_append_only BEFORE UPDATE OR DELETE ON ${seals} FOR EACH ROW EXECUTE FUNCTION ${fn}('seals', 'audit_seals')`,
        `CREATE TRIGGER auditkit_no_truncate BEFORE TRUNCATE ON ${seals} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('seals', 'audit_seals')`,
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
