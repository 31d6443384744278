import { AuditkitError } from '../../core/errors.js';
import { DEFAULT_SENSITIVE_KEYS } from '../../core/redact.js';
import type { RelationCaptureOptions } from '../diff.js';
import { regexLiteral, sqlString } from './sql-text.js';
import type { TriggerTableOptions } from './trigger-options.js';

/** A column as the catalog describes it. */
export interface CatalogColumn {
  name: string;
  /** `format_type()` of the column, for people (`character varying(20)`). */
  type: string;
  /** The base type's name (`int4`, `timestamptz`, `bpchar`), domains resolved. */
  baseType: string;
  /** `pg_type.typtype` of the column's type: `b` base, `e` enum, `d` domain, `c` composite... */
  kind: string;
  /** `pg_type.typcategory` of the base type: `A` array, `C` composite, `U` user (json, jsonb)... */
  category?: string;
}

/** True for a column whose JSON image can hold keys (json, jsonb, hstore, arrays, composites). */
export function holdsKeys(column: CatalogColumn): boolean {
  return (
    column.category === 'A' ||
    column.category === 'C' ||
    column.kind === 'c' ||
    ['json', 'jsonb', 'hstore'].includes(column.baseType)
  );
}

/** A table as the catalog describes it. */
export interface CatalogTable {
  schema: string;
  name: string;
  /** `r` table, `p` partitioned table; anything else cannot carry these triggers. */
  relkind: string;
  columns: CatalogColumn[];
  primaryKey: string[];
}

/**
 * How a column is recorded: `''` with its value, `r` masked (`"[REDACTED]"` on each side that is not
 * null), `c` masked including nulls (only the fact that it was written), `x` not recorded.
 */
export type ColumnMode = '' | 'r' | 'c' | 'x';

/** Everything the SQL generator needs about one table, decided at install time. */
export interface TriggerPlan {
  /** The schema holding `audit_events` and the trigger functions (unquoted). */
  auditSchema: string;
  table: { schema: string; name: string };
  /** The generated function's name, in the audit schema. */
  functionName: string;
  columns: CatalogColumn[];
  /** Key columns for `target.id`; empty when the table has none (events then have no `target.id`). */
  primaryKey: string[];
  /** The recording mode of every column known at install time. */
  modes: Record<string, ColumnMode>;
  /** An include list was given: columns added to the table later are not recorded. */
  includeOnly: boolean;
  recordNoOpUpdates: boolean;
  /** Deletes are recorded inside `withoutAuditing` too. */
  forceLogDeletes: boolean;
  /** A regular expression (ARE) matched against a normalised column name: secrets of new columns. */
  secretPattern: string;
  /** A join table recorded as links on its owner. */
  relation: Required<RelationCaptureOptions> | null;
  /** The options as given, normalised, for `status`. */
  options: TriggerTableOptions;
  /** Problems that do not stop the install (a table without a primary key). */
  warnings: string[];
}

/** Base types whose JSON text casts back to the type, so `::text` can be had from the row image. */
const ROUND_TRIP_TYPES = new Set([
  'timestamp',
  'timestamptz',
  'date',
  'time',
  'timetz',
  'interval',
  'bpchar',
  'bytea',
  'inet',
  'cidr',
  'macaddr',
]);

/**
 * The SQL text of a key column in a row image (`n` or `o`), as `column::text` prints it (what app-level
 * capture stores), computed from the JSON image so a renamed or dropped column gives NULL instead of
 * breaking the write.
 */
export function keyColumnSql(image: string, column: CatalogColumn | undefined, name: string): string {
  const field = `(${image} ->> ${sqlString(name)})`;
  if (!column || column.kind === 'e' || !ROUND_TRIP_TYPES.has(column.baseType)) return field;
  return `(${field}::pg_catalog.${column.baseType})::text`;
}

/** `target.id` of a row image: one key column's text, or the compact JSON array of several. */
export function keySql(
  image: string,
  plan: Pick<TriggerPlan, 'columns'>,
  columns: readonly string[],
): string {
  const byName = new Map(plan.columns.map((c) => [c.name, c]));
  const texts = columns.map((name) => keyColumnSql(image, byName.get(name), name));
  return texts.length === 1 ? (texts[0] as string) : `to_json(ARRAY[${texts.join(', ')}])::text`;
}

/** Lower case, without `-`, `_`, `.` and white space: how the redactor compares key names. */
export function normaliseColumnName(name: string): string {
  return name.toLowerCase().replace(/[-_.\s]/g, '');
}

