import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { uniqueSchemaName } from '../../../test/helpers/postgres-server.js';
import { type Auditor, createAuditor } from '../../core/auditor.js';
import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { newEventId } from '../../core/ids.js';
import { pgliteStore } from '../../store/pglite/index.js';
import { postgresStore } from '../../store/postgres/index.js';
import type { AuditStore } from '../../store/store.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

interface Database {
  audit: Auditor;
  store: AuditStore;
  sql(text: string): Promise<unknown>;
  close(): Promise<void>;
}

const databases: { name: string; skip: boolean; make: () => Promise<Database> }[] = [
  {
    name: 'PGlite',
    skip: false,
    async make() {
      const db = await PGlite.create();
      const schema = uniqueSchemaName('history');
      const store = pgliteStore({ db, schema });
      const audit = createAuditor({ store, mode: 'sync', spool: false });
      await audit.migrate();
      return {
        audit,
        store,
        sql: (text) => db.exec(text),
        async close() {
          await audit.close();
          await db.close();
        },
      };
    },
  },
  {
    name: `PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`,
    skip: !url,
    async make() {
      const schema = uniqueSchemaName('history');
      const store = postgresStore({ connectionString: url, schema });
      const audit = createAuditor({ store, mode: 'sync', spool: false });
      await audit.migrate();
      const pg = (await import('pg')).default;
      const admin = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path="${schema}"` });
      return {
        audit,
        store,
        sql: (text) => admin.query(text),
        async close() {
          await audit.close();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        },
      };
    },
  },
];

const t0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000);

/** A change event as trigger mode or app-level capture writes it, at a chosen time. */
function change(
  action: string,
  id: string,
  changes: Record<string, [unknown, unknown]>,
  minutes: number,
  extra: Partial<AuditEvent> = {},
): AuditEvent {
  return {
    id: newEventId(),
    occurredAt: at(minutes),
    category: 'change',
    action,
    outcome: 'success',
    tenantId: null,
    actor: { type: 'user', id: 'u1' },
    target: { type: 'orders', id },
    changes,
    ...extra,
  };
}

describe.each(databases)('record history on $name', ({ skip, make }) => {
  let db: Database;
  beforeAll(async () => {
    if (!skip) db = await make();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await db?.sql(`TRUNCATE ${(db.store as unknown as { table: string }).table}`);
  });

  it.skipIf(skip)('lists one record’s changes oldest first, each with actor, request and diff', async () => {
    await db.store.append([
      change('record.updated', '42', { status: ['new', 'paid'] }, 5, {
        actor: { type: 'user', id: 'u2', label: 'Bo' },
        correlation: { requestId: 'req-2' },
        request: { id: 'req-2', method: 'PATCH', path: '/orders/42' },
      }),
      change('record.created', '42', { id: [null, 42], status: [null, 'new'] }, 0),
      change('record.created', '43', { id: [null, 43], status: [null, 'new'] }, 1),
      change('record.deleted', '42', { id: [42, null], status: ['paid', null] }, 9),
      { ...change('custom', '42', {}, 6), category: 'custom', action: 'order.exported' },
    ]);
    const timeline = await db.audit.history({ type: 'orders', id: '42' });
    expect(timeline.map((e) => [e.action, e.at.toISOString()])).toEqual([
      ['record.created', at(0).toISOString()],
      ['record.updated', at(5).toISOString()],
      ['record.deleted', at(9).toISOString()],
    ]);
    const update = timeline[1];
    expect(update?.actor).toEqual({ type: 'user', id: 'u2', label: 'Bo' });
    expect(update?.requestId).toBe('req-2');
    expect(update?.request).toEqual({ id: 'req-2', method: 'PATCH', path: '/orders/42' });
    expect(update?.changes).toEqual({ status: ['new', 'paid'] });
    expect(update?.event.id).toBe(update?.eventId);
  });

  it.skipIf(skip)('reads a long history completely, in order, one page at a time', async () => {
    const events = Array.from({ length: 53 }, (_, i) =>
      change(i === 0 ? 'record.created' : 'record.updated', '7', { n: [i - 1, i] }, i),
    );
    await db.store.append(events);
    const limits: number[] = [];
    const counting: Pick<AuditStore, 'query'> = {
      query: async (query) => {
        const page = await db.store.query(query);
        limits.push(page.events.length);
        return page;
      },
    };
    const { iterateHistory } = await import('./history.js');
    const seen: number[] = [];
    for await (const entry of iterateHistory(counting, { type: 'orders', id: '7' }, { pageSize: 10 })) {
      seen.push(entry.changes.n?.[1] as number);
    }
    expect(seen).toEqual(events.map((_, i) => i));
    expect(Math.max(...limits)).toBeLessThanOrEqual(10);
    expect(await db.audit.history({ type: 'orders', id: '7' }, { pageSize: 1 })).toHaveLength(53);
  });

  it.skipIf(skip)(
    'returns neither twice nor skips an event when newer ones arrive while it reads',
    async () => {
      await db.store.append(
        Array.from({ length: 25 }, (_, i) => change('record.updated', '8', { n: [i - 1, i] }, i)),
      );
      const seen: number[] = [];
      let added = false;
      for await (const entry of db.audit.iterateHistory({ type: 'orders', id: '8' }, { pageSize: 4 })) {
        seen.push(entry.changes.n?.[1] as number);
        if (!added) {
          added = true;
          await db.store.append([change('record.updated', '8', { n: [24, 99] }, 60)]);
        }
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect((await db.audit.history({ type: 'orders', id: '8' })).at(-1)?.changes.n).toEqual([24, 99]);
    },
  );

  it.skipIf(skip)('filters by tenant and time when asked', async () => {
    await db.store.append([
      change('record.created', '9', { a: [null, 1] }, 0, { tenantId: 'org_a' }),
      change('record.updated', '9', { a: [1, 2] }, 1, { tenantId: 'org_b' }),
      change('record.updated', '9', { a: [2, 3] }, 2, { tenantId: 'org_a' }),
    ]);
    const a = await db.audit.history({ type: 'orders', id: '9', tenantId: 'org_a' });
    expect(a.map((e) => e.changes.a)).toEqual([
      [null, 1],
      [2, 3],
    ]);
    const window = await db.audit.history({ type: 'orders', id: '9' }, { from: at(1), to: at(2) });
    expect(window.map((e) => e.changes.a)).toEqual([[1, 2]]);
  });

  it.skipIf(skip)(
    'rebuilds a record at any moment; null before its creation and after its deletion',
    async () => {
      await db.store.append([
        change(
          'record.created',
          '42',
          { id: [null, 42], status: [null, 'new'], iban: [null, '[REDACTED]'] },
          0,
        ),
        change('record.updated', '42', { status: ['new', 'paid'], iban: ['[REDACTED]', '[REDACTED]'] }, 10),
        change('record.updated', '42', { status: ['paid', 'shipped'] }, 20),
        change(
          'record.deleted',
          '42',
          { id: [42, null], status: ['shipped', null], iban: ['[REDACTED]', null] },
          30,
        ),
      ]);
      expect(await db.audit.versionAt('orders', '42', at(-1))).toBeNull();
      const created = await db.audit.versionAt('orders', '42', at(0));
      expect(created).toMatchObject({
        type: 'orders',
        id: '42',
        values: { id: 42, status: 'new', iban: '[REDACTED]' },
        complete: true,
        lastChangedAt: at(0),
      });
      expect((await db.audit.versionAt('orders', '42', at(15)))?.values).toEqual({
        id: 42,
        status: 'paid',
        iban: '[REDACTED]',
      });
      expect((await db.audit.versionAt('orders', '42', at(29).toISOString()))?.values.status).toBe('shipped');
      expect(await db.audit.versionAt('orders', '42', at(30))).toBeNull();
      expect(await db.audit.versionAt('orders', 'nope', at(30))).toBeNull();
    },
  );

  it.skipIf(skip)(
    'rebuilds a record created before auditing began from what is known, and says so',
    async () => {
      await db.store.append([
        change('record.updated', '5', { status: ['new', 'paid'] }, 10),
        change('record.updated', '5', { total: [100, 120] }, 20),
      ]);
      // Before any event: the updates' "before" sides tell what the record held.
      expect(await db.audit.versionAt('orders', '5', at(0))).toMatchObject({
        values: { status: 'new', total: 100 },
        complete: false,
        lastEventId: null,
        lastChangedAt: null,
      });
      expect(await db.audit.versionAt('orders', '5', at(15))).toMatchObject({
        values: { status: 'paid', total: 100 },
        complete: false,
        lastChangedAt: at(10),
      });
      // A deletion records the whole row: from then on every column is known.
      await db.store.append([
        change('record.deleted', '5', { id: [5, null], status: ['paid', null], total: [120, null] }, 30),
      ]);
      expect(await db.audit.versionAt('orders', '5', at(15))).toMatchObject({
        values: { id: 5, status: 'paid', total: 100 },
        complete: true,
      });
    },
  );

  it.skipIf(skip)('replays relation events into the related ids of each relation', async () => {
    const relation = (action: string, tag: string, minutes: number, added: boolean) =>
      change(action, '42', { tags: added ? [null, tag] : [tag, null] }, minutes);
    await db.store.append([
      change('record.created', '42', { id: [null, 42] }, 0),
      relation('relation.added', '1', 1, true),
      relation('relation.added', '2', 2, true),
      relation('relation.removed', '1', 3, false),
      relation('relation.added', '3', 4, true),
    ]);
    expect((await db.audit.versionAt('orders', '42', at(2)))?.relations).toEqual({ tags: ['1', '2'] });
    expect((await db.audit.versionAt('orders', '42', at(5)))?.relations).toEqual({ tags: ['2', '3'] });
  });

  it.skipIf(skip)('rejects a target without type or id and a time that is not one', async () => {
    await expect(db.audit.history({ type: '', id: '1' })).rejects.toBeInstanceOf(AuditkitError);
    await expect(db.audit.history({ type: 'orders', id: '1' }, { pageSize: 0 })).rejects.toMatchObject({
      code: 'invalid_query',
    });
    await expect(db.audit.versionAt('orders', '1', 'yesterday-ish')).rejects.toMatchObject({
      code: 'invalid_query',
    });
  });
});
