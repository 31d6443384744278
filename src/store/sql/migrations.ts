import { AuditkitError } from '../../core/errors.js';
import { isConnectionError, toStoreError } from './sql-errors.js';
import { inTransaction, quoteIdent, type SqlDialect, type SqlExecutor } from './sql-executor.js';
import { TEXT_SEARCH_MIGRATION, textSearchUpkeep } from './text-search.js';

/** What a migration gets to write its SQL: the dialect and the (quoted) schema it works in. */
export interface MigrationContext extends SqlDialect {
  /** The schema name, quoted: `"public"`. */
  schema: string;
  /** A name qualified with the schema and quoted: `qualify('audit_events')` is `"public"."audit_events"`. */
  qualify(name: string): string;
  /** The store's choice about the free-text index (see text-search.ts); undefined when the runner has none. */
  textSearchIndex?: boolean;
}

/**
 * One versioned step of the schema. `up` returns single statements (PGlite runs one statement per call),
 * executed in order inside the migration transaction. Versions are applied in ascending order, once.
 * Later modules add theirs with {@link defineMigrations} or by appending to {@link MIGRATIONS}.
 */
export interface Migration {
  version: number;
  name: string;
  up(context: MigrationContext): string[];
}

/** Columns of `audit_events` after migration 1, in table order. */
const AUDIT_EVENTS_COLUMNS = `
  id uuid NOT NULL,
  occurred_at timestamptz NOT NULL,
  category text NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL,
  tenant_id text,
  actor_type text NOT NULL,
  actor_id text,
  actor_label text,
  target_type text,
  target_id text,
  target_label text,
  request_id text,
  request_path text,
  status integer,
  message text,
  reason text,
  idempotency_key text,
  seq bigint,
  hash text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  data jsonb NOT NULL,
  PRIMARY KEY (id, occurred_at)`;

/**
 * The SQL expressions of correlation ids inside the event JSON. Queries filter on exactly these, so
 * PostgreSQL uses the partial indexes of migration 3 (no column of their own: most events have none).
 */
export const CORRELATION_INDEX_EXPRESSIONS = {
  processId: "(data->'correlation'->>'processId')",
  correlationId: "(data->'correlation'->>'correlationId')",
} as const;

/** The migrations of the core event store. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create audit_events',
    up: ({ partitioned, qualify }) => {
      const table = qualify('audit_events');
      return [
        `CREATE TABLE ${table} (${AUDIT_EVENTS_COLUMNS}\n)${partitioned ? ' PARTITION BY RANGE (occurred_at)' : ''}`,
        ...(partitioned
          ? [`CREATE TABLE ${qualify('audit_events_default')} PARTITION OF ${table} DEFAULT`]
          : []),
        // Time-range scans over append-only data: BRIN is tiny and good enough.
        `CREATE INDEX audit_events_occurred_at_brin ON ${table} USING brin (occurred_at)`,
        `CREATE INDEX audit_events_tenant_time ON ${table} (tenant_id, occurred_at)`,
        `CREATE INDEX audit_events_actor_time ON ${table} (actor_id, occurred_at)`,
        `CREATE INDEX audit_events_target_time ON ${table} (target_type, target_id, occurred_at)`,
        `CREATE INDEX audit_events_request ON ${table} (request_id)`,
        // Newest first with keyset pagination on (occurred_at, id).
        `CREATE INDEX audit_events_keyset ON ${table} (occurred_at DESC, id DESC)`,
      ];
    },
  },
  {
    version: 2,
    name: 'create audit_idempotency_keys',
    // A partitioned table cannot hold a unique index without the partition key, so the idempotency keys
    // (unique per tenant, like the MongoDB store's index) live in a small table of their own.
    up: ({ qualify }) => [
      `CREATE TABLE ${qualify('audit_idempotency_keys')} (` +
        'tenant_key text NOT NULL, idempotency_key text NOT NULL, event_id uuid NOT NULL, ' +
        'recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_key, idempotency_key))',
    ],
  },
  {
    version: 3,
    name: 'index correlation.processId and correlation.correlationId',
    // Partial: only events that have the id are indexed, so ordinary events cost nothing extra.
    up: ({ qualify }) => [
      `CREATE INDEX IF NOT EXISTS audit_events_process ON ${qualify('audit_events')} ` +
        `(${CORRELATION_INDEX_EXPRESSIONS.processId}, occurred_at) WHERE ${CORRELATION_INDEX_EXPRESSIONS.processId} IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS audit_events_correlation ON ${qualify('audit_events')} ` +
        `(${CORRELATION_INDEX_EXPRESSIONS.correlationId}, occurred_at) WHERE ${CORRELATION_INDEX_EXPRESSIONS.correlationId} IS NOT NULL`,
    ],
  },
  {
    version: 4,
    name: 'create audit_seals',
    // The sealer (auditkit/integrity) gives each event its per-tenant seq and chain hash here, in a narrow
    // table of its own: inserting a seal costs a fraction of rewriting the event row (a new row version
    // with an entry in every index of audit_events). Queries read seq and hash from it. A seal stays when
    // its event is removed by retention or erasure (marked `removed`), so the chain links through it.
    up: ({ qualify }) => [
      `CREATE TABLE IF NOT EXISTS ${qualify('audit_seals')} (` +
        'chain text NOT NULL, seq bigint NOT NULL, event_id uuid, occurred_at timestamptz, hash text NOT NULL, ' +
        'personal_digest text, personal_salt text, removed text, removed_at timestamptz, PRIMARY KEY (chain, seq))',
      `CREATE INDEX IF NOT EXISTS audit_seals_event ON ${qualify('audit_seals')} (event_id)`,
    ],
  },
  // Free text: a pg_trgm GIN index when the extension can be had, nothing otherwise (see text-search.ts).
  TEXT_SEARCH_MIGRATION,
];

/** Checks a list of migrations (unique, positive, integer versions) and returns it sorted by version. */
export function defineMigrations(...lists: (readonly Migration[])[]): Migration[] {
  const all = lists.flat().sort((a, b) => a.version - b.version);
  for (let i = 0; i < all.length; i++) {
    const m = all[i] as Migration;
    if (!Number.isInteger(m.version) || m.version < 1) {
      throw new AuditkitError('invalid_config', `Migration "${m.name}" has an invalid version ${m.version}.`);
    }
    if (i > 0 && (all[i - 1] as Migration).version === m.version) {
      throw new AuditkitError('invalid_config', `Two migrations have version ${m.version}.`);
    }
  }
  return all;
}

