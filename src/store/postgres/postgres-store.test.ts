import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeEvent, queryAll, runStoreContract } from '../../../test/contract/store-contract.js';
import {
  findPostgresBinaries,
  type PostgresServer,
  startPostgres,
  uniqueSchemaName,
} from '../../../test/helpers/postgres-server.js';
import { AuditkitError } from '../../core/errors.js';
import { partitionName } from '../sql/partitions.js';
import type { SqlAuditStore } from '../sql/sql-audit-store.js';
import { postgresStore } from './index.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

describe.skipIf(!url)(`postgresStore${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  let admin: pg.Pool;
  const schemas: string[] = [];
  const stores: SqlAuditStore[] = [];
  /** A store in a schema of its own, closed and dropped after the file. */
  const store = (schema = uniqueSchemaName('pgstore')) => {
    schemas.push(schema);
    const s = postgresStore({ connectionString: url, schema });
    stores.push(s);
    return s;
  };
  const sql = async <T extends pg.QueryResultRow>(text: string, params?: unknown[]) =>
    (await admin.query<T>(text, params)).rows;
  const partitionsOf = async (schema: string) =>
    (
      await sql<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           JOIN pg_namespace n ON n.oid = p.relnamespace
          WHERE n.nspname = $1 AND p.relname = 'audit_events' ORDER BY 1`,
        [schema],
      )
    ).map((r) => r.name);
  const partitionHolding = async (schema: string, id: string) =>
    (
      await sql<{ t: string }>(
        `SELECT tableoid::regclass::text AS t FROM "${schema}".audit_events WHERE id = $1`,
        [id],
      )
    )[0]?.t;

  beforeAll(() => {
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  runStoreContract({ name: 'postgres', makeStore: async () => store() });

  describe('monthly partitions', () => {
    it('migrate() creates partitions from last month to three months ahead, plus a DEFAULT partition', async () => {
      const s = store();
      await s.migrate();
      const now = new Date();
      const expected = [-1, 0, 1, 2, 3].map((offset) =>
        partitionName(now.getUTCFullYear() * 12 + now.getUTCMonth() + offset),
      );
      const names = await partitionsOf(s.schema);
      expect(names).toEqual(expect.arrayContaining([...expected, 'audit_events_default']));
      expect(names).toHaveLength(6);
      expect(expected[1]).toMatch(/^audit_events_p\d{4}_\d{2}$/);
    });

    it('append() creates the partition of an old or far-future month before inserting', async () => {
      const s = store();
      await s.migrate();
      const old = makeEvent({ occurredAt: new Date('2019-02-14T10:00:00.000Z') });
      const future = makeEvent({ occurredAt: new Date('2031-12-31T23:59:59.999Z') });
      expect(await s.append([old, future])).toEqual({ inserted: 2, duplicates: 0 });
      expect(await partitionsOf(s.schema)).toEqual(
        expect.arrayContaining(['audit_events_p2019_02', 'audit_events_p2031_12']),
      );
      expect(await partitionHolding(s.schema, old.id)).toContain('audit_events_p2019_02');
      expect(await partitionHolding(s.schema, future.id)).toContain('audit_events_p2031_12');
      expect(
        (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${s.schema}".audit_events_default`))[0]?.n,
      ).toBe(0);
      expect(await s.get(future.id)).toEqual(future);
    });

    it('ensurePartitions(from, to) creates every month of a range', async () => {
      const s = store();
      await s.migrate();
      await s.ensurePartitions(new Date('2020-11-15T00:00:00Z'), new Date('2021-02-01T00:00:00Z'));
      expect(await partitionsOf(s.schema)).toEqual(
        expect.arrayContaining([
          'audit_events_p2020_11',
          'audit_events_p2020_12',
          'audit_events_p2021_01',
          'audit_events_p2021_02',
        ]),
      );
    });

    it('moves rows that landed in the DEFAULT partition into the new partition instead of failing', async () => {
      const writer = store();
      await writer.migrate();
      // Something that does not create partitions (a database trigger, say) wrote a 2040 row.
      const stray = makeEvent({ occurredAt: new Date('2040-01-10T00:00:00.000Z'), action: 'trigger.wrote' });
      await admin.query(
        `INSERT INTO "${writer.schema}".audit_events (id, occurred_at, category, action, outcome, actor_type, data)
         VALUES ($1, $2, 'custom', 'trigger.wrote', 'success', 'system', $3)`,
        [stray.id, stray.occurredAt.toISOString(), JSON.stringify(stray)],
      );
      expect(await partitionHolding(writer.schema, stray.id)).toContain('audit_events_default');
      const event = makeEvent({ occurredAt: new Date('2040-01-20T00:00:00.000Z') });
      expect(await writer.append([event])).toEqual({ inserted: 1, duplicates: 0 });
      expect(await partitionHolding(writer.schema, stray.id)).toContain('audit_events_p2040_01');
      expect(await partitionHolding(writer.schema, event.id)).toContain('audit_events_p2040_01');
      expect(await writer.get(stray.id)).toEqual(stray);
    });

    it('a database user that may not create tables still appends: new months go to the DEFAULT partition', async () => {
      const owner = store();
      await owner.migrate();
      const role = uniqueSchemaName('writer');
      await admin.query(`CREATE ROLE "${role}" LOGIN`);
      try {
        await admin.query(`GRANT USAGE ON SCHEMA "${owner.schema}" TO "${role}"`);
        await admin.query(`GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "${owner.schema}" TO "${role}"`);
        const asWriter = new URL(url);
        asWriter.username = role;
        const limited = postgresStore({ connectionString: asWriter.toString(), schema: owner.schema });
        stores.push(limited);
        const event = makeEvent({ occurredAt: new Date('2045-07-01T00:00:00.000Z') });
        expect(await limited.append([event])).toEqual({ inserted: 1, duplicates: 0 });
        expect(await partitionHolding(owner.schema, event.id)).toContain('audit_events_default');
        await limited.close();
        // The next writer that may create partitions moves the row into its month.
        await owner.ensurePartitions(event.occurredAt, event.occurredAt);
        expect(await partitionHolding(owner.schema, event.id)).toContain('audit_events_p2045_07');
      } finally {
        await admin.query(`DROP OWNED BY "${role}"`);
        await admin.query(`DROP ROLE "${role}"`);
      }
    });

    it('two stores (two processes) racing to create the same partitions both succeed', async () => {
      const schema = uniqueSchemaName('race');
      const a = store(schema);
      const b = postgresStore({ connectionString: url, schema });
      stores.push(b);
      await Promise.all([a.migrate(), b.migrate(), a.migrate(), b.migrate()]);
      const months = Array.from({ length: 12 }, (_, m) => new Date(Date.UTC(2035, m, 5)));
      const batch = () => months.map((occurredAt) => makeEvent({ occurredAt }));
      const results = await Promise.all([
        a.append(batch()),
        b.append(batch()),
        a.append(batch()),
        b.append(batch()),
      ]);
      expect(results.every((r) => r.inserted === 12)).toBe(true);
      expect((await partitionsOf(schema)).filter((n) => n.startsWith('audit_events_p2035_'))).toHaveLength(
        12,
      );
    });
  });

  describe('reading what others wrote', () => {
    it('returns seq and hash set later by the sealer (columns, not the JSON)', async () => {
      const s = store();
      await s.migrate();
      const event = makeEvent();
      await s.append([event]);
      await admin.query(`UPDATE "${s.schema}".audit_events SET seq = 41, hash = 'h41' WHERE id = $1`, [
        event.id,
      ]);
      expect(await s.get(event.id)).toEqual({ ...event, seq: 41, hash: 'h41' });
    });

    it('pages without loss over rows with microsecond timestamps (as written by database triggers)', async () => {
      const s = store();
      await s.migrate();
      const micros = ['123456', '123457', '123999', '123000', '124001'];
      const ids: string[] = [];
      for (const us of micros) {
        const event = makeEvent({ tenantId: 'org_us', occurredAt: new Date('2026-06-01T00:00:00.123Z') });
        ids.push(event.id);
        await admin.query(
          `INSERT INTO "${s.schema}".audit_events (id, occurred_at, category, action, outcome, tenant_id, actor_type, data)
           VALUES ($1, $2, 'custom', 'test.event', 'success', 'org_us', 'system', $3)`,
          [event.id, `2026-06-01T00:00:00.${us}Z`, JSON.stringify(event)],
        );
      }
      const walked: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await s.query({ tenantId: 'org_us', limit: 1, cursor });
        walked.push(...page.events.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(walked).toHaveLength(5);
      expect(new Set(walked)).toEqual(new Set(ids));
      // Newest first by the database timestamp: 124001, 123999, 123457, 123456, 123000.
      expect(walked).toEqual([4, 2, 1, 0, 3].map((i) => ids[i]));
    });
  });

  describe('connections', () => {
    it('fails fast with store_unavailable naming the server, never the password, when nothing listens', async () => {
      const s = postgresStore({ connectionString: 'postgres://auditor:s3cret-pass@127.0.0.1:1/audit' });
      const started = Date.now();
      const error = await s.migrate().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error).toBeInstanceOf(AuditkitError);
      expect(error).toMatchObject({ code: 'store_unavailable' });
      const message = (error as Error).message;
      expect(message).toContain('postgres://auditor@127.0.0.1:1/audit');
      expect(message).toMatch(/ECONNREFUSED/);
      expect(message).toMatch(/check that the server is running/i);
      expect(message).not.toContain('s3cret');
      await expect(s.append([makeEvent()])).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(s.query()).rejects.toMatchObject({ code: 'store_unavailable' });
      await s.close();
    });

    it('reports an unknown database as store_unavailable', async () => {
      const wrong = new URL(url);
      wrong.pathname = '/no_such_database_here';
      const s = postgresStore({ connectionString: wrong.toString() });
      await expect(s.migrate()).rejects.toMatchObject({
        code: 'store_unavailable',
        message: expect.stringContaining('no_such_database_here'),
      });
      await s.close();
    });

    it('rejects missing connection settings with invalid_config', () => {
      expect(() => postgresStore({ connectionString: '' })).toThrowError(
        expect.objectContaining({ code: 'invalid_config' }),
      );
    });

    it('uses an existing pg.Pool, and close() leaves that pool open', async () => {
      const pool = new pg.Pool({ connectionString: url, max: 3 });
      const schema = uniqueSchemaName('ownpool');
      schemas.push(schema);
      const s = postgresStore({ pool }, { schema });
      await s.migrate();
      const event = makeEvent();
      await s.append([event]);
      expect(await s.get(event.id)).toEqual(event);
      await s.close();
      expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
      expect(pool.listenerCount('error')).toBe(0);
      await pool.end();
    });

    it('reports SQL errors that are not connection errors as store_error', async () => {
      const s = store();
      await expect(s.append([makeEvent()])).rejects.toMatchObject({
        code: 'store_error',
        message: expect.stringContaining('run migrate() first'),
      });
    });
  });

  // These start a server of their own, so they need the binaries even when AUDITKIT_TEST_PG_URL is set.
  describe.skipIf(!findPostgresBinaries())('server restarts', () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.destroy();
    });

    it('survives the server going away: store_unavailable while down, appends again once it is back', async () => {
      const poolErrors: AuditkitError[] = [];
      const s = postgresStore(
        { connectionString: server.url },
        { schema: 'restart', onPoolError: (e) => poolErrors.push(e) },
      );
      try {
        await s.migrate();
        expect((await s.append([makeEvent()])).inserted).toBe(1);

        await server.stop();
        await expect(s.append([makeEvent()])).rejects.toMatchObject({ code: 'store_unavailable' });
        await expect(s.query()).rejects.toMatchObject({ code: 'store_unavailable' });

        await server.start();
        expect((await s.append([makeEvent()])).inserted).toBe(1);
        // A large (chunked, transactional) batch works on the new connections too.
        const big = Array.from({ length: 6000 }, () => makeEvent({ tenantId: 'org_after_restart' }));
        expect(await s.append(big)).toEqual({ inserted: 6000, duplicates: 0 });

        await server.restart();
        expect((await s.append([makeEvent()])).inserted).toBe(1);
        expect(await queryAll(s, { limit: 1000 })).toHaveLength(6003);
        // Idle connections killed by the restarts were reported, not thrown at the process.
        expect(poolErrors.length).toBeGreaterThan(0);
        expect(poolErrors.every((e) => e.code === 'store_unavailable')).toBe(true);
      } finally {
        await s.close();
      }
    });

    it('a batch interrupted by the server stopping fails with store_unavailable and nothing half-written', async () => {
      const s = postgresStore({ connectionString: server.url }, { schema: 'interrupted' });
      try {
        await s.migrate();
        const big = Array.from({ length: 20_000 }, (_, i) =>
          makeEvent({ tenantId: 'org_interrupted', metadata: { i, pad: 'x'.repeat(200) } }),
        );
        const writing = s.append(big).then(
          (r) => r,
          (e: unknown) => e,
        );
        await new Promise((r) => setTimeout(r, 30));
        await server.stop();
        const outcome = await writing;
        await server.start();
        const stored = (await queryAll(s, { tenantId: 'org_interrupted', limit: 1000 })).length;
        if (outcome instanceof Error) {
          expect(outcome).toMatchObject({ code: 'store_unavailable' });
          expect(stored).toBe(0);
        } else {
          // The server finished the batch before shutting down.
          expect(outcome).toEqual({ inserted: 20_000, duplicates: 0 });
          expect(stored).toBe(20_000);
        }
        // Replaying the batch completes it either way.
        const replay = await s.append(big);
        expect(replay.inserted + replay.duplicates).toBe(20_000);
      } finally {
        await s.close();
      }
    });
  });
});
