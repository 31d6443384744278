/**
 * The AuditStore contract: what every store (PGlite, PostgreSQL, and any later one) does, written as
 * tests. Run it from a store's test file:
 *
 *   runStoreContract({ name: 'pglite', makeStore: async () => pgliteStore() });
 *
 * `makeStore` must return a fresh, empty, not yet migrated store each time it is called. The suite
 * closes every store it makes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/event.js';
import type { AuditQuery, AuditStore } from '../../src/store/store.js';

export interface StoreContractOptions {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty store, not migrated yet. */
  makeStore: () => Promise<AuditStore>;
}

const MINUTE = 60_000;
/** A fixed base time with milliseconds, so precision loss would show. */
const BASE = Date.parse('2026-03-10T12:00:00.123Z');

/** A minimal valid event; `overrides` win. Ids are random v4 UUIDs, so ties on time are broken by chance. */
export function makeEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomUUID(),
    occurredAt: new Date(BASE),
    category: 'custom',
    action: 'test.event',
    outcome: 'success',
    actor: { type: 'system' },
    ...overrides,
  };
}

/** The order `query` must return: newest first, ties on occurredAt broken by id, descending. */
export function newestFirst(a: AuditEvent, b: AuditEvent): number {
  const byTime = b.occurredAt.getTime() - a.occurredAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Every event matching `query`, following nextCursor to the end. */
export async function queryAll(store: AuditStore, query: AuditQuery = {}): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.query({ ...query, cursor });
    events.push(...page.events);
    if (!page.nextCursor) return events;
    cursor = page.nextCursor;
  }
  throw new Error('queryAll: too many pages');
}

async function expectError(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'AuditkitError', code });
}

