/**
 * What the free-text trigram index (migration 5) costs every insert: events/s through the async writer
 * into a store with the index beside the same store with the index dropped, in alternating rounds of the
 * same run (fresh schema or database each round), medians; PostgreSQL and PGlite. Wall time on a shared
 * machine is noisy, so each round also counts CPU time per 1,000 events: of the PostgreSQL server (its
 * processes, read from /proc; only when the bench starts the server) or of this process (PGlite runs in
 * it). Also prints the size of the index next to the table's.
 *
 *   npx tsx bench/ui/text-index.bench.ts
 *   AUDITKIT_BENCH_TEXT_EVENTS=50000 AUDITKIT_BENCH_TEXT_ROUNDS=5 npx tsx bench/ui/text-index.bench.ts
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/ui/text-index.bench.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditEventInput } from '../../src/core/event.js';
import { pgliteStore } from '../../src/store/pglite/index.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import type { SqlAuditStore } from '../../src/store/sql/sql-audit-store.js';
import { TEXT_SEARCH_INDEX } from '../../src/store/sql/text-search.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, median, printTable } from '../table.js';
import { benchEventInput, ingestAuditor, recordMany } from '../workload.js';

const EVENTS = Number(process.env.AUDITKIT_BENCH_TEXT_EVENTS ?? 50_000);
const ROUNDS = Number(process.env.AUDITKIT_BENCH_TEXT_ROUNDS ?? 5);

/** The event of bench/ingest, with a message: the columns free text searches are filled as in an app. */
const sampleInput = (i: number): AuditEventInput => ({
  ...benchEventInput(i),
  message: `Invoice INV-${i} sent to customer ${i % 3000}`,
});

/** What one round measured: events/s, and CPU milliseconds per 1,000 events of whoever does the SQL work. */
interface Round {
  rate: number;
  cpuPerThousand: number;
}

/**
 * CPU time (ms) used so far by a PostgreSQL server started by the bench: the postmaster, its finished
 * children (reaped into its cutime/cstime) and its running ones. Steadier than wall time on a loaded host.
 */
function serverCpuMs(dataDir: string): number {
  const ticks = 100; // USER_HZ on Linux
  const fields = (pid: string) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd on
  };
  const postmaster = (readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '').trim();
  const own = fields(postmaster).map(Number);
  let total = (own[11] ?? 0) + (own[12] ?? 0) + (own[13] ?? 0) + (own[14] ?? 0);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || pid === postmaster) continue;
    try {
      const f = fields(pid);
      if (f[1] === postmaster) total += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (total / ticks) * 1000;
}

/** CPU milliseconds of this process (PGlite runs inside it). */
function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Events/s of `count` events recorded through the writer into a freshly migrated store, and the CPU it took. */
async function ingest(
  store: SqlAuditStore,
  withIndex: boolean,
  count: number,
  cpuMs: () => number,
): Promise<Round> {
  const audit = ingestAuditor(store);
  await audit.migrate();
  if (!withIndex) await store.executor.query(`DROP INDEX "${store.schema}"."${TEXT_SEARCH_INDEX}"`);
  const present = await store.executor.query(
    'SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2',
    [store.schema, TEXT_SEARCH_INDEX],
  );
  if (present.rows.length !== (withIndex ? 1 : 0)) throw new Error('the index is not as the round expects');
  const cpuBefore = cpuMs();
  const started = performance.now();
  await recordMany(audit, count, sampleInput);
  const seconds = (performance.now() - started) / 1000;
  if (audit.stats().written !== count)
    throw new Error(`expected ${count} written: ${JSON.stringify(audit.stats())}`);
  await audit.close();
  // The pool's server processes exit on close; give the postmaster a moment to reap them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { rate: count / seconds, cpuPerThousand: ((cpuMs() - cpuBefore) / count) * 1000 };
}

/** Rounds alternate which variant goes first, so neither always meets the warmer cache. */
async function alternate(
  make: (withIndex: boolean, round: number) => SqlAuditStore,
  count: number,
  cpuMs: () => number,
): Promise<{ withIndex: Round[]; without: Round[] }> {
  const withIndex: Round[] = [];
  const without: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [true, false] : [false, true];
    for (const indexed of order) {
      const measured = await ingest(make(indexed, round), indexed, count, cpuMs);
      (indexed ? withIndex : without).push(measured);
    }
  }
  return { withIndex, without };
}

