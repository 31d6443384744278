import type { SqlExecutor } from '../store/sql/sql-executor.js';

/** A monthly partition of `audit_events` (PostgreSQL), with the month it holds. */
export interface MonthPartition {
  name: string;
  /** First instant of the month (inclusive). */
  from: Date;
  /** First instant of the next month (exclusive). */
  to: Date;
}

const NAME = /^audit_events_p(\d{4})_(\d{2})$/;

/** The monthly partitions of `schema.audit_events`, oldest first (the DEFAULT partition is not one). */
export async function listMonthPartitions(executor: SqlExecutor, schema: string): Promise<MonthPartition[]> {
  const rows = (
    await executor.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = $1 AND p.relname = 'audit_events'`,
      [schema],
    )
  ).rows;
  const partitions: MonthPartition[] = [];
  for (const { name } of rows) {
    const match = NAME.exec(name);
    if (!match) continue;
    const year = Number(match[1]);
    const month = Number(match[2]) - 1;
    partitions.push({
      name,
      from: new Date(Date.UTC(year, month, 1)),
      to: new Date(Date.UTC(year, month + 1, 1)),
    });
  }
  return partitions.sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** Partitions entirely before `cutoff`: every event in them is older than the cut. */
export function expiredPartitions(partitions: readonly MonthPartition[], cutoff: Date): MonthPartition[] {
  return partitions.filter((p) => p.to.getTime() <= cutoff.getTime());
}
