import type { Server } from 'node:http';
import express from 'express';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AuditContextInput } from '../core/context.js';
import type { AuditEvent } from '../core/event.js';
import { auditMiddleware } from '../http/express/index.js';
import {
  CAPTURE_OPTIONS,
  type CaptureFixture,
  type FixtureAuditorOptions,
  type OrmClient,
  pgliteFixture,
  postgresFixture,
} from './testing/fixtures.js';
import { rawSqlClient } from './testing/raw-sql-client.js';
import type { TransactionClient } from './triggers/transaction-context.js';
import { type AuditTriggers, auditTriggers } from './triggers/trigger-installer.js';
import type { TriggerTableOptions } from './triggers/trigger-options.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

/** The auditor masks a key of its own (`ssn`) besides the default secret names. */
const AUDITOR_OPTIONS: FixtureAuditorOptions = { redact: { keys: ['ssn'] } };

const databases: { name: string; skip: boolean; make: () => Promise<CaptureFixture> }[] = [
  { name: 'PGlite', skip: false, make: () => pgliteFixture(CAPTURE_OPTIONS, AUDITOR_OPTIONS) },
  {
    name: `PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`,
    skip: !url,
    make: () => postgresFixture(url, CAPTURE_OPTIONS, AUDITOR_OPTIONS),
  },
];

/** The trigger settings that match the app-level ones of the fixture (`CAPTURE_OPTIONS`). */
const TRIGGER_TABLES: Record<string, TriggerTableOptions> = {
  orders: { mask: ['iban'], exclude: ['note'] },
  order_lines: {},
  order_tags: {
    relation: {
      ownerType: 'orders',
      ownerColumns: 'order_id',
      relatedType: 'tags',
      relatedColumns: 'tag_id',
    },
  },
  users: {},
  profiles: {},
};

const IBAN = 'DE89370400440532013000';
const NEW_IBAN = 'FR1420041010050500013M02606';
const NOTE = 'leave the parcel at the door';
const PASSWORD_HASH = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA';
const SSN = '078-05-1120';
const API_TOKEN = 'tok_live_4f9c2a7e1b';

/** One request's worth of context: every field the events carry from it. */
const CONTEXT: AuditContextInput = {
  actor: async () => ({ id: 'u1', label: 'Ada' }), // resolved when the change is written
  tenantId: 'org_1',
  requestId: 'req-cross',
  traceId: 'trace-cross',
  ip: '203.0.113.7',
  userAgent: 'cross-client-test',
  request: { method: 'POST', path: '/orders', route: '/orders' },
  metadata: { channel: 'api', apiKey: 'k-123' },
};

/**
 * The same changes, whatever makes them: an insert, an update of some columns (a masked one among
 * them), a no-op update, an update of an excluded column only, a composite key, an upsert that inserts
 * and one that updates, join-table links added and removed, a secret-named column, JSON with secrets
 * inside, and deletes.
 */
async function script(client: OrmClient): Promise<void> {
  const id = await client.insertOrder({ customer: 'ada', status: 'new', total: 120, iban: IBAN, note: NOTE });
  await client.updateOrder(id, { status: 'paid', iban: NEW_IBAN });
  await client.setStatus(id, 'paid'); // changes nothing: no event
  await client.updateOrder(id, { note: 'ring twice' }); // only an excluded column: no event
  await client.updateOrder(id, { iban: null, total: 99 });
  await client.insertLine({ order_id: id, line_no: 1, sku: 'A-1', qty: 2 });
  await client.setLineQty(id, 1, 3);
  await client.upsertLine({ order_id: id, line_no: 2, sku: 'B-2', qty: 1 }); // a new row
  await client.upsertLine({ order_id: id, line_no: 2, sku: 'B-2', qty: 4 }); // the row it met
  await client.addTag(id, 1);
  await client.addTag(id, 2);
  await client.removeTag(id, 1);
  const user = await client.insertUser('ada@example.com', PASSWORD_HASH);
  const profile = await client.insertProfile({ plan: 'pro', ssn: SSN, nested: { api_token: API_TOKEN } });
  await client.setProfile(profile, { plan: 'team', ssn: SSN, nested: { api_token: API_TOKEN } });
  await client.deleteUser(user);
  await client.deleteLine(id, 1);
  await client.deleteLine(id, 2);
  await client.removeTag(id, 2);
  await client.deleteOrder(id);
}