/** The two rows of one store: events/s and CPU per 1,000 events, each with the index against without. */
function rowsOf(
  store: string,
  events: number,
  result: { withIndex: Round[]; without: Round[] },
  cpuOf: string,
): BenchRow[] {
  const show = (rounds: Round[], key: keyof Round) => rounds.map((r) => Math.round(r[key])).join(', ');
  console.error(
    `[bench text-index] ${store} events/s with: ${show(result.withIndex, 'rate')}; without: ${show(result.without, 'rate')}`,
  );
  console.error(
    `[bench text-index] ${store} CPU ms/1000 events with: ${show(result.withIndex, 'cpuPerThousand')}; without: ${show(result.without, 'cpuPerThousand')}`,
  );
  const label = `${events.toLocaleString('en')} events, median of ${ROUNDS}`;
  return [
    {
      metric: `ingest into ${store} with the free-text index (events/s, ${label})`,
      auditkit: median(result.withIndex.map((r) => r.rate)),
      baseline: median(result.without.map((r) => r.rate)),
      baselineName: 'the same without the index',
      target: 'the cost every insert pays',
    },
    {
      metric: `ingest into ${store} with the free-text index (${cpuOf} CPU ms per 1,000 events, ${label})`,
      auditkit: median(result.withIndex.map((r) => r.cpuPerThousand)),
      baseline: median(result.without.map((r) => r.cpuPerThousand)),
      baselineName: 'the same without the index',
      target: 'the cost every insert pays',
      lowerIsBetter: true,
    },
  ];
}

async function sizes(url: string, schema: string): Promise<string> {
  const store = postgresStore({ connectionString: url, schema });
  try {
    const row = (
      await store.executor.query<{ table: string; index: string }>(
        `SELECT pg_size_pretty(sum(pg_relation_size(i.inhrelid))) AS table,
                pg_size_pretty((SELECT sum(pg_relation_size(x.indexrelid)) FROM pg_index x
                  JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid JOIN pg_class pi ON pi.oid = ii.inhparent
                 WHERE pi.relname = $2 AND pi.relnamespace = $1::regnamespace)) AS index
           FROM pg_inherits i WHERE i.inhparent = ($1 || '.audit_events')::regclass`,
        [schema, TEXT_SEARCH_INDEX],
      )
    ).rows[0];
    return `table ${row?.table}, trigram index ${row?.index}`;
  } finally {
    await store.close();
  }
}

/** Ingest with the free-text index against the same store without it, PostgreSQL and PGlite. */
export async function runTextIndexBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? (server?.url as string);
  try {
    const schemaOf = (indexed: boolean, round: number) =>
      `bench_text_${process.pid}_${round}_${indexed ? 'trgm' : 'plain'}`;
    // CPU of the server when the bench started it; of nobody measurable on a server given by URL.
    const cpu = server ? () => serverCpuMs(server.dataDir) : () => 0;
    const pg = await alternate(
      (indexed, round) => postgresStore({ connectionString: url, schema: schemaOf(indexed, round) }),
      EVENTS,
      cpu,
    );
    console.error(
      `[bench text-index] PostgreSQL, ${EVENTS.toLocaleString('en')} events: ${await sizes(url, schemaOf(true, 0))}`,
    );
    rows.push(...rowsOf('PostgreSQL', EVENTS, pg, 'server'));
  } finally {
    await server?.destroy();
  }
  const dir = mkdtempSync(join(tmpdir(), 'auditkit-bench-text-'));
  try {
    const liteEvents = Math.round(EVENTS / 2);
    const lite = await alternate(
      (indexed, round) => pgliteStore({ dataDir: join(dir, `${round}-${indexed ? 'trgm' : 'plain'}`) }),
      liteEvents,
      processCpuMs,
    );
    rows.push(...rowsOf('PGlite', liteEvents, lite, 'process'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable(await runTextIndexBench());
  console.log('\nMeasured on a shared 2-core machine; PostgreSQL on the same host.');
}
