/**
 * Integrity benchmark (issue 7's `bench/verify`), PostgreSQL, every figure measured against a baseline in
 * the same run, baseline and subject interleaved, medians of the rounds:
 *
 * - ingestion with the background sealer on, against ingestion with it off (events/s through the async
 *   writer, batches of 1000, a fresh schema per round, rounds alternating off/on). "On" counts only when
 *   the sealer kept up: the events it had not sealed when ingestion ended, and the time to seal them,
 *   are printed;
 * - sealing (events/s): `seal()` a slice at a time over N unsealed events, each slice right after the
 *   baseline read the same slice and computed one sha256 per event (the least any hash chain must do);
 * - verification (events/s): `verify()` over the N sealed events (every hash, Merkle root and
 *   signature), alternating with the baseline: the same events read in chain order, one sha256 each.
 *
 * CPU time per event (this process, all threads, plus the PostgreSQL server's processes) is printed for
 * each: on a shared machine it is much steadier than wall time.
 *
 *   npx tsx bench/integrity/integrity.bench.ts                      # 100,000 events, starts PostgreSQL
 *   BENCH_EVENTS=1000000 npx tsx bench/integrity/integrity.bench.ts # the issue's 1 M events
 *   BENCH_ROUNDS=5 BENCH_INGEST_EVENTS=50000 ...                    # more rounds, longer ingestion
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/integrity/integrity.bench.ts
 */
import { hash, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { AuditEvent, AuditEventInput } from '../../src/core/event.js';
import { workerCount } from '../../src/integrity/hash-pool.js';
import { generateSigningKeys } from '../../src/integrity/keys.js';
import { ensureIntegritySchema } from '../../src/integrity/migrations.js';
import { createSealer, seal } from '../../src/integrity/sealer.js';
import { verify } from '../../src/integrity/verify.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import type { SqlAuditStore } from '../../src/store/sql/sql-audit-store.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, printTable } from '../table.js';
import { benchEventInput, ingestAuditor, recordMany } from '../workload.js';
import { type CpuMeter, type CpuSample, cpuMeter, median } from './cpu.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const INGEST_EVENTS = Number(process.env.BENCH_INGEST_EVENTS ?? Math.min(EVENTS, 30_000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Events per sealing slice (each compared with the baseline over the same slice). */
const SEAL_SLICE = Number(process.env.BENCH_SEAL_SLICE ?? Math.max(5000, Math.ceil(EVENTS / 20)));
const TENANTS = 10;
const keys = generateSigningKeys();
/** The hash workers 'auto' gives a long run on this machine, started up front as a running app has them. */
const SEALER_WORKERS = workerCount('auto', Number.POSITIVE_INFINITY);

/** The event shape of the ingest benchmark, over this bench's tenants. */
const sampleInput = (i: number): AuditEventInput => benchEventInput(i, TENANTS);

/** The stored form of {@link sampleInput}, for filling a table without the auditor in between. */
function sampleEvent(i: number, start: number): AuditEvent {
  return {
    ...sampleInput(i),
    id: randomUUID(),
    occurredAt: new Date(start + i),
    outcome: 'success',
  } as AuditEvent;
}

interface Measured {
  rate: number;
  cpu: CpuSample;
}

async function measured(
  meter: CpuMeter,
  events: () => number,
  fn: () => Promise<unknown>,
): Promise<Measured> {
  const cpu = meter.sample();
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  const n = events();
  return { rate: n / seconds, cpu: meter.perEvent(cpu, meter.sample(), n) };
}

const total = (cpu: CpuSample) => cpu.node + cpu.postgres;
const cpuText = (cpu: CpuSample) =>
  `${total(cpu).toFixed(1)} µs (Node ${cpu.node.toFixed(1)} + PostgreSQL ${cpu.postgres.toFixed(1)})`;
const medianCpu = (runs: Measured[]): CpuSample => ({
  node: median(runs.map((r) => r.cpu.node)),
  postgres: median(runs.map((r) => r.cpu.postgres)),
});

interface IngestRun extends Measured {
  /** Events not sealed yet when the last one was stored. */
  behind: number;
  /** Seconds to seal them after ingestion ended. */
  catchUpSeconds: number;
}

