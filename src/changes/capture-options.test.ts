import { sql as drizzleSql, eq } from 'drizzle-orm';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { AuditkitError } from '../core/errors.js';
import { forceLog, withoutAuditing } from './capture.js';
import { fromDrizzle } from './drizzle/index.js';
import { fromKysely } from './kysely/index.js';
import {
  CAPTURE_OPTIONS,
  type CaptureFixture,
  drizzleOrders,
  pgliteFixture,
  postgresFixture,
  typeormNotes,
  typeormOrders,
} from './testing/fixtures.js';
import { FORCE_LOG_DATA_KEY } from './typeorm/index.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

/** Per-table settings on top of the shared ones: an include list, forced deletes, a table switched off. */
const OPTIONS = {
  ...CAPTURE_OPTIONS,
  tables: {
    ...CAPTURE_OPTIONS.tables,
    order_lines: { include: ['qty'], forceLogDeletes: true },
    tags: false,
  },
};

const databases: { name: string; skip: boolean; make: () => Promise<CaptureFixture> }[] = [
  { name: 'PGlite', skip: false, make: () => pgliteFixture(OPTIONS) },
  {
    name: `PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`,
    skip: !url,
    make: () => postgresFixture(url, OPTIONS),
  },
];

const order = { customer: 'ada', status: 'new', total: 120 };

