/**
 * Ingest benchmark: events/s through the async writer (batched, one statement per batch) against the naive
 * path (one INSERT per event, awaited), into PostgreSQL and PGlite, measured in the same run.
 *
 *   npx tsx bench/ingest/ingest.bench.ts            # starts its own PostgreSQL on a loopback port
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/ingest/ingest.bench.ts
 *   BENCH_EVENTS=200000 npx tsx bench/ingest/ingest.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditEventInput } from '../../src/core/event.js';
import { newEventId } from '../../src/core/ids.js';
import { createRedactor } from '../../src/core/redact.js';
import { pgliteStore } from '../../src/store/pglite/index.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import type { AuditStore } from '../../src/store/store.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, printTable } from '../table.js';
import { benchEventInput, ingestAuditor, recordMany } from '../workload.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
/** The ingest event: the shared bench event, with request headers (one of them masked). */
const sampleInput = (i: number): AuditEventInput => {
  const input = benchEventInput(i);
  return {
    ...input,
    request: { ...input.request, headers: { 'user-agent': 'bench/1.0', authorization: 'Bearer x' } },
  };
};
const NAIVE_EVENTS = Math.max(1000, Math.round(EVENTS / 20));

async function throughWriter(makeStore: () => AuditStore, count: number): Promise<number> {
  const audit = ingestAuditor(makeStore());
  await audit.migrate();
  const started = performance.now();
  await recordMany(audit, count, sampleInput);
  const seconds = (performance.now() - started) / 1000;
  const stats = audit.stats();
  if (stats.written !== count) throw new Error(`expected ${count} written, got ${JSON.stringify(stats)}`);
  await audit.close();
  return count / seconds;
}

async function naive(makeStore: () => AuditStore, count: number): Promise<number> {
  const store = makeStore();
  await store.migrate();
  const redactor = createRedactor();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const input = sampleInput(i);
    const event = redactor.redactEvent({
      ...input,
      id: newEventId(),
      occurredAt: new Date(),
      outcome: 'success',
      actor: input.actor!,
    } as never);
    await store.append([event]);
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return count / seconds;
}

export async function runIngestBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? server!.url;
  try {
    let run = 0;
    const pg = () => postgresStore({ connectionString: url, schema: `bench_ingest_${process.pid}_${run++}` });
    const batched = await throughWriter(pg, EVENTS);
    const single = await naive(pg, NAIVE_EVENTS);
    rows.push({
      metric: 'ingest into PostgreSQL (events/s)',
      auditkit: batched,
      baseline: single,
      baselineName: 'one INSERT per event',
      target: '≥ 50,000/s, ≥ 20×',
    });
  } finally {
    await server?.stop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'auditkit-bench-'));
  try {
    let run = 0;
    const lite = () => pgliteStore({ dataDir: join(dir, `db${run++}`) });
    const litEvents = Math.round(EVENTS / 2);
    const batched = await throughWriter(lite, litEvents);
    const single = await naive(lite, Math.max(1000, Math.round(litEvents / 20)));
    rows.push({
      metric: 'ingest into PGlite (events/s)',
      auditkit: batched,
      baseline: single,
      baselineName: 'one INSERT per event',
      target: 'ratio only',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runIngestBench());
}
