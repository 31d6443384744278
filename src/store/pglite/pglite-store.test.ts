import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent, runStoreContract } from '../../../test/contract/store-contract.js';
import { pgliteStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-pglite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pgliteStore', () => {
  runStoreContract({ name: 'pglite (in memory)', makeStore: async () => pgliteStore() });

  it('keeps its data in dataDir across close and reopen', async () => {
    const dataDir = join(dir, 'persist', 'nested');
    const event = makeEvent({ action: 'persisted.event', message: 'still here' });
    const first = pgliteStore({ dataDir });
    await first.migrate();
    await first.append([event]);
    await first.close();
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);

    const second = pgliteStore({ dataDir });
    await second.migrate();
    expect(await second.get(event.id)).toEqual(event);
    await second.close();
  });

  it('is in memory when no dataDir is given: a new store starts empty', async () => {
    const a = pgliteStore();
    await a.migrate();
    await a.append([makeEvent()]);
    expect((await a.query()).events).toHaveLength(1);
    await a.close();
    const b = pgliteStore();
    await b.migrate();
    expect((await b.query()).events).toHaveLength(0);
    await b.close();
  });

  it('uses an existing PGlite instance in its own schema and leaves it open on close', async () => {
    const db = await PGlite.create();
    try {
      const store = pgliteStore({ db, schema: 'Audit Log' });
      await store.migrate();
      const event = makeEvent();
      await store.append([event]);
      await store.close();
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "Audit Log".audit_events');
      expect(rows.rows[0]?.n).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('serializes concurrent work on its single connection', async () => {
    const store = pgliteStore();
    await store.migrate();
    const batches = Array.from({ length: 20 }, (_, i) =>
      Array.from({ length: 50 }, () => makeEvent({ tenantId: 'org_concurrent', metadata: { i } })),
    );
    const results = await Promise.all([
      ...batches.map((batch) => store.append(batch)),
      store.query({ tenantId: 'org_concurrent' }),
      store.migrate(),
    ]);
    expect(results.slice(0, 20).every((r) => (r as { inserted: number }).inserted === 50)).toBe(true);
    const page = await store.query({ tenantId: 'org_concurrent', limit: 1000 });
    expect(page.events).toHaveLength(1000);
    await store.close();
  });

  it('throws closed after close(), and close() twice is fine', async () => {
    const store = pgliteStore();
    await store.migrate();
    await store.close();
    await store.close();
    await expect(store.append([makeEvent()])).rejects.toMatchObject({ code: 'closed' });
    await expect(store.query()).rejects.toMatchObject({ code: 'closed' });
  });

  it('fails append before migrate() with store_error saying to run migrate()', async () => {
    const store = pgliteStore();
    await expect(store.append([makeEvent()])).rejects.toMatchObject({
      code: 'store_error',
      message: expect.stringContaining('run migrate() first'),
    });
    await store.close();
  });
});