describe.each(databases)('capture settings and adapter details on $name', ({ skip, make }) => {
  let fx: CaptureFixture;
  beforeAll(async () => {
    if (!skip) fx = await make();
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(async () => {
    if (!fx) return;
    await fx.reset();
    fx.errors.length = 0;
  });

  it.skipIf(skip)('records only included columns, nothing of a table switched off', async () => {
    for (const client of fx.clients) {
      await fx.reset();
      await client.insertLine({ order_id: 1, line_no: 1, sku: 'A-1', qty: 2 });
      await client.setLineQty(1, 1, 5);
      await fx.sql("UPDATE tags SET name = 'crimson' WHERE id = 1");
      const events = await fx.changes();
      expect(
        events.map((e) => e.changes),
        client.name,
      ).toEqual([{ qty: [null, 2] }, { qty: [2, 5] }]);
    }
    await fx.reset();
    await fx.kysely.updateTable('tags').set({ name: 'scarlet' }).where('id', '=', 1).execute();
    expect(await fx.changes()).toHaveLength(0);
  });

  it.skipIf(skip)('records deletes of a forceLogDeletes table even inside withoutAuditing', async () => {
    for (const client of fx.clients) {
      await fx.reset();
      await withoutAuditing(async () => {
        await client.insertLine({ order_id: 2, line_no: 1, sku: 'B-1', qty: 1 });
        await fx.sql('DELETE FROM order_lines');
        await client.insertLine({ order_id: 2, line_no: 1, sku: 'B-1', qty: 1 });
        await fx.kysely.deleteFrom('order_lines').where('order_id', '=', 2).execute();
      });
      expect((await fx.changes()).map((e) => e.action)).toEqual(['record.deleted']);
    }
  });

  it.skipIf(skip)(
    'applies runWithContext, withoutAuditing and forceLog to Drizzle statements returned unawaited',
    async () => {
      await withoutAuditing(() => fx.drizzle.insert(drizzleOrders).values(order));
      await fx.audit.runWithContext({ actor: 'u5' }, () => fx.drizzle.insert(drizzleOrders).values(order));
      await withoutAuditing(async () => {
        await forceLog(() => fx.drizzle.delete(drizzleOrders).where(eq(drizzleOrders.customer, 'ada')));
      });
      expect((await fx.changes()).map((e) => [e.action, e.actor.id])).toEqual([
        ['record.created', 'u5'],
        ['record.deleted', undefined],
        ['record.deleted', undefined],
      ]);
    },
  );

  it.skipIf(skip)('records what queries return unchanged: no capture column reaches the app', async () => {
    const inserted = await fx.kysely
      .insertInto('orders')
      .values(order)
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(Object.keys(inserted).sort()).toEqual(['customer', 'iban', 'id', 'note', 'status', 'total']);
    const updated = await fx.kysely
      .updateTable('orders')
      .set({ status: 'paid' })
      .where('id', '=', inserted.id)
      .executeTakeFirst();
    expect(Number(updated.numUpdatedRows)).toBe(1);
    const rows = await fx.drizzle
      .update(drizzleOrders)
      .set({ status: 'shipped' })
      .where(eq(drizzleOrders.id, inserted.id))
      .returning({ id: drizzleOrders.id, status: drizzleOrders.status });
    expect(rows).toEqual([{ id: inserted.id, status: 'shipped' }]);
    const deleted = await fx.kysely.deleteFrom('orders').where('id', '=', inserted.id).executeTakeFirst();
    expect(Number(deleted.numDeletedRows)).toBe(1);
    expect((await fx.changes()).map((e) => e.action)).toEqual([
      'record.created',
      'record.updated',
      'record.updated',
      'record.deleted',
    ]);
  });

  it.skipIf(skip)(
    'reads the before-image of an update that joins another table (UPDATE ... FROM)',
    async () => {
      const id = await fx.clients[0]?.insertOrder(order);
      await fx.sql(`INSERT INTO order_lines VALUES (${id}, 1, 'A-1', 3)`);
      await fx.kysely
        .updateTable('orders')
        .from('order_lines')
        .set({ status: 'picked' })
        .whereRef('order_lines.order_id', '=', 'orders.id')
        .where('order_lines.qty', '>', 2)
        .execute();
      await fx.drizzle
        .update(drizzleOrders)
        .set({ status: 'packed' })
        .from(drizzleSql`order_lines`)
        .where(drizzleSql`order_lines.order_id = ${drizzleOrders.id}`);
      const updates = (await fx.changes()).filter((e) => e.action === 'record.updated');
      expect(updates.map((e) => e.changes)).toEqual([
        { status: ['new', 'picked'] },
        { status: ['picked', 'packed'] },
      ]);
    },
  );

  it.skipIf(skip)(
    'captures statements of db.with(...) in Drizzle and keeps raw transactions on one Kysely connection',
    async () => {
      const id = (await fx.clients[0]?.insertOrder(order)) as number;
      const cte = fx.drizzle
        .$with('target')
        .as(fx.drizzle.select({ id: drizzleOrders.id }).from(drizzleOrders));
      await fx.drizzle
        .with(cte)
        .update(drizzleOrders)
        .set({ status: 'via-cte' })
        .where(drizzleSql`${drizzleOrders.id} IN (SELECT id FROM ${cte})`);
      await fx.kysely.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
        await conn.updateTable('orders').set({ status: 'rolled-back' }).where('id', '=', id).execute();
        await sql`rollback`.execute(conn);
      });
      const [row] = await fx.sql<{ status: string }>(`SELECT status FROM orders WHERE id = ${id}`);
      expect(row?.status).toBe('via-cte');
      expect((await fx.changes()).map((e) => e.changes?.status)).toEqual([
        [null, 'new'],
        ['new', 'via-cte'],
      ]);
    },
  );

  it.skipIf(skip)('runs a streamed Kysely write whole, records it, and streams its rows', async () => {
    const id = (await fx.clients[0]?.insertOrder(order)) as number;
    const streamed: unknown[] = [];
    for await (const row of fx.kysely
      .updateTable('orders')
      .set({ status: 'streamed' })
      .where('id', '=', id)
      .returning(['id', 'status'])
      .stream()) {
      streamed.push(row);
    }
    expect(streamed).toEqual([{ id, status: 'streamed' }]);
    expect((await fx.changes()).at(-1)?.changes).toEqual({ status: ['new', 'streamed'] });
  });

  it.skipIf(skip)('refuses a prepared Drizzle write it cannot capture, with a typed error', () => {
    expect(() => fx.drizzle.delete(drizzleOrders).where(eq(drizzleOrders.id, 1)).prepare('del')).toThrow(
      AuditkitError,
    );
  });

  it.skipIf(skip)('runs fromKysely and fromDrizzle statements inside the caller’s transaction', async () => {
    const seen: unknown[] = [];
    await fx.kysely.transaction().execute(async (trx) => {
      const port = fromKysely(trx);
      await port.executeSql("SELECT set_config('auditkit.test', $1, true)", ['kysely']);
      seen.push((await port.executeSql("SELECT current_setting('auditkit.test') AS v", [])).rows[0]?.v);
    });
    await fx.drizzle.transaction(async (tx: unknown) => {
      const port = fromDrizzle(tx);
      await port.executeSql("SELECT set_config('auditkit.test', $1, true)", ['drizzle']);
      seen.push((await port.executeSql("SELECT current_setting('auditkit.test') AS v", [])).rows[0]?.v);
    });
    expect(seen).toEqual(['kysely', 'drizzle']);
  });

  it.skipIf(skip)('records the change when the actor source throws, and reports the failure', async () => {
    for (const client of fx.clients) {
      await fx.reset();
      fx.errors.length = 0;
      await fx.audit.runWithContext(
        {
          actor: () => {
            throw new Error('session store down');
          },
          requestId: 'req-1',
        },
        () => client.insertOrder(order),
      );
      const [event] = await fx.changes();
      expect(event?.actor, client.name).toEqual({ type: 'anonymous' });
      expect(event?.correlation?.requestId).toBe('req-1');
      expect(fx.errors.map((e) => e.code)).toEqual(['actor_resolution_failed']);
    }
  });

  it.skipIf(skip)('records a table without a primary key without target.id, and says so once', async () => {
    await fx.sql('CREATE TABLE IF NOT EXISTS logbook (line text)');
    await fx.kysely.insertInto('logbook').values({ line: 'one' }).execute();
    await fx.kysely.insertInto('logbook').values({ line: 'two' }).execute();
    const events = await fx.changes();
    expect(events.map((e) => [e.target, e.changes])).toEqual([
      [{ type: 'logbook' }, { line: [null, 'one'] }],
      [{ type: 'logbook' }, { line: [null, 'two'] }],
    ]);
    expect(fx.errors.map((e) => e.code)).toEqual(['no_primary_key']);
  });

  it.skipIf(skip)(
    'fails the change with a typed error when its event cannot be written, leaving no change',
    async () => {
      const id = (await fx.clients[0]?.insertOrder(order)) as number;
      const broken = fx.kyselyWith({ eventsTable: '"no_such_schema"."audit_events"' });
      try {
        const failed = await broken
          .updateTable('orders')
          .set({ status: 'lost' })
          .where('id', '=', id)
          .execute()
          .catch((error: unknown) => error);
        expect(failed).toBeInstanceOf(AuditkitError);
        expect((failed as AuditkitError).code).toBe('write_failed');
        expect((failed as AuditkitError).message).toMatch(/audit\.migrate\(\)/);
        const [row] = await fx.sql<{ status: string }>(`SELECT status FROM orders WHERE id = ${id}`);
        expect(row?.status).toBe('new');
      } finally {
        await broken.destroy();
      }
    },
  );
});

