import { z } from 'zod';
import { AuditkitError } from '../../core/errors.js';
import type { RelationCaptureOptions } from '../diff.js';

/**
 * How one table is recorded by its trigger. The same names and meaning as app-level capture
 * (`TableCaptureOptions`), plus `maskMode`.
 *
 * @example
 * { exclude: ['search_vector'], mask: ['iban'], maskMode: 'changed' }
 */
export interface TriggerTableOptions {
  /** Only these columns are recorded (the primary key is still used for `target.id`). */
  include?: readonly string[];
  /** These columns are never recorded. */
  exclude?: readonly string[];
  /**
   * These columns never show their value. Columns named like secrets (`password`, `token`,
   * `api_key`...: the redactor's names) are masked without being listed.
   */
  mask?: readonly string[];
  /**
   * `redact` (default): `"[REDACTED]"` on each side that is not null, like app-level capture;
   * `changed`: `"[REDACTED]"` on both sides whenever the column is written, so not even whether it
   * was empty shows.
   */
  maskMode?: 'redact' | 'changed';
  /** Record updates that changed no recorded column (default false: no event). */
  recordNoOpUpdates?: boolean;
  /** Record deletes even inside `withoutAuditing` (as app-level capture's `forceLogDeletes`). */
  forceLogDeletes?: boolean;
  /** The key columns for `target.id` when the table has no primary key (or another one is wanted). */
  primaryKey?: readonly string[];
  /** This is a join table: record its rows as `relation.added` / `relation.removed` on the owner. */
  relation?: RelationCaptureOptions;
}

const columnName = z.string().min(1, 'a column name must not be empty').max(63);
const columns = z.array(columnName);
const oneOrMore = z.union([columnName, z.array(columnName).min(1)]);

const relationSchema = z.strictObject({
  ownerType: z.string().min(1),
  ownerColumns: oneOrMore,
  relatedType: z.string().min(1),
  relatedColumns: oneOrMore,
  name: z.string().min(1).optional(),
});

export const triggerTableOptionsSchema = z.strictObject({
  include: columns.optional(),
  exclude: columns.optional(),
  mask: columns.optional(),
  maskMode: z.enum(['redact', 'changed']).optional(),
  recordNoOpUpdates: z.boolean().optional(),
  forceLogDeletes: z.boolean().optional(),
  primaryKey: columns.min(1).optional(),
  relation: relationSchema.optional(),
});

/** Checks one table's options; throws `invalid_config` naming each bad field. */
export function parseTriggerTableOptions(table: string, options: unknown): TriggerTableOptions {
  const parsed = triggerTableOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(options)'}: ${issue.message}`,
    );
    throw new AuditkitError('invalid_config', `Trigger options of ${table}:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const value = parsed.data;
  // Keep only what was given, so `status` shows the options as the user wrote them.
  const out: TriggerTableOptions = {};
  if (value.include) out.include = value.include;
  if (value.exclude) out.exclude = value.exclude;
  if (value.mask) out.mask = value.mask;
  if (value.maskMode) out.maskMode = value.maskMode;
  if (value.recordNoOpUpdates !== undefined) out.recordNoOpUpdates = value.recordNoOpUpdates;
  if (value.forceLogDeletes !== undefined) out.forceLogDeletes = value.forceLogDeletes;
  if (value.primaryKey) out.primaryKey = value.primaryKey;
  if (value.relation) {
    const { name, ...relation } = value.relation;
    out.relation = name === undefined ? relation : { ...relation, name };
  }
  return out;
}
