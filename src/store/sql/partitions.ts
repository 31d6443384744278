import { sqlState } from './sql-errors.js';
import { inTransaction, quoteIdent, type SqlExecutor } from './sql-executor.js';

/** A calendar month in UTC as one number: `year * 12 + month` (month 0-11). */
export type MonthIndex = number;

export function monthOf(date: Date): MonthIndex {
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

/** The first instant of the month, as an ISO timestamp in UTC. */
export function monthStart(month: MonthIndex): string {
  const year = Math.floor(month / 12);
  const m = month - year * 12;
  return new Date(Date.UTC(year, m, 1)).toISOString();
}

/** The partition of `audit_events` holding one month: `audit_events_p2026_11`. */
export function partitionName(month: MonthIndex): string {
  const year = Math.floor(month / 12);
  const m = month - year * 12 + 1;
  return `audit_events_p${String(year).padStart(4, '0')}_${String(m).padStart(2, '0')}`;
}

/** Every month from `from` to `to`, both included. */
export function monthsBetween(from: Date, to: Date): MonthIndex[] {
  const months: MonthIndex[] = [];
  for (let m = monthOf(from); m <= monthOf(to); m++) months.push(m);
  return months;
}

/** Errors that mean another session created the same partition first. */
const ALREADY_THERE = new Set([
  '42P07', // duplicate_table
  '23505', // unique_violation on the catalog, when two sessions create the same table at once
  '42P17', // an existing partition already covers (part of) the range
]);
const DEADLOCK = '40P01';
/** The database user may not create tables: rows of that month go to the DEFAULT partition. */
const NOT_ALLOWED = '42501';

/**
 * Creates the partition of `schema.audit_events` for one month unless it exists.
 *
 * Tolerates the race with other processes doing the same. A database user without the right to create
 * tables is not an error either: the rows then go to the DEFAULT partition. When the DEFAULT partition already holds rows
 * of that month (written by something that did not create the partition first, e.g. a database trigger),
 * they are moved into the new partition in one transaction, instead of failing.
 */
export async function createMonthPartition(
  executor: SqlExecutor,
  schema: string,
  month: MonthIndex,
): Promise<void> {
  const q = quoteIdent(schema);
  const parent = `${q}.${quoteIdent('audit_events')}`;
  const partition = `${q}.${quoteIdent(partitionName(month))}`;
  const bounds = `FROM ('${monthStart(month)}') TO ('${monthStart(month + 1)}')`;
  for (let attempt = 1; ; attempt++) {
    try {
      await executor.query(
        `CREATE TABLE IF NOT EXISTS ${partition} PARTITION OF ${parent} FOR VALUES ${bounds}`,
      );
      return;
    } catch (error) {
      const state = sqlState(error);
      if (state && ALREADY_THERE.has(state)) return;
      if (state === NOT_ALLOWED) return;
      if (state === DEADLOCK && attempt < 5) continue;
      if (state !== '23514') throw error;
    }
    // 23514: the DEFAULT partition has rows in this range. Move them out, then attach.
    try {
      await inTransaction(executor, async (tx) => {
        const fallback = `${q}.${quoteIdent('audit_events_default')}`;
        await tx.query(`LOCK TABLE ${fallback} IN ACCESS EXCLUSIVE MODE`);
        await tx.query(`CREATE TABLE ${partition} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await tx.query(
          `WITH moved AS (DELETE FROM ${fallback} WHERE occurred_at >= '${monthStart(month)}' ` +
            `AND occurred_at < '${monthStart(month + 1)}' RETURNING *) INSERT INTO ${partition} SELECT * FROM moved`,
        );
        await tx.query(`ALTER TABLE ${parent} ATTACH PARTITION ${partition} FOR VALUES ${bounds}`);
      });
      return;
    } catch (error) {
      const state = sqlState(error);
      if (state && ALREADY_THERE.has(state)) return;
      if (state === DEADLOCK && attempt < 5) continue;
      throw error;
    }
  }
}
