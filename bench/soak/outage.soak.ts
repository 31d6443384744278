/**
 * The long database outage: the harness app (Express + Auditkit, PostgreSQL store, file spool) under
 * continuous autocannon load; PostgreSQL is stopped for 30 s and started again. Afterwards every answered
 * request must have exactly one access event (counted by request id), and the app must have answered
 * every request meanwhile.
 *
 *   npx tsx bench/soak/outage.soak.ts
 *
 * AUDITKIT_SOAK_OUTAGE_SECONDS (default 30), AUDITKIT_SOAK_CONNECTIONS (default 8),
 * AUDITKIT_SOAK_FRAMEWORK (express, fastify or hono).
 */
import { pathToFileURL } from 'node:url';
import { findPostgresBinaries, startPostgres } from '../../test/helpers/postgres-server.js';
import type { Framework } from '../../test/reliability/fixtures/http-apps.js';
import { type OutageReport, runDatabaseOutage } from '../../test/reliability/fixtures/http-scenarios.js';

export interface SoakResult {
  name: string;
  passed: boolean;
  summary: string;
}

export async function runOutageSoak(): Promise<SoakResult> {
  const outageS = Number(process.env.AUDITKIT_SOAK_OUTAGE_SECONDS ?? 30);
  const connections = Number(process.env.AUDITKIT_SOAK_CONNECTIONS ?? 8);
  const framework = (process.env.AUDITKIT_SOAK_FRAMEWORK ?? 'express') as Framework;
  if (!findPostgresBinaries()) {
    return {
      name: 'database outage',
      passed: false,
      summary: 'skipped: no PostgreSQL binaries (initdb, postgres) found',
    };
  }
  const server = await startPostgres();
  let report: OutageReport;
  try {
    report = await runDatabaseOutage({ server, framework, beforeS: 10, outageS, afterS: 20, connections });
  } finally {
    await server.destroy();
  }
  const passed =
    report.missing === 0 &&
    report.duplicated === 0 &&
    report.load.errors === 0 &&
    report.load.timeouts === 0 &&
    Object.keys(report.load.statuses).every((s) => s === '200');
  const summary =
    `${framework}, ${connections} connections: 10 s load, ${outageS} s with PostgreSQL stopped, 20 s after; ` +
    `${report.answered} requests answered (${report.answeredDuringOutage} during the outage, ${Math.round(report.load.requestsPerSecond)} req/s on average), ` +
    `statuses ${JSON.stringify(report.load.statuses)}, ${report.load.errors} errors, ${report.load.timeouts} timeouts; ` +
    `peak spooled ${report.peakSpooled} events; access events: ${report.exactlyOnce} exactly once, ${report.missing} missing, ` +
    `${report.duplicated} duplicated (${report.unanswered} more for requests cut off when the load stopped); ` +
    `lost ${report.final?.lost ?? '?'}; reported ${report.errorCodes.join(', ') || 'nothing'}`;
  return { name: 'database outage', passed, summary };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runOutageSoak();
  console.log(`[soak ${result.name}] ${result.passed ? 'PASS' : 'FAIL'}: ${result.summary}`);
  process.exitCode = result.passed ? 0 : 1;
}
