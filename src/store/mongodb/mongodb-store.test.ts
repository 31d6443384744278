import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent, queryAll, runStoreContract } from '../../../test/contract/store-contract.js';
import type { AuditEvent } from '../../core/event.js';
import { decodeCursor } from '../sql/cursor.js';
import { type MongoClientLike, mongodbStore } from './index.js';
import { fromDocument, toDocument } from './mongodb-documents.js';
import { describeMongo, duplicateKeyErrors, isMongoUnavailable } from './mongodb-errors.js';
import { buildMongoFind, cursorAfter, escapeRegex } from './mongodb-query.js';

/**
 * The MongoDB store runs the shared contract suite against a real server when AUDITKIT_MONGODB_URL is set
 * (e.g. `AUDITKIT_MONGODB_URL=mongodb://127.0.0.1:27017 npx vitest run src/store/mongodb`); without it
 * those tests are reported as skipped. The translation of queries and documents is tested either way.
 */
const url = process.env.AUDITKIT_MONGODB_URL ?? '';
const database = `auditkit_test_${process.pid}_${Date.now().toString(36)}`;
let collections = 0;
const freshCollection = () => `events_${++collections}`;

describe.skipIf(!url)(
  `mongodbStore against a real server${url ? '' : ' (skipped: set AUDITKIT_MONGODB_URL to run)'}`,
  () => {
    afterAll(async () => {
      const client = new MongoClient(url);
      await client.db(database).dropDatabase();
      await client.close();
    });

    runStoreContract({
      name: 'mongodb',
      makeStore: async () => mongodbStore({ url, database, collection: freshCollection() }),
    });

    it('stores a client retry under the same idempotency key (and tenant) once', async () => {
      const store = mongodbStore({ url, database, collection: freshCollection() });
      await store.migrate();
      const first = makeEvent({ tenantId: 'org_a', idempotencyKey: 'order-42-refund' });
      const retry = makeEvent({ tenantId: 'org_a', idempotencyKey: 'order-42-refund' });
      const otherTenant = makeEvent({ tenantId: 'org_b', idempotencyKey: 'order-42-refund' });
      expect(await store.append([first])).toEqual({ inserted: 1, duplicates: 0 });
      expect(await store.append([retry, otherTenant])).toEqual({ inserted: 1, duplicates: 1 });
      expect((await queryAll(store)).map((e) => e.id).sort()).toEqual([first.id, otherTenant.id].sort());
      await store.close();
    });

    it('creates the indexes, and a TTL index when retentionDays is set (changed on the next migrate)', async () => {
      const collection = freshCollection();
      const store = mongodbStore({ url, database, collection, retentionDays: 30 });
      await store.migrate();
      const client = new MongoClient(url);
      const indexes = async () => client.db(database).collection(collection).indexes();
      expect((await indexes()).map((i) => i.name)).toEqual(
        expect.arrayContaining([
          'auditkit_time',
          'auditkit_tenant_time',
          'auditkit_idempotency',
          'auditkit_retention',
        ]),
      );
      expect((await indexes()).find((i) => i.name === 'auditkit_retention')?.expireAfterSeconds).toBe(
        30 * 86_400,
      );
      await mongodbStore({ url, database, collection, retentionDays: 7 }).migrate();
      expect((await indexes()).find((i) => i.name === 'auditkit_retention')?.expireAfterSeconds).toBe(
        7 * 86_400,
      );
      await client.close();
      await store.close();
    });

    it('deleteOlderThan() removes older events in batches and keeps the rest', async () => {
      const store = mongodbStore({ url, database, collection: freshCollection() });
      await store.migrate();
      const base = Date.parse('2026-01-01T00:00:00Z');
      const events = Array.from({ length: 25 }, (_, i) =>
        makeEvent({ occurredAt: new Date(base + i * 60_000) }),
      );
      await store.append(events);
      expect(await store.deleteOlderThan(new Date(base + 10 * 60_000), 4)).toBe(10);
      expect(await queryAll(store)).toHaveLength(15);
      await store.close();
    });
  },
);