/** The actions `script` records, in order. */
const SCRIPT_ACTIONS = [
  'record.created orders',
  'record.updated orders',
  'record.updated orders',
  'record.created order_lines',
  'record.updated order_lines',
  'record.created order_lines',
  'record.updated order_lines',
  'relation.added orders',
  'relation.added orders',
  'relation.removed orders',
  'record.created users',
  'record.created profiles',
  'record.updated profiles',
  'record.deleted users',
  'record.deleted order_lines',
  'record.deleted order_lines',
  'relation.removed orders',
  'record.deleted orders',
];

/** An event as stored, without what differs from one run to the next: its id and its time. */
function comparable(event: AuditEvent): Omit<AuditEvent, 'id' | 'occurredAt'> {
  const { id: _id, occurredAt: _at, ...rest } = event;
  return rest;
}

describe.each(databases)(
  'the same changes through raw SQL with triggers and each ORM on $name',
  ({ skip, make }) => {
    let fx: CaptureFixture;
    let triggers: AuditTriggers;
    /** What raw SQL runs on: a checked-out `pg` client, or the PGlite database. */
    let rawClient: TransactionClient;
    let release = () => {};
    const qualified = (table: string) => `"${fx.schema}".${table}`;
    const installTriggers = () =>
      triggers.install(
        Object.fromEntries(
          Object.entries(TRIGGER_TABLES).map(([name, options]) => [qualified(name), options]),
        ),
      );
    const uninstallTriggers = () => triggers.uninstall(Object.keys(TRIGGER_TABLES).map(qualified));

    beforeAll(async () => {
      if (skip) return;
      fx = await make();
      triggers = auditTriggers(fx.audit);
      if ('totalCount' in fx.client) {
        const client = await (fx.client as pg.Pool).connect();
        rawClient = client;
        release = () => client.release();
      } else {
        rawClient = fx.client;
      }
    });
    afterAll(async () => {
      release();
      await fx?.close();
    });
    beforeEach(async () => {
      if (skip) return;
      await uninstallTriggers();
      await fx.reset();
    });

    /** Runs the script through `client` in the shared context and returns what was stored. */
    const recorded = async (client: OrmClient) => {
      await fx.reset();
      await fx.audit.runWithContext(CONTEXT, () => script(client));
      return (await fx.changes()).map(comparable);
    };

    it.skipIf(skip)(
      'stores field for field the same events from raw SQL with triggers as from each ORM with app-level capture',
      async () => {
        await installTriggers();
        const fromTriggers = await recorded(rawSqlClient(fx.audit, rawClient));
        await uninstallTriggers();

        expect(fromTriggers.map((e) => `${e.action} ${e.target?.type}`)).toEqual(SCRIPT_ACTIONS);
        // What every event carries from the context, masked like any event.
        for (const event of fromTriggers) {
          expect(event).toMatchObject({
            category: 'change',
            outcome: 'success',
            tenantId: 'org_1',
            actor: {
              type: 'user',
              id: 'u1',
              label: 'Ada',
              ip: '203.0.113.7',
              userAgent: 'cross-client-test',
            },
            correlation: { requestId: 'req-cross', traceId: 'trace-cross' },
            request: { id: 'req-cross', method: 'POST', path: '/orders', route: '/orders' },
            metadata: { channel: 'api', apiKey: '[REDACTED]' },
          });
        }
        expect(fromTriggers[0]?.changes).toEqual({
          id: [null, 1],
          customer: [null, 'ada'],
          status: [null, 'new'],
          total: [null, 120],
          iban: [null, '[REDACTED]'],
        });
        expect(fromTriggers[1]?.changes).toEqual({
          status: ['new', 'paid'],
          iban: ['[REDACTED]', '[REDACTED]'],
        });
        expect(fromTriggers[2]?.changes).toEqual({ total: [120, 99], iban: ['[REDACTED]', null] });
        expect(fromTriggers[3]?.target).toEqual({ type: 'order_lines', id: '["1","1"]' });
        expect(fromTriggers[6]?.changes).toEqual({ qty: [1, 4] });
        expect(fromTriggers[7]).toMatchObject({
          target: { type: 'orders', id: '1' },
          changes: { tags: [null, '1'] },
        });
        expect(fromTriggers[10]?.changes?.password_hash).toEqual([null, '[REDACTED]']);
        expect(fromTriggers[11]?.changes?.settings).toEqual([
          null,
          { plan: 'pro', ssn: '[REDACTED]', nested: { api_token: '[REDACTED]' } },
        ]);

        for (const client of fx.clients) {
          const fromApp = await recorded(client);
          expect(fromApp, client.name).toEqual(fromTriggers);
        }
        const stored = await fx.sql<{ data: string }>('SELECT data::text AS data FROM audit_events');
        for (const secret of [IBAN, NEW_IBAN, NOTE, PASSWORD_HASH, SSN, API_TOKEN, 'k-123']) {
          expect(stored.map((r) => r.data).join('\n')).not.toContain(secret);
        }
      },
    );

    it.skipIf(skip)(
      'records each change once, by the triggers, when app-level capture is on for the same tables too',
      async () => {
        await installTriggers();
        const fromTriggers = await recorded(rawSqlClient(fx.audit, rawClient));
        expect(fromTriggers).toHaveLength(SCRIPT_ACTIONS.length);
        // Each ORM's adapter sees the triggers and only hands them the context of its transaction.
        for (const client of fx.clients) {
          expect(await recorded(client), client.name).toEqual(fromTriggers);
        }
        expect(fx.errors).toEqual([]);
      },
    );

    it.skipIf(skip)(
      'gives a trigger the actor and request of a real HTTP request through withTransactionContext, as app-level capture gets them',
      async () => {
        // Triggers on orders only: the order's change is the trigger's, the order line's app-level capture's.
        await triggers.install(qualified('orders'), TRIGGER_TABLES.orders);
        const kysely = fx.clients.find((c) => c.name === 'kysely') as OrmClient;
        const raw = rawSqlClient(fx.audit, fx.client as TransactionClient);
        const id = await raw.insertOrder({ customer: 'ada', status: 'new', total: 1 });
        await kysely.insertLine({ order_id: id, line_no: 1, sku: 'A-1', qty: 1 });

        const app = express();
        app.use(
          auditMiddleware(fx.audit, {
            actor: (req) => ({ id: String(req.headers['x-user']), label: 'Clerk' }),
          }),
        );
        app.post('/orders/:id/ship', async (req, res) => {
          const orderId = Number(req.params.id);
          await raw.setStatus(orderId, 'shipped');
          await kysely.setLineQty(orderId, 1, 5);
          res.json({ ok: true });
        });
        const server = await new Promise<Server>((resolve) => {
          const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
        });
        try {
          const { port } = server.address() as { port: number };
          const response = await fetch(`http://127.0.0.1:${port}/orders/${id}/ship`, {
            method: 'POST',
            headers: { 'x-user': 'clerk-7', 'user-agent': 'shop-frontend/2.1' },
          });
          expect(response.status).toBe(200);
          const requestId = response.headers.get('x-request-id');
          const updates = (await fx.changes()).filter((e) => e.action === 'record.updated');
          expect(updates.map((e) => e.target?.type)).toEqual(['orders', 'order_lines']);
          const [byTrigger, byApp] = updates;
          const context = (e: AuditEvent | undefined) => ({
            actor: e?.actor,
            tenantId: e?.tenantId,
            correlation: e?.correlation,
            request: e?.request,
            metadata: e?.metadata,
          });
          expect(context(byTrigger)).toEqual(context(byApp));
          expect(byTrigger?.actor).toMatchObject({
            type: 'user',
            id: 'clerk-7',
            label: 'Clerk',
            ip: '127.0.0.1',
          });
          expect(byTrigger?.correlation?.requestId).toBe(requestId);
          expect(byTrigger?.request).toMatchObject({
            id: requestId,
            method: 'POST',
            path: `/orders/${id}/ship`,
          });
          expect(byTrigger?.changes).toEqual({ status: ['new', 'shipped'] });
        } finally {
          await new Promise((resolve) => server.close(resolve));
        }
      },
    );
  },
);
