import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { faultyStore } from '../../test/helpers/faulty-store.js';
import type { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { pgliteStore } from '../store/pglite/index.js';
import type { AuditStore } from '../store/store.js';
import { createAsyncWriter, WRITE_ACCEPTED } from './async-writer.js';
import { createFileSpool } from './spool/file-spool.js';
import { createSyncWriter } from './sync-writer.js';

const fast = { retries: 1, minDelayMs: 1, maxDelayMs: 2 };
let dir: string;
let inner: AuditStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'auditkit-writer-'));
  inner = pgliteStore();
  await inner.migrate();
});
afterEach(async () => {
  await inner.close();
  rmSync(dir, { recursive: true, force: true });
});

const event = (i: number): AuditEvent => ({
  id: newEventId(),
  occurredAt: new Date(),
  category: 'custom',
  action: 'written',
  outcome: 'success',
  actor: { type: 'system' },
  metadata: { i },
});

async function storedIds(store: AuditStore): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query({ limit: 1000, cursor });
    ids.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

describe('createAsyncWriter', () => {
  it('writes in batches of batchSize', async () => {
    const store = faultyStore(inner);
    const writer = createAsyncWriter({
      store,
      batchSize: 10,
      flushIntervalMs: 60_000,
      spool: null,
      onError: () => {},
    });
    for (let i = 0; i < 25; i++) await writer.write(event(i));
    await writer.flush();
    expect(store.appendCalls).toBe(3);
    expect(writer.stats()).toMatchObject({ accepted: 25, written: 25, queued: 0, lost: 0 });
    await writer.close();
  });

  it('returns the one shared WRITE_ACCEPTED promise for every event it takes at once, queued or spooled', async () => {
    const store = faultyStore(inner);
    store.down();
    const writer = createAsyncWriter({
      store,
      batchSize: 100,
      maxQueueSize: 2,
      flushIntervalMs: 60_000,
      retry: fast,
      spool: createFileSpool({ dir }),
      onError: () => {},
    });
    const results = [1, 2, 3].map((i) => writer.write(event(i)));
    expect(results.every((r) => r === WRITE_ACCEPTED)).toBe(true);
    expect(writer.stats()).toMatchObject({ accepted: 3, queued: 2, spooled: 1 });
    store.up();
    await writer.close();
    expect((await storedIds(inner)).length).toBe(3);
  });

  it('writes a partial batch after flushIntervalMs without any flush() call', async () => {
    const writer = createAsyncWriter({
      store: inner,
      batchSize: 100,
      flushIntervalMs: 20,
      spool: null,
      onError: () => {},
    });
    await writer.write(event(1));
    await expect.poll(async () => (await storedIds(inner)).length).toBe(1);
    await writer.close();
  });

  it('spools during an outage, then replays every event exactly once when the store is back', async () => {
    const store = faultyStore(inner);
    const errors: AuditkitError[] = [];
    const writer = createAsyncWriter({
      store,
      batchSize: 50,
      retry: fast,
      spool: createFileSpool({ dir }),
      onError: (e) => errors.push(e),
    });
    const written: string[] = [];
    const put = async (i: number) => {
      const e = event(i);
      written.push(e.id);
      await writer.write(e);
    };
    for (let i = 0; i < 100; i++) await put(i);
    await writer.flush();
    store.down();
    for (let i = 100; i < 300; i++) await put(i);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ degraded: true, lost: 0 });
    expect(writer.stats().spooled).toBeGreaterThan(0);
    expect(errors.some((e) => e.code === 'store_unavailable')).toBe(true);
    store.up();
    for (let i = 300; i < 350; i++) await put(i);
    await writer.flush();
    await expect.poll(() => writer.stats().spooled, { timeout: 20_000 }).toBe(0);
    await writer.close();
    const ids = await storedIds(inner);
    expect(ids.length).toBe(350);
    expect(new Set(ids)).toEqual(new Set(written));
  });

  it('sends the overflow to the spool when producers outrun the store', async () => {
    const store = faultyStore(inner);
    store.down();
    const writer = createAsyncWriter({
      store,
      batchSize: 10,
      maxQueueSize: 20,
      retry: fast,
      spool: createFileSpool({ dir }),
      onError: () => {},
    });
    for (let i = 0; i < 200; i++) await writer.write(event(i));
    expect(writer.stats().queued).toBeLessThanOrEqual(20);
    await writer.flush();
    expect(writer.stats().spooled).toBe(200);
    store.up();
    await writer.close();
    expect((await storedIds(inner)).length).toBe(200);
  });

  it('replays a spool left by an earlier process first', async () => {
    const earlier = createFileSpool({ dir });
    earlier.append([event(1), event(2)]);
    earlier.close();
    const writer = createAsyncWriter({ store: inner, spool: createFileSpool({ dir }), onError: () => {} });
    await writer.write(event(3));
    await expect.poll(() => writer.stats().spooled, { timeout: 10_000 }).toBe(0);
    await writer.close();
    expect((await storedIds(inner)).length).toBe(3);
  });

  it('reports lost events when neither the store nor the spool can take them, and keeps accepting', async () => {
    const store = faultyStore(inner);
    store.down();
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const errors: AuditkitError[] = [];
    const writer = createAsyncWriter({
      store,
      retry: fast,
      spool: createFileSpool({ dir: join(file, 'spool') }),
      onError: (e) => errors.push(e),
    });
    await writer.write(event(1));
    await writer.flush();
    expect(errors.map((e) => e.code)).toContain('spool_failed');
    expect(writer.stats().lost).toBe(1);
    await expect(writer.write(event(2))).resolves.toBeUndefined();
    await writer.close();
  });

  it('with raiseOnError, flush() rejects with the failure instead of only reporting it', async () => {
    const store = faultyStore(inner);
    store.down();
    const writer = createAsyncWriter({
      store,
      retry: fast,
      spool: null,
      onError: () => {},
      raiseOnError: true,
    });
    await writer.write(event(1));
    await expect(writer.flush()).rejects.toMatchObject({ code: 'store_unavailable' });
    await writer.close().catch(() => {});
  });

  it('refuses writes after close', async () => {
    const writer = createAsyncWriter({ store: inner, spool: null, onError: () => {} });
    await writer.close();
    await expect(writer.write(event(1))).rejects.toMatchObject({ code: 'closed' });
  });

  it('recovers journaled events a crashed process never stored', async () => {
    const journalDir = join(dir, 'journal');
    const store = faultyStore(inner);
    store.down();
    const crashed = createAsyncWriter({
      store,
      retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 },
      spool: null,
      journalDir,
      onError: () => {},
      flushIntervalMs: 60_000,
      batchSize: 1000,
    });
    for (let i = 0; i < 5; i++) await crashed.write(event(i)); // accepted, journaled, never flushed: the process "dies"
    store.up();
    const restarted = createAsyncWriter({ store, spool: null, journalDir, onError: () => {} });
    await restarted.flush();
    await restarted.close();
    expect((await storedIds(inner)).length).toBe(5);
  });
});

