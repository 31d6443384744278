import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { refreshCaptureCatalog } from './capture.js';
import {
  CAPTURE_OPTIONS,
  type CaptureFixture,
  pgliteFixture,
  postgresFixture,
  typeormLines,
  typeormOrders,
} from './testing/fixtures.js';
import { type AuditTriggers, auditTriggers } from './triggers/trigger-installer.js';
import { TRIGGER_NAMES } from './triggers/trigger-sql.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

type Fixture = CaptureFixture & Partial<Awaited<ReturnType<typeof postgresFixture>>>;

const databases: { name: string; skip: boolean; typeorm: boolean; make: () => Promise<Fixture> }[] = [
  { name: 'PGlite', skip: false, typeorm: false, make: () => pgliteFixture() },
  {
    name: `PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`,
    skip: !url,
    typeorm: true, // TypeORM runs on PostgreSQL only
    make: () => postgresFixture(url),
  },
];

const order = { customer: 'ada', status: 'new', total: 120 };
const ORDERS_TRIGGER = { mask: ['iban'], exclude: ['note'] };

describe.each(databases)('app-level capture beside audit triggers on $name', ({ skip, typeorm, make }) => {
  let fx: Fixture;
  let triggers: AuditTriggers;
  const qualified = (table: string) => `"${fx.schema}".${table}`;

  beforeAll(async () => {
    if (skip) return;
    fx = await make();
    triggers = auditTriggers(fx.audit);
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(async () => {
    if (skip) return;
    await triggers.uninstall(['orders', 'order_lines', 'order_tags', 'tags'].map(qualified));
    await fx.reset();
    fx.errors.length = 0;
  });

  /** `[action, target type, actor id]` of every change event, oldest first. */
  const recorded = async () => (await fx.changes()).map((e) => [e.action, e.target?.type, e.actor.id]);

  it.skipIf(skip)(
    'hands its context to the triggers for what it cannot capture itself: a MERGE, a table it is told to skip',
    async () => {
      await triggers.install({ [qualified('orders')]: ORDERS_TRIGGER, [qualified('tags')]: {} });
      const skipping = fx.kyselyWith({
        ...CAPTURE_OPTIONS,
        tables: { ...CAPTURE_OPTIONS.tables, tags: false },
      });
      try {
        await fx.audit.runWithContext({ actor: 'merger' }, async () => {
          await skipping.insertInto('orders').values(order).execute();
          await skipping
            .mergeInto('orders as o')
            .using('tags as t', 'o.id', 't.id')
            .whenMatched()
            .thenUpdateSet({ status: 'merged' })
            .execute();
          await skipping.updateTable('tags').set({ name: 'crimson' }).where('id', '=', 1).execute();
        });
      } finally {
        await skipping.destroy();
      }
      expect(await recorded()).toEqual([
        ['record.created', 'orders', 'merger'],
        ['record.updated', 'orders', 'merger'],
        ['record.updated', 'tags', 'merger'],
      ]);
      expect(fx.errors).toEqual([]);
    },
  );

  it.skipIf(skip || !typeorm)(
    'gives the triggers the context of TypeORM QueryBuilder writes in a transaction, and says when there is none',
    async () => {
      await triggers.install({ [qualified('orders')]: ORDERS_TRIGGER, [qualified('order_lines')]: {} });
      const dataSource = fx.dataSource as NonNullable<Fixture['dataSource']>;
      await fx.audit.runWithContext({ actor: 'clerk' }, async () => {
        await dataSource.transaction(async (manager) => {
          await manager.getRepository(typeormOrders).insert(order);
          await manager.getRepository(typeormOrders).update({ customer: 'ada' }, { status: 'bulk' });
          await manager.getRepository(typeormOrders).delete({ customer: 'ada' });
        });
        // Outside a transaction no context can reach the trigger: recorded as the database user.
        await dataSource.getRepository(typeormLines).insert({ order_id: 1, line_no: 1, sku: 'A', qty: 1 });
        await dataSource.getRepository(typeormLines).insert({ order_id: 1, line_no: 2, sku: 'B', qty: 1 });
      });
      const [user] = await fx.sql<{ name: string }>('SELECT session_user::text AS name');
      expect(await recorded()).toEqual([
        ['record.created', 'orders', 'clerk'],
        ['record.updated', 'orders', 'clerk'],
        ['record.deleted', 'orders', 'clerk'],
        ['record.created', 'order_lines', user?.name],
        ['record.created', 'order_lines', user?.name],
      ]);
      expect(fx.errors.map((e) => [e.code, e.message.split(':')[0]])).toEqual([
        ['change_context_lost', 'A TypeORM write of order_lines ran outside a transaction'],
      ]);
    },
  );

  it.skipIf(skip)('records the change itself when the triggers were dropped behind its back', async () => {
    await triggers.install(qualified('orders'), ORDERS_TRIGGER);
    for (const client of fx.clients) {
      await fx.reset();
      const id = await client.insertOrder(order); // by the triggers: the adapter now knows of them
      for (const name of Object.values(TRIGGER_NAMES)) {
        await fx.sql(`DROP TRIGGER IF EXISTS ${name} ON orders`);
      }
      await client.setStatus(id, 'paid'); // no trigger left: the adapter records it, once
      await client.deleteOrder(id);
      expect(
        (await fx.changes()).map((e) => e.action),
        client.name,
      ).toEqual(['record.created', 'record.updated', 'record.deleted']);
      await triggers.install(qualified('orders'), ORDERS_TRIGGER);
    }
  });

  it.skipIf(skip)(
    'records twice while triggers installed elsewhere are unknown to it, once after refreshCaptureCatalog()',
    async () => {
      const migration = await triggers.installSql(qualified('orders'), ORDERS_TRIGGER);
      for (const client of fx.clients) {
        await triggers.uninstall(qualified('orders'));
        await fx.reset();
        const id = await client.insertOrder(order); // no triggers yet: the adapter records it
        await fx.sql(migration); // another process installs them (a migration, the CLI)
        await client.setStatus(id, 'paid'); // the adapter has not heard of them yet: both record it
        refreshCaptureCatalog();
        await client.setStatus(id, 'shipped'); // now only the triggers do
        expect(
          (await fx.changes()).map((e) => [e.action, e.changes?.status]),
          client.name,
        ).toEqual([
          ['record.created', [null, 'new']],
          ['record.updated', ['new', 'paid']],
          ['record.updated', ['new', 'paid']],
          ['record.updated', ['paid', 'shipped']],
        ]);
      }
    },
  );

  it.skipIf(skip)(
    'hands the context over inside the transaction it opens for a statement, not beyond',
    async () => {
      await triggers.install(qualified('orders'), ORDERS_TRIGGER);
      const left = await fx.kysely.connection().execute(async (db) => {
        await fx.audit.runWithContext({ actor: 'one' }, () =>
          db.insertInto('orders').values(order).execute(),
        );
        const [row] = await db
          .selectNoFrom(sql<string | null>`current_setting('auditkit.context', true)`.as('context'))
          .execute();
        return row?.context ?? '';
      });
      expect(left).toBe(''); // the next statement on the connection runs without it
      expect(await recorded()).toEqual([['record.created', 'orders', 'one']]);
    },
  );
});
