/**
 * The database goes away under HTTP load and comes back: the app (Express + Auditkit, PostgreSQL store,
 * file spool) answers every request meanwhile, and afterwards every answered request has exactly one
 * access event, found by its request id. The long version (30 s outage) is `bench/soak/outage.soak.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBinaries, type PostgresServer, startPostgres } from '../helpers/postgres-server.js';
import { runDatabaseOutage } from './fixtures/http-scenarios.js';

const hasBinaries = findPostgresBinaries() !== null && process.env.AUDITKIT_TEST_PG !== 'skip';
const outageS = Number(process.env.AUDITKIT_OUTAGE_SECONDS ?? 4);

describe.skipIf(!hasBinaries)('HTTP load while PostgreSQL is stopped and started again', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('answers every request, and stores exactly one access event per answered request', async () => {
    const report = await runDatabaseOutage({ server, beforeS: 3, outageS, afterS: 4, connections: 8 });
    console.log(
      `[http outage] ${report.framework}: load 3 s + ${outageS} s with PostgreSQL stopped + 4 s, 8 connections; ` +
        `answered ${report.answered} (${report.answeredDuringOutage} during the outage), statuses ${JSON.stringify(report.load.statuses)}, ` +
        `errors ${report.load.errors}, timeouts ${report.load.timeouts}; peak spooled ${report.peakSpooled}; ` +
        `access events: ${report.exactlyOnce} exactly once, ${report.missing} missing, ${report.duplicated} duplicated, ` +
        `${report.unanswered} for requests cut off at the end; reported ${report.errorCodes.join(', ') || 'nothing'}`,
    );
    expect(report.answeredDuringOutage).toBeGreaterThan(0);
    expect(report.load.errors).toBe(0);
    expect(report.load.timeouts).toBe(0);
    expect(Object.keys(report.load.statuses)).toEqual(['200']);
    expect(report.missing).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.exactlyOnce).toBe(report.answered);
    expect(report.final?.lost).toBe(0);
    expect(report.errorCodes).toContain('store_unavailable');
  }, 120_000);
});
