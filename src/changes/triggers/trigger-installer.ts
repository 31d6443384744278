import type { Auditor } from '../../core/auditor.js';
import { AuditkitError } from '../../core/errors.js';
import { createRedactor, REDACTED, type Redactor } from '../../core/redact.js';
import { hasSqlAccess, type SqlAccess, sqlAccessOf } from '../../integrity/sql-access.js';
import { MIGRATIONS, runMigrations } from '../../store/sql/migrations.js';
import { inTransaction, type SqlExecutor } from '../../store/sql/sql-executor.js';
import type { AuditStore } from '../../store/store.js';
import { refreshCaptureCatalog } from '../capture-catalog.js';
import { qualify } from './sql-text.js';
import { parseTriggerTableOptions, type TriggerTableOptions } from './trigger-options.js';
import {
  type CatalogColumn,
  type CatalogTable,
  normaliseColumnName,
  planTrigger,
  secretPatternOf,
  type TriggerPlan,
} from './trigger-plan.js';
import {
  functionNameFor,
  installTableSql,
  sharedSql,
  TRIGGER_NAMES,
  TRIGGERS_TABLE,
  uninstallTableSql,
} from './trigger-sql.js';

/** Where triggers write: an auditor, a SQL store (PGlite, PostgreSQL), or SQL access to one. */
export type TriggerTarget =
  | (Pick<Auditor, 'store' | 'redactor' | 'migrate'> & Partial<Pick<Auditor, 'options'>>)
  | AuditStore
  | SqlAccess;

/** Tables to install: names (one set of options for all), or options per name. */
export type TriggerTables = string | readonly string[] | Readonly<Record<string, TriggerTableOptions>>;

/** What `install` did for one table. */
export interface InstalledTrigger {
  /** `schema.table`. */
  table: string;
  schema: string;
  name: string;
  /** The generated functions' common name, in the audit schema (`_i`, `_u`, `_d` for each operation). */
  functionName: string;
  /** The columns that make `target.id` (empty: the events have no id). */
  primaryKey: string[];
  /** Columns recorded as `[REDACTED]` (given, and named like secrets). */
  masked: string[];
  options: TriggerTableOptions;
  /** Problems that did not stop the install (a table without a primary key). */
  warnings: string[];
}

/** One installed table as `status` sees it. */
export interface TriggerStatus {
  table: string;
  schema: string;
  name: string;
  functionName: string;
  options: TriggerTableOptions;
  primaryKey: string[];
  installedAt: Date;
  updatedAt: Date;
  /** False when the table was dropped, or its triggers were dropped or disabled by hand. */
  active: boolean;
  /** Columns added since the install (recorded; masked when named like a secret). */
  addedColumns: string[];
  /** Columns dropped since the install. */
  droppedColumns: string[];
}

/** What `uninstall` did for one table. */
export interface UninstalledTrigger {
  table: string;
  /** False when no trigger of Auditkit was installed on it. */
  removed: boolean;
}

/** Installs, removes and lists the audit triggers of a database. */
export interface AuditTriggers {
  /**
   * Adds AFTER INSERT/UPDATE/DELETE row triggers to the tables; installing again replaces the
   * settings. Creates the audit tables first when they are missing. One transaction.
   */
  install(tables: TriggerTables, options?: TriggerTableOptions): Promise<InstalledTrigger[]>;
  /** The SQL `install` would run, to paste into your own migrations (the tables must exist). */
  installSql(tables: TriggerTables, options?: TriggerTableOptions): Promise<string>;
  /** Removes the triggers and their functions; the events they wrote stay. */
  uninstall(tables: string | readonly string[]): Promise<UninstalledTrigger[]>;
  /** The SQL `uninstall` would run. */
  uninstallSql(tables: string | readonly string[]): Promise<string>;
  /** Every table with Auditkit triggers, with its settings. */
  status(): Promise<TriggerStatus[]>;
}

export interface AuditTriggersSettings {
  /** Extra key names treated as secrets (as the redactor's `keys`): in column names and inside JSON values. */
  secretKeys?: readonly string[];
}