/** Events/s through the async writer into a fresh schema, optionally with the background sealer. */
async function ingest(store: SqlAuditStore, count: number, withSealer: boolean): Promise<IngestRun> {
  const audit = ingestAuditor(store);
  await audit.migrate();
  // Both variants have the integrity schema (so the writes cost the same); only one runs the sealer.
  await ensureIntegritySchema(store);
  const meter = await cpuMeter(store.executor);
  const sealer = withSealer
    ? createSealer(audit, {
        intervalMs: 200,
        signingKey: keys.privateKeyPem,
        batchSize: 5000,
        workers: SEALER_WORKERS,
      })
    : null;
  if (sealer) {
    // A running app's sealer has its hash workers up already: start them before the clock.
    await audit.record(sampleInput(-1));
    await audit.flush();
    await sealer.sealNow({ checkpointNow: true });
    sealer.start();
  }
  const run = await measured(
    meter,
    () => count,
    () => recordMany(audit, count, sampleInput),
  );
  const written = audit.stats().written - (sealer ? 1 : 0);
  if (written !== count) throw new Error(`expected ${count} written, got ${written}`);
  let behind = 0;
  let catchUpSeconds = 0;
  if (sealer) {
    const sealed = await store.executor.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${store.schema}".audit_seals`,
    );
    behind = count + 1 - (sealed.rows[0]?.n ?? 0);
    const started = performance.now();
    await sealer.stop();
    await seal(store, { signingKey: keys.privateKeyPem, batchSize: 5000 });
    catchUpSeconds = (performance.now() - started) / 1000;
  }
  await store.executor.query(`DROP SCHEMA "${store.schema}" CASCADE`);
  await audit.close();
  return { ...run, behind, catchUpSeconds };
}

/** Fills a schema with `count` unsealed events of {@link TENANTS} tenants, straight through the store. */
async function fill(store: SqlAuditStore, count: number): Promise<void> {
  await store.migrate();
  await ensureIntegritySchema(store);
  const start = Date.now() - count;
  for (let i = 0; i < count; i += 5000) {
    await store.append(
      Array.from({ length: Math.min(5000, count - i) }, (_, k) => sampleEvent(i + k, start)),
    );
  }
}

/** Baseline of sealing: the next `count` unsealed events in the sealer's order, read, one sha256 each. */
async function readSliceAndHash(
  store: SqlAuditStore,
  after: { xid: string; at: string; id: string },
  count: number,
) {
  const rows = (
    await store.executor.query<{ xid: string; at: string; id: string; data: string }>(
      `SELECT recorded_xid::text AS xid, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, ` +
        `id::text AS id, data::text AS data FROM ${store.table} ` +
        'WHERE (recorded_xid, occurred_at, id) > ($1::xid8, $2::timestamptz, $3::uuid) ' +
        'ORDER BY recorded_xid, occurred_at, id LIMIT $4',
      [after.xid, after.at, after.id, count],
    )
  ).rows;
  let last = '';
  for (const row of rows) last = hash('sha256', last + row.data, 'hex');
  if (rows.length > 0 && last.length !== 64) throw new Error('nothing hashed');
  const end = rows[rows.length - 1];
  return { rows: rows.length, after: end ? { xid: end.xid, at: end.at, id: end.id } : after };
}

/** Baseline of verification: every sealed event read in chain order, a page at a time, one sha256 each. */
async function readChainAndHash(store: SqlAuditStore): Promise<number> {
  let n = 0;
  let last = '';
  for (let t = 0; t < TENANTS; t++) {
    let after = 0;
    for (;;) {
      const rows = (
        await store.executor.query<{ seq: string; data: string }>(
          `SELECT s.seq, e.data::text AS data FROM "${store.schema}".audit_seals s ` +
            `JOIN ${store.table} e ON e.id = s.event_id AND e.occurred_at = s.occurred_at ` +
            'WHERE s.chain = $1 AND s.seq > $2 ORDER BY s.seq LIMIT 5000',
          [`=org_${t}`, after],
        )
      ).rows;
      for (const row of rows) last = hash('sha256', last + row.data, 'hex');
      n += rows.length;
      if (rows.length < 5000) break;
      after = Number(rows[rows.length - 1]?.seq);
    }
  }
  if (last.length !== 64) throw new Error('nothing hashed');
  return n;
}

