/**
 * The database goes away in the middle of a steady stream of events and comes back: afterwards every
 * event is in PostgreSQL exactly once. Uses its own server so stopping it disturbs no other test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor } from '../../src/core/auditor.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import { findPostgresBinaries, type PostgresServer, startPostgres } from '../helpers/postgres-server.js';

const hasBinaries = findPostgresBinaries() !== null && process.env.AUDITKIT_TEST_PG !== 'skip';

describe.skipIf(!hasBinaries)('database outage under a steady stream of events', () => {
  let server: PostgresServer;
  let spoolDir: string;
  beforeAll(async () => {
    server = await startPostgres();
    spoolDir = mkdtempSync(join(tmpdir(), 'auditkit-outage-'));
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('loses nothing and duplicates nothing', async () => {
    const TOTAL = 20_000;
    const errors: string[] = [];
    const audit = createAuditor({
      store: postgresStore({ connectionString: server.url, schema: 'outage' }),
      spool: { dir: spoolDir },
      batchSize: 500,
      flushIntervalMs: 20,
      retry: { retries: 2, minDelayMs: 10, maxDelayMs: 50 },
      onError: (e) => errors.push(e.code),
    });
    await audit.migrate();
    const ids: string[] = [];
    let stoppedAt = -1;
    let startedAt = -1;
    for (let i = 0; i < TOTAL; i++) {
      const event = await audit.record({ category: 'custom', action: 'load.tick', metadata: { i } });
      ids.push(event.id);
      if (i % 250 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (i === 6000) {
        await audit.flush();
        await server.stop();
        stoppedAt = i;
      }
      if (i === 14_000) {
        await audit.flush(); // everything so far is in the spool now
        await server.start();
        startedAt = i;
      }
    }
    await audit.flush();
    await expect.poll(() => audit.stats().spooled, { timeout: 60_000, interval: 200 }).toBe(0);
    const stats = audit.stats();
    await audit.close();

    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const { rows } = await client.query<{ total: string; distinct_ids: string }>(
      'select count(*) as total, count(distinct id) as distinct_ids from outage.audit_events',
    );
    await client.end();
    const stored = Number(rows[0]?.total);
    const distinct = Number(rows[0]?.distinct_ids);
    console.log(
      `[outage] ${TOTAL} events recorded; database stopped after #${stoppedAt}, started after #${startedAt}; ` +
        `${errors.length} error reports (${[...new Set(errors)].join(', ')}); stored ${stored} rows, ${distinct} distinct ids, ` +
        `lost ${TOTAL - distinct}, duplicated ${stored - distinct}; writer stats ${JSON.stringify(stats)}`,
    );
    expect(errors).toContain('store_unavailable');
    expect(stored).toBe(TOTAL);
    expect(distinct).toBe(TOTAL);
    expect(stats.lost).toBe(0);
    expect(new Set(ids).size).toBe(TOTAL);
  }, 180_000);
});