describe('mongodbStore without a server', () => {
  it('accepts a MongoClient of the official driver as client (type check) and leaves it open on close', async () => {
    const client: MongoClientLike = new MongoClient('mongodb://127.0.0.1:1', {
      serverSelectionTimeoutMS: 200,
    });
    const store = mongodbStore({ client, collection: 'x' });
    expect(store.name).toBe('mongodb');
    await store.close();
    await client.close();
  });

  it('fails with store_unavailable, naming the server without credentials, when nothing listens', async () => {
    const store = mongodbStore({
      url: 'mongodb://auditor:s3cret@127.0.0.1:1/audit',
      serverSelectionTimeoutMS: 300,
    });
    const error = await store.append([makeEvent()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'store_unavailable' });
    expect((error as Error).message).toContain('MongoDB at mongodb://127.0.0.1:1/audit');
    expect((error as Error).message).not.toContain('s3cret');
    expect(isMongoUnavailable((error as Error).cause)).toBe(true);
    await expect(store.query()).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
    await expect(store.get(randomUUID())).rejects.toMatchObject({ code: 'closed' });
  });

  it('rejects an invalid event before connecting, and answers get() for a non-UUID with null', async () => {
    const store = mongodbStore({ url: 'mongodb://127.0.0.1:1', serverSelectionTimeoutMS: 100 });
    await expect(store.append([makeEvent({ metadata: { big: 1n } })])).rejects.toMatchObject({
      code: 'invalid_event',
    });
    expect(await store.get('not-a-uuid')).toBeNull();
    expect(await store.append([])).toEqual({ inserted: 0, duplicates: 0 });
    await store.close();
  });

  it('rejects bad options with invalid_config', () => {
    expect(() => mongodbStore({} as never)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => mongodbStore({ url: 'postgres://x' })).toThrow(/mongodb:\/\//);
    expect(() => mongodbStore({ url: 'mongodb://x', colection: 'y' } as never)).toThrow(/colection/);
  });
});

describe('MongoDB documents', () => {
  it('keep every field of the event exactly, whatever its keys ($where, dots, __proto__, NUL)', () => {
    const event: AuditEvent = makeEvent({
      tenantId: 'org_x',
      actor: { type: 'user', id: 'u1', label: 'Zoë' },
      target: { type: 'doc', id: 'd1' },
      request: { id: 'r1', path: '/a/b', status: 201 },
      metadata: JSON.parse('{"$where":"1","a.b":2,"__proto__":{"polluted":true},"n":null,"x":[1,{"y":{}}]}'),
      idempotencyKey: 'k1',
      seq: 3,
      hash: 'h',
    });
    const doc = toDocument(event);
    expect(doc).toMatchObject({
      _id: event.id,
      occurredAt: event.occurredAt,
      tenantId: 'org_x',
      actorType: 'user',
      actorId: 'u1',
      actorLabel: 'Zoë',
      targetType: 'doc',
      targetId: 'd1',
      requestId: 'r1',
      requestPath: '/a/b',
      status: 201,
      idempotencyKey: 'k1',
      seq: 3,
      hash: 'h',
    });
    expect(Object.values(doc)).not.toContain(undefined);
    expect(doc.data).toContain('"__proto__":{"polluted":true}');
    const back = fromDocument(doc);
    // Reading back goes through the shared event schema, which (in every store) drops a `__proto__` key
    // rather than let it become a prototype: nothing is polluted.
    const { __proto__: _dropped, ...rest } = event.metadata as Record<string, unknown>;
    expect(back).toEqual({ ...event, metadata: rest });
    expect((back.metadata as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('replace NUL and lone surrogates in the filter fields and the JSON, as the SQL stores do', () => {
    const doc = toDocument(makeEvent({ message: 'a\u0000b', actor: { type: 'user', id: 'u\ud800' } }));
    expect(doc.message).toBe('a\uFFFDb');
    expect(doc.actorId).toBe('u\uFFFD');
    expect(fromDocument(doc).message).toBe('a\uFFFDb');
  });

  it('refuse an event that is not JSON, or has no valid date, with invalid_event', () => {
    expect(() => toDocument(makeEvent({ metadata: { big: 1n } }))).toThrow(
      expect.objectContaining({ code: 'invalid_event' }),
    );
    expect(() => toDocument(makeEvent({ occurredAt: new Date(Number.NaN) }))).toThrow(/occurredAt/);
  });

  it('report a stored document that is not a valid event as store_error', () => {
    expect(() => fromDocument({ _id: 'x', occurredAt: new Date(), data: '{"category":"nope"}' })).toThrow(
      expect.objectContaining({ code: 'store_error' }),
    );
    expect(() => fromDocument({ _id: 'x', occurredAt: new Date(), data: '{' })).toThrow(/unreadable JSON/);
  });
});

describe('MongoDB queries', () => {
  it('sort newest first with ties broken by id, and fetch one more than the page', () => {
    expect(buildMongoFind({})).toEqual({ filter: {}, sort: { occurredAt: -1, _id: -1 }, limit: 50 });
    expect(buildMongoFind({ limit: 7 }).limit).toBe(7);
  });

  it('combine every filter with AND, with $eq so no value is read as an operator', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-02-01T00:00:00Z');
    const { filter } = buildMongoFind({
      from,
      to,
      category: ['auth', 'change'],
      outcome: 'failure',
      action: ['user.login', 'order.*'],
      tenantId: '$ne',
      actorId: 'u1',
      targetType: 'invoice',
      requestId: 'r1',
      pathPrefix: '/api/(x)',
      status: '4xx',
      text: 'a.b*',
    });
    expect(filter).toEqual({
      $and: [
        { occurredAt: { $gte: from, $lt: to } },
        { category: { $in: ['auth', 'change'] } },
        { outcome: { $in: ['failure'] } },
        { $or: [{ action: { $in: ['user.login'] } }, { action: { $regex: '^order\\.' } }] },
        { tenantId: { $eq: '$ne' } },
        { actorId: { $eq: 'u1' } },
        { targetType: { $eq: 'invoice' } },
        { requestId: { $eq: 'r1' } },
        { requestPath: { $regex: '^\\/api\\/\\(x\\)' } },
        { status: { $gte: 400, $lt: 500 } },
        {
          $or: ['message', 'action', 'reason', 'actorLabel', 'actorId', 'targetLabel', 'targetId'].map(
            (f) => ({
              [f]: { $regex: 'a\\.b\\*', $options: 'i' },
            }),
          ),
        },
      ],
    });
  });

  it('escape regular-expression characters so text and prefixes match literally', () => {
    const special = '.*+?^$' + '{}()|[]\\/';
    expect(new RegExp(escapeRegex(special)).test(`x${special}y`)).toBe(true);
    expect(new RegExp(`^${escapeRegex('user.')}`).test('userXlogin')).toBe(false);
  });

  it('continue after a cursor with (occurredAt, id) below the last row, in the SQL stores\u2019 cursor format', () => {
    const last = { _id: randomUUID(), occurredAt: new Date('2026-03-10T12:00:00.123Z') };
    const cursor = cursorAfter(last);
    expect(decodeCursor(cursor)).toEqual({ occurredAt: '2026-03-10T12:00:00.123000Z', id: last._id });
    expect(buildMongoFind({ cursor }).filter).toEqual({
      $or: [
        { occurredAt: { $lt: last.occurredAt } },
        { occurredAt: last.occurredAt, _id: { $lt: last._id } },
      ],
    });
  });

  it('reject what the SQL stores reject, with the same codes', () => {
    for (const limit of [0, 1001, 2.5])
      expect(() => buildMongoFind({ limit })).toThrow(expect.objectContaining({ code: 'invalid_query' }));
    expect(() => buildMongoFind({ status: '6xx' as never })).toThrow(
      expect.objectContaining({ code: 'invalid_query' }),
    );
    expect(() => buildMongoFind({ category: 'nope' as never })).toThrow(
      expect.objectContaining({ code: 'invalid_query' }),
    );
    expect(() => buildMongoFind({ from: new Date('x') })).toThrow(
      expect.objectContaining({ code: 'invalid_query' }),
    );
    expect(() => buildMongoFind({ tenantId: { $ne: null } as never })).toThrow(
      expect.objectContaining({ code: 'invalid_query' }),
    );
    expect(() => buildMongoFind({ cursor: 'garbage!' })).toThrow(
      expect.objectContaining({ code: 'invalid_cursor' }),
    );
  });
});

describe('MongoDB errors', () => {
  it('describe the server without credentials', () => {
    expect(
      describeMongo(
        'mongodb+srv://u:p@cluster0.example.net/prod?retryWrites=true',
        undefined,
        'audit_events',
      ),
    ).toBe('MongoDB at mongodb+srv://cluster0.example.net/prod (collection audit_events)');
    expect(describeMongo('mongodb://a:1,b:2', 'audit', 'ev')).toBe(
      'MongoDB at mongodb://a:1,b:2/audit (collection ev)',
    );
  });

  it('count an unordered insert that failed only on duplicate keys as duplicates, and nothing else', () => {
    expect(duplicateKeyErrors({ writeErrors: [{ code: 11000 }, { code: 11000 }] })).toBe(2);
    expect(duplicateKeyErrors({ writeErrors: { code: 11000 } })).toBe(1);
    expect(duplicateKeyErrors({ writeErrors: [{ code: 11000 }, { code: 121 }] })).toBeNull();
    expect(
      duplicateKeyErrors({ writeErrors: [{ code: 11000 }], writeConcernError: { code: 64 } }),
    ).toBeNull();
    expect(duplicateKeyErrors(new Error('boom'))).toBeNull();
  });
});