export async function runIntegrityBench(): Promise<BenchRow[]> {
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? server!.url;
  let schemas = 0;
  const store = () =>
    postgresStore({ connectionString: url, schema: `bench_integrity_${process.pid}_${schemas++}` });
  const rows: BenchRow[] = [];
  const log = (line: string) => console.error(`[integrity] ${line}`);
  try {
    // 1. Ingestion, sealer off and on, alternating, a fresh schema each round.
    const off: IngestRun[] = [];
    const on: IngestRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const withSealer of round % 2 === 0 ? [false, true] : [true, false]) {
        const target = store();
        const run = await ingest(target, INGEST_EVENTS, withSealer);
        (withSealer ? on : off).push(run);
        log(
          `ingest round ${round + 1} sealer ${withSealer ? 'on ' : 'off'}: ${Math.round(run.rate)} events/s, ` +
            `${cpuText(run.cpu)} per event` +
            (withSealer
              ? `, ${run.behind} not sealed yet at the end, sealed ${run.catchUpSeconds.toFixed(1)} s later`
              : ''),
        );
      }
    }
    rows.push({
      metric:
        `ingest with the sealer on (events/s, ${INGEST_EVENTS.toLocaleString('en-US')} events, median of ${ROUNDS}; ` +
        `median ${median(on.map((r) => r.behind)).toLocaleString('en-US')} not sealed at the end, ` +
        `${median(on.map((r) => r.catchUpSeconds)).toFixed(1)} s to seal them)`,
      auditkit: median(on.map((r) => r.rate)),
      baseline: median(off.map((r) => r.rate)),
      baselineName: 'sealer off',
      target: '≥ 0.9×',
    });
    rows.push({
      metric: `ingest CPU per event, sealer on (µs; on ${cpuText(medianCpu(on))}, off ${cpuText(medianCpu(off))})`,
      auditkit: total(medianCpu(on)),
      baseline: total(medianCpu(off)),
      baselineName: 'sealer off',
      target: 'lower is better',
      lowerIsBetter: true,
    });

    // 2. Sealing N events a slice at a time, each slice right after its baseline.
    const data = store();
    log(`filling ${EVENTS.toLocaleString('en-US')} events...`);
    await fill(data, EVENTS);
    const meter = await cpuMeter(data.executor);
    // One sealer for every slice, as in an app: its hash workers start once, in the first slice.
    const sealer = createSealer(data, {
      signingKey: keys.privateKeyPem,
      batchSize: 5000,
      workers: SEALER_WORKERS,
    });
    const sealRuns: Measured[] = [];
    const sealBase: Measured[] = [];
    let after = { xid: '0', at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };
    let sealed = 0;
    let checkpoints = 0;
    while (sealed < EVENTS) {
      let read = 0;
      sealBase.push(
        await measured(
          meter,
          () => read,
          async () => {
            const slice = await readSliceAndHash(data, after, SEAL_SLICE);
            read = slice.rows;
            after = slice.after;
          },
        ),
      );
      let slice = 0;
      sealRuns.push(
        await measured(
          meter,
          () => slice,
          async () => {
            const result = await sealer.sealNow({
              maxEvents: SEAL_SLICE,
              checkpointNow: sealed + SEAL_SLICE >= EVENTS,
            });
            slice = result.sealed;
            checkpoints += result.checkpoints.length;
          },
        ),
      );
      sealed += slice;
      if (slice === 0) throw new Error(`sealing stopped at ${sealed} of ${EVENTS}`);
    }
    await sealer.stop();
    log(`sealed ${sealed} events in ${sealRuns.length} slices, ${checkpoints} checkpoints`);
    rows.push({
      metric: `sealing (events/s, median of ${sealRuns.length} slices of ${SEAL_SLICE.toLocaleString('en-US')}, ${checkpoints} signed checkpoints)`,
      auditkit: median(sealRuns.map((r) => r.rate)),
      baseline: median(sealBase.map((r) => r.rate)),
      baselineName: 'read + sha256 per event',
      target: 'keeps up with ingestion',
    });
    rows.push({
      metric: `sealing CPU per event (µs; ${cpuText(medianCpu(sealRuns))}, baseline ${cpuText(medianCpu(sealBase))})`,
      auditkit: total(medianCpu(sealRuns)),
      baseline: total(medianCpu(sealBase)),
      baselineName: 'read + sha256',
      target: 'lower is better',
      lowerIsBetter: true,
    });

    // 3. Verification over the N sealed events, alternating with the baseline.
    const verifyRuns: Measured[] = [];
    const verifyBase: Measured[] = [];
    let verified = { checkedEvents: 0, checkpointsVerified: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      let read = 0;
      verifyBase.push(
        await measured(
          meter,
          () => read,
          async () => {
            read = await readChainAndHash(data);
          },
        ),
      );
      verifyRuns.push(
        await measured(
          meter,
          () => verified.checkedEvents,
          async () => {
            const report = await verify(data, { publicKey: keys.publicKeyPem, batchSize: 5000 });
            if (!report.ok || report.checkedEvents !== EVENTS)
              throw new Error(`verify: ${JSON.stringify(report.firstProblem)}`);
            verified = report;
          },
        ),
      );
      log(
        `verify round ${round + 1}: ${Math.round(verifyRuns.at(-1)?.rate ?? 0)} events/s, ${cpuText(verifyRuns.at(-1)?.cpu as CpuSample)} per event; ` +
          `baseline ${Math.round(verifyBase.at(-1)?.rate ?? 0)} events/s, ${cpuText(verifyBase.at(-1)?.cpu as CpuSample)}`,
      );
    }
    rows.push({
      metric: `verification (events/s, ${EVENTS.toLocaleString('en-US')} events, ${verified.checkpointsVerified} checkpoints, median of ${ROUNDS})`,
      auditkit: median(verifyRuns.map((r) => r.rate)),
      baseline: median(verifyBase.map((r) => r.rate)),
      baselineName: 'read + sha256 per event',
      target: '≥ 500,000/s',
    });
    rows.push({
      metric: `verification CPU per event (µs; ${cpuText(medianCpu(verifyRuns))}, baseline ${cpuText(medianCpu(verifyBase))})`,
      auditkit: total(medianCpu(verifyRuns)),
      baseline: total(medianCpu(verifyBase)),
      baselineName: 'read + sha256',
      target: '≤ 4 µs (500,000/s on 2 cores)',
      lowerIsBetter: true,
    });
    await data.executor.query(`DROP SCHEMA "${data.schema}" CASCADE`);
    await data.close();
  } finally {
    await server?.destroy();
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runIntegrityBench());
}