/** Advisory lock class ("audl"): one installer per audit schema at a time. */
const INSTALL_LOCK_CLASS = 0x6175646c;

const CATALOG_SQL = `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
  coalesce((SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
      'baseType', coalesce(bt.typname, t.typname), 'kind', t.typtype,
      'category', coalesce(bt.typcategory, t.typcategory)) ORDER BY a.attnum)
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json) AS columns,
  coalesce((SELECT json_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = c.oid AND i.indisprimary), '[]'::json) AS primary_key
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`;

const json = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

interface ResolvedTarget {
  access: SqlAccess;
  redactor: Redactor;
  /** The auditor's own secret key names (`redact.keys`), masked inside JSON values too. */
  secretKeys: readonly string[];
  /** Creates the audit tables (and their partitions) when missing. */
  migrate: () => Promise<void>;
}

function isAuditor(target: TriggerTarget): target is Pick<Auditor, 'store' | 'redactor' | 'migrate'> {
  return 'store' in target && 'redactor' in target && typeof target.migrate === 'function';
}

function resolveTarget(target: TriggerTarget): ResolvedTarget {
  if (isAuditor(target)) {
    const redact = target.options?.redact;
    return {
      access: sqlAccessOf(target.store),
      redactor: target.redactor,
      secretKeys: redact && !('redactEvent' in redact) ? (redact.keys ?? []) : [],
      migrate: () => target.migrate(),
    };
  }
  const store = target as Partial<AuditStore>;
  if (typeof store.migrate === 'function' && typeof store.append === 'function') {
    return {
      access: sqlAccessOf(target as AuditStore),
      redactor: createRedactor(),
      secretKeys: [],
      migrate: () => store.migrate!(),
    };
  }
  if (hasSqlAccess(target)) {
    return {
      access: target,
      redactor: createRedactor(),
      secretKeys: [],
      migrate: async () => {
        await runMigrations({
          executor: target.executor,
          dialect: { partitioned: target.partitioned },
          schema: target.schema,
          migrations: MIGRATIONS,
          target: target.name ?? 'the audit store',
        });
      },
    };
  }
  throw new AuditkitError(
    'not_supported',
    'Trigger mode needs an auditor or a SQL store (PGlite or PostgreSQL) of the database that holds the tables.',
  );
}

/** Normalises the ways of naming tables into `[name, options]` pairs. */
function tableList(tables: TriggerTables, options: TriggerTableOptions | undefined): [string, unknown][] {
  if (typeof tables === 'string') return [[tables, options ?? {}]];
  if (Array.isArray(tables)) return (tables as readonly string[]).map((t) => [t, options ?? {}]);
  if (options !== undefined) {
    throw new AuditkitError(
      'invalid_config',
      'Give options either per table or as the second argument, not both.',
    );
  }
  return Object.entries(tables as Record<string, TriggerTableOptions>);
}

