/**
 * Integrity benchmark, PostgreSQL, measured in one run:
 *
 * - sealing (events/s): `seal()` over N unsealed events, against reading the same rows and computing a
 *   plain sha256 of each (the least any hash chain must do);
 * - verification (events/s): `verify()` over the N sealed events (recomputing every hash, every Merkle
 *   root, every signature), against the same plain read + sha256 in chain order;
 * - ingestion with the background sealer on, against ingestion with it off (events/s through the async
 *   writer, batches of 1000).
 *
 *   npx tsx bench/integrity/integrity.bench.ts            # starts its own PostgreSQL
 *   BENCH_EVENTS=1000000 npx tsx bench/integrity/integrity.bench.ts
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/integrity/integrity.bench.ts
 */
import { hash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createAuditor } from '../../src/core/auditor.js';
import type { AuditEventInput } from '../../src/core/event.js';
import { generateSigningKeys } from '../../src/integrity/keys.js';
import { createSealer, seal } from '../../src/integrity/sealer.js';
import { verify } from '../../src/integrity/verify.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import type { SqlAuditStore } from '../../src/store/sql/sql-audit-store.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, printTable } from '../table.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const TENANTS = 10;
const keys = generateSigningKeys();

/** The same event shape as the ingest benchmark: an invoice update through an HTTP request. */
function sampleInput(i: number): AuditEventInput {
  return {
    category: i % 3 === 0 ? 'access' : 'change',
    action: i % 3 === 0 ? 'http.request' : 'invoice.updated',
    tenantId: `org_${i % TENANTS}`,
    actor: {
      type: 'user',
      id: `u${i % 500}`,
      label: `User ${i % 500}`,
      ip: '203.0.113.7',
      userAgent: 'bench/1.0',
    },
    target: { type: 'invoice', id: `INV-${i}` },
    changes: { status: ['draft', 'sent'], total: [100 + i, 120 + i], note: ['', 'paid by card'] },
    request: { method: 'PATCH', path: `/invoices/INV-${i}`, status: 200, durationMs: 12.5 },
    correlation: { requestId: `req-${i}` },
    metadata: { source: 'bench', attempt: 1 },
  };
}

interface IngestResult {
  rate: number;
  /** Events the background sealer had sealed when the last event was stored. */
  sealedDuringIngest: number;
  /** Seconds to seal what was left after the last event was stored. */
  catchUpSeconds: number;
}

