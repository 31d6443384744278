import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestSchema } from '../../test/helpers/postgres-server.js';
import type { AuditEvent } from '../core/event.js';
import { pgliteStore } from '../store/pglite/index.js';
import { postgresStore } from '../store/postgres/index.js';
import { INSERT_COLUMNS, insertRowSource, toInsertParams } from '../store/sql/event-rows.js';
import type { SqlAuditStore } from '../store/sql/sql-audit-store.js';
import { chainHash, GENESIS_HASH, personalDigest, recordText, splitEvent } from './event-hash.js';
import { generateSigningKeys } from './keys.js';
import { proof, verifyProof } from './proof.js';
import { createSealer, listCheckpoints, seal } from './sealer.js';
import { withMaintenance } from './sql-access.js';
import { verify } from './verify.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');
const keys = generateSigningKeys();
const otherKeys = generateSigningKeys();
const BASE = Date.parse('2026-03-10T12:00:00.123Z');

/** A valid event of `tenantId`, one minute after the previous one. */
let counter = 0;
function event(tenantId: string | null, overrides: Partial<AuditEvent> = {}): AuditEvent {
  counter += 1;
  return {
    id: randomUUID(),
    occurredAt: new Date(BASE + counter * 60_000),
    category: 'change',
    action: 'invoice.updated',
    outcome: 'success',
    tenantId,
    actor: { type: 'user', id: `u${counter % 3}`, label: `User ${counter % 3}`, ip: '203.0.113.9' },
    target: { type: 'invoice', id: `INV-${counter}`, label: `Invoice ${counter}` },
    changes: { total: [counter, counter + 1] },
    message: `event ${counter}`,
    ...overrides,
  };
}

type MakeStore = () => Promise<SqlAuditStore>;

/** Runs SQL as a database owner would, with the append-only trigger switched off. */
async function tamper(store: SqlAuditStore, ...statements: string[]): Promise<void> {
  await store.executor.transaction!(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(`SET LOCAL search_path TO "${store.schema}"`);
    for (const statement of statements) await tx.query(statement);
  });
}

/** The event sealed at `seq` of `tenant`'s chain. */
async function idAt(store: SqlAuditStore, tenant: string, seq: number): Promise<string> {
  const rows = await store.executor.query<{ id: string }>(
    `SELECT event_id::text AS id FROM "${store.schema}".audit_seals WHERE chain = $1 AND seq = $2`,
    [`=${tenant}`, seq],
  );
  return rows.rows[0]?.id as string;
}

/** How many events have a seal. */
async function sealedCount(store: SqlAuditStore): Promise<number> {
  const rows = await store.executor.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${store.schema}".audit_seals`,
  );
  return rows.rows[0]?.n ?? 0;
}

/** A database owner lifting the one-seal-per-seq constraint, to forge or renumber seals. */
const DROP_SEAL_KEY = 'ALTER TABLE audit_seals DROP CONSTRAINT audit_seals_pkey';

