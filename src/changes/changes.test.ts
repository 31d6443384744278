import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { auditPlugin } from '../http/fastify/index.js';
import { forceLog, withoutAuditing } from './capture.js';
import {
  type CaptureFixture,
  pgliteFixture,
  postgresFixture,
  shape,
  WIDE_COLUMNS,
} from './testing/fixtures.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

const databases: { name: string; skip: boolean; make: () => Promise<CaptureFixture> }[] = [
  { name: 'PGlite', skip: false, make: () => pgliteFixture() },
  {
    name: `PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`,
    skip: !url,
    make: () => postgresFixture(url),
  },
];

const order = {
  customer: 'ada',
  status: 'new',
  total: 120,
  iban: 'DE89370400440532013000',
  note: 'leave at door',
};

describe.each(databases)('app-level capture on $name', ({ skip, make }) => {
  let fx: CaptureFixture;
  beforeAll(async () => {
    if (!skip) fx = await make();
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(async () => {
    await fx?.reset();
  });

  it.skipIf(skip)(
    'records insert, update and delete with the same event shape through every ORM',
    async () => {
      const shapes: Record<string, unknown[]> = {};
      for (const client of fx.clients) {
        await fx.reset();
        await fx.audit.runWithContext({ actor: { id: 'u1', label: 'Ada' }, tenantId: 't1' }, async () => {
          const id = await client.insertOrder(order);
          await client.setStatus(id, 'paid');
          await client.setStatus(id, 'paid'); // no-op: no event
          await client.deleteOrder(id);
        });
        shapes[client.name] = (await fx.changes()).map(shape);
      }
      const expected = [
        {
          category: 'change',
          action: 'record.created',
          actor: { type: 'user', id: 'u1', label: 'Ada' },
          tenantId: 't1',
          target: { type: 'orders', id: '1' },
          changes: {
            id: [null, 1],
            customer: [null, 'ada'],
            status: [null, 'new'],
            total: [null, 120],
            iban: [null, '[REDACTED]'],
          },
        },
        {
          category: 'change',
          action: 'record.updated',
          actor: { type: 'user', id: 'u1', label: 'Ada' },
          tenantId: 't1',
          target: { type: 'orders', id: '1' },
          changes: { status: ['new', 'paid'] },
        },
        {
          category: 'change',
          action: 'record.deleted',
          actor: { type: 'user', id: 'u1', label: 'Ada' },
          tenantId: 't1',
          target: { type: 'orders', id: '1' },
          changes: {
            id: [1, null],
            customer: ['ada', null],
            status: ['paid', null],
            total: [120, null],
            iban: ['[REDACTED]', null],
          },
        },
      ];
      for (const client of fx.clients) expect(shapes[client.name], client.name).toEqual(expected);
    },
  );

  it.skipIf(skip)('stores no masked or excluded value anywhere in the events table', async () => {
    for (const client of fx.clients) {
      const id = await client.insertOrder(order);
      await client.transaction(async (tx) => {
        await tx.setStatus(id, 'shipped');
        await tx.deleteOrder(id);
      });
    }
    const rows = await fx.sql<{ data: unknown }>('SELECT data::text AS data FROM audit_events');
    expect(rows.length).toBe(fx.clients.length * 3);
    const stored = rows.map((r) => String(r.data)).join('\n');
    expect(stored).not.toContain('DE89370400440532013000');
    expect(stored).not.toContain('leave at door');
  });

  it.skipIf(skip)(
    'leaves no event when the transaction rolls back, and one per change when it commits',
    async () => {
      for (const client of fx.clients) {
        const id = await client.insertOrder(order);
        await expect(
          client.transaction(async (tx) => {
            await tx.setStatus(id, 'cancelled');
            await tx.insertOrder({ ...order, customer: 'bob' });
            throw new Error('rolled back on purpose');
          }),
        ).rejects.toThrow('rolled back on purpose');
      }
      const events = await fx.changes();
      expect(events.map((e) => e.action)).toEqual(fx.clients.map(() => 'record.created'));
      const statuses = await fx.sql<{ status: string }>('SELECT status FROM orders');
      expect(statuses.every((r) => r.status === 'new')).toBe(true);
    },
  );

  it.skipIf(skip)('carries the request context of runWithContext into the event', async () => {
    for (const client of fx.clients) {
      await fx.audit.runWithContext(
        {
          actor: async () => ({ id: 'u9' }),
          requestId: `req-${client.name}`,
          ip: '203.0.113.7',
          request: { method: 'POST', path: '/orders' },
          metadata: { via: client.name },
        },
        () => client.insertOrder(order),
      );
    }
    const events = await fx.changes();
    expect(events).toHaveLength(fx.clients.length);
    fx.clients.forEach((client, i) => {
      const event = events[i];
      expect(event?.actor).toEqual({ type: 'user', id: 'u9', ip: '203.0.113.7' });
      expect(event?.correlation?.requestId).toBe(`req-${client.name}`);
      expect(event?.request).toEqual({ id: `req-${client.name}`, method: 'POST', path: '/orders' });
      expect(event?.metadata).toEqual({ via: client.name });
    });
  });

  it.skipIf(skip)('records an actor of system for changes made outside any context', async () => {
    await fx.clients[0]?.insertOrder(order);
    const [event] = await fx.changes();
    expect(event?.actor).toEqual({ type: 'system' });
  });

  it.skipIf(skip)('uses a JSON array of the key texts as target.id for composite keys', async () => {
    let lineNo = 1;
    for (const client of fx.clients) {
      await client.insertLine({ order_id: 7, line_no: lineNo, sku: 'A-1', qty: 1 });
      await client.setLineQty(7, lineNo, 3);
      lineNo += 1;
    }
    const events = await fx.changes();
    expect(events.map((e) => [e.action, e.target?.id])).toEqual(
      fx.clients.flatMap((_, i) => [
        ['record.created', `["7","${i + 1}"]`],
        ['record.updated', `["7","${i + 1}"]`],
      ]),
    );
    expect(events[1]?.changes).toEqual({ qty: [1, 3] });
    expect(events[0]?.target?.type).toBe('order_lines');
  });

  it.skipIf(skip)('records nothing inside withoutAuditing, except a delete under forceLog', async () => {
    for (const client of fx.clients) {
      const id = await withoutAuditing(async () => {
        const created = await client.insertOrder(order);
        await client.setStatus(created, 'imported');
        const other = await client.insertOrder({ ...order, customer: 'tmp' });
        await forceLog(() => client.deleteOrder(other));
        return created;
      });
      await client.setStatus(id, 'live');
    }
    const events = await fx.changes();
    expect(
      events.map((e) => [
        e.action,
        Object.keys(e.changes ?? {}).includes('customer') ? e.changes?.customer : e.changes?.status,
      ]),
    ).toEqual(
      fx.clients.flatMap(() => [
        ['record.deleted', ['tmp', null]],
        ['record.updated', ['imported', 'live']],
      ]),
    );
  });

  it.skipIf(skip)('records one event per row for a bulk update', async () => {
    for (const client of fx.clients) {
      await fx.reset();
      await withoutAuditing(async () => {
        for (let i = 0; i < 25; i++) await client.insertOrder({ ...order, customer: 'bulk', total: i });
        await client.insertOrder({ ...order, customer: 'other' });
      });
      await client.setStatusWhereCustomer('bulk', 'archived');
      const events = await fx.changes();
      expect(events, client.name).toHaveLength(25);
      expect(new Set(events.map((e) => e.target?.id)).size).toBe(25);
      expect(events.every((e) => e.action === 'record.updated')).toBe(true);
      expect(events[0]?.changes).toEqual({ status: ['new', 'archived'] });
    }
  });

  it.skipIf(skip)('keeps each concurrent transaction with its own actor', async () => {
    const work = fx.clients.flatMap((client) =>
      ['alice', 'bob', 'carol'].map((user) =>
        fx.audit.runWithContext({ actor: user }, () =>
          client.transaction(async (tx) => {
            const id = await tx.insertOrder({ ...order, customer: user });
            await new Promise((resolve) => setTimeout(resolve, 5));
            await tx.setStatus(id, `by-${user}`);
          }),
        ),
      ),
    );
    await Promise.all(work);
    const events = await fx.changes();
    expect(events).toHaveLength(fx.clients.length * 6);
    for (const event of events) {
      const user = event.actor.id;
      if (event.action === 'record.created') expect(event.changes?.customer).toEqual([null, user]);
      else expect(event.changes?.status).toEqual(['new', `by-${user}`]);
    }
  });

  it.skipIf(skip)('records join-table rows as relation events on the owning record', async () => {
    const shapes: Record<string, unknown[]> = {};
    for (const client of fx.clients) {
      await fx.reset();
      const id = await client.insertOrder(order);
      await client.addTag(id, 1);
      await client.addTag(id, 2);
      await client.removeTag(id, 1);
      const events = (await fx.changes()).filter((e) => e.action.startsWith('relation.'));
      shapes[client.name] = events.map((e) => ({ action: e.action, target: e.target, changes: e.changes }));
      const version = await fx.audit.versionAt('orders', String(id), new Date());
      expect(version?.relations, client.name).toEqual({ tags: ['2'] });
    }
    const expected = [
      { action: 'relation.added', target: { type: 'orders', id: '1' }, changes: { tags: [null, '1'] } },
      { action: 'relation.added', target: { type: 'orders', id: '1' }, changes: { tags: [null, '2'] } },
      { action: 'relation.removed', target: { type: 'orders', id: '1' }, changes: { tags: ['1', null] } },
    ];
    for (const client of fx.clients) expect(shapes[client.name], client.name).toEqual(expected);
  });

  it.skipIf(skip)(
    'records a user deleting their own account, cascades included, with the secret column masked',
    async () => {
      for (const client of fx.clients) {
        const id = await client.insertUser(`${client.name}@example.com`, 'argon2id$v=19$secret-hash');
        await fx.sql(`INSERT INTO sessions (user_id) VALUES (${id})`);
        await fx.audit.runWithContext({ actor: { id: String(id), label: 'self' } }, () =>
          client.deleteUser(id),
        );
        const [gone] = await fx.sql<{ n: number }>(
          `SELECT (SELECT count(*) FROM users WHERE id = ${id}) + (SELECT count(*) FROM sessions WHERE user_id = ${id}) AS n`,
        );
        expect(Number(gone?.n), client.name).toBe(0);
        const deleted = (await fx.changes()).filter((e) => e.action === 'record.deleted').at(-1);
        expect(deleted?.target, client.name).toEqual({ type: 'users', id: String(id) });
        expect(deleted?.actor).toEqual({ type: 'user', id: String(id), label: 'self' });
        expect(deleted?.changes?.password_hash).toEqual(['[REDACTED]', null]);
        expect(deleted?.changes?.email).toEqual([`${client.name}@example.com`, null]);
      }
      const stored = await fx.sql<{ data: string }>('SELECT data::text AS data FROM audit_events');
      expect(stored.map((r) => r.data).join('\n')).not.toContain('secret-hash');
    },
  );

  it.skipIf(skip)(
    'records a table of 100 columns and a 1 MB text column, truncated in the event',
    async () => {
      const body = 'x'.repeat(1024 * 1024);
      const values = Object.fromEntries(WIDE_COLUMNS.map((c, i) => [c, `v${i + 1}`]));
      for (const client of fx.clients) {
        await fx.reset();
        const id = await client.insertWide({ ...values, body });
        await client.setWide(id, 'c50', 'changed');
        const [created, updated] = await fx.changes();
        expect(Object.keys(created?.changes ?? {}), client.name).toHaveLength(102);
        expect(created?.changes?.c100).toEqual([null, 'v100']);
        const stored = String((created?.changes?.body as unknown[] | undefined)?.[1]);
        expect(stored.length).toBeLessThan(10_000);
        expect(stored).toContain('1048576');
        expect(updated?.changes).toEqual({ c50: ['v50', 'changed'] });
        const [row] = await fx.sql<{ n: number }>(`SELECT length(body) AS n FROM wide WHERE id = ${id}`);
        expect(Number(row?.n)).toBe(1024 * 1024);
      }
    },
  );

  it.skipIf(skip)('records an upsert as a creation or as an update of the row it met', async () => {
    for (const client of fx.clients) {
      await fx.reset();
      await client.upsertLine({ order_id: 3, line_no: 1, sku: 'A-1', qty: 1 });
      await client.upsertLine({ order_id: 3, line_no: 1, sku: 'A-1', qty: 4 });
      const events = await fx.changes();
      expect(
        events.map((e) => [e.action, e.target?.id]),
        client.name,
      ).toEqual([
        ['record.created', '["3","1"]'],
        ['record.updated', '["3","1"]'],
      ]);
      expect(events[1]?.changes).toEqual({ qty: [1, 4] });
    }
  });

  it.skipIf(skip)(
    'carries the actor and request id of a real HTTP request into the change event',
    async () => {
      const app = Fastify({ logger: false });
      await app.register(auditPlugin, { audit: fx.audit, actor: (req) => req.headers['x-user'] as string });
      app.post('/orders/:client/:id/pay', async (request) => {
        const { client, id } = request.params as { client: string; id: string };
        await fx.clients.find((c) => c.name === client)?.setStatus(Number(id), 'paid');
        return { ok: true };
      });
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        for (const client of fx.clients) {
          const id = await client.insertOrder(order);
          const response = await fetch(`${address}/orders/${client.name}/${id}/pay`, {
            method: 'POST',
            headers: { 'x-user': `clerk-${client.name}`, 'x-request-id': `req-${client.name}` },
          });
          expect(response.status).toBe(200);
          const update = (await fx.changes()).filter((e) => e.action === 'record.updated').at(-1);
          expect(update?.actor.id, client.name).toBe(`clerk-${client.name}`);
          expect(update?.correlation?.requestId).toBe(response.headers.get('x-request-id'));
          expect(update?.request).toMatchObject({ method: 'POST', path: `/orders/${client.name}/${id}/pay` });
        }
      } finally {
        await app.close();
      }
    },
  );

  it.skipIf(skip)(
    'writes the events of a bulk statement with one INSERT (TypeORM: one per save)',
    async () => {
      await fx.sql(
        'CREATE TABLE IF NOT EXISTS event_statements (n int); DELETE FROM event_statements; ' +
          'INSERT INTO event_statements VALUES (0); ' +
          'CREATE OR REPLACE FUNCTION count_event_statement() RETURNS trigger LANGUAGE plpgsql AS ' +
          '$$ BEGIN UPDATE event_statements SET n = n + 1; RETURN NULL; END $$; ' +
          'DROP TRIGGER IF EXISTS count_event_statements ON audit_events; ' +
          'CREATE TRIGGER count_event_statements AFTER INSERT ON audit_events ' +
          'FOR EACH STATEMENT EXECUTE FUNCTION count_event_statement()',
      );
      try {
        for (const client of fx.clients) {
          await fx.reset();
          const rows = client.name === 'typeorm' ? 200 : 10_000;
          await fx.sql(
            `INSERT INTO orders (customer, status, total) SELECT 'bulk', 'new', g FROM generate_series(1, ${rows}) g`,
          );
          await fx.sql('UPDATE event_statements SET n = 0');
          await client.setStatusWhereCustomer('bulk', 'archived');
          const [count] = await fx.sql<{ events: number; statements: number }>(
            "SELECT (SELECT count(*) FROM audit_events WHERE action = 'record.updated') AS events, " +
              '(SELECT n FROM event_statements) AS statements',
          );
          expect(Number(count?.events), client.name).toBe(rows);
          expect(Number(count?.statements), client.name).toBe(1);
        }
      } finally {
        await fx.sql('DROP TRIGGER IF EXISTS count_event_statements ON audit_events');
      }
    },
  );

  it.skipIf(skip)(
    'switches capture off with audit.withoutAuditing, keeping audit.forceLog deletes',
    async () => {
      for (const client of fx.clients) {
        await fx.reset();
        await fx.audit.withoutAuditing(async () => {
          const id = await client.insertOrder(order);
          await client.setStatus(id, 'imported');
          await fx.audit.forceLog(() => client.deleteOrder(id));
        });
        expect(
          (await fx.changes()).map((e) => e.action),
          client.name,
        ).toEqual(['record.deleted']);
      }
    },
  );
});
