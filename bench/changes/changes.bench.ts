/**
 * App-level change capture on PostgreSQL: what an audited Kysely write costs next to the same write
 * without capture, measured in alternating rounds on one pool (medians of the rounds).
 *
 *   npx tsx bench/changes/changes.bench.ts
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/changes/changes.bench.ts
 */
import { pathToFileURL } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { auditDialect } from '../../src/changes/kysely/index.js';
import { createAuditor } from '../../src/core/auditor.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, median, printTable } from '../table.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SINGLE_OPS = Number(process.env.BENCH_CHANGE_OPS ?? 400);
const BULK_ROWS = 10_000;

// biome-ignore lint/suspicious/noExplicitAny: the bench table is untyped on purpose
type Db = Kysely<any>;

/** Single-row updates, each in its own transaction: updates per second. */
async function singleUpdates(db: Db, ids: number[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < SINGLE_OPS; i++) {
    const id = ids[i % ids.length] as number;
    await db.transaction().execute((trx) =>
      trx
        .updateTable('orders')
        .set({ status: `s${i}`, total: i })
        .where('id', '=', id)
        .execute(),
    );
  }
  return SINGLE_OPS / ((performance.now() - started) / 1000);
}

/** One UPDATE of every bulk row: milliseconds per statement. */
async function bulkUpdate(db: Db, status: string): Promise<number> {
  const started = performance.now();
  await db.updateTable('orders').set({ status }).where('customer', '=', 'bulk').execute();
  return performance.now() - started;
}

export async function runChangesBench(): Promise<BenchRow[]> {
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? server!.url;
  const schema = `bench_changes_${process.pid}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path="${schema}"` });
  // The server is stopped at the end: idle clients then see it go, which is no error of the bench.
  admin.on('error', () => {});
  pool.on('error', () => {});
  const audit = createAuditor({
    store: postgresStore({ connectionString: url, schema }),
    mode: 'sync',
    spool: false,
  });
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"`);
    await audit.migrate();
    await pool.query(
      'CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, status text NOT NULL, total int NOT NULL, note text)',
    );
    await pool.query(
      `INSERT INTO orders (customer, status, total) SELECT CASE WHEN g <= ${BULK_ROWS} THEN 'bulk' ELSE 'one' END, 'new', g ` +
        `FROM generate_series(1, ${BULK_ROWS + 100}) g`,
    );
    const ids = (await pool.query<{ id: number }>("SELECT id FROM orders WHERE customer = 'one'")).rows.map(
      (r) => r.id,
    );
    // Both go through the same pool; only the dialect differs.
    const plain: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    const audited: Db = new Kysely({ dialect: auditDialect(new PostgresDialect({ pool }), audit) });
    await singleUpdates(audited, ids); // warm-up (catalog lookup, JIT)
    await singleUpdates(plain, ids);

    const single = { plain: [] as number[], audited: [] as number[] };
    const bulk = { plain: [] as number[], audited: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first so drift on a shared machine hits both alike.
      const order = round % 2 === 0 ? (['plain', 'audited'] as const) : (['audited', 'plain'] as const);
      for (const which of order) {
        const db = which === 'plain' ? plain : audited;
        single[which].push(await singleUpdates(db, ids));
        bulk[which].push(await bulkUpdate(db, `bulk-${round}-${which}`));
      }
    }
    const events = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    if ((events.rows[0]?.n ?? 0) < BULK_ROWS * ROUNDS)
      throw new Error('the audited bulk updates left too few events');
    return [
      {
        metric: 'Kysely single-row UPDATE in a transaction, PostgreSQL (updates/s)',
        auditkit: median(single.audited),
        baseline: median(single.plain),
        baselineName: 'same update, no capture',
        target: 'ratio only (cost of before-image + event insert)',
      },
      {
        metric: `Kysely UPDATE of ${BULK_ROWS.toLocaleString('en-US')} rows, PostgreSQL (ms per statement)`,
        auditkit: median(bulk.audited),
        baseline: median(bulk.plain),
        baselineName: 'same update, no capture',
        target: 'ratio only',
        lowerIsBetter: true,
      },
    ];
  } finally {
    await audit.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
    await pool.end();
    await server?.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runChangesBench());
}