function integritySuite(name: string, makeStore: MakeStore): void {
  /** A store with 30 events of tenant `org_a` and 5 of `org_b`, sealed with checkpoints every 10. */
  const sealedStore = async () => {
    const store = await makeStore();
    await store.migrate();
    const events = [
      ...Array.from({ length: 30 }, () => event('org_a')),
      ...Array.from({ length: 5 }, () => event('org_b')),
    ];
    for (let i = 0; i < events.length; i += 7) await store.append(events.slice(i, i + 7));
    await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 10, checkpointNow: true });
    return store;
  };
  const verifyWithKey = (store: SqlAuditStore) => verify(store, { publicKey: keys.publicKeyPem });

  describe(`${name}: sealing`, () => {
    it('gives each tenant its own seq from 1 in arrival order, and the hash chains each event to the one before', async () => {
      const store = await makeStore();
      await store.migrate();
      const first = [event('org_a'), event('org_b'), event('org_a')];
      const second = [event(null), event('org_a')];
      await store.append(first);
      await store.append(second);
      const result = await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 2 });
      expect(result.sealed).toBe(5);
      const rows = (
        await store.executor.query<{
          id: string;
          tenant_id: string | null;
          seq: string;
          hash: string;
          at: string;
          data: Record<string, unknown>;
          personal_salt: string;
        }>(
          `SELECT e.id::text AS id, e.tenant_id, s.seq, s.hash, e.data, s.personal_salt, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at ` +
            `FROM ${store.table} e JOIN "${store.schema}".audit_seals s ON s.event_id = e.id AND s.occurred_at = e.occurred_at ORDER BY e.tenant_id NULLS FIRST, s.seq`,
        )
      ).rows;
      expect(rows.map((r) => [r.tenant_id, Number(r.seq)])).toEqual([
        [null, 1],
        ['org_a', 1],
        ['org_a', 2],
        ['org_a', 3],
        ['org_b', 1],
      ]);
      expect(rows.filter((r) => r.tenant_id === 'org_a').map((r) => r.id)).toEqual([
        first[0]?.id,
        first[2]?.id,
        second[1]?.id,
      ]);
      // Recompute org_a's chain by hand from the documented formula.
      let prev = GENESIS_HASH;
      for (const row of rows.filter((r) => r.tenant_id === 'org_a')) {
        const split = splitEvent(row.data);
        const digest = personalDigest(split.personal, row.personal_salt);
        const record = recordText({
          id: row.id,
          at: row.at,
          tenantId: 'org_a',
          seq: Number(row.seq),
          clear: split.clear,
          digest,
        });
        expect(row.hash).toBe(chainHash(prev, record));
        prev = row.hash;
      }
      // Every 2 events of a tenant make a checkpoint; stored events read back with their seq and hash.
      expect(result.checkpoints.map((c) => [c.tenantId, c.firstSeq, c.lastSeq])).toEqual([['org_a', 1, 2]]);
      const stored = await store.get(second[1]?.id as string);
      expect(stored).toMatchObject({ seq: 3, hash: prev });
      expect(await seal(store)).toMatchObject({ sealed: 0 });
      await store.close();
    });

    it('keeps the personal fields out of the clear part, so erasure can replace them', () => {
      const { clear, personal } = splitEvent({
        id: 'x',
        occurredAt: '2026-01-01T00:00:00.000Z',
        category: 'auth',
        action: 'user.login',
        outcome: 'success',
        tenantId: 't',
        actor: { type: 'user', id: 'u1', label: 'Alice', ip: '198.51.100.4' },
        target: { type: 'user', id: 'u1' },
        request: { method: 'POST', path: '/login', status: 200, body: { email: 'a@example.com' } },
        message: 'Alice logged in',
        seq: 4,
        hash: 'abc',
      });
      expect(clear).toEqual({
        id: 'x',
        occurredAt: '2026-01-01T00:00:00.000Z',
        category: 'auth',
        action: 'user.login',
        outcome: 'success',
        tenantId: 't',
        actor: { type: 'user' },
        target: { type: 'user' },
        request: { method: 'POST', status: 200 },
      });
      expect(personal).toEqual({
        actor: { id: 'u1', label: 'Alice', ip: '198.51.100.4' },
        target: { id: 'u1' },
        request: { path: '/login', body: { email: 'a@example.com' } },
        message: 'Alice logged in',
      });
    });

    it('writes checkpoints every N events and when the interval passed, linked and signed', async () => {
      const store = await makeStore();
      await store.migrate();
      await store.append(Array.from({ length: 25 }, () => event('org_c')));
      let now = new Date('2026-05-01T00:00:00.000Z');
      const clock = () => now;
      const first = await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 10, now: clock });
      expect(first.checkpoints.map((c) => [c.firstSeq, c.lastSeq])).toEqual([
        [1, 10],
        [11, 20],
      ]);
      // Nothing is due before the interval; after it, the remaining 5 events get their checkpoint.
      expect((await seal(store, { checkpointIntervalMs: 60_000, now: clock })).checkpoints).toHaveLength(0);
      now = new Date(now.getTime() + 61_000);
      const later = await seal(store, {
        signingKey: keys.privateKeyPem,
        checkpointIntervalMs: 60_000,
        now: clock,
      });
      expect(later.checkpoints.map((c) => [c.firstSeq, c.lastSeq])).toEqual([[21, 25]]);
      const all = await listCheckpoints(store, 'org_c');
      expect(all.map((c) => c.prevId)).toEqual([null, all[0]?.id, all[1]?.id]);
      expect(all.every((c) => c.keyId === keys.keyId && typeof c.signature === 'string')).toBe(true);
      await store.close();
    });

    it('runs in the background with createSealer and stops cleanly', async () => {
      const store = await makeStore();
      await store.migrate();
      const sealer = createSealer(store, { intervalMs: 20, signingKey: keys.privateKeyPem });
      sealer.start();
      expect(sealer.running).toBe(true);
      await store.append([event('org_bg'), event('org_bg')]);
      let sealed = 0;
      for (let i = 0; i < 200 && sealed < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        sealed = await sealedCount(store);
      }
      await sealer.stop();
      expect(sealer.running).toBe(false);
      expect(sealed).toBe(2);
      expect((await sealer.sealNow({ checkpointNow: true })).checkpoints).toHaveLength(1);
      await store.close();
    });

    it('reports sealing failures to onError and keeps running', async () => {
      const store = await makeStore();
      await store.migrate();
      const errors: string[] = [];
      const sealer = createSealer(store, {
        intervalMs: 10,
        signingKey: keys.privateKeyPem,
        onError: (e) => errors.push(e.code),
      });
      await store.close();
      sealer.start();
      for (let i = 0; i < 200 && errors.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await sealer.stop();
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors.every((code) => code.length > 0)).toBe(true);
    });

    it('stops between batches once its signal is aborted (how Sealer.stop() ends a long catch-up)', async () => {
      const store = await makeStore();
      await store.migrate();
      await store.append(Array.from({ length: 12 }, () => event('org_stop')));
      const controller = new AbortController();
      controller.abort();
      expect(await seal(store, { signal: controller.signal })).toEqual({
        sealed: 0,
        checkpoints: [],
        busy: false,
      });
      expect((await seal(store, { batchSize: 5, maxEvents: 5 })).sealed).toBe(5);
      expect((await seal(store, { batchSize: 5 })).sealed).toBe(7);
      await store.close();
    });

    it('rejects unknown options', async () => {
      const store = await makeStore();
      await expect(seal(store, { everyN: 3 } as never)).rejects.toMatchObject({ code: 'invalid_config' });
      await store.close();
    });
  });

  describe(`${name}: append-only storage`, () => {
    it('rejects UPDATE, DELETE and TRUNCATE of events, seals and checkpoints, naming what to use instead', async () => {
      const store = await sealedStore();
      for (const statement of [
        `UPDATE ${store.table} SET action = 'x'`,
        `DELETE FROM ${store.table}`,
        `TRUNCATE ${store.table}`,
        `UPDATE "${store.schema}".audit_seals SET hash = 'x'`,
        `DELETE FROM "${store.schema}".audit_seals`,
        `DELETE FROM "${store.schema}".auditkit_checkpoints`,
      ]) {
        await expect(store.executor.query(statement)).rejects.toMatchObject({
          code: 'AK001',
          message: expect.stringMatching(/is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed/),
        });
      }
      // A new event is written and sealed as usual.
      await store.append([event('org_a')]);
      expect((await seal(store, { signingKey: keys.privateKeyPem })).sealed).toBe(1);
      // A sealing transaction only adds seals: it can change neither an event nor a seal.
      await expect(
        withMaintenance(store, 'seal', (tx) => tx.query(`UPDATE ${store.table} SET seq = 99`)),
      ).rejects.toMatchObject({ code: 'AK001' });
      await expect(
        withMaintenance(store, 'seal', (tx) =>
          tx.query(`UPDATE "${store.schema}".audit_seals SET seq = 99 WHERE seq = 1`),
        ),
      ).rejects.toMatchObject({ code: 'AK001' });
      expect((await verifyWithKey(store)).ok).toBe(true);
      await store.close();
    });
  });

  describe(`${name}: verification`, () => {
    it('a clean chain verifies, with every checkpoint signature and Merkle root checked', async () => {
      const store = await sealedStore();
      const progress: number[] = [];
      const report = await verify(store, {
        publicKey: keys.publicKeyPem,
        batchSize: 10,
        onProgress: (p) => progress.push(p.checked),
      });
      expect(report).toMatchObject({
        ok: true,
        checkedEvents: 35,
        checkpointsVerified: 4,
        unsealed: 0,
        signaturesChecked: true,
        keyId: keys.keyId,
        problems: [],
        firstProblem: null,
      });
      expect(report.chains.map((c) => [c.tenantId, c.fromSeq, c.lastSeq, c.events, c.checkpoints])).toEqual([
        ['org_a', 1, 30, 30, 3],
        ['org_b', 1, 5, 5, 1],
      ]);
      expect(progress.at(-1)).toBe(35);
      // Unsealed events are counted, not an error.
      await store.append([event('org_a')]);
      expect(await verifyWithKey(store)).toMatchObject({ ok: true, unsealed: 1 });
      await store.close();
    });

    it('verifies one tenant, or the checkpoints covering a time range', async () => {
      const store = await sealedStore();
      expect(await verify(store, { tenantId: 'org_b', publicKey: keys.publicKeyPem })).toMatchObject({
        ok: true,
        checkedEvents: 5,
      });
      const events = (
        await store.executor.query<{ seq: string; at: Date }>(
          `SELECT seq, occurred_at AS at FROM "${store.schema}".audit_seals WHERE chain = '=org_a' ORDER BY seq`,
        )
      ).rows;
      const from = new Date(events[14]?.at as Date);
      const to = new Date(new Date(events[16]?.at as Date).getTime() + 1);
      const ranged = await verify(store, { tenantId: 'org_a', from, to, publicKey: keys.publicKeyPem });
      // Seq 15-17 lie in checkpoint 11-20, which is checked whole (from the signed end of checkpoint 1-10).
      expect(ranged).toMatchObject({ ok: true, checkedEvents: 10, checkpointsVerified: 1 });
      expect(ranged.chains[0]).toMatchObject({ fromSeq: 11, lastSeq: 20 });
      // A modification outside the range is not seen by a ranged verify, and is by a full one.
      await tamper(
        store,
        `UPDATE audit_events SET data = jsonb_set(data, '{action}', '"x.y"') WHERE id = '${await idAt(store, 'org_a', 25)}'`,
      );
      expect((await verify(store, { tenantId: 'org_a', from, to, publicKey: keys.publicKeyPem })).ok).toBe(
        true,
      );
      expect((await verifyWithKey(store)).firstProblem).toMatchObject({ kind: 'modified', seq: 25 });
      await store.close();
    });

    it('warns when no public key is given, and fails checkpoints signed by another key', async () => {
      const store = await sealedStore();
      const unkeyed = await verify(store);
      expect(unkeyed.ok).toBe(true);
      expect(unkeyed.warnings.join(' ')).toContain('signatures were not checked');
      const wrongKey = await verify(store, { publicKey: otherKeys.publicKeyPem });
      expect(wrongKey.ok).toBe(false);
      expect(wrongKey.firstProblem).toMatchObject({
        kind: 'checkpoint',
        message: expect.stringContaining(`signed by key ${keys.keyId}`),
      });
      await store.close();
    });
  });

  describe(`${name}: tamper matrix`, () => {
    it('edit a field in clear (action): modified, at that event', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 12);
      await tamper(
        store,
        `UPDATE audit_events SET data = jsonb_set(data, '{action}', '"invoice.paid"'), action = 'invoice.paid' WHERE id = '${id}'`,
      );
      const report = await verifyWithKey(store);
      expect(report.ok).toBe(false);
      expect(report.firstProblem).toMatchObject({
        kind: 'modified',
        tenantId: 'org_a',
        seq: 12,
        eventId: id,
      });
      expect(report.problems).toHaveLength(1);
      await store.close();
    });

    it('edit a personal field (actor label): modified, at that event', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 3);
      await tamper(
        store,
        `UPDATE audit_events SET data = jsonb_set(data, '{actor,label}', '"Mallory"'), actor_label = 'Mallory' WHERE id = '${id}'`,
      );
      expect((await verifyWithKey(store)).firstProblem).toMatchObject({
        kind: 'modified',
        seq: 3,
        eventId: id,
      });
      await store.close();
    });

    it('edit only a column (actor_id) used for search: modified', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 7);
      await tamper(store, `UPDATE audit_events SET actor_id = 'someone-else' WHERE id = '${id}'`);
      expect((await verifyWithKey(store)).firstProblem).toMatchObject({
        kind: 'modified',
        seq: 7,
        eventId: id,
        message: expect.stringContaining('column'),
      });
      await store.close();
    });

    it('edit the stored hash: modified, at that event only', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 21);
      await tamper(store, `UPDATE audit_seals SET hash = repeat('ab', 32) WHERE event_id = '${id}'`);
      const report = await verifyWithKey(store);
      expect(report.firstProblem).toMatchObject({ kind: 'modified', seq: 21, eventId: id });
      expect(report.problems.filter((p) => p.kind !== 'checkpoint')).toHaveLength(1);
      await store.close();
    });

    it('delete an event: deleted, naming the event its seal still names', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 15);
      await tamper(store, `DELETE FROM audit_events WHERE id = '${id}'`);
      const report = await verifyWithKey(store);
      expect(report.firstProblem).toMatchObject({ kind: 'deleted', tenantId: 'org_a', seq: 15, eventId: id });
      expect(report.problems).toHaveLength(1);
      await store.close();
    });

    it('delete an event and its seal: deleted, naming the missing seq', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 15);
      await tamper(
        store,
        `DELETE FROM audit_events WHERE id = '${id}'`,
        `DELETE FROM audit_seals WHERE event_id = '${id}'`,
      );
      const report = await verifyWithKey(store);
      expect(report.firstProblem).toMatchObject({ kind: 'deleted', tenantId: 'org_a', seq: 15 });
      expect(report.problems.some((p) => p.kind === 'checkpoint' && p.seq === 20)).toBe(true);
      await store.close();
    });

    it('delete an event and its seal and renumber the later seals: deleted', async () => {
      const store = await sealedStore();
      const id = await idAt(store, 'org_a', 15);
      await tamper(
        store,
        DROP_SEAL_KEY,
        `DELETE FROM audit_events WHERE id = '${id}'`,
        `DELETE FROM audit_seals WHERE event_id = '${id}'`,
        `UPDATE audit_seals SET seq = seq - 1 WHERE chain = '=org_a' AND seq > 15`,
      );
      expect((await verifyWithKey(store)).firstProblem).toMatchObject({ kind: 'deleted', seq: 15 });
      await store.close();
    });

    it('delete the newest events and their seals: deleted, at the end of the chain', async () => {
      const store = await sealedStore();
      await tamper(
        store,
        `DELETE FROM audit_events e USING audit_seals s WHERE s.event_id = e.id AND s.chain = '=org_b' AND s.seq >= 4`,
        `DELETE FROM audit_seals WHERE chain = '=org_b' AND seq >= 4`,
      );
      expect((await verifyWithKey(store)).firstProblem).toMatchObject({
        kind: 'deleted',
        tenantId: 'org_b',
        seq: 4,
      });
      await store.close();
    });

    /** Copies the event at `seq` of org_a as a new event `forged`, with a seal at `at` (a made-up hash). */
    const forge = (source: number, forged: string, at: number) => [
      `INSERT INTO audit_events (id, occurred_at, category, action, outcome, tenant_id, actor_type, actor_id, actor_label, target_type, target_id, target_label, message, recorded_xid, data)
       SELECT '${forged}', e.occurred_at, category, action, outcome, tenant_id, actor_type, actor_id, actor_label, target_type, target_id, target_label, message, recorded_xid, jsonb_set(data, '{id}', '"${forged}"')
       FROM audit_events e JOIN audit_seals s ON s.event_id = e.id WHERE s.chain = '=org_a' AND s.seq = ${source}`,
      `INSERT INTO audit_seals (chain, seq, event_id, occurred_at, hash, personal_digest, personal_salt)
       SELECT chain, ${at}, '${forged}', occurred_at, repeat('cd', 32), personal_digest, personal_salt FROM audit_seals WHERE chain = '=org_a' AND seq = ${source}`,
    ];

    it('insert a forged row with a taken seq: inserted, naming the forged event', async () => {
      const store = await sealedStore();
      const forged = randomUUID();
      await tamper(store, DROP_SEAL_KEY, ...forge(9, forged, 9));
      const report = await verifyWithKey(store);
      expect(report.firstProblem).toMatchObject({ kind: 'inserted', seq: 9, eventId: forged });
      expect(report.problems).toHaveLength(1);
      await store.close();
    });

    it('insert a forged row and renumber the later ones: inserted, naming the forged event', async () => {
      const store = await sealedStore();
      const forged = randomUUID();
      await tamper(
        store,
        DROP_SEAL_KEY,
        `UPDATE audit_seals SET seq = seq + 1 WHERE chain = '=org_a' AND seq >= 9`,
        ...forge(8, forged, 9),
      );
      const report = await verifyWithKey(store);
      expect(report.firstProblem).toMatchObject({ kind: 'inserted', seq: 9, eventId: forged });
      expect(report.problems.filter((p) => p.kind !== 'checkpoint')).toHaveLength(1);
      await store.close();
    });

    it('swap two rows: reordered, naming both events', async () => {
      const store = await sealedStore();
      const a = await idAt(store, 'org_a', 5);
      const b = await idAt(store, 'org_a', 6);
      await tamper(
        store,
        DROP_SEAL_KEY,
        `UPDATE audit_seals SET seq = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE chain = '=org_a' AND seq IN (5, 6)`,
      );
      const report = await verifyWithKey(store);
      expect(report.problems.filter((p) => p.kind !== 'checkpoint')).toEqual([
        expect.objectContaining({ kind: 'reordered', seq: 5, eventId: b }),
        expect.objectContaining({ kind: 'reordered', seq: 6, eventId: a }),
      ]);
      await store.close();
    });

    it('swap the events of two seals (seq and hash left in place): reordered, naming both events', async () => {
      const store = await sealedStore();
      const a = await idAt(store, 'org_a', 5);
      const b = await idAt(store, 'org_a', 6);
      await tamper(
        store,
        `UPDATE audit_seals s SET event_id = x.event_id, occurred_at = x.occurred_at, personal_digest = x.personal_digest, personal_salt = x.personal_salt
         FROM audit_seals x WHERE s.chain = '=org_a' AND x.chain = '=org_a' AND s.seq IN (5, 6) AND x.seq = CASE s.seq WHEN 5 THEN 6 ELSE 5 END`,
      );
      const report = await verifyWithKey(store);
      expect(report.problems).toEqual([
        expect.objectContaining({ kind: 'reordered', seq: 5, eventId: b }),
        expect.objectContaining({ kind: 'reordered', seq: 6, eventId: a }),
      ]);
      await store.close();
    });

    it('replace a checkpoint: a changed root, a re-signed forgery and a removed one are each named', async () => {
      const changed = await sealedStore();
      const [, second] = await listCheckpoints(changed, 'org_a');
      await tamper(
        changed,
        `UPDATE auditkit_checkpoints SET merkle_root = repeat('00', 32) WHERE id = '${second?.id}'`,
      );
      expect((await verifyWithKey(changed)).firstProblem).toMatchObject({
        kind: 'checkpoint',
        checkpointId: second?.id,
        message: expect.stringContaining('does not match its id'),
      });
      await changed.close();

      // A forger rewrites event 15 and re-signs checkpoint 11-20 with their own key.
      const forged = await sealedStore();
      const id = await idAt(forged, 'org_a', 15);
      await tamper(
        forged,
        `UPDATE audit_events SET data = jsonb_set(data, '{outcome}', '"failure"'), outcome = 'failure' WHERE id = '${id}'`,
      );
      const { makeCheckpoint } = await import('./checkpoint.js');
      const { loadSigningKey } = await import('./keys.js');
      const [first, original] = await listCheckpoints(forged, 'org_a');
      const fake = makeCheckpoint(
        { ...(original as NonNullable<typeof original>), prevId: first?.id ?? null },
        loadSigningKey(otherKeys.privateKeyPem),
      );
      await tamper(
        forged,
        `UPDATE auditkit_checkpoints SET id = '${fake.id}', key_id = '${fake.keyId}', signature = '${fake.signature}' WHERE id = '${original?.id}'`,
        `UPDATE auditkit_checkpoints SET prev_id = '${fake.id}' WHERE prev_id = '${original?.id}'`,
      );
      const report = await verifyWithKey(forged);
      expect(report.firstProblem).toMatchObject({ kind: 'modified', seq: 15, eventId: id });
      expect(report.problems).toContainEqual(
        expect.objectContaining({
          kind: 'checkpoint',
          checkpointId: fake.id,
          message: expect.stringContaining('signed by key'),
        }),
      );
      await forged.close();

      const removed = await sealedStore();
      const [, middle] = await listCheckpoints(removed, 'org_a');
      await tamper(removed, `DELETE FROM auditkit_checkpoints WHERE id = '${middle?.id}'`);
      expect((await verifyWithKey(removed)).firstProblem).toMatchObject({
        kind: 'checkpoint',
        message: expect.stringContaining('a checkpoint was removed or replaced'),
      });
      await removed.close();
    }, 120_000); // three databases
  });

  describe(`${name}: hash workers`, () => {
    it('seal and verify in worker threads agree with the calling thread, and find tampering the same way', async () => {
      const store = await makeStore();
      await store.migrate();
      await store.append(Array.from({ length: 40 }, (_, i) => event(i % 3 === 0 ? 'org_x' : 'org_y')));
      const sealed = await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 7, workers: 2 });
      expect(sealed.sealed).toBe(40);
      await seal(store, { signingKey: keys.privateKeyPem, checkpointNow: true, workers: 0 });
      const inThread = await verify(store, { publicKey: keys.publicKeyPem, workers: 0, batchSize: 10 });
      const inWorkers = await verify(store, { publicKey: keys.publicKeyPem, workers: 1, batchSize: 10 });
      expect(inThread).toMatchObject({ ok: true, checkedEvents: 40 });
      expect(inWorkers).toEqual(inThread);
      const id = await idAt(store, 'org_y', 12);
      await tamper(
        store,
        `UPDATE audit_events SET data = jsonb_set(data, '{message}', '"changed"'), message = 'changed' WHERE id = '${id}'`,
      );
      const found = await verify(store, { publicKey: keys.publicKeyPem, workers: 1, batchSize: 10 });
      expect(found.firstProblem).toMatchObject({ kind: 'modified', seq: 12, eventId: id });
      expect(found.problems).toEqual(
        (await verify(store, { publicKey: keys.publicKeyPem, workers: 0, batchSize: 10 })).problems,
      );
      await store.close();
    });
  });

  describe(`${name}: the sealer's queue`, () => {
    it('an event the sealer went past without sealing it is named as inserted', async () => {
      const store = await sealedStore();
      const forged = randomUUID();
      // A copy of a sealed event under a new id, with the transaction id of events sealed long ago.
      await tamper(
        store,
        `INSERT INTO audit_events (id, occurred_at, category, action, outcome, tenant_id, actor_type, actor_id, actor_label, target_type, target_id, target_label, message, recorded_xid, data)
         SELECT '${forged}', occurred_at, category, action, outcome, tenant_id, actor_type, actor_id, actor_label, target_type, target_id, target_label, message, recorded_xid, jsonb_set(data, '{id}', '"${forged}"')
         FROM audit_events WHERE id = '${await idAt(store, 'org_a', 4)}'`,
      );
      const report = await verifyWithKey(store);
      expect(report).toMatchObject({ ok: false, unsealed: 0 });
      expect(report.problems).toEqual([
        expect.objectContaining({ kind: 'inserted', tenantId: 'org_a', seq: null, eventId: forged }),
      ]);
      // The sealer never goes back for it: it stays a problem.
      expect((await seal(store)).sealed).toBe(0);
      expect((await verifyWithKey(store)).firstProblem).toMatchObject({ eventId: forged });
      await store.close();
    });

    it('converts a database sealed by the first layout (seal columns in the event row) and keeps its chain', async () => {
      const { runMigrations, MIGRATIONS } = await import('../store/sql/migrations.js');
      const { INTEGRITY_MIGRATIONS } = await import('./migrations.js');
      const store = await makeStore();
      await runMigrations({
        executor: store.executor,
        dialect: { partitioned: store.partitioned },
        schema: store.schema,
        migrations: [...MIGRATIONS, ...INTEGRITY_MIGRATIONS.filter((m) => m.version < 703)],
        target: 'test',
      });
      const events = [event('org_m'), event('org_m'), event('org_m'), event('org_m')];
      await store.append(events);
      // Seal the first three by hand, the way the first layout did, then let retention remove the second.
      let prev = GENESIS_HASH;
      const statements: string[] = [];
      for (const [i, e] of events.slice(0, 3).entries()) {
        const salt = `${i}`.repeat(32);
        const at = (e.occurredAt as Date).toISOString().replace('Z', '000Z');
        const { clear, personal } = splitEvent(JSON.parse(JSON.stringify(e)));
        const digest = personalDigest(personal, salt);
        const hash = chainHash(
          prev,
          recordText({ id: e.id, at, tenantId: 'org_m', seq: i + 1, clear, digest }),
        );
        statements.push(
          `UPDATE audit_events SET seq = ${i + 1}, hash = '${hash}', personal_digest = '${digest}', personal_salt = '${salt}' WHERE id = '${e.id}'`,
        );
        prev = hash;
        if (i === 1) {
          statements.push(
            `INSERT INTO auditkit_tombstones (chain, seq, hash, event_id, reason) VALUES ('=org_m', 2, '${hash}', '${e.id}', 'retention')`,
            `DELETE FROM audit_events WHERE id = '${e.id}'`,
          );
        }
      }
      statements.push(
        `INSERT INTO auditkit_chain_heads (chain, tenant_id, last_seq, last_hash) VALUES ('=org_m', 'org_m', 3, '${prev}')`,
      );
      await tamper(store, ...statements);
      // The next seal migrates: the three keep their seals, the fourth is sealed after them.
      expect((await seal(store, { checkpointNow: true })).sealed).toBe(1);
      expect(await idAt(store, 'org_m', 1)).toBe(events[0]?.id);
      expect(await idAt(store, 'org_m', 4)).toBe(events[3]?.id);
      const report = await verify(store);
      expect(report).toMatchObject({ ok: true, unsealed: 0, checkedEvents: 3 });
      expect(report.chains[0]).toMatchObject({
        fromSeq: 1,
        lastSeq: 4,
        events: 3,
        removed: 1,
        checkpoints: 1,
      });
      expect(await store.get(events[2]?.id as string)).toMatchObject({ seq: 3 });
      await store.close();
    });
  });

  describe(`${name}: inclusion proofs`, () => {
    it('proves an event offline with the public key alone, and detects any change to the receipt', async () => {
      const store = await sealedStore();
      for (const seq of [1, 10, 11, 17, 30]) {
        const id = await idAt(store, 'org_a', seq);
        const receipt = JSON.parse(JSON.stringify(await proof(store, id)));
        expect(receipt).toMatchObject({ id, seq, tenantId: 'org_a' });
        expect(verifyProof(receipt, keys.publicKeyPem)).toEqual({
          ok: true,
          reason: null,
          eventId: id,
          checkpointId: receipt.checkpoint.id,
        });
        expect(verifyProof(receipt, otherKeys.publicKeyPem).ok).toBe(false);
      }
      const receipt = await proof(store, await idAt(store, 'org_a', 17));
      const altered = (change: (r: typeof receipt) => void) => {
        const copy = structuredClone(receipt);
        change(copy);
        return verifyProof(copy, keys.publicKeyPem);
      };
      expect(altered((r) => (r.event.message = 'changed')).reason).toContain('personal fields');
      expect(altered((r) => (r.event.outcome = 'failure')).reason).toContain('does not match its hash');
      expect(altered((r) => (r.seq = 18)).ok).toBe(false);
      expect(altered((r) => (r.path[0] = r.hash)).reason).toContain('Merkle root');
      expect(altered((r) => (r.checkpoint.merkleRoot = r.hash)).ok).toBe(false);
      expect(altered((r) => (r.checkpoint.signature = null)).ok).toBe(false);
      await store.close();
    });

    it('says why there is no proof yet: unknown, unsealed, not checkpointed', async () => {
      const store = await makeStore();
      await store.migrate();
      const e = event('org_p');
      await store.append([e]);
      await expect(proof(store, randomUUID())).rejects.toMatchObject({ code: 'not_found' });
      await expect(proof(store, 'nope')).rejects.toMatchObject({ code: 'not_found' });
      await expect(proof(store, e.id)).rejects.toMatchObject({ code: 'not_sealed' });
      await seal(store, { signingKey: keys.privateKeyPem });
      await expect(proof(store, e.id)).rejects.toMatchObject({ code: 'not_checkpointed' });
      await seal(store, { signingKey: keys.privateKeyPem, checkpointNow: true });
      expect(verifyProof(await proof(store, e.id), keys.publicKeyPem).ok).toBe(true);
      await store.close();
    });
  });
}

