import { createHash } from 'node:crypto';
import { quoteIdent } from '../../store/sql/sql-executor.js';

/**
 * A SQL string literal for any text. Backslashes switch to the `E'...'` form, so the literal means
 * the same whatever `standard_conforming_strings` says.
 */
export function sqlString(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

/** `"schema"."name"`, quoted. */
export function qualify(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A short, stable hex digest of a text (names of generated functions and settings). */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * A dollar-quote tag that does not occur in `body`, so no identifier or literal inside a generated
 * function (a column named `$ak$`, say) can end the function's text early.
 */
export function dollarTag(body: string, base = 'ak'): string {
  let tag = `$${base}$`;
  for (let i = 1; body.includes(tag); i++) tag = `$${base}${i}$`;
  return tag;
}

/** Escapes a text for use inside a PostgreSQL regular expression (ARE). */
export function regexLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