export function runStoreContract({ name, makeStore }: StoreContractOptions): void {
  const made: AuditStore[] = [];
  const fresh = async () => {
    const store = await makeStore();
    made.push(store);
    return store;
  };
  const migrated = async () => {
    const store = await fresh();
    await store.migrate();
    return store;
  };
  afterAll(async () => {
    await Promise.all(made.splice(0).map((s) => s.close()));
  });

  describe(`${name} store contract`, () => {
    describe('migrate()', () => {
      it('creates the schema, and running it again changes nothing', async () => {
        const store = await fresh();
        await store.migrate();
        const event = makeEvent();
        expect(await store.append([event])).toEqual({ inserted: 1, duplicates: 0 });
        await store.migrate();
        expect(await store.get(event.id)).toEqual(event);
      });

      it('is safe to call concurrently', async () => {
        const store = await fresh();
        await Promise.all([store.migrate(), store.migrate(), store.migrate()]);
        await store.migrate();
        expect(await store.append([makeEvent()])).toEqual({ inserted: 1, duplicates: 0 });
      });
    });

    describe('append() and get()', () => {
      let store: AuditStore;
      beforeAll(async () => {
        store = await migrated();
      });

      it('round-trips every field of an event exactly (nested JSON, unicode, emoji, millisecond time)', async () => {
        const full: AuditEvent = {
          id: randomUUID(),
          occurredAt: new Date('2026-05-06T07:08:09.123Z'),
          category: 'change',
          action: 'invoice.updated',
          outcome: 'success',
          tenantId: 'org_roundtrip',
          actor: {
            type: 'user',
            id: 'u-42',
            label: 'Zoë Ünïcødé 🚀',
            ip: '203.0.113.9',
            userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
            sessionId: 'sess-1',
          },
          target: { type: 'invoice', id: 'INV-42', label: 'Invoice №42 — 💶' },
          changes: {
            status: ['draft', 'sent'],
            lines: {
              before: [{ sku: 'a', qty: 1 }],
              after: [
                { sku: 'a', qty: 2 },
                { sku: 'b', qty: null },
              ],
            },
            nested: { deep: { deeper: { flag: true, ratio: 1.5, big: Number.MAX_SAFE_INTEGER, empty: {} } } },
          },
          request: {
            id: 'req-rt',
            method: 'PATCH',
            path: '/invoices/42',
            route: '/invoices/:id',
            status: 200,
            durationMs: 12.25,
            query: { expand: ['lines'], q: 'a&b=c' },
            headers: { 'user-agent': 'curl/8', 'x-forwarded-for': '198.51.100.1' },
            responseHeaders: { 'content-type': 'application/json; charset=utf-8' },
            body: { total: 12.5, note: 'a "quoted" \\ backslash\nnew line\ttab' },
            responseBody: [1, 'two', { three: 3 }, null],
          },
          correlation: {
            requestId: 'req-rt',
            traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
            spanId: '00f067aa0ba902b7',
            processId: 'proc-1',
            stepId: 'step-2',
            correlationId: 'corr-3',
          },
          reason: 'customer asked',
          message: 'Invoice updated ✓ 日本語 𝄞 👩‍👩‍👧',
          metadata: { tags: ['a', 'b'], emptyArray: [], nothing: null, zero: 0, no: false },
          idempotencyKey: 'idem-roundtrip',
          seq: 7,
          hash: 'sha256:abc',
        };
        expect(await store.append([full])).toEqual({ inserted: 1, duplicates: 0 });
        const read = await store.get(full.id);
        expect(read).toEqual(full);
        expect(read?.occurredAt).toBeInstanceOf(Date);
        expect(read?.occurredAt.toISOString()).toBe('2026-05-06T07:08:09.123Z');
        expect((await store.query({ tenantId: 'org_roundtrip' })).events).toEqual([full]);
      });

      it('keeps a null tenantId as null', async () => {
        const event = makeEvent({ tenantId: null, action: 'tenant.none' });
        await store.append([event]);
        expect(await store.get(event.id)).toEqual(event);
        expect((await store.get(event.id))?.tenantId).toBeNull();
      });

      it('get() returns null for an id that was never stored, and for a string that is not a UUID', async () => {
        expect(await store.get(randomUUID())).toBeNull();
        expect(await store.get('not-a-uuid')).toBeNull();
        expect(await store.get('')).toBeNull();
      });

      it('skips ids it already has and counts them as duplicates, so a replayed batch is harmless', async () => {
        const tenantId = `org_replay_${randomUUID()}`;
        const batch = [makeEvent({ tenantId }), makeEvent({ tenantId }), makeEvent({ tenantId })];
        expect(await store.append(batch)).toEqual({ inserted: 3, duplicates: 0 });
        expect(await store.append(batch)).toEqual({ inserted: 0, duplicates: 3 });
        const mixed = [
          batch[0] as AuditEvent,
          makeEvent({ tenantId }),
          batch[2] as AuditEvent,
          makeEvent({ tenantId }),
        ];
        expect(await store.append(mixed)).toEqual({ inserted: 2, duplicates: 2 });
        expect(await queryAll(store, { tenantId })).toHaveLength(5);
      });

      it('counts the same id twice in one batch as one insert and one duplicate', async () => {
        const tenantId = `org_dup_${randomUUID()}`;
        const once = makeEvent({ tenantId });
        expect(await store.append([once, once, makeEvent({ tenantId })])).toEqual({
          inserted: 2,
          duplicates: 1,
        });
        expect(await queryAll(store, { tenantId })).toHaveLength(2);
      });

      it('stores a client retry (new id, same idempotency key and tenant) once, in a later batch or the same one', async () => {
        const tenantId = `org_idem_${randomUUID()}`;
        const otherTenant = `org_idem_other_${randomUUID()}`;
        const first = makeEvent({ tenantId, idempotencyKey: 'order-42-refund' });
        expect(await store.append([first])).toEqual({ inserted: 1, duplicates: 0 });
        const retry = makeEvent({ tenantId, idempotencyKey: 'order-42-refund' });
        const elsewhere = makeEvent({ tenantId: otherTenant, idempotencyKey: 'order-42-refund' });
        expect(await store.append([retry, elsewhere])).toEqual({ inserted: 1, duplicates: 1 });
        expect(await store.append([first])).toEqual({ inserted: 0, duplicates: 1 });
        const twins = [
          makeEvent({ tenantId, idempotencyKey: 'twin' }),
          makeEvent({ tenantId, idempotencyKey: 'twin' }),
          makeEvent({ tenantId }),
        ];
        expect(await store.append(twins)).toEqual({ inserted: 2, duplicates: 1 });
        const stored = (await queryAll(store, { tenantId })).map((e) => e.id);
        expect(stored).toHaveLength(3);
        expect(stored).toEqual(expect.arrayContaining([first.id, (twins[2] as AuditEvent).id]));
        expect(twins.slice(0, 2).filter((twin) => stored.includes(twin.id))).toHaveLength(1);
        expect(await queryAll(store, { tenantId: otherTenant })).toHaveLength(1);
      });

      it('keeps the first version of an event when a different one arrives with the same id', async () => {
        const first = makeEvent({ message: 'first' });
        await store.append([first]);
        expect(await store.append([{ ...first, message: 'second' }])).toEqual({ inserted: 0, duplicates: 1 });
        expect((await store.get(first.id))?.message).toBe('first');
      });

      it('rejects a batch holding an event that is not JSON (a BigInt) with invalid_event, writing nothing', async () => {
        const good = makeEvent();
        const bad = makeEvent({ metadata: { big: 10n } });
        await expectError(store.append([good, bad]), 'invalid_event');
        expect(await store.get(good.id)).toBeNull();
      });

      it('treats an empty batch as a no-op', async () => {
        expect(await store.append([])).toEqual({ inserted: 0, duplicates: 0 });
      });

      it('stores a 10,000-event batch in one call', async () => {
        const tenantId = `org_big_${randomUUID()}`;
        const events = Array.from({ length: 10_000 }, (_, i) =>
          makeEvent({
            tenantId,
            occurredAt: new Date(BASE + i),
            action: 'bulk.imported',
            target: { type: 'row', id: String(i) },
            metadata: { i },
          }),
        );
        expect(await store.append(events)).toEqual({ inserted: 10_000, duplicates: 0 });
        const stored = await queryAll(store, { tenantId, limit: 1000 });
        expect(stored).toHaveLength(10_000);
        expect(new Set(stored.map((e) => e.id)).size).toBe(10_000);
        expect(stored[0]).toEqual(events[9_999]);
        expect(await store.append(events)).toEqual({ inserted: 0, duplicates: 10_000 });
      });

      it('replaces NUL bytes and lone surrogates with U+FFFD instead of failing the batch', async () => {
        const dirty = makeEvent({
          message: 'nul\u0000byte',
          reason: 'lone \ud800 high',
          actor: { type: 'user', id: 'u\u0000', label: 'low \udc00 surrogate' },
          target: { type: 'doc', id: 'd\ud83d' },
          metadata: { 'key\u0000': 'value\u0000', list: ['\ud83d', 'fine 😀'] },
          changes: { title: ['\u0000', 'ok'] },
        });
        const clean = makeEvent({ message: 'clean neighbour' });
        expect(await store.append([dirty, clean])).toEqual({ inserted: 2, duplicates: 0 });
        expect(await store.get(dirty.id)).toEqual({
          ...dirty,
          message: 'nul\uFFFDbyte',
          reason: 'lone \uFFFD high',
          actor: { type: 'user', id: 'u\uFFFD', label: 'low \uFFFD surrogate' },
          target: { type: 'doc', id: 'd\uFFFD' },
          metadata: { 'key\uFFFD': 'value\uFFFD', list: ['\uFFFD', 'fine 😀'] },
          changes: { title: ['\uFFFD', 'ok'] },
        });
        expect(await store.get(clean.id)).toEqual(clean);
        // Filters are cleaned the same way, so the stored text can still be found.
        expect((await store.query({ text: 'nul\u0000byte' })).events.map((e) => e.id)).toEqual([dirty.id]);
      });
    });

    describe('query() filters', () => {
      let store: AuditStore;
      const at = (minutes: number) => new Date(BASE + minutes * MINUTE);
      // One event per line: what the filters below are checked against. `key` names each one.
      const dataset: AuditEvent[] = [
        makeEvent({
          occurredAt: at(0),
          category: 'auth',
          action: 'user.login',
          tenantId: 'org_a',
          actor: { type: 'user', id: 'u1', label: 'Alice' },
          request: { id: 'req-1', path: '/api/login', status: 200 },
          metadata: { key: 'e01' },
        }),
        makeEvent({
          occurredAt: at(1),
          category: 'auth',
          action: 'user.login',
          outcome: 'failure',
          reason: 'bad_password',
          tenantId: 'org_a',
          actor: { type: 'user', id: 'u2', label: 'Bob' },
          metadata: { key: 'e02' },
        }),
        makeEvent({
          occurredAt: at(2),
          category: 'auth',
          action: 'user.logout',
          tenantId: 'org_b',
          actor: { type: 'user', id: 'u1', label: 'Alice' },
          metadata: { key: 'e03' },
        }),
        makeEvent({
          occurredAt: at(3),
          category: 'change',
          action: 'invoice.updated',
          tenantId: 'org_a',
          actor: { type: 'user', id: 'u1', label: 'Alice' },
          target: { type: 'invoice', id: 'INV-1', label: 'Invoice 1' },
          changes: { total: [1, 2] },
          metadata: { key: 'e04' },
        }),
        makeEvent({
          occurredAt: at(4),
          category: 'access',
          action: 'http.request',
          outcome: 'error',
          tenantId: 'org_b',
          actor: { type: 'anonymous' },
          request: { method: 'GET', path: '/api/orders/7', status: 503 },
          correlation: { requestId: 'req-5' },
          metadata: { key: 'e05' },
        }),
        makeEvent({
          occurredAt: at(5),
          category: 'access',
          action: 'http.request',
          outcome: 'failure',
          tenantId: 'org_a',
          actor: { type: 'service', id: 'billing', label: 'Billing service' },
          request: { method: 'GET', path: '/api/orders', status: 404 },
          metadata: { key: 'e06' },
        }),
        makeEvent({
          occurredAt: at(6),
          action: 'report.exported',
          message: '100% done',
          metadata: { key: 'e07' },
        }),
        makeEvent({
          occurredAt: at(7),
          action: 'report.exported',
          message: '100 done',
          metadata: { key: 'e08' },
        }),
        makeEvent({
          occurredAt: at(8),
          category: 'error',
          action: 'job.failed',
          outcome: 'error',
          message: 'step a_b failed',
          metadata: { key: 'e09' },
        }),
        makeEvent({
          occurredAt: at(9),
          category: 'error',
          action: 'job.failed',
          outcome: 'error',
          message: 'step axb failed',
          metadata: { key: 'e10' },
        }),
        makeEvent({
          occurredAt: at(10),
          category: 'process',
          action: 'order.shipped',
          tenantId: 'org_b',
          actor: { type: 'user', id: 'u3', label: 'Carol (support)' },
          target: { type: 'order', id: 'ORD-7' },
          metadata: { key: 'e11' },
        }),
        makeEvent({
          occurredAt: at(11),
          category: 'access',
          action: 'users.listed',
          outcome: 'denied',
          tenantId: 'org_a',
          actor: { type: 'user', id: 'u2', label: 'Bob' },
          metadata: { key: 'e12' },
        }),
      ];
      const keys = async (query: AuditQuery) =>
        (await store.query({ limit: 1000, ...query })).events.map((e) => e.metadata?.key);

      beforeAll(async () => {
        store = await migrated();
        // Written in two batches, out of time order: the store orders, not the insertion.
        await store.append(dataset.slice(6));
        await store.append(dataset.slice(0, 6));
      });

      it('returns everything newest first when no filter is given', async () => {
        expect(await keys({})).toEqual([
          'e12',
          'e11',
          'e10',
          'e09',
          'e08',
          'e07',
          'e06',
          'e05',
          'e04',
          'e03',
          'e02',
          'e01',
        ]);
        expect((await store.query()).events).toEqual([...dataset].sort(newestFirst));
      });

      it('from is inclusive and to is exclusive', async () => {
        expect(await keys({ from: at(3), to: at(6) })).toEqual(['e06', 'e05', 'e04']);
        expect(await keys({ from: at(10) })).toEqual(['e12', 'e11']);
        expect(await keys({ to: at(1) })).toEqual(['e01']);
        // One millisecond matters.
        expect(await keys({ from: new Date(at(3).getTime() + 1), to: at(5) })).toEqual(['e05']);
      });

      it('category: one or several', async () => {
        expect(await keys({ category: 'auth' })).toEqual(['e03', 'e02', 'e01']);
        expect(await keys({ category: ['change', 'process'] })).toEqual(['e11', 'e04']);
      });

      it('action: exact, several, or a prefix ending with *', async () => {
        expect(await keys({ action: 'user.login' })).toEqual(['e02', 'e01']);
        expect(await keys({ action: ['user.logout', 'order.shipped'] })).toEqual(['e11', 'e03']);
        // `user.*` does not match `users.listed`: the dot is part of the prefix.
        expect(await keys({ action: 'user.*' })).toEqual(['e03', 'e02', 'e01']);
        expect(await keys({ action: ['job.failed', 'report.*'] })).toEqual(['e10', 'e09', 'e08', 'e07']);
        expect(await keys({ action: 'user' })).toEqual([]);
      });

      it('outcome: one or several', async () => {
        expect(await keys({ outcome: 'failure' })).toEqual(['e06', 'e02']);
        expect(await keys({ outcome: ['denied', 'error'] })).toEqual(['e12', 'e10', 'e09', 'e05']);
      });

      it('tenantId scopes to one organisation', async () => {
        expect(await keys({ tenantId: 'org_a' })).toEqual(['e12', 'e06', 'e04', 'e02', 'e01']);
        expect(await keys({ tenantId: 'org_b' })).toEqual(['e11', 'e05', 'e03']);
        expect(await keys({ tenantId: 'org_none' })).toEqual([]);
      });

      it('tenantId: a list matches any of its organisations, and an empty list matches nothing', async () => {
        expect(await keys({ tenantId: ['org_a', 'org_b'] })).toEqual([
          'e12',
          'e11',
          'e06',
          'e05',
          'e04',
          'e03',
          'e02',
          'e01',
        ]);
        expect(await keys({ tenantId: ['org_b'] })).toEqual(['e11', 'e05', 'e03']);
        expect(await keys({ tenantId: ['org_b', 'org_none'] })).toEqual(['e11', 'e05', 'e03']);
        expect(await keys({ tenantId: [] })).toEqual([]);
        // Events without an organisation are never in a list.
        expect(await keys({ tenantId: ['org_none'] })).toEqual([]);
      });

      it('tenantId: a list combines with other filters and pages like any filter', async () => {
        expect(await keys({ tenantId: ['org_a', 'org_b'], actorId: 'u1' })).toEqual(['e04', 'e03', 'e01']);
        expect(await keys({ tenantId: ['org_b', 'org_a'], category: 'auth', outcome: 'success' })).toEqual([
          'e03',
          'e01',
        ]);
        const seen: unknown[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.query({ tenantId: ['org_a', 'org_b'], limit: 3, cursor });
          expect(page.events.length).toBeLessThanOrEqual(3);
          seen.push(...page.events.map((e) => e.metadata?.key));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toEqual(['e12', 'e11', 'e06', 'e05', 'e04', 'e03', 'e02', 'e01']);
      });

      it('actorId and actorType', async () => {
        expect(await keys({ actorId: 'u1' })).toEqual(['e04', 'e03', 'e01']);
        expect(await keys({ actorType: 'service' })).toEqual(['e06']);
        expect(await keys({ actorType: 'anonymous' })).toEqual(['e05']);
      });

      it('targetType and targetId', async () => {
        expect(await keys({ targetType: 'invoice' })).toEqual(['e04']);
        expect(await keys({ targetType: 'order', targetId: 'ORD-7' })).toEqual(['e11']);
        expect(await keys({ targetId: 'INV-404' })).toEqual([]);
      });

      it('requestId matches correlation.requestId or request.id', async () => {
        expect(await keys({ requestId: 'req-5' })).toEqual(['e05']);
        expect(await keys({ requestId: 'req-1' })).toEqual(['e01']);
      });

      it('pathPrefix matches the start of request.path', async () => {
        expect(await keys({ pathPrefix: '/api/orders' })).toEqual(['e06', 'e05']);
        expect(await keys({ pathPrefix: '/api/' })).toEqual(['e06', 'e05', 'e01']);
        expect(await keys({ pathPrefix: '/api/_rders' })).toEqual([]);
      });

      it('status: an exact code or a class such as 5xx', async () => {
        expect(await keys({ status: 503 })).toEqual(['e05']);
        expect(await keys({ status: '5xx' })).toEqual(['e05']);
        expect(await keys({ status: '4xx' })).toEqual(['e06']);
        expect(await keys({ status: '2xx' })).toEqual(['e01']);
        expect(await keys({ status: '3xx' })).toEqual([]);
      });

      it('text: case-insensitive substring over message, action, reason, actor and target labels and ids', async () => {
        expect(await keys({ text: 'ALICE' })).toEqual(['e04', 'e03', 'e01']);
        expect(await keys({ text: 'bad_pass' })).toEqual(['e02']);
        expect(await keys({ text: 'invoice' })).toEqual(['e04']);
        expect(await keys({ text: 'ord-7' })).toEqual(['e11']);
        expect(await keys({ text: 'billing' })).toEqual(['e06']);
        expect(await keys({ text: 'shipped' })).toEqual(['e11']);
        expect(await keys({ text: '(support)' })).toEqual(['e11']);
      });

      it('text: a term found only in an actor label, or only in a target id', async () => {
        // `Carol (support)` and `Bob` are labels; their ids are u3 and u2.
        expect(await keys({ text: 'carol' })).toEqual(['e11']);
        expect(await keys({ text: 'BOB' })).toEqual(['e12', 'e02']);
        // INV-1 is the target id of e04, whose label is `Invoice 1`.
        expect(await keys({ text: 'inv-1' })).toEqual(['e04']);
        expect(await keys({ text: 'NV-' })).toEqual(['e04']);
      });

      it('text: a term matches inside one field, never across two', async () => {
        // e02 has action `user.login` and reason `bad_password`; e11 actor label `Carol (support)`, id u3.
        expect(await keys({ text: 'login bad_pass' })).toEqual([]);
        expect(await keys({ text: 'user.login bad' })).toEqual([]);
        expect(await keys({ text: 'support) u3' })).toEqual([]);
        expect(await keys({ text: 'login' })).toEqual(['e02', 'e01']);
      });

      it('text: % and _ are literal characters, not wildcards', async () => {
        expect(await keys({ text: '100%' })).toEqual(['e07']);
        expect(await keys({ text: 'a_b' })).toEqual(['e09']);
        expect(await keys({ text: '%' })).toEqual(['e07']);
        expect(await keys({ text: '\\' })).toEqual([]);
        // The same with a longer term around them (a term an index can look up).
        expect(await keys({ text: '100% done' })).toEqual(['e07']);
        expect(await keys({ text: 'step a_b fail' })).toEqual(['e09']);
        expect(await keys({ text: 'STEP A_' })).toEqual(['e09']);
        expect(await keys({ text: '0%' })).toEqual(['e07']);
        expect(await keys({ text: 'done_' })).toEqual([]);
      });

      it('combines filters with AND', async () => {
        expect(await keys({ tenantId: 'org_a', category: 'auth', outcome: 'failure' })).toEqual(['e02']);
        expect(await keys({ tenantId: 'org_a', actorId: 'u1', from: at(1) })).toEqual(['e04']);
        expect(await keys({ category: 'access', status: '4xx', pathPrefix: '/api' })).toEqual(['e06']);
        expect(await keys({ tenantId: 'org_b', action: 'user.*', text: 'alice' })).toEqual(['e03']);
      });

      it('ignores filters given as undefined', async () => {
        expect(
          await keys({ tenantId: undefined, category: undefined, text: undefined, cursor: undefined }),
        ).toHaveLength(12);
      });
    });

    describe('query() correlation filters', () => {
      let store: AuditStore;
      const at = (minutes: number) => new Date(BASE + minutes * MINUTE);
      const dataset: AuditEvent[] = [
        makeEvent({
          occurredAt: at(0),
          category: 'process',
          action: 'process.started',
          tenantId: 'org_a',
          correlation: { processId: 'reg-1' },
          metadata: { key: 'p1' },
        }),
        makeEvent({
          occurredAt: at(1),
          category: 'change',
          action: 'user.updated',
          tenantId: 'org_a',
          correlation: { processId: 'reg-1', stepId: 'step-1', requestId: 'req-9' },
          metadata: { key: 'p2' },
        }),
        makeEvent({
          occurredAt: at(2),
          category: 'process',
          action: 'process.started',
          tenantId: 'org_b',
          correlation: { processId: 'reg-2' },
          metadata: { key: 'p3' },
        }),
        makeEvent({
          occurredAt: at(3),
          category: 'auth',
          action: 'password.changed',
          tenantId: 'org_a',
          correlation: { correlationId: 'fan-1' },
          metadata: { key: 'c1' },
        }),
        makeEvent({
          occurredAt: at(3),
          category: 'auth',
          action: 'password.changed',
          tenantId: 'org_b',
          correlation: { correlationId: 'fan-1' },
          metadata: { key: 'c2' },
        }),
        makeEvent({ occurredAt: at(4), metadata: { key: 'none' } }),
      ];
      const keys = async (query: AuditQuery) =>
        (await store.query({ limit: 1000, ...query })).events.map((e) => e.metadata?.key).sort();

      beforeAll(async () => {
        store = await migrated();
        await store.append(dataset);
      });

      it('processId finds every event of one process, whatever its category', async () => {
        expect(await keys({ processId: 'reg-1' })).toEqual(['p1', 'p2']);
        expect(await keys({ processId: 'reg-1', category: 'process' })).toEqual(['p1']);
        expect(await keys({ processId: 'reg-2' })).toEqual(['p3']);
        expect(await keys({ processId: 'reg-404' })).toEqual([]);
        expect(await keys({ processId: 'reg-' })).toEqual([]);
      });

      it('correlationId finds the copies of one event across organisations, and tenantId keeps one', async () => {
        expect(await keys({ correlationId: 'fan-1' })).toEqual(['c1', 'c2']);
        expect(await keys({ correlationId: 'fan-1', tenantId: 'org_b' })).toEqual(['c2']);
        expect(await keys({ correlationId: 'reg-1' })).toEqual([]);
      });

      it('pages through a process with the same cursor rules as every other filter', async () => {
        const first = await store.query({ processId: 'reg-1', limit: 1 });
        expect(first.events.map((e) => e.metadata?.key)).toEqual(['p2']);
        const next = await store.query({
          processId: 'reg-1',
          limit: 1,
          cursor: first.nextCursor ?? undefined,
        });
        expect(next.events.map((e) => e.metadata?.key)).toEqual(['p1']);
        expect(next.nextCursor).toBeNull();
      });
    });

    describe('query() ordering and pagination', () => {
      let store: AuditStore;
      const tenantId = 'org_pages';
      // 3 instants shared by 10 events each, plus 7 events at distinct times: 37 events.
      const events: AuditEvent[] = [
        ...Array.from({ length: 30 }, (_, i) =>
          makeEvent({ tenantId, occurredAt: new Date(BASE + Math.floor(i / 10) * MINUTE), metadata: { i } }),
        ),
        ...Array.from({ length: 7 }, (_, i) =>
          makeEvent({ tenantId, occurredAt: new Date(BASE + (i + 5) * MINUTE + i), metadata: { i: 30 + i } }),
        ),
      ];
      const expected = [...events].sort(newestFirst);

      beforeAll(async () => {
        store = await migrated();
        await store.append(events);
        await store.append(Array.from({ length: 20 }, () => makeEvent({ tenantId: 'org_elsewhere' })));
      });

      it('orders newest first and breaks ties on occurredAt by id, descending', async () => {
        const page = await store.query({ tenantId, limit: 1000 });
        expect(page.events.map((e) => e.id)).toEqual(expected.map((e) => e.id));
        expect(page.nextCursor).toBeNull();
      });

      it('walks every event exactly once across pages, even when many share a timestamp', async () => {
        for (const limit of [1, 3, 10, 36]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.query({ tenantId, limit, cursor });
            expect(page.events.length).toBeLessThanOrEqual(limit);
            seen.push(...page.events.map((e) => e.id));
            cursor = page.nextCursor ?? undefined;
            pages += 1;
          } while (cursor);
          expect(seen).toEqual(expected.map((e) => e.id));
          expect(pages).toBe(Math.ceil(events.length / limit));
        }
      });

      it('gives nextCursor null on a last page that is exactly full', async () => {
        const page = await store.query({ tenantId, limit: 37 });
        expect(page.events).toHaveLength(37);
        expect(page.nextCursor).toBeNull();
      });

      it('returns an opaque URL-safe cursor that keeps the filters of the query it is used with', async () => {
        const first = await store.query({ tenantId, limit: 5 });
        expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
        const next = await store.query({ tenantId, limit: 5, cursor: first.nextCursor ?? undefined });
        expect(next.events.map((e) => e.id)).toEqual(expected.slice(5, 10).map((e) => e.id));
      });

      it('defaults to 50 events per page', async () => {
        const page = await store.query({});
        expect(page.events).toHaveLength(50);
        expect(page.nextCursor).not.toBeNull();
        expect((await store.query({ cursor: page.nextCursor ?? undefined })).events).toHaveLength(7);
      });
    });

    describe('query() input errors', () => {
      let store: AuditStore;
      beforeAll(async () => {
        store = await migrated();
      });

      it('rejects a limit outside 1..1000 or not an integer with invalid_query', async () => {
        for (const limit of [0, -1, 1001, 2.5, Number.NaN, '10' as unknown as number]) {
          await expectError(store.query({ limit }), 'invalid_query');
        }
        await expect(store.query({ limit: 1000 })).resolves.toMatchObject({ events: [] });
        await expect(store.query({ limit: 1 })).resolves.toMatchObject({ events: [] });
      });

      it('rejects a cursor it did not make with invalid_cursor', async () => {
        const forged = Buffer.from('v1|yesterday|nope').toString('base64url');
        for (const cursor of ['garbage!', 'abc', '', forged, Buffer.from('{}').toString('base64url')]) {
          await expectError(store.query({ cursor }), 'invalid_cursor');
        }
      });

      it('rejects a malformed status, category, outcome or date with invalid_query', async () => {
        await expectError(store.query({ status: '6xx' as never }), 'invalid_query');
        await expectError(store.query({ status: 20.5 }), 'invalid_query');
        await expectError(store.query({ category: 'nope' as never }), 'invalid_query');
        await expectError(store.query({ outcome: 'meh' as never }), 'invalid_query');
        await expectError(store.query({ from: new Date('not a date') }), 'invalid_query');
      });
    });
  });
}