async function describeTable(executor: SqlExecutor, table: string): Promise<CatalogTable> {
  let rows: Record<string, unknown>[];
  try {
    rows = (await executor.query<Record<string, unknown>>(CATALOG_SQL, [table])).rows;
  } catch (error) {
    throw new AuditkitError(
      'invalid_config',
      `"${table}" is not a table name PostgreSQL understands: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const row = rows[0];
  if (!row) {
    throw new AuditkitError(
      'invalid_config',
      `There is no table "${table}" in this database. Names follow SQL rules: schema.table, and quote ` +
        `mixed-case names ('"Orders"').`,
    );
  }
  return {
    schema: String(row.schema),
    name: String(row.name),
    relkind: String(row.relkind),
    columns: json<CatalogColumn[]>(row.columns),
    primaryKey: json<string[]>(row.primary_key),
  };
}

/**
 * The installer of trigger mode for one audit store: the store's schema holds the trigger functions
 * and receives the events, so the tables must live in the same database.
 *
 * @example
 * const triggers = auditTriggers(audit);
 * await triggers.install(['orders', 'shop.order_lines'], { mask: ['iban'] });
 * await triggers.install({ order_tags: { relation: { ownerType: 'orders', ownerColumns: 'order_id', relatedType: 'tags', relatedColumns: 'tag_id' } } });
 * console.log(await triggers.status());
 */
export function auditTriggers(target: TriggerTarget, settings: AuditTriggersSettings = {}): AuditTriggers {
  const resolved = resolveTarget(target);
  const { access, redactor } = resolved;
  const auditSchema = access.schema;
  // The auditor's own secret names are secrets inside JSON values too, as its redactor treats them.
  const secretPattern = secretPatternOf([...resolved.secretKeys, ...(settings.secretKeys ?? [])]);
  // Names given in settings (the CLI's --secret-keys: an app's redact.keys) are secrets at install too.
  const extraKeys = (settings.secretKeys ?? []).map(normaliseColumnName).filter(Boolean);
  const isSecret = (column: string) => {
    const name = normaliseColumnName(column);
    if (extraKeys.some((key) => name.includes(key))) return true;
    const cleaned = redactor.redactValue({ [column]: 'x' }) as Record<string, unknown> | null;
    return cleaned !== null && typeof cleaned === 'object' && Object.values(cleaned)[0] === REDACTED;
  };

  const plan = async (executor: SqlExecutor, name: string, options: unknown): Promise<TriggerPlan> => {
    const table = await describeTable(executor, name);
    return planTrigger({
      auditSchema,
      table,
      functionName: functionNameFor(table),
      options: parseTriggerTableOptions(name, options),
      isSecret,
      secretPattern,
    });
  };
  const installed = (p: TriggerPlan): InstalledTrigger => ({
    table: `${p.table.schema}.${p.table.name}`,
    schema: p.table.schema,
    name: p.table.name,
    functionName: p.functionName,
    primaryKey: p.primaryKey,
    masked: Object.entries(p.modes)
      .filter(([, mode]) => mode === 'r' || mode === 'c')
      .map(([column]) => column),
    options: p.options,
    warnings: p.warnings,
  });

  /** Which installed table a name means: the table itself, else a registry row (the table is gone). */
  const locate = async (executor: SqlExecutor, name: string) => {
    try {
      const found = await executor.query<{ schema: string; name: string }>(
        'SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)',
        [name],
      );
      if (found.rows[0]) return { ...found.rows[0], exists: true };
    } catch {
      // not a valid name for PostgreSQL: look it up in the registry as written
    }
    const registry = await registryExists(executor);
    if (registry) {
      const dot = name.lastIndexOf('.');
      const rows = await executor.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM ${qualify(auditSchema, TRIGGERS_TABLE)} ` +
          'WHERE table_name = $1 OR (table_schema = $2 AND table_name = $3) ORDER BY 1 LIMIT 1',
        [name, dot > 0 ? name.slice(0, dot) : '', dot > 0 ? name.slice(dot + 1) : ''],
      );
      if (rows.rows[0]) return { ...rows.rows[0], exists: false };
    }
    return null;
  };
  const registryExists = async (executor: SqlExecutor) =>
    (
      await executor.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
        qualify(auditSchema, TRIGGERS_TABLE),
      ])
    ).rows[0]?.found === true;

  const names = (tables: string | readonly string[]) => (typeof tables === 'string' ? [tables] : [...tables]);

  return {
    async install(tables, options) {
      const list = tableList(tables, options);
      await resolved.migrate();
      const result = await inTransaction(access.executor, async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${INSTALL_LOCK_CLASS}, hashtext($1))`, [auditSchema]);
        for (const statement of sharedSql(auditSchema)) await tx.query(statement);
        const done: InstalledTrigger[] = [];
        for (const [name, tableOptions] of list) {
          const p = await plan(tx, name, tableOptions);
          for (const statement of installTableSql(p)) await tx.query(statement);
          done.push(installed(p));
        }
        return done;
      });
      // The capture adapters of this process leave these tables to the triggers from their next write.
      refreshCaptureCatalog();
      return result;
    },

    async installSql(tables, options) {
      const list = tableList(tables, options);
      const statements = [...sharedSql(auditSchema)];
      const header: string[] = [];
      for (const [name, tableOptions] of list) {
        const p = await plan(access.executor, name, tableOptions);
        header.push(`--   ${p.table.schema}.${p.table.name}: ${JSON.stringify(p.options)}`);
        for (const warning of p.warnings) header.push(`--   warning: ${warning}`);
        statements.push(...installTableSql(p));
      }
      return (
        `-- Auditkit trigger mode: audit triggers writing to ${qualify(auditSchema, 'audit_events')}.\n` +
        `-- Needs the audit tables ("auditkit migrate"). Tables:\n${header.join('\n')}\n\n` +
        `${statements.join(';\n\n')};\n`
      );
    },

    async uninstall(tables) {
      const result = await inTransaction(access.executor, async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${INSTALL_LOCK_CLASS}, hashtext($1))`, [auditSchema]);
        const done: UninstalledTrigger[] = [];
        for (const name of names(tables)) {
          const found = await locate(tx, name);
          if (!found) {
            done.push({ table: name, removed: false });
            continue;
          }
          const present = await tx.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = ANY($2::text[])`,
            [qualify(found.schema, found.name), `{${Object.values(TRIGGER_NAMES).join(',')}}`],
          );
          const registered = (await registryExists(tx))
            ? (
                await tx.query(
                  `SELECT 1 FROM ${qualify(auditSchema, TRIGGERS_TABLE)} WHERE table_schema = $1 AND table_name = $2`,
                  [found.schema, found.name],
                )
              ).rows.length > 0
            : false;
          const removed = Number(present.rows[0]?.n ?? 0) > 0 || registered;
          if (registered || found.exists) {
            const statements = uninstallTableSql(auditSchema, found, found.exists);
            // Without the registry table there is nothing to delete from.
            for (const statement of registered ? statements : statements.slice(0, -1))
              await tx.query(statement);
          }
          done.push({ table: `${found.schema}.${found.name}`, removed });
        }
        return done;
      });
      // ...and capture them again from their next write.
      refreshCaptureCatalog();
      return result;
    },

    async uninstallSql(tables) {
      const statements: string[] = [];
      for (const name of names(tables)) {
        const found = await locate(access.executor, name);
        if (found) statements.push(...uninstallTableSql(auditSchema, found, found.exists));
      }
      return statements.length === 0 ? '-- Nothing to uninstall.\n' : `${statements.join(';\n\n')};\n`;
    },

    async status() {
      if (!(await registryExists(access.executor))) return [];
      const rows = (
        await access.executor.query<Record<string, unknown>>(
          `SELECT r.table_schema, r.table_name, r.function_name, r.options, r.primary_key, r.columns,
             r.installed_at, r.updated_at, c.oid IS NOT NULL AS table_exists,
             (SELECT count(*) FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND tg.tgenabled <> 'D'
                AND tg.tgname IN (${Object.values(TRIGGER_NAMES)
                  .map((n) => `'${n}'`)
                  .join(', ')}))::int AS triggers,
             coalesce((SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json) AS current_columns
           FROM ${qualify(auditSchema, TRIGGERS_TABLE)} r
           LEFT JOIN pg_namespace ns ON ns.nspname = r.table_schema
           LEFT JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = r.table_name
           ORDER BY r.table_schema, r.table_name`,
        )
      ).rows;
      return rows.map((row): TriggerStatus => {
        const installedColumns = json<{ name: string }[]>(row.columns).map((c) => c.name);
        const current = json<string[]>(row.current_columns);
        const exists = row.table_exists === true;
        return {
          table: `${String(row.table_schema)}.${String(row.table_name)}`,
          schema: String(row.table_schema),
          name: String(row.table_name),
          functionName: String(row.function_name),
          options: json<TriggerTableOptions>(row.options),
          primaryKey: Array.isArray(row.primary_key) ? (row.primary_key as string[]) : [],
          installedAt: new Date(row.installed_at as string),
          updatedAt: new Date(row.updated_at as string),
          active: exists && Number(row.triggers) === Object.keys(TRIGGER_NAMES).length,
          addedColumns: exists ? current.filter((c) => !installedColumns.includes(c)) : [],
          droppedColumns: exists ? installedColumns.filter((c) => !current.includes(c)) : [],
        };
      });
    },
  };
}