/** Events/s through the async writer into `store`, optionally with a background sealer running. */
async function ingest(store: SqlAuditStore, count: number, withSealer: boolean): Promise<IngestResult> {
  const audit = createAuditor({
    store,
    batchSize: 1000,
    flushIntervalMs: 50,
    maxQueueSize: 50_000,
    spool: false,
  });
  await audit.migrate();
  const sealer = withSealer
    ? createSealer(audit, { intervalMs: 100, signingKey: keys.privateKeyPem, batchSize: 5000 })
    : null;
  if (sealer) {
    await sealer.sealNow(); // creates the integrity tables before the clock starts
    sealer.start();
  }
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(audit.record(sampleInput(i)));
    if (i % 5000 === 4999) {
      await Promise.all(pending.splice(0));
      while (audit.stats().queued > 20_000) await new Promise((resolve) => setTimeout(resolve, 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(pending);
  await audit.flush();
  const rate = count / ((performance.now() - started) / 1000);
  if (audit.stats().written !== count)
    throw new Error(`expected ${count} written, got ${audit.stats().written}`);
  let sealedDuringIngest = 0;
  let catchUpSeconds = 0;
  if (sealer) {
    const counted = await store.executor.query<{ n: number }>(
      `SELECT count(seq)::int AS n FROM ${store.table}`,
    );
    sealedDuringIngest = counted.rows[0]?.n ?? 0;
    const catchUp = performance.now();
    await sealer.stop();
    await seal(store, { signingKey: keys.privateKeyPem, batchSize: 5000 });
    catchUpSeconds = (performance.now() - catchUp) / 1000;
  }
  return { rate, sealedDuringIngest, catchUpSeconds };
}

/** Baseline: read every row in chain order, a page at a time, and sha256 its JSON text. */
async function readAndHash(store: SqlAuditStore, order: 'chain' | 'arrival'): Promise<number> {
  const started = performance.now();
  let n = 0;
  let last = '';
  if (order === 'chain') {
    for (let t = 0; t < TENANTS; t++) {
      let after = 0;
      for (;;) {
        const rows = (
          await store.executor.query<{ seq: string; data: string }>(
            `SELECT seq, data::text AS data FROM ${store.table} WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT 5000`,
            [`org_${t}`, after],
          )
        ).rows;
        for (const row of rows) last = hash('sha256', last + row.data, 'hex');
        n += rows.length;
        if (rows.length < 5000) break;
        after = Number(rows[rows.length - 1]?.seq);
      }
    }
  } else {
    let after = '-infinity';
    for (;;) {
      const rows = (
        await store.executor.query<{ at: string; data: string }>(
          `SELECT recorded_at::text AS at, data::text AS data FROM ${store.table} WHERE recorded_at > $1::timestamptz ORDER BY recorded_at LIMIT 5000`,
          [after],
        )
      ).rows;
      for (const row of rows) last = hash('sha256', last + row.data, 'hex');
      n += rows.length;
      if (rows.length < 5000) break;
      after = rows[rows.length - 1]?.at as string;
    }
  }
  if (last.length !== 64) throw new Error('nothing hashed');
  return n / ((performance.now() - started) / 1000);
}

export async function runIntegrityBench(): Promise<BenchRow[]> {
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? server!.url;
  let run = 0;
  const store = () =>
    postgresStore({ connectionString: url, schema: `bench_integrity_${process.pid}_${run++}` });
  const rows: BenchRow[] = [];
  try {
    // Ingestion without then with the sealer, each into a fresh schema.
    const off = store();
    const withoutSealer = await ingest(off, EVENTS, false);
    const on = store();
    const withSealer = await ingest(on, EVENTS, true);
    await on.close();
    rows.push({
      metric:
        `ingest with the sealer on (events/s, ${EVENTS.toLocaleString('en-US')} events; ` +
        `${withSealer.sealedDuringIngest.toLocaleString('en-US')} sealed meanwhile, ` +
        `${withSealer.catchUpSeconds.toFixed(1)} s to seal the rest)`,
      auditkit: withSealer.rate,
      baseline: withoutSealer.rate,
      baselineName: 'sealer off',
      target: '≥ 0.9×',
    });

    // Sealing the events ingested without a sealer.
    const baselineArrival = await readAndHash(off, 'arrival');
    const sealStarted = performance.now();
    const sealed = await seal(off, { signingKey: keys.privateKeyPem, batchSize: 5000, checkpointNow: true });
    const sealRate = sealed.sealed / ((performance.now() - sealStarted) / 1000);
    if (sealed.sealed !== EVENTS) throw new Error(`sealed ${sealed.sealed} of ${EVENTS}`);
    rows.push({
      metric: `sealing (events/s, ${sealed.checkpoints.length} signed checkpoints)`,
      auditkit: sealRate,
      baseline: baselineArrival,
      baselineName: 'read + sha256 per row',
      target: 'keeps up with ingestion',
    });

    // Verification.
    const baselineChain = await readAndHash(off, 'chain');
    const verifyStarted = performance.now();
    const report = await verify(off, { publicKey: keys.publicKeyPem, batchSize: 5000 });
    const verifyRate = report.checkedEvents / ((performance.now() - verifyStarted) / 1000);
    if (!report.ok || report.checkedEvents !== EVENTS)
      throw new Error(`verify: ${JSON.stringify(report.firstProblem)}`);
    rows.push({
      metric: `verification (events/s, ${report.checkpointsVerified} checkpoints)`,
      auditkit: verifyRate,
      baseline: baselineChain,
      baselineName: 'read + sha256 per row',
      target: '≥ 500,000/s',
    });
    await off.close();
  } finally {
    await server?.destroy();
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runIntegrityBench());
}
