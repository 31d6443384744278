import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, queryAll, runStoreContract } from '../../../test/contract/store-contract.js';
import { faultyStore } from '../../../test/helpers/faulty-store.js';
import {
  findPostgresBinaries,
  type PostgresServer,
  startPostgres,
} from '../../../test/helpers/postgres-server.js';
import { createAuditor } from '../../core/auditor.js';
import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { pgliteStore } from '../pglite/index.js';
import { postgresStore } from '../postgres/index.js';
import type { AuditStore } from '../store.js';
import { copyEvents, fanoutStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-fanout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fast = { minDelayMs: 20, maxDelayMs: 200 };
const ids = (events: AuditEvent[]) => events.map((e) => e.id).sort();
const batch = (n: number, tenantId = `org_${randomUUID()}`) =>
  Array.from({ length: n }, (_, i) => makeEvent({ tenantId, metadata: { i } }));

describe('fanoutStore', () => {
  runStoreContract({
    name: 'fanout (pglite + pglite, mode all)',
    makeStore: async () => fanoutStore({ primary: pgliteStore(), secondaries: [pgliteStore()] }),
  });

  it('mode all: writes every batch to every store and reports the primary result', async () => {
    const primary = pgliteStore();
    const secondary = pgliteStore();
    const store = fanoutStore({ primary, secondaries: [secondary] });
    await store.migrate();
    const events = batch(3);
    expect(await store.append(events)).toEqual({ inserted: 3, duplicates: 0 });
    expect(ids(await queryAll(primary))).toEqual(ids(events));
    expect(ids(await queryAll(secondary))).toEqual(ids(events));
    expect(store.name).toBe('fanout(pglite,pglite)');
    expect(store.stats()).toMatchObject({
      mode: 'all',
      lost: 0,
      stores: [
        { name: 'pglite', role: 'primary', healthy: true, backlog: 0 },
        { name: 'pglite', role: 'secondary', healthy: true, backlog: 0 },
      ],
    });
    await store.close();
  });

  it('a replayed batch (retry, spool, client retry of the same events) creates no duplicate in any store', async () => {
    const primary = pgliteStore();
    const secondary = pgliteStore();
    const store = fanoutStore({ primary, secondaries: [secondary] });
    await store.migrate();
    const events = batch(5);
    await store.append(events);
    expect(await store.append(events)).toEqual({ inserted: 0, duplicates: 5 });
    expect(await queryAll(primary)).toHaveLength(5);
    expect(await queryAll(secondary)).toHaveLength(5);
    await store.close();
  });

  it('rejects unknown options and a missing secondary with invalid_config', () => {
    expect(() => fanoutStore({ primary: pgliteStore(), secondaries: [] })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() =>
      fanoutStore({ primary: pgliteStore(), secondaries: [pgliteStore()], mood: 'all' } as never),
    ).toThrow(/mood/);
    expect(() => fanoutStore({ primary: {} as AuditStore, secondaries: [pgliteStore()] })).toThrow(
      /primary: must be an AuditStore/,
    );
  });

  it('passes an invalid event on to the caller instead of failing over or keeping it for replay', async () => {
    const store = fanoutStore({ primary: pgliteStore(), secondaries: [pgliteStore()], mode: 'fallback' });
    await store.migrate();
    await expect(store.append([makeEvent({ metadata: { big: 10n } })])).rejects.toMatchObject({
      code: 'invalid_event',
    });
    expect(store.stats().stores.every((s) => s.healthy && s.backlog === 0)).toBe(true);
    await store.close();
  });

  it('mode all: a store that is down gets its share from a backlog when it returns', async () => {
    const secondary = faultyStore(pgliteStore());
    const errors: AuditkitError[] = [];
    const store = fanoutStore({
      primary: pgliteStore(),
      secondaries: [secondary],
      replay: fast,
      onError: (e) => errors.push(e),
    });
    await store.migrate();
    secondary.down();
    const during = batch(4);
    expect(await store.append(during)).toEqual({ inserted: 4, duplicates: 0 });
    expect(store.stats().stores[1]).toMatchObject({ healthy: false, backlog: 4 });
    // While it is down, new batches go straight to its backlog: no time is spent on a dead store.
    const calls = secondary.appendCalls;
    await store.append(batch(2));
    expect(secondary.appendCalls - calls).toBeLessThanOrEqual(1); // at most a replay probe
    expect(errors.map((e) => e.code)).toContain('store_unavailable');
    secondary.up();
    await expect.poll(() => store.stats().stores[1]?.healthy, { timeout: 10_000 }).toBe(true);
    expect(await queryAll(secondary)).toHaveLength(6);
    expect(store.stats().stores[1]).toMatchObject({ backlog: 0, replayed: 6 });
    await store.close();
  });

  it('mode all: throws store_unavailable when no store takes the batch, keeping no backlog', async () => {
    const primary = faultyStore(pgliteStore());
    const secondary = faultyStore(pgliteStore());
    const store = fanoutStore({ primary, secondaries: [secondary] });
    await store.migrate();
    primary.down();
    secondary.down();
    await expect(store.append(batch(2))).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(store.stats().stores.map((s) => s.backlog)).toEqual([0, 0]);
    primary.up();
    secondary.up();
    expect(await store.append(batch(2))).toEqual({ inserted: 2, duplicates: 0 });
    await store.close();
  });

  it('keeps a backlog in spool.dir across a restart and replays it on the next start', async () => {
    const db = new PGlite();
    const spool = { dir: join(dir, 'restart') };
    const down = faultyStore(pgliteStore({ db }));
    const first = fanoutStore({ primary: pgliteStore(), secondaries: [down], spool, replay: fast });
    await first.migrate();
    down.down();
    const events = batch(7);
    await first.append(events);
    await first.close(); // the secondary is still down: its 7 events stay on disk

    const second = fanoutStore({
      primary: pgliteStore(),
      secondaries: [pgliteStore({ db })],
      spool,
      replay: fast,
    });
    expect(second.stats().stores[1]).toMatchObject({ backlog: 7, healthy: false });
    await expect.poll(() => second.stats().stores[1]?.backlog, { timeout: 10_000 }).toBe(0);
    expect(ids(await queryAll(pgliteStore({ db })))).toEqual(ids(events));
    await second.close();
    await db.close();
  });

  it('without a spool directory, reports what is still waiting in memory at close as lost', async () => {
    const secondary = faultyStore(pgliteStore());
    const errors: AuditkitError[] = [];
    const store = fanoutStore({
      primary: pgliteStore(),
      secondaries: [secondary],
      onError: (e) => errors.push(e),
    });
    await store.migrate();
    secondary.down();
    await store.append(batch(3));
    await store.close();
    expect(store.stats().lost).toBe(3);
    expect(errors.at(-1)).toMatchObject({
      code: 'write_failed',
      message: expect.stringMatching(/3 audit event/),
    });
  });

  it('mode all: past maxBacklogEvents, events missing in a store are counted as lost and reported', async () => {
    const secondary = faultyStore(pgliteStore());
    const errors: AuditkitError[] = [];
    const store = fanoutStore({
      primary: pgliteStore(),
      secondaries: [secondary],
      maxBacklogEvents: 5,
      onError: (e) => errors.push(e),
    });
    await store.migrate();
    secondary.down();
    await store.append(batch(4));
    await store.append(batch(4));
    expect(store.stats()).toMatchObject({ lost: 4, stores: [{}, { backlog: 4 }] });
    expect(errors.map((e) => e.code)).toContain('spool_failed');
    secondary.up();
    expect(await store.drain()).toBe(true);
    await store.close();
  });

  it('mode fallback: writes only to the primary while it is up, to the secondary while it is down, then moves the events back', async () => {
    const primary = faultyStore(pgliteStore());
    const secondary = pgliteStore();
    const store = fanoutStore({ primary, secondaries: [secondary], mode: 'fallback', replay: fast });
    await store.migrate();
    const before = batch(3);
    await store.append(before);
    expect(await queryAll(secondary)).toHaveLength(0);
    primary.down();
    const during = batch(5);
    expect(await store.append(during)).toEqual({ inserted: 5, duplicates: 0 });
    expect(ids(await queryAll(secondary))).toEqual(ids(during));
    expect(store.stats().stores[0]).toMatchObject({ role: 'primary', healthy: false, backlog: 5 });
    primary.up();
    await expect.poll(() => store.stats().stores[0]?.healthy, { timeout: 10_000 }).toBe(true);
    expect(ids(await queryAll(primary))).toEqual(ids([...before, ...during]));
    await store.close();
  });

  it('mode fallback: migrate() succeeds with the primary down, which is migrated before its first write', async () => {
    const db = new PGlite();
    const primary = faultyStore(pgliteStore({ db }));
    let migrateFails = true;
    const flaky: AuditStore = {
      ...primary,
      migrate: () =>
        migrateFails
          ? Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }))
          : primary.migrate(),
    };
    const errors: string[] = [];
    const store = fanoutStore({
      primary: flaky,
      secondaries: [pgliteStore()],
      mode: 'fallback',
      replay: fast,
      onError: (e) => errors.push(e.code),
    });
    await store.migrate();
    expect(errors).toContain('migration_failed');
    const events = batch(2);
    await store.append(events);
    migrateFails = false;
    await expect.poll(() => store.stats().stores[0]?.healthy, { timeout: 10_000 }).toBe(true);
    expect(ids(await queryAll(primary))).toEqual(ids(events));
    await store.close();
    await db.close();
  });

  it('reads from the next store when the primary is unavailable', async () => {
    const primary = pgliteStore();
    const secondary = pgliteStore();
    const store = fanoutStore({ primary, secondaries: [secondary] });
    await store.migrate();
    const events = batch(2);
    await store.append(events);
    const unreachable = new AuditkitError('store_unavailable', 'connection refused (injected)');
    const primaryDown: AuditStore = {
      name: 'down',
      migrate: async () => {},
      append: () => Promise.reject(unreachable),
      query: () => Promise.reject(unreachable),
      get: () => Promise.reject(unreachable),
      close: async () => {},
    };
    const reading = fanoutStore({ primary: primaryDown, secondaries: [secondary] });
    expect(ids((await reading.query({ limit: 10 })).events)).toEqual(ids(events));
    expect(await reading.get((events[0] as AuditEvent).id)).toEqual(events[0]);
    // A bad query is the caller's mistake, not an outage: it is not retried elsewhere.
    await expect(store.query({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_query' });
    await store.close();
  });

  describe('summarize()', () => {
    const unreachable = new AuditkitError('store_unavailable', 'connection refused (injected)');
    /** A store whose every call fails like a lost connection, with or without a summarize method. */
    const downStore = (withSummarize: boolean): AuditStore => ({
      name: 'down',
      migrate: async () => {},
      append: () => Promise.reject(unreachable),
      query: () => Promise.reject(unreachable),
      get: () => Promise.reject(unreachable),
      ...(withSummarize ? { summarize: () => Promise.reject(unreachable) } : {}),
      close: async () => {},
    });
    /** The same store without summarize: what a store that cannot aggregate looks like. */
    const withoutSummarize = (inner: AuditStore): AuditStore => ({
      name: `plain(${inner.name})`,
      migrate: () => inner.migrate(),
      append: (events) => inner.append(events),
      query: (q) => inner.query(q),
      get: (id) => inner.get(id),
      close: () => inner.close(),
    });
    const day = { bucket: 'day' } as const;
    // Two stores shared by these tests (each uses an organisation of its own); fan-outs over them are
    // never closed, since closing one would close the stores.
    let primary: AuditStore;
    let secondary: AuditStore;
    beforeAll(async () => {
      primary = pgliteStore();
      secondary = pgliteStore();
      await Promise.all([primary.migrate(), secondary.migrate()]);
    });
    afterAll(async () => {
      await Promise.all([primary.close(), secondary.close()]);
    });

    it('mode fallback: aggregates in the primary, and in the fallback store while the primary is down', async () => {
      const store = fanoutStore({ primary, secondaries: [secondary], mode: 'fallback' });
      const tenantId = `org_${randomUUID()}`;
      await store.append(batch(3, tenantId));
      await secondary.append(batch(1, tenantId)); // only the secondary has this one
      expect(typeof store.summarize).toBe('function');
      const summary = await store.summarize?.({ tenantId }, day);
      expect(summary).toEqual(await primary.summarize?.({ tenantId }, day));
      expect(summary?.total).toBe(3);

      const degraded = fanoutStore({ primary: downStore(true), secondaries: [secondary], mode: 'fallback' });
      expect((await degraded.summarize?.({ tenantId }, day))?.total).toBe(1);
      expect(await degraded.summarize?.({ tenantId }, day)).toEqual(
        await secondary.summarize?.({ tenantId }, day),
      );
    });

    it('mode all: aggregates in a healthy store that can, the primary first', async () => {
      const store = fanoutStore({ primary, secondaries: [secondary] });
      const tenantId = `org_${randomUUID()}`;
      await store.append(batch(4, tenantId));
      await primary.append(batch(1, tenantId)); // so the two differ: which one answered shows
      expect((await store.summarize?.({ tenantId }, day))?.total).toBe(5);
      // A primary that cannot aggregate is passed over: every store holds every event in this mode.
      const mixed = fanoutStore({ primary: withoutSummarize(secondary), secondaries: [primary] });
      expect((await mixed.summarize?.({ tenantId }, day))?.total).toBe(5);
      const primaryDown = fanoutStore({ primary: downStore(true), secondaries: [secondary] });
      expect((await primaryDown.summarize?.({ tenantId }, day))?.total).toBe(4);
    });

    it('has no summarize when no store it would read from can aggregate, so callers scan pages', () => {
      expect(
        fanoutStore({ primary: withoutSummarize(primary), secondaries: [withoutSummarize(secondary)] })
          .summarize,
      ).toBe(undefined);
      // In fallback mode a secondary holds only what the primary missed: it cannot stand in for it.
      expect(
        fanoutStore({ primary: withoutSummarize(primary), secondaries: [secondary], mode: 'fallback' })
          .summarize,
      ).toBe(undefined);
    });

    it('passes a bad query on, and says store_unavailable when no store that can aggregate answers', async () => {
      const store = fanoutStore({ primary, secondaries: [secondary], mode: 'fallback' });
      await expect(store.summarize?.({ category: 'nope' as never }, day)).rejects.toMatchObject({
        code: 'invalid_query',
      });
      const stuck = fanoutStore({
        primary: downStore(true),
        secondaries: [withoutSummarize(secondary)],
        mode: 'fallback',
      });
      await expect(stuck.summarize?.({}, day)).rejects.toMatchObject({ code: 'store_unavailable' });
    });
  });

  it('reconcile() copies what only a secondary holds into the primary (a lost backlog), idempotently', async () => {
    const primary = pgliteStore();
    const secondary = pgliteStore();
    const store = fanoutStore({ primary, secondaries: [secondary], mode: 'fallback' });
    await store.migrate();
    const stranded = batch(1200);
    await secondary.append(stranded);
    const [first] = await store.reconcile();
    expect(first).toEqual({ from: 'pglite', to: 'pglite', read: 1200, inserted: 1200, duplicates: 0 });
    const [again] = await store.reconcile();
    expect(again).toMatchObject({ inserted: 0, duplicates: 1200 });
    expect(await queryAll(primary, { limit: 1000 })).toHaveLength(1200);
    await store.close();
  });

  it('copyEvents() copies a time range between any two stores', async () => {
    const from = pgliteStore();
    const to = pgliteStore();
    await Promise.all([from.migrate(), to.migrate()]);
    const base = Date.parse('2026-01-01T00:00:00Z');
    await from.append(
      Array.from({ length: 10 }, (_, i) => makeEvent({ occurredAt: new Date(base + i * 1000) })),
    );
    const result = await copyEvents(from, to, { from: new Date(base + 2000), to: new Date(base + 5000) }, 2);
    expect(result).toEqual({ read: 3, inserted: 3, duplicates: 0 });
    expect(await queryAll(to)).toHaveLength(3);
    await Promise.all([from.close(), to.close()]);
  });
});

const hasBinaries = findPostgresBinaries() !== null && process.env.AUDITKIT_TEST_PG !== 'skip';

describe.skipIf(!hasBinaries)('fanoutStore with PGlite and a real PostgreSQL that is stopped mid-run', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  /** Records `total` events through an auditor; stops PostgreSQL after a third, starts it after two thirds. */
  async function runWithOutage(store: ReturnType<typeof fanoutStore>, total: number, errors: string[]) {
    const audit = createAuditor({
      store,
      spool: { dir: join(dir, `writer-${randomUUID()}`) },
      batchSize: 200,
      flushIntervalMs: 10,
      retry: { retries: 1, minDelayMs: 10, maxDelayMs: 20 },
      onError: (e) => errors.push(`auditor:${e.code}`),
    });
    await audit.migrate();
    const recorded: string[] = [];
    for (let i = 0; i < total; i++) {
      recorded.push((await audit.record({ category: 'custom', action: 'fanout.tick', metadata: { i } })).id);
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (i === Math.floor(total / 3)) {
        await audit.flush();
        await server.stop();
      }
      if (i === Math.floor((2 * total) / 3)) {
        await audit.flush();
        await server.start();
      }
    }
    await audit.flush();
    await expect.poll(() => store.drain(), { timeout: 30_000, interval: 100 }).toBe(true);
    await expect.poll(() => audit.stats().spooled, { timeout: 30_000, interval: 100 }).toBe(0);
    const stats = audit.stats();
    return { recorded, stats, audit };
  }

  const summary = (events: AuditEvent[]) => ({
    rows: events.length,
    distinct: new Set(events.map((e) => e.id)).size,
  });

  it('mode all: both stores end with every event exactly once', async () => {
    const TOTAL = 3000;
    const pglite = pgliteStore();
    const postgres = postgresStore({ connectionString: server.url, schema: `fanout_all_${process.pid}` });
    const errors: string[] = [];
    const store = fanoutStore({
      primary: pglite,
      secondaries: [postgres],
      replay: fast,
      onError: (e) => errors.push(`fanout:${e.code}`),
    });
    const { recorded, stats, audit } = await runWithOutage(store, TOTAL, errors);
    const inPglite = summary(await queryAll(pglite, { limit: 1000 }));
    const inPostgres = summary(await queryAll(postgres, { limit: 1000 }));
    console.log(
      `[fanout all] ${TOTAL} events recorded, PostgreSQL stopped after #${TOTAL / 3} and started after #${(2 * TOTAL) / 3}; ` +
        `PGlite ${inPglite.rows} rows/${inPglite.distinct} distinct, PostgreSQL ${inPostgres.rows} rows/${inPostgres.distinct} distinct; ` +
        `replayed into PostgreSQL ${store.stats().stores[1]?.replayed}; errors ${[...new Set(errors)].join(',')}; writer lost ${stats.lost}`,
    );
    expect(inPglite).toEqual({ rows: TOTAL, distinct: TOTAL });
    expect(inPostgres).toEqual({ rows: TOTAL, distinct: TOTAL });
    expect(new Set(recorded).size).toBe(TOTAL);
    expect(stats.lost).toBe(0);
    expect(store.stats().stores[1]?.replayed).toBeGreaterThan(0);
    await audit.close();
  }, 120_000);

  it('mode fallback: PostgreSQL primary, PGlite fallback; the outage events are moved back to PostgreSQL', async () => {
    const TOTAL = 3000;
    const errors: string[] = [];
    const pglite = pgliteStore();
    const postgres = postgresStore({
      connectionString: server.url,
      schema: `fanout_fallback_${process.pid}`,
    });
    const store = fanoutStore({
      primary: postgres,
      secondaries: [pglite],
      mode: 'fallback',
      spool: { dir: join(dir, 'fallback-spool') },
      replay: fast,
      onError: (e) => errors.push(`fanout:${e.code}`),
    });
    const { stats, audit } = await runWithOutage(store, TOTAL, errors);
    const inPostgres = summary(await queryAll(postgres, { limit: 1000 }));
    const inPglite = summary(await queryAll(pglite, { limit: 1000 }));
    console.log(
      `[fanout fallback] ${TOTAL} events recorded, PostgreSQL (primary) stopped for a third of them; ` +
        `PGlite (fallback) took ${inPglite.rows}; PostgreSQL ends with ${inPostgres.rows} rows/${inPostgres.distinct} distinct ` +
        `(${store.stats().stores[0]?.replayed} moved back); errors ${[...new Set(errors)].join(',')}; writer lost ${stats.lost}`,
    );
    expect(inPostgres).toEqual({ rows: TOTAL, distinct: TOTAL });
    expect(inPglite.rows).toBeGreaterThan(0);
    expect(inPglite.rows).toBe(inPglite.distinct);
    expect(store.stats().stores[0]).toMatchObject({ healthy: true, backlog: 0 });
    expect(stats.lost).toBe(0);
    await audit.close();
  }, 120_000);
});
