/*
 * What app-level capture asks the database about a table, once: its primary key, and whether
 * Auditkit's audit triggers record its changes already (then the adapters leave the recording to the
 * triggers and only hand them the context, so no change is recorded twice).
 *
 * Why pg_trigger and not the installer's registry table: the registry lives in the audit schema the
 * triggers were installed for (not always the auditor's), and a trigger dropped or disabled by hand
 * leaves its registry row behind while firing nothing; trusting the registry would then lose changes.
 * pg_trigger says what PostgreSQL will actually run.
 */
import { CONTEXT_SETTING, TRIGGER_NAMES } from './triggers/trigger-sql.js';

/** What capture knows of one table. */
export interface TableCatalog {
  /** The primary key columns in key order (empty: none). */
  primaryKey: string[];
  /** Every one of Auditkit's audit triggers is installed and enabled on the table. */
  triggered: boolean;
}

const TRIGGERS = Object.values(TRIGGER_NAMES);
/** The trigger names as an array literal, a parameter every driver passes as text. */
const TRIGGER_LIST = `{${TRIGGERS.join(',')}}`;

/** Enabled Auditkit triggers of the table named by `$n` (fired in ordinary sessions: `O`rigin or `A`lways). */
const countTriggers = (table: string, names: string) =>
  `(SELECT count(*)::int FROM pg_trigger t WHERE t.tgrelid = to_regclass(${table}) ` +
  `AND t.tgname = ANY(${names}::text[]) AND t.tgenabled IN ('O', 'A'))`;

/** `$1` the table's (quoted, maybe qualified) name. */
export const CATALOG_SQL =
  'SELECT coalesce((SELECT json_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) ' +
  'FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) ' +
  "WHERE i.indrelid = to_regclass($1) AND i.indisprimary), '[]'::json) AS primary_key, " +
  `${countTriggers('$1', '$2')} AS triggers`;

/**
 * Hands the context to the triggers for the rest of the transaction and, in the same round trip,
 * checks that they are still there. `$1` the context JSON, `$2` the table's name.
 */
export const HAND_OVER_SQL = `SELECT set_config('${CONTEXT_SETTING}', $1, true) AS context, ${countTriggers('$2', '$3')} AS triggers`;

/** The parameters of {@link CATALOG_SQL} for a table. */
export const catalogParams = (table: string): unknown[] => [table, TRIGGER_LIST];

/** The parameters of {@link HAND_OVER_SQL}. */
export const handOverParams = (contextJson: string, table: string): unknown[] => [
  contextJson,
  table,
  TRIGGER_LIST,
];

/** True when a result row of either statement counts every Auditkit trigger. */
export const allTriggers = (row: Record<string, unknown> | undefined): boolean =>
  Number(row?.triggers) === TRIGGERS.length;

/** A catalog result row as a {@link TableCatalog}. */
export function tableCatalogOf(row: Record<string, unknown> | undefined): TableCatalog {
  const key = row?.primary_key;
  const parsed = typeof key === 'string' ? (JSON.parse(key) as unknown) : key;
  return { primaryKey: Array.isArray(parsed) ? parsed.map(String) : [], triggered: allTriggers(row) };
}

// One counter per process, even with two copies of this module loaded (ESM and a bundled copy).
const GENERATION_KEY = Symbol.for('auditkit.changes.catalogGeneration');
const holder = globalThis as typeof globalThis & { [GENERATION_KEY]?: number };

/** Changes whenever what capture knows of tables may be out of date. */
export function catalogGeneration(): number {
  return holder[GENERATION_KEY] ?? 0;
}

/**
 * Makes every app-level capture adapter of this process ask the database again, on its next write,
 * for each table's primary key and whether audit triggers record it. `auditTriggers().install()` and
 * `uninstall()` call it; call it yourself after installing triggers from elsewhere (the CLI, a
 * migration) while the app runs, or after changing a primary key. Triggers removed elsewhere are
 * noticed on the next write without it.
 *
 * @example
 * await runMigration('add_audit_triggers.sql');
 * refreshCaptureCatalog();
 */
export function refreshCaptureCatalog(): void {
  holder[GENERATION_KEY] = catalogGeneration() + 1;
}
