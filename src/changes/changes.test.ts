import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { forceLog, withoutAuditing } from './capture.js';
import { type CaptureFixture, pgliteFixture, postgresFixture, shape } from './testing/fixtures.js';

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
});
