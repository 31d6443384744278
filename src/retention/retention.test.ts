import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestSchema } from '../../test/helpers/postgres-server.js';
import { createAuditor } from '../core/auditor.js';
import type { AuditEvent, Category } from '../core/event.js';
import { generateSigningKeys } from '../integrity/keys.js';
import { seal } from '../integrity/sealer.js';
import { verify } from '../integrity/verify.js';
import { pgliteStore } from '../store/pglite/index.js';
import { postgresStore } from '../store/postgres/index.js';
import type { SqlAuditStore } from '../store/sql/sql-audit-store.js';
import { cleanup } from './cleanup.js';
import { erase } from './erase.js';
import { cutoffsOf } from './policy.js';
import { pseudonymOf } from './pseudonym.js';
import { scrubEvent } from './scrub.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');
const keys = generateSigningKeys();
const NOW = new Date('2026-11-15T12:00:00.000Z');
const DAY = 86_400_000;
const PSEUDONYM_KEY = 'k'.repeat(32);

function event(daysAgo: number, category: Category, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomUUID(),
    occurredAt: new Date(NOW.getTime() - daysAgo * DAY + Math.floor(Math.random() * 1000)),
    category,
    action: `${category}.happened`,
    outcome: 'success',
    tenantId: 'org_r',
    actor: { type: 'user', id: 'u_other', label: 'Bob Builder', ip: '198.51.100.20' },
    ...overrides,
  };
}

async function count(store: SqlAuditStore, where = 'true'): Promise<number> {
  const rows = await store.executor.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${store.table} WHERE ${where}`,
  );
  return rows.rows[0]?.n ?? 0;
}

/** Every value of every row of every table in the store's schema, as one text. */
async function everything(store: SqlAuditStore): Promise<string> {
  const tables = (
    await store.executor.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1`,
      [store.schema],
    )
  ).rows;
  const out: string[] = [];
  for (const { name } of tables) {
    const rows = (await store.executor.query(`SELECT * FROM "${store.schema}"."${name}"`)).rows;
    out.push(JSON.stringify(rows));
  }
  return out.join('\n');
}

