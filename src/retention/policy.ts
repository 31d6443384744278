import { z } from 'zod';
import { AuditkitError } from '../core/errors.js';
import { CATEGORIES, type Category, categorySchema } from '../core/event.js';

const keep = z.union([z.number().int().positive().max(100_000), z.literal('forever')]);

/**
 * How long events are kept: `days` for every category, `categories` per category (days, or `forever`).
 *
 * @example
 * { categories: { access: 90, auth: 400, change: 'forever' } } // the rest: forever
 * { days: 365, categories: { access: 30 } }                   // access 30 days, the rest a year
 */
export const retentionPolicySchema = z.strictObject({
  days: keep.optional(),
  categories: z.partialRecord(categorySchema, keep).optional(),
});

export type RetentionPolicy = z.input<typeof retentionPolicySchema>;

/** The cut of each category: events that occurred before it are removed; null keeps them forever. */
export type Cutoffs = Record<Category, Date | null>;

/** Resolves a policy into one cutoff date per category, relative to `now`. */
export function cutoffsOf(policy: RetentionPolicy, now: Date): Cutoffs {
  const parsed = retentionPolicySchema.safeParse(policy);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(policy)'}: ${i.message}`);
    throw new AuditkitError('invalid_config', `Invalid retention policy: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const cutoffs = {} as Cutoffs;
  for (const category of CATEGORIES) {
    const rule = parsed.data.categories?.[category] ?? parsed.data.days ?? 'forever';
    cutoffs[category] = rule === 'forever' ? null : new Date(now.getTime() - rule * 86_400_000);
  }
  return cutoffs;
}

/** The cut that applies to every category (the earliest), or null when some category is kept forever. */
export function commonCutoff(cutoffs: Cutoffs): Date | null {
  let common: Date | null = null;
  for (const category of CATEGORIES) {
    const cut = cutoffs[category];
    if (cut === null) return null;
    if (common === null || cut < common) common = cut;
  }
  return common;
}