describe('createSyncWriter', () => {
  it('stores before write() resolves', async () => {
    const writer = createSyncWriter({ store: inner, spool: null, onError: () => {} });
    await writer.write(event(1));
    expect((await storedIds(inner)).length).toBe(1);
    await writer.close();
  });

  it('spools when the store is down and rejects only with raiseOnError', async () => {
    const store = faultyStore(inner);
    store.down();
    const writer = createSyncWriter({
      store,
      retry: fast,
      spool: createFileSpool({ dir }),
      onError: () => {},
    });
    await expect(writer.write(event(1))).resolves.toBeUndefined();
    expect(writer.stats().spooled).toBe(1);
    const strict = createSyncWriter({
      store,
      retry: fast,
      spool: null,
      onError: () => {},
      raiseOnError: true,
    });
    await expect(strict.write(event(2))).rejects.toMatchObject({ code: 'write_failed' });
    store.up();
    await writer.close();
    expect((await storedIds(inner)).length).toBe(1);
  });
});

describe('replay while writers keep spooling', () => {
  it('replays batches spooled during a replay pass, with no later write to trigger it', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'auditkit-replay-race-'));
    const base = pgliteStore();
    await base.migrate();
    const spool = createFileSpool({ dir: spoolDir });
    const store = faultyStore(base);
    // Every time the replayer stores a batch, a writer spools a new one, as under live load.
    let extra = 0;
    const racing = {
      ...store,
      async append(events: Parameters<AuditStore['append']>[0]) {
        const result = await store.append(events);
        if (extra < 5) spool.append([event(1000 + extra++)]);
        return result;
      },
    };
    store.down();
    const writer = createAsyncWriter({ store: racing, retry: fast, spool, onError: () => {} });
    for (let i = 0; i < 10; i++) await writer.write(event(i));
    await writer.flush();
    store.up();
    await expect.poll(() => writer.stats().spooled, { timeout: 20_000 }).toBe(0);
    await writer.close();
    expect((await storedIds(base)).length).toBe(15);
    await base.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });
});