function retentionSuite(name: string, makeStore: () => Promise<SqlAuditStore>): void {
  /** 40 events over 200 days (access, auth, change alternating), sealed with checkpoints every 5. */
  const history = async () => {
    const store = await makeStore();
    await store.migrate();
    const categories: Category[] = ['access', 'auth', 'change', 'access'];
    const events = Array.from({ length: 40 }, (_, i) => event(200 - i * 5, categories[i % 4] as Category));
    await store.append(events);
    await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 5, checkpointNow: true });
    return { store, events };
  };

  describe(`${name}: retention`, () => {
    it('a dry run counts what would go and changes nothing', async () => {
      const { store } = await history();
      const before = await everything(store);
      const report = await cleanup(store, { days: 90, dryRun: true, now: () => NOW });
      // Days 200..90 exclusive: events 0..21 (22 events), of which access 11, auth 6, change 5.
      expect(report).toMatchObject({
        dryRun: true,
        removed: 22,
        byCategory: { access: 11, auth: 6, change: 5 },
      });
      expect(await everything(store)).toBe(before);
      await store.close();
    });

    it('removes one category in batches and leaves tombstones, so the chain still verifies', async () => {
      const { store } = await history();
      const progress: number[] = [];
      const report = await cleanup(store, {
        days: 90,
        categories: ['access'],
        batchSize: 4,
        signingKey: keys.privateKeyPem,
        now: () => NOW,
        onProgress: (n) => progress.push(n),
      });
      expect(report).toMatchObject({
        removed: 11,
        byCategory: { access: 11 },
        batches: 3,
        skippedUnsealed: 0,
      });
      expect(progress).toEqual([4, 8, 11]);
      expect(
        await count(
          store,
          `category = 'access' AND occurred_at < '${new Date(NOW.getTime() - 90 * DAY).toISOString()}'`,
        ),
      ).toBe(0);
      expect(await count(store, "action <> 'retention.purged'")).toBe(29);
      // The first event was an access event, so no checkpoint lies wholly before the cut: no anchor, and the
      // tombstones keep the chain linked from seq 1.
      await seal(store, { signingKey: keys.privateKeyPem, checkpointNow: true });
      const verified = await verify(store, { publicKey: keys.publicKeyPem });
      expect(verified.ok).toBe(true);
      expect(verified.chains.find((c) => c.tenantId === 'org_r')).toMatchObject({ removed: 11, fromSeq: 1 });
      await store.close();
    });

    it('removes everything older than the cut, moves the anchor to the checkpoint at the cut, and verify starts there', async () => {
      const { store } = await history();
      const report = await cleanup(store, { days: 90, signingKey: keys.privateKeyPem, now: () => NOW });
      expect(report.removed).toBe(22);
      // Checkpoints cover 1-5, 6-10, ... : the last one before the oldest kept event (seq 23) ends at 20.
      expect(report.anchors).toEqual([expect.objectContaining({ tenantId: 'org_r', seq: 20 })]);
      // Seals of removed events behind the anchor are gone; seq 21-22 keep theirs, marked removed.
      const tombs = await store.executor.query<{ seq: string }>(
        `SELECT seq FROM "${store.schema}".audit_seals WHERE removed IS NOT NULL ORDER BY seq`,
      );
      expect(tombs.rows.map((r) => Number(r.seq))).toEqual([21, 22]);
      await seal(store, { signingKey: keys.privateKeyPem, checkpointNow: true });
      const verified = await verify(store, { publicKey: keys.publicKeyPem });
      expect(verified.ok).toBe(true);
      expect(verified.chains.find((c) => c.tenantId === 'org_r')).toMatchObject({
        fromSeq: 21,
        anchor: { seq: 20, cutBefore: new Date(NOW.getTime() - 90 * DAY).toISOString() },
        removed: 2,
      });
      await store.close();
    });

    it('records who ran it, when and what range as a retention.purged event', async () => {
      const { store } = await history();
      const actor = { type: 'user' as const, id: 'admin_1', label: 'Ada Admin' };
      const report = await cleanup(store, {
        days: 150,
        actor,
        signingKey: keys.privateKeyPem,
        now: () => NOW,
      });
      const recorded = await store.get(report.eventId as string);
      expect(recorded).toMatchObject({
        category: 'custom',
        action: 'retention.purged',
        actor,
        target: { type: 'audit_log' },
        metadata: {
          removed: report.removed,
          cutoffs: { access: new Date(NOW.getTime() - 150 * DAY).toISOString() },
        },
      });
      await store.close();
    });

    it('seals what is waiting first, so a late event past the cut goes too and the chain stays whole', async () => {
      const { store } = await history();
      await store.append([event(300, 'access')]);
      const report = await cleanup(store, { days: 90, now: () => NOW });
      expect(report.removed).toBe(23);
      expect(report.skippedUnsealed).toBe(0);
      expect((await verify(store, { publicKey: keys.publicKeyPem })).ok).toBe(true);
      await store.close();
    });

    it('removes events of a store without tamper evidence directly', async () => {
      const store = await makeStore();
      await store.migrate();
      await store.append([event(100, 'access'), event(10, 'access')]);
      const report = await cleanup(store, { days: 30, now: () => NOW });
      expect(report).toMatchObject({ removed: 1, anchors: [] });
      expect(await count(store, "action <> 'retention.purged'")).toBe(1);
      await store.close();
    });

    it('refuses a policy with unknown categories or no retention at all', async () => {
      const store = await makeStore();
      await expect(cleanup(store, { policy: { categories: { nope: 3 } as never } })).rejects.toMatchObject({
        code: 'invalid_config',
      });
      await expect(cleanup(store, {})).rejects.toMatchObject({ code: 'invalid_config' });
      await expect(cleanup(store, { days: 3, policy: { days: 4 } })).rejects.toMatchObject({
        code: 'invalid_config',
      });
      await store.close();
    });
  });

  describe(`${name}: erasure`, () => {
    const alice = {
      id: 'u_alice',
      name: 'Alice Liddell',
      email: 'alice@example.com',
      ip: '203.0.113.77',
    };
    /** Alice logs in, changes her profile, an admin edits her record, Bob mentions her email. */
    const aliceHistory = async () => {
      const store = await makeStore();
      await store.migrate();
      const events = [
        event(10, 'auth', {
          action: 'user.login',
          actor: { type: 'user', id: alice.id, label: alice.name, ip: alice.ip, userAgent: 'Firefox/140' },
          request: { method: 'POST', path: '/login', status: 200, body: { email: alice.email } },
        }),
        event(9, 'change', {
          action: 'user.updated',
          actor: { type: 'user', id: alice.id, label: alice.name, ip: alice.ip },
          target: { type: 'user', id: alice.id, label: alice.name },
          changes: { email: ['alice@old.example.com', alice.email], locale: ['en', 'fr'] },
        }),
        event(8, 'change', {
          action: 'user.role_changed',
          actor: { type: 'user', id: 'u_admin', label: 'Ada Admin', ip: '192.0.2.1' },
          target: { type: 'user', id: alice.id, label: alice.name },
          changes: { role: ['member', 'owner'] },
        }),
        event(7, 'custom', {
          action: 'note.added',
          message: `Bob wrote to ${alice.email.toUpperCase()} about the invoice`,
          metadata: { assignee: alice.id },
        }),
        event(6, 'access', { action: 'http.request' }),
      ];
      await store.append(events);
      await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 2, checkpointNow: true });
      return { store, events };
    };

    it('pseudonymises: no trace of her name, email or IP in any column of any table, and the chain verifies', async () => {
      const { store, events } = await aliceHistory();
      const audit = createAuditor({ store, mode: 'sync', spool: false });
      const report = await erase(audit, {
        subject: alice.id,
        pseudonymKey: PSEUDONYM_KEY,
        actor: { type: 'user', id: 'dpo_1', label: 'Data Protection Officer' },
      });
      const pseudonym = pseudonymOf(alice.id, PSEUDONYM_KEY);
      expect(report).toMatchObject({ mode: 'pseudonymise', pseudonym, changed: 4, deleted: 0 });
      const all = await everything(store);
      for (const trace of [
        alice.id,
        alice.name,
        alice.email,
        'alice@old.example.com',
        alice.ip,
        'Firefox/140',
      ]) {
        expect(all.toLowerCase()).not.toContain(trace.toLowerCase());
      }
      // The trail keeps its shape: "user#… logged in", the admin changed user#…'s role.
      expect(await store.get(events[0]?.id as string)).toMatchObject({
        action: 'user.login',
        actor: { type: 'user', id: pseudonym, label: pseudonym, ip: '[erased]' },
        request: { method: 'POST', status: 200, body: { email: '[erased]' } },
      });
      expect(await store.get(events[2]?.id as string)).toMatchObject({
        actor: { id: 'u_admin', label: 'Ada Admin', ip: '192.0.2.1' },
        target: { id: pseudonym },
        changes: { role: ['[erased]', '[erased]'] },
      });
      expect((await store.get(events[3]?.id as string))?.message).toBe(
        `Bob wrote to ${pseudonym} about the invoice`,
      );
      expect((await store.get(events[4]?.id as string))?.actor.label).toBe('Bob Builder');
      // Search by the pseudonym finds her events.
      expect((await store.query({ actorId: pseudonym })).events).toHaveLength(2);
      const recorded = await store.get(report.eventId as string);
      expect(recorded).toMatchObject({
        action: 'privacy.erased',
        actor: { id: 'dpo_1' },
        target: { type: 'subject', id: pseudonym },
      });
      await seal(store, { signingKey: keys.privateKeyPem, checkpointNow: true });
      expect(await verify(store, { publicKey: keys.publicKeyPem })).toMatchObject({ ok: true, problems: [] });
      await audit.close();
    });

    it('anonymise: the same without a pseudonym, and no key needed', async () => {
      const { store, events } = await aliceHistory();
      const report = await erase(store, { subject: alice.id, mode: 'anonymise', identifiers: [alice.email] });
      expect(report).toMatchObject({ mode: 'anonymise', pseudonym: 'anonymous', changed: 4 });
      expect(await store.get(events[0]?.id as string)).toMatchObject({
        actor: { id: 'anonymous', ip: '[anonymised]' },
      });
      expect((await everything(store)).toLowerCase()).not.toContain(alice.email);
      expect((await verify(store, { publicKey: keys.publicKeyPem })).ok).toBe(true);
      await store.close();
    });

    it('delete: her own events go (tombstones keep the chain), mentions elsewhere are anonymised', async () => {
      const { store, events } = await aliceHistory();
      const report = await erase(store, { subject: alice.id, mode: 'delete' });
      expect(report).toMatchObject({ mode: 'delete', deleted: 3, changed: 1 });
      for (const e of events.slice(0, 3)) expect(await store.get(e.id)).toBeNull();
      expect((await everything(store)).toLowerCase()).not.toContain(alice.email);
      const verified = await verify(store, { publicKey: keys.publicKeyPem });
      expect(verified.ok).toBe(true);
      expect(verified.chains.find((c) => c.tenantId === 'org_r')?.removed).toBe(3);
      await store.close();
    });

    it('a dry run counts and changes nothing; pseudonymising without a key is refused', async () => {
      const { store } = await aliceHistory();
      const before = await everything(store);
      expect(
        await erase(store, { subject: alice.id, pseudonymKey: PSEUDONYM_KEY, dryRun: true }),
      ).toMatchObject({
        changed: 4,
        eventId: null,
      });
      expect(await everything(store)).toBe(before);
      await expect(erase(store, { subject: alice.id })).rejects.toMatchObject({ code: 'invalid_config' });
      await expect(erase(store, { subject: alice.id, pseudonymKey: 'short' })).rejects.toMatchObject({
        code: 'invalid_config',
      });
      await store.close();
    });

    it('verify notices personal data replaced outside an erasure', async () => {
      const { store, events } = await aliceHistory();
      await store.executor.transaction!(async (tx) => {
        await tx.query("SELECT set_config('auditkit.maintenance', 'erasure', true)");
        await tx.query(
          `UPDATE ${store.table} SET data = jsonb_set(data, '{actor,label}', '"Someone"'), actor_label = 'Someone' WHERE id = $1`,
          [events[0]?.id],
        );
        await tx.query(`UPDATE "${store.schema}".audit_seals SET personal_salt = NULL WHERE event_id = $1`, [
          events[0]?.id,
        ]);
      });
      expect((await verify(store, { publicKey: keys.publicKeyPem })).firstProblem).toMatchObject({
        kind: 'modified',
        eventId: events[0]?.id,
        message: expect.stringContaining('without a recorded erasure'),
      });
      await store.close();
    });
  });
}

