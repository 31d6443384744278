/**
 * Correlation-id indexes benchmark (PostgreSQL): what migration 3 (partial indexes on
 * `correlation.processId` and `correlation.correlationId` inside the event JSON) costs when ingesting and
 * buys when the UI or `audit.processes.get()` looks a process up. Each round migrates two schemas, one
 * with the indexes and one where they were dropped, in alternating order; medians over the rounds.
 *
 *   npx tsx bench/correlation/correlation.bench.ts      # starts its own PostgreSQL on a loopback port
 *   AUDITKIT_BENCH_PG_URL=postgres://... BENCH_EVENTS=200000 npx tsx bench/correlation/correlation.bench.ts
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { AuditEvent } from '../../src/core/event.js';
import { newEventId } from '../../src/core/ids.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, median, printTable } from '../table.js';

const EVENTS = Math.round(Number(process.env.BENCH_EVENTS ?? 100_000) / 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LOOKUPS = 200;
const PROCESSES = 500;

/** A realistic mix: one event in ten belongs to a process, one in twenty is a fanned-out copy. */
function dataset(): AuditEvent[] {
  const now = Date.now();
  return Array.from({ length: EVENTS }, (_, i) => {
    const correlation: Record<string, string> = { requestId: `req-${i}` };
    if (i % 10 === 0) correlation.processId = `proc-${(i / 10) % PROCESSES}`;
    if (i % 20 === 5) correlation.correlationId = `fan-${Math.floor(i / 20)}`;
    return {
      id: newEventId(),
      occurredAt: new Date(now - (EVENTS - i) * 10),
      category: i % 10 === 0 ? 'process' : 'change',
      action: i % 10 === 0 ? 'process.step.finished' : 'invoice.updated',
      outcome: 'success',
      tenantId: `org_${i % 10}`,
      actor: { type: 'user', id: `u${i % 500}`, label: `User ${i % 500}` },
      target: { type: 'invoice', id: `INV-${i}` },
      changes: { status: ['draft', 'sent'], total: [100 + i, 120 + i] },
      correlation,
      metadata: { source: 'bench' },
    };
  });
}

async function measure(
  url: string,
  events: AuditEvent[],
  indexed: boolean,
): Promise<{ ingest: number; lookupMs: number }> {
  const schema = `bench_corr_${process.pid}_${randomUUID().slice(0, 8)}`;
  const store = postgresStore({ connectionString: url, schema });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await store.migrate();
    if (!indexed) {
      await admin.query(`DROP INDEX "${schema}".audit_events_process, "${schema}".audit_events_correlation`);
    }
    const started = performance.now();
    for (let i = 0; i < events.length; i += 1000) await store.append(events.slice(i, i + 1000));
    const ingest = events.length / ((performance.now() - started) / 1000);
    await admin.query(`ANALYZE "${schema}".audit_events`);
    const lookupStarted = performance.now();
    for (let i = 0; i < LOOKUPS; i++) {
      const page = await store.query({ processId: `proc-${(i * 7) % PROCESSES}`, limit: 100 });
      if (page.events.length === 0) throw new Error('a process lookup found nothing');
    }
    return { ingest, lookupMs: (performance.now() - lookupStarted) / LOOKUPS };
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

export async function runCorrelationBench(): Promise<BenchRow[]> {
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? server!.url;
  try {
    const events = dataset();
    const indexed: { ingest: number; lookupMs: number }[] = [];
    const plain: { ingest: number; lookupMs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so a warming cache or a busy neighbour does not favour one side.
      if (round % 2 === 0) {
        indexed.push(await measure(url, events, true));
        plain.push(await measure(url, events, false));
      } else {
        plain.push(await measure(url, events, false));
        indexed.push(await measure(url, events, true));
      }
    }
    return [
      {
        metric: `ingest with the correlation indexes (events/s, ${EVENTS.toLocaleString('en-US')} events, batches of 1000, median of ${ROUNDS})`,
        auditkit: median(indexed.map((r) => r.ingest)),
        baseline: median(plain.map((r) => r.ingest)),
        baselineName: 'indexes dropped',
        target: '≥ 0.95× (indexes nearly free)',
      },
      {
        metric: `query by processId (ms per lookup, ${LOOKUPS} lookups, median of ${ROUNDS})`,
        auditkit: median(indexed.map((r) => r.lookupMs)),
        baseline: median(plain.map((r) => r.lookupMs)),
        baselineName: 'indexes dropped',
        target: 'faster',
        lowerIsBetter: true,
      },
    ];
  } finally {
    await server?.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runCorrelationBench());
}