describe.skipIf(!url)('TypeORM specifics on PostgreSQL', () => {
  let fx: Awaited<ReturnType<typeof postgresFixture>>;
  beforeAll(async () => {
    fx = await postgresFixture(url, OPTIONS);
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(async () => {
    await fx.reset();
    fx.errors.length = 0;
  });

  it('records a remove() marked forceLog inside withoutAuditing', async () => {
    const orders = fx.dataSource.getRepository(typeormOrders);
    await withoutAuditing(async () => {
      const saved = await orders.save(orders.create(order));
      await orders.remove(saved, { data: { [FORCE_LOG_DATA_KEY]: true } });
    });
    expect((await fx.changes()).map((e) => e.action)).toEqual(['record.deleted']);
  });

  it('records repository.insert() and softRemove-free updates through save()', async () => {
    const orders = fx.dataSource.getRepository(typeormOrders);
    await orders.insert([order, { ...order, customer: 'bob' }]);
    const events = await fx.changes();
    expect(events.map((e) => [e.action, e.target?.id, e.changes?.customer])).toEqual([
      ['record.created', '1', [null, 'ada']],
      ['record.created', '2', [null, 'bob']],
    ]);
  });

  it('records softRemove() and recover() as updates of the deletion column', async () => {
    const notes = fx.dataSource.getRepository(typeormNotes);
    const note = await notes.save(notes.create({ body: 'hello' }));
    await notes.softRemove(note);
    await notes.recover(note);
    const events = await fx.changes();
    expect(events.map((e) => [e.action, Object.keys(e.changes ?? {})])).toEqual([
      ['record.created', ['id', 'body', 'deleted_at']],
      ['record.updated', ['deleted_at']],
      ['record.updated', ['deleted_at']],
    ]);
    const removedAt = events[1]?.changes?.deleted_at as [null, string];
    expect(removedAt[0]).toBeNull();
    expect(Number.isNaN(Date.parse(removedAt[1]))).toBe(false);
    expect(events[2]?.changes?.deleted_at).toEqual([removedAt[1], null]);
  });

  it('reports QueryBuilder updates and deletes it cannot see, once per table and kind', async () => {
    const orders = fx.dataSource.getRepository(typeormOrders);
    await orders.insert(order);
    await orders.update({ customer: 'ada' }, { status: 'bulk' });
    await orders.update({ customer: 'ada' }, { status: 'bulk-2' });
    await orders.delete({ customer: 'ada' });
    expect(fx.errors.map((e) => [e.code, e.message.split(':')[0]])).toEqual([
      ['change_not_captured', 'A TypeORM QueryBuilder update of orders left no change event'],
      ['change_not_captured', 'A TypeORM QueryBuilder delete of orders left no change event'],
    ]);
    expect((await fx.changes()).map((e) => e.action)).toEqual(['record.created']);
  });

  it('fails save() with a typed error when its event cannot be written, and rolls it back', async () => {
    const { DataSource } = await import('typeorm');
    const { auditSubscriber } = await import('./typeorm/index.js');
    const options = fx.dataSource.options as { url: string; schema: string; extra: unknown };
    const broken = new DataSource({
      type: 'postgres',
      url: options.url,
      schema: options.schema,
      extra: options.extra,
      entities: fx.dataSource.options.entities,
    });
    await broken.initialize();
    broken.subscribers.push(auditSubscriber(fx.audit, { eventsTable: '"no_such_schema"."audit_events"' }));
    try {
      const orders = broken.getRepository(typeormOrders);
      await expect(orders.save(orders.create(order))).rejects.toMatchObject({ code: 'write_failed' });
      const [count] = await fx.sql<{ n: number }>('SELECT count(*)::int AS n FROM orders');
      expect(count?.n).toBe(0);
    } finally {
      await broken.destroy();
    }
  });
});
