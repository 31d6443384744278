import type { Migration, MigrationContext } from './migrations.js';

/** The columns `AuditQuery.text` searches, in the order of the indexed expression. */
export const TEXT_SEARCH_COLUMNS = [
  'message',
  'action',
  'reason',
  'actor_label',
  'actor_id',
  'target_label',
  'target_id',
] as const;

/**
 * The one text expression the trigram index covers: the searched columns joined by spaces. A term found
 * in any column is found in it, so `expression ILIKE pattern` is a necessary condition that the index
 * answers; the exact per-column test then keeps only true matches (a term spanning two columns, or
 * matching a separator, would otherwise slip in). Queries must write it exactly like this to use the index.
 */
export const TEXT_SEARCH_EXPRESSION = `(${TEXT_SEARCH_COLUMNS.map((c) => `coalesce(${c}, '')`).join(" || ' ' || ")})`;

/** The GIN trigram index of migration 5, on `audit_events` (the partitioned parent on PostgreSQL). */
export const TEXT_SEARCH_INDEX = 'audit_events_text_trgm';

/**
 * True when pg_trgm can take trigrams from the term: it needs three letters or digits in a row
 * (anything else separates words). Shorter terms would make the index read all of itself, so they get
 * the plain scan they always had.
 */
export function indexableTerm(term: string): boolean {
  return /[\p{L}\p{N}]{3}/u.test(term);
}

/**
 * The WHERE condition of a free-text search, given the parameter holding `%escaped term%`: the indexed
 * expression (when the term has trigrams) AND the case-insensitive substring test of each column, so
 * the result is exactly the per-column ILIKE it always was, with or without the index.
 */
export function textSearchCondition(term: string, pattern: string): string {
  const exact = `(${TEXT_SEARCH_COLUMNS.map((c) => `${c} ILIKE ${pattern}`).join(' OR ')})`;
  return indexableTerm(term) ? `(${TEXT_SEARCH_EXPRESSION} ILIKE ${pattern} AND ${exact})` : exact;
}

/** Wraps a PL/pgSQL body in a dollar quote whose tag does not occur in it (schema names are free text). */
function dollarQuoted(body: string): string {
  let tag = '$auditkit$';
  for (let i = 1; body.includes(tag); i++) tag = `$auditkit${i}$`;
  return `${tag}${body}${tag}`;
}

/**
 * A PL/pgSQL block that creates the index unless it exists: `pg_trgm` first when it may (a trusted
 * extension since PostgreSQL 13, so the CREATE privilege on the database is enough; PGlite has it when
 * the store loads it). Without the extension, or the right to create it, it changes nothing and searches
 * stay the sequential ILIKE they were: never an error. The extension may live in any schema (an
 * `extensions` schema, say): its operator class is named with it. On a partitioned table the index is
 * created on the parent, so every partition, present and future, has it.
 */
function createIndexBlock({ qualify }: MigrationContext): string {
  const table = qualify('audit_events');
  const create = `CREATE INDEX IF NOT EXISTS ${TEXT_SEARCH_INDEX} ON ${table} USING gin (${TEXT_SEARCH_EXPRESSION} `;
  const body = `
DECLARE
  trgm_schema text;
BEGIN
  IF to_regclass(${literal(qualify(TEXT_SEARCH_INDEX))}) IS NOT NULL THEN
    RETURN;
  END IF;
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXCEPTION WHEN OTHERS THEN
    -- No privilege, not installed, or created by a concurrent session (then found below): no error.
    NULL;
  END;
  SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NOT NULL THEN
    BEGIN
      EXECUTE ${literal(create)} || quote_ident(trgm_schema) || '.gin_trgm_ops)';
    EXCEPTION WHEN insufficient_privilege OR undefined_object THEN
      -- The extension's schema is not ours to use (no USAGE): the same as no extension.
      NULL;
    END;
  END IF;
END
`;
  return `DO ${dollarQuoted(body)}`;
}

/**
 * Migration 5: the GIN trigram index over {@link TEXT_SEARCH_EXPRESSION}, so a free-text search reads
 * the few matching rows instead of the whole table (see {@link createIndexBlock} for when it cannot be
 * had). A store created with `textSearchIndex: false` records the migration without creating anything.
 */
export const TEXT_SEARCH_MIGRATION: Migration = {
  version: 5,
  name: 'index free text with pg_trgm when available',
  up: (context) => (context.textSearchIndex === false ? [] : [createIndexBlock(context)]),
};

/**
 * What every `migrate()` of a store runs after the migrations, in their transaction: with the index
 * wanted, create it if it is missing (the extension became available, or the store was switched back
 * on); with `textSearchIndex: false`, drop it (every insert pays for it). Runners that do not know the
 * store's choice (`undefined`) leave the index as it is.
 */
export function textSearchUpkeep(context: MigrationContext): string[] {
  if (context.textSearchIndex === undefined) return [];
  return context.textSearchIndex
    ? [createIndexBlock(context)]
    : [`DROP INDEX IF EXISTS ${context.qualify(TEXT_SEARCH_INDEX)}`];
}

/** A SQL string literal (standard_conforming_strings: only quotes are doubled). */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