integritySuite('pglite', async () => pgliteStore());

describe.skipIf(!url)(`postgres${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });
  const makeStore: MakeStore = async () => {
    const { schema, drop } = await createTestSchema(url, 'integrity');
    drops.push(drop);
    return postgresStore({ connectionString: url, schema, max: 3 });
  };
  integritySuite('postgres', makeStore);

  it('seals an event whose transaction commits after a sealing round, and never skips or repeats one', async () => {
    const store = await makeStore();
    await store.migrate();
    await seal(store);
    const early = event('org_late');
    const later = event('org_late');
    // Their month's partition first: creating it would wait for the open transaction below.
    await store.ensurePartitions(early.occurredAt, later.occurredAt);
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => {
      commit = resolve;
    });
    let inserted!: () => void;
    const insertedEarly = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    // A transaction writes an event and stays open while a later event is written and sealed.
    const open = store.executor.transaction!(async (tx) => {
      await tx.query(
        `INSERT INTO ${store.table} (${INSERT_COLUMNS.map(([column]) => column).join(', ')}) SELECT * FROM ${insertRowSource()}`,
        toInsertParams([early]),
      );
      inserted();
      await committed;
    });
    await insertedEarly;
    await store.append([later]);
    expect((await seal(store)).sealed).toBe(1);
    expect(await idAt(store, 'org_late', 1)).toBe(later.id);
    commit();
    await open;
    // Its transaction was still running: the next round takes it, once.
    expect((await seal(store)).sealed).toBe(1);
    expect(await idAt(store, 'org_late', 2)).toBe(early.id);
    expect((await seal(store)).sealed).toBe(0);
    expect(await verify(store)).toMatchObject({ ok: true, unsealed: 0, checkedEvents: 2 });
    await store.close();
  });

  it('verifies several chains at once on their own connections, in one snapshot, even with a pool of one', async () => {
    const { schema, drop } = await createTestSchema(url, 'integrity');
    drops.push(drop);
    const store = postgresStore({ connectionString: url, schema, max: 4 });
    await store.migrate();
    await store.append(Array.from({ length: 60 }, (_, i) => event(`org_${i % 5}`)));
    await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 5, checkpointNow: true });
    const one = await verify(store, { publicKey: keys.publicKeyPem, concurrency: 1 });
    const four = await verify(store, { publicKey: keys.publicKeyPem, concurrency: 4 });
    expect(one).toMatchObject({ ok: true, checkedEvents: 60 });
    expect(four).toEqual(one);
    // A pool of one connection cannot give another: the first does all the work.
    const single = postgresStore({ connectionString: url, schema, max: 1 });
    expect(await verify(single, { publicKey: keys.publicKeyPem, concurrency: 4 })).toEqual(one);
    await single.close();
    await store.close();
  });

  it('writers never wait for the sealer: events are appended while it holds its lock', async () => {
    const store = await makeStore();
    await store.migrate();
    await seal(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let appended = false;
    const sealing = withMaintenance(store, 'seal', async () => {
      await held;
      return appended;
    });
    await store.append([event('org_w')]);
    appended = true;
    release();
    expect(await sealing).toEqual({ busy: false, value: true });
    // A second sealer does not wait either: it reports busy.
    const again = withMaintenance(store, 'seal', () => new Promise((r) => setTimeout(r, 200)));
    await new Promise((r) => setTimeout(r, 50));
    expect(await seal(store, { wait: false })).toMatchObject({ busy: true, sealed: 0 });
    await again;
    expect((await seal(store)).sealed).toBe(1);
    await store.close();
  });
});