/** Advisory lock class for migrations ("audk"); the second key is a hash of the schema name. */
const MIGRATION_LOCK_CLASS = 0x6175646b;

export interface RunMigrationsOptions {
  executor: SqlExecutor;
  dialect: SqlDialect;
  schema: string;
  migrations?: readonly Migration[];
  /** Where the database is, for messages. */
  target: string;
  /**
   * The store's free-text index choice: true creates it when missing, false drops it, after the
   * migrations (see `textSearchUpkeep`). Undefined leaves it as migration 5 made it.
   */
  textSearchIndex?: boolean;
}

/**
 * Brings the schema up to date: creates it and `auditkit_migrations(version, name, applied_at)` if needed,
 * then applies every pending migration in order, in one transaction held under
 * `pg_advisory_xact_lock`, so concurrent callers (threads, processes, machines) wait for each other and
 * each migration runs once. Returns the versions applied by this call.
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<number[]> {
  const { executor, dialect, schema } = options;
  const migrations = defineMigrations(options.migrations ?? MIGRATIONS);
  const quoted = quoteIdent(schema);
  const context: MigrationContext = {
    ...dialect,
    schema: quoted,
    qualify: (name) => `${quoted}.${quoteIdent(name)}`,
    ...(options.textSearchIndex === undefined ? {} : { textSearchIndex: options.textSearchIndex }),
  };
  const ledger = context.qualify('auditkit_migrations');
  let current: Migration | undefined;
  try {
    return await inTransaction(executor, async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_CLASS}, hashtext($1))`, [schema]);
      // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists: look first.
      const exists = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rows.length === 0) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${ledger} (` +
          'version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = await tx.query<{ version: number }>(`SELECT version FROM ${ledger}`);
      const applied = new Set(done.rows.map((r) => Number(r.version)));
      const ran: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        current = migration;
        for (const statement of migration.up(context)) await tx.query(statement);
        await tx.query(`INSERT INTO ${ledger} (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        ran.push(migration.version);
      }
      current = undefined;
      // Under the same lock, so two processes never create (or drop) the index at once.
      for (const statement of textSearchUpkeep(context)) await tx.query(statement);
      return ran;
    });
  } catch (error) {
    if (isConnectionError(error)) throw toStoreError(error, { operation: 'migrate', target: options.target });
    const step = current ? ` (migration ${current.version} "${current.name}")` : '';
    throw toStoreError(error, {
      operation: `migrate schema "${schema}"${step}`,
      target: options.target,
      code: 'migration_failed',
    });
  }
}
