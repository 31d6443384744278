import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { makeEvent } from '../../../test/contract/store-contract.js';
import { uniqueSchemaName } from '../../../test/helpers/postgres-server.js';
import { pgliteStore } from '../pglite/index.js';
import { postgresStore } from '../postgres/index.js';
import type { AuditStore } from '../store.js';

const url = inject('pgUrl');
const HOUR = 3_600_000;
const T0 = Date.parse('2026-05-04T10:15:00.000Z');

/** Six events over two hours and two organisations, with logins failing for two reasons. */
function sampleEvents() {
  return [
    makeEvent({
      occurredAt: new Date(T0),
      tenantId: 'org_a',
      category: 'access',
      actor: { type: 'user', id: 'u1', label: 'Ada' },
    }),
    makeEvent({
      occurredAt: new Date(T0 + 60_000),
      tenantId: 'org_a',
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      reason: 'bad_password',
      actor: { type: 'user', id: 'u1', label: 'Ada' },
    }),
    makeEvent({
      occurredAt: new Date(T0 + 120_000),
      tenantId: 'org_a',
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      reason: 'bad_password',
      actor: { type: 'user', id: 'u2' },
    }),
    makeEvent({
      occurredAt: new Date(T0 + HOUR),
      tenantId: 'org_b',
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      reason: 'unknown_user',
      actor: { type: 'anonymous' },
    }),
    makeEvent({
      occurredAt: new Date(T0 + HOUR + 1),
      tenantId: 'org_b',
      category: 'change',
      actor: { type: 'user', id: 'u1', label: 'Ada' },
    }),
    makeEvent({
      occurredAt: new Date(T0 + HOUR + 2),
      tenantId: 'org_c',
      category: 'error',
      outcome: 'error',
      actor: { type: 'system' },
    }),
  ];
}

function describeStore(name: string, makeStore: () => Promise<AuditStore>) {
  describe(`${name}: tenant lists and summarize()`, () => {
    let store: AuditStore;
    afterAll(async () => store?.close());

    it('filters on any of several organisations, and an empty list matches nothing', async () => {
      store = await makeStore();
      await store.migrate();
      await store.append(sampleEvents());
      const both = await store.query({ tenantId: ['org_a', 'org_b'] });
      expect(both.events.map((e) => e.tenantId).sort()).toEqual([
        'org_a',
        'org_a',
        'org_a',
        'org_b',
        'org_b',
      ]);
      expect((await store.query({ tenantId: [] })).events).toEqual([]);
      expect((await store.query({ tenantId: ['org_c'] })).events).toHaveLength(1);
    });

    it('counts events by category, outcome, hour, actor and reason under the same filters as query()', async () => {
      const summary = await store.summarize!({ tenantId: ['org_a', 'org_b'] }, { bucket: 'hour' });
      expect(summary.total).toBe(5);
      expect(summary.byCategory).toEqual({ access: 1, auth: 3, change: 1 });
      expect(summary.byOutcome).toEqual({ success: 2, failure: 3 });
      expect(summary.timeline).toEqual([
        { at: '2026-05-04T10:00:00Z', category: 'access', count: 1 },
        { at: '2026-05-04T10:00:00Z', category: 'auth', count: 2 },
        { at: '2026-05-04T11:00:00Z', category: 'auth', count: 1 },
        { at: '2026-05-04T11:00:00Z', category: 'change', count: 1 },
      ]);
      expect(summary.topActors[0]).toEqual({ type: 'user', id: 'u1', label: 'Ada', count: 3 });
      expect(summary.topReasons).toEqual([
        { reason: 'bad_password', count: 2 },
        { reason: 'unknown_user', count: 1 },
      ]);
    });

    it('ignores cursor and limit, and rejects a bad bucket or filter before any SQL runs', async () => {
      const summary = await store.summarize!(
        { limit: 1, category: 'auth', outcome: 'failure' },
        { bucket: 'day', top: 1 },
      );
      expect(summary.total).toBe(3);
      expect(summary.timeline).toEqual([{ at: '2026-05-04T00:00:00Z', category: 'auth', count: 3 }]);
      expect(summary.topReasons).toEqual([{ reason: 'bad_password', count: 2 }]);
      await expect(store.summarize!({}, { bucket: 'week' as never })).rejects.toMatchObject({
        code: 'invalid_query',
      });
      await expect(store.summarize!({ category: 'nope' as never }, { bucket: 'day' })).rejects.toMatchObject({
        code: 'invalid_query',
      });
    });
  });
}

describeStore('pglite', async () => pgliteStore());

describe.skipIf(!url)('postgres', () => {
  const schema = uniqueSchemaName('summary');
  afterAll(async () => {
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  describeStore('postgres', async () => postgresStore({ connectionString: url, schema }));
});