describe('retention policy and scrubbing', () => {
  it('resolves per-category cutoffs, forever by default', () => {
    const cut = cutoffsOf({ days: 365, categories: { access: 30, change: 'forever' } }, NOW);
    expect(cut.access?.toISOString()).toBe(new Date(NOW.getTime() - 30 * DAY).toISOString());
    expect(cut.auth?.toISOString()).toBe(new Date(NOW.getTime() - 365 * DAY).toISOString());
    expect(cut.change).toBeNull();
    expect(cutoffsOf({}, NOW).access).toBeNull();
  });

  it('never touches the fields the chain hashes in clear', () => {
    const data = {
      id: 'u_x',
      occurredAt: 'u_x',
      category: 'change',
      action: 'u_x.changed',
      outcome: 'success',
      tenantId: 'u_x',
      actor: { type: 'u_x', id: 'u_x' },
      request: { method: 'u_x', path: '/users/u_x' },
    };
    const out = scrubEvent(data, {
      subject: 'u_x',
      pseudonym: 'user#1',
      erased: '[erased]',
      identifiers: ['u_x'],
    });
    expect(out).toMatchObject({ id: 'u_x', occurredAt: 'u_x', action: 'u_x.changed', tenantId: 'u_x' });
    expect(out?.actor).toEqual({ type: 'u_x', id: 'user#1' });
    expect(out?.request).toEqual({ method: 'u_x', path: '/users/user#1' });
    expect(
      scrubEvent(
        { id: 'a', message: 'nothing here' },
        { subject: 'u_x', pseudonym: 'p', erased: 'e', identifiers: [] },
      ),
    ).toBeNull();
  });

  it('pseudonyms are keyed and stable', () => {
    expect(pseudonymOf('u1', PSEUDONYM_KEY)).toBe(pseudonymOf('u1', PSEUDONYM_KEY));
    expect(pseudonymOf('u1', PSEUDONYM_KEY)).not.toBe(pseudonymOf('u1', 'another key of 16+ chars'));
    expect(pseudonymOf('u1', PSEUDONYM_KEY)).toMatch(/^user#[0-9a-f]{12}$/);
  });
});

retentionSuite('pglite', async () => pgliteStore());

describe.skipIf(!url)(`postgres${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });
  const makeStore = async () => {
    const { schema, drop } = await createTestSchema(url, 'retention');
    drops.push(drop);
    return postgresStore({ connectionString: url, schema, max: 3 });
  };
  retentionSuite('postgres', makeStore);

  it('drops whole expired monthly partitions and keeps verify green from the anchor', async () => {
    const store = await makeStore();
    await store.migrate();
    const months = [
      new Date('2026-05-10T00:00:00Z'),
      new Date('2026-06-10T00:00:00Z'),
      new Date('2026-07-10T00:00:00Z'),
      new Date('2026-11-10T00:00:00Z'),
    ];
    for (const month of months) {
      await store.append(
        Array.from({ length: 6 }, (_, i) => ({
          ...event(0, 'access'),
          occurredAt: new Date(month.getTime() + i * 60_000),
        })),
      );
    }
    await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 4, checkpointNow: true });
    // 120 days before Nov 15 is Jul 18: May and June end before it, July does not.
    const dry = await cleanup(store, { days: 120, dryRun: true, now: () => NOW });
    expect(dry.droppedPartitions).toEqual(['audit_events_p2026_05', 'audit_events_p2026_06']);
    const report = await cleanup(store, {
      days: 120,
      signingKey: keys.privateKeyPem,
      now: () => NOW,
      batchSize: 2,
    });
    expect(report.droppedPartitions).toEqual(['audit_events_p2026_05', 'audit_events_p2026_06']);
    expect(report.removed).toBe(18);
    expect(report.batches).toBe(3);
    const left = await store.executor.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = 'audit_events'`,
      [store.schema],
    );
    expect(left.rows.map((r) => r.name)).not.toContain('audit_events_p2026_05');
    expect(report.anchors).toEqual([expect.objectContaining({ seq: 16 })]);
    await seal(store, { signingKey: keys.privateKeyPem, checkpointNow: true });
    const verified = await verify(store, { publicKey: keys.publicKeyPem });
    expect(verified.ok).toBe(true);
    expect(verified.chains.find((c) => c.tenantId === 'org_r')).toMatchObject({ fromSeq: 17, removed: 2 });
    // New events of a dropped month still find a home (the store recreates the partition).
    await store.append([{ ...event(0, 'auth'), occurredAt: new Date('2026-05-20T00:00:00Z') }]);
    await store.close();
  });
});