/** The ARE matching a normalised column name that holds a secret, from the redactor's key fragments. */
export function secretPatternOf(extraKeys: readonly string[] = []): string {
  const fragments = [...DEFAULT_SENSITIVE_KEYS, ...extraKeys.map(normaliseColumnName).filter(Boolean)];
  return `(${[...new Set(fragments)].map(regexLiteral).join('|')})`;
}

/** `users(user_id).roles(role_id)` or `users(user_id).roles(role_id):role_ids`: a relation on the CLI. */
export function parseRelationSpec(spec: string): Required<RelationCaptureOptions> {
  const match = /^\s*([^()]+?)\s*\(([^()]+)\)\s*\.\s*([^()]+?)\s*\(([^()]+)\)\s*(?::\s*(.+?)\s*)?$/.exec(
    spec,
  );
  if (!match) {
    throw new AuditkitError(
      'invalid_config',
      `The relation "${spec}" is not of the form owner(owner_columns).related(related_columns)[:name], ` +
        'e.g. users(user_id).roles(role_id).',
    );
  }
  const columns = (list: string) =>
    list
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
  const relatedType = match[3] as string;
  return {
    ownerType: match[1] as string,
    ownerColumns: columns(match[2] as string),
    relatedType,
    relatedColumns: columns(match[4] as string),
    name: match[5] ?? relatedType,
  };
}

const columnList = (value: string | readonly string[]) => (typeof value === 'string' ? [value] : [...value]);

/**
 * Decides how a table is recorded: checks that every named column exists, masks the columns the
 * redactor calls secret, and picks the key. Throws `invalid_config` naming every problem.
 */
export function planTrigger(input: {
  auditSchema: string;
  table: CatalogTable;
  functionName: string;
  options: TriggerTableOptions;
  /** True for a column name the auditor's redactor masks (its own keys and patterns included). */
  isSecret: (column: string) => boolean;
  secretPattern: string;
}): TriggerPlan {
  const { table, options } = input;
  const label = `${table.schema}.${table.name}`;
  const problems: string[] = [];
  if (table.relkind !== 'r' && table.relkind !== 'p') {
    problems.push(`${label} is not a table (only tables and partitioned tables can carry row triggers)`);
  }
  if (/^(audit_|auditkit_)/.test(table.name) && table.schema === input.auditSchema) {
    problems.push(`${label} is one of Auditkit's own tables`);
  }
  const known = new Set(table.columns.map((c) => c.name));
  const check = (what: string, names: readonly string[] | undefined) => {
    const missing = (names ?? []).filter((name) => !known.has(name));
    if (missing.length > 0)
      problems.push(`${what}: ${label} has no column ${missing.map((m) => `"${m}"`).join(', ')}`);
  };
  check('include', options.include);
  check('exclude', options.exclude);
  check('mask', options.mask);
  check('primaryKey', options.primaryKey);
  let relation: Required<RelationCaptureOptions> | null = null;
  if (options.relation) {
    const r = options.relation;
    relation = {
      ownerType: r.ownerType,
      ownerColumns: columnList(r.ownerColumns),
      relatedType: r.relatedType,
      relatedColumns: columnList(r.relatedColumns),
      name: r.name ?? r.relatedType,
    };
    check('relation.ownerColumns', relation.ownerColumns as string[]);
    check('relation.relatedColumns', relation.relatedColumns as string[]);
  }
  if (problems.length > 0) {
    throw new AuditkitError('invalid_config', `Cannot install the audit trigger: ${problems.join('; ')}.`, {
      details: { problems },
    });
  }
  const primaryKey = options.primaryKey ? [...options.primaryKey] : [...table.primaryKey];
  const warnings: string[] = [];
  if (primaryKey.length === 0 && !relation) {
    warnings.push(
      `${label} has no primary key: its change events have no target.id. Give primaryKey to name one.`,
    );
  }
  const include = options.include ? new Set(options.include) : null;
  const exclude = new Set(options.exclude ?? []);
  const mask = new Set(options.mask ?? []);
  const maskCode: ColumnMode = options.maskMode === 'changed' ? 'c' : 'r';
  const modes: Record<string, ColumnMode> = {};
  for (const column of table.columns) {
    const name = column.name;
    if ((include && !include.has(name)) || exclude.has(name)) modes[name] = 'x';
    else if (mask.has(name)) modes[name] = maskCode;
    else if (input.isSecret(name)) modes[name] = 'r';
    else modes[name] = '';
  }
  return {
    auditSchema: input.auditSchema,
    table: { schema: table.schema, name: table.name },
    functionName: input.functionName,
    columns: table.columns,
    primaryKey,
    modes,
    includeOnly: include !== null,
    recordNoOpUpdates: options.recordNoOpUpdates === true,
    forceLogDeletes: options.forceLogDeletes === true,
    secretPattern: input.secretPattern,
    relation,
    options,
    warnings,
  };
}
