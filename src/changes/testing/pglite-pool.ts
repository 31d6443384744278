import type { PGlite } from '@electric-sql/pglite';

/**
 * A `pg.Pool`-shaped view of one PGlite database for Kysely's `PostgresDialect`: one connection,
 * handed to one user at a time (PGlite has a single session, so transactions must not interleave).
 */
export function pglitePool(db: PGlite) {
  let tail: Promise<void> = Promise.resolve();
  const client = {
    async query(text: string, values?: unknown[]) {
      const result = await db.query<Record<string, unknown>>(text, values);
      const command = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase();
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length, command };
    },
    release() {},
  };
  return {
    async connect() {
      let release!: () => void;
      const previous = tail;
      tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      return { ...client, release };
    },
    async end() {},
  };
}
