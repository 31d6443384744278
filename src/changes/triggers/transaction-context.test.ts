import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueSchemaName } from '../../../test/helpers/postgres-server.js';
import { createAuditor } from '../../core/auditor.js';
import { isAuditkitError } from '../../core/errors.js';
import { pgliteStore } from '../../store/pglite/index.js';
import {
  auditContextJson,
  SET_CONTEXT_SQL,
  setPrismaAuditContext,
  withTransactionContext,
} from './transaction-context.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

// The JSON needs no database: the auditor's in-memory store is never opened.
const audit = createAuditor({
  store: pgliteStore(),
  mode: 'sync',
  spool: false,
  tenantId: 'default-tenant',
  redact: { keys: ['ssn'] },
});

describe('auditContextJson', () => {
  it('gives the system actor and the default tenant outside any context', async () => {
    expect(JSON.parse(await auditContextJson(audit))).toEqual({
      tenantId: 'default-tenant',
      actor: { type: 'system' },
    });
  });

  it('resolves a lazy actor now and masks the context like any event', async () => {
    let user: { id: string; label: string } | undefined;
    const json = await audit.runWithContext(
      { actor: () => user, requestId: 'r1', sessionId: 's1', metadata: { ssn: '078-05-1120', plan: 'pro' } },
      async () => {
        user = { id: 'u1', label: 'Ann' };
        return auditContextJson(audit);
      },
    );
    expect(JSON.parse(json)).toEqual({
      tenantId: 'default-tenant',
      actor: { type: 'user', id: 'u1', label: 'Ann', sessionId: 's1' },
      correlation: { requestId: 'r1' },
      metadata: { ssn: '[REDACTED]', plan: 'pro' },
    });
  });

  it('reports a failing actor source and records anonymous instead', async () => {
    const errors: string[] = [];
    const watched = createAuditor({
      store: pgliteStore(),
      mode: 'sync',
      spool: false,
      onError: (e) => errors.push(e.code),
    });
    const json = await watched.runWithContext(
      {
        actor: () => {
          throw new Error('session store down');
        },
      },
      () => auditContextJson(watched),
    );
    expect(JSON.parse(json).actor).toEqual({ type: 'anonymous' });
    expect(errors).toEqual(['actor_resolution_failed']);
  });
});

describe('withTransactionContext', () => {
  it('refuses something that is not a database client', async () => {
    const error = await withTransactionContext(audit, {} as never, async () => 1).catch((e: unknown) => e);
    expect(isAuditkitError(error, 'invalid_config')).toBe(true);
  });
});

describe.skipIf(!url)(`on PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  let pool: pg.Pool;
  const schema = uniqueSchemaName('trg_ctx');
  const setting = async (client: pg.PoolClient) =>
    (await client.query("SELECT current_setting('auditkit.context', true) AS v")).rows[0]?.v as string | null;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: url, max: 3 });
    await pool.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".t (id int PRIMARY KEY, v text)`);
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  });

  it('sets the context for the transaction only, and rolls back when fn throws', async () => {
    const client = await pool.connect();
    try {
      const inside = await audit.runWithContext({ actor: 'u7' }, () =>
        withTransactionContext(audit, client, (c) => setting(c)),
      );
      expect(JSON.parse(String(inside)).actor).toEqual({ type: 'user', id: 'u7' });
      expect(await setting(client)).toBe(''); // gone with the transaction
      const failed = withTransactionContext(audit, client, async (c) => {
        await c.query(`INSERT INTO "${schema}".t VALUES (1, 'x')`);
        throw new Error('no');
      });
      await expect(failed).rejects.toThrow('no');
      expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}".t`)).rows[0].n).toBe(0);
    } finally {
      client.release();
    }
  });

  it('refuses a client whose transaction already failed', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => undefined);
      // At once, as an app's catch would: the driver may not have read that the transaction failed yet.
      const error = await withTransactionContext(audit, client, async () => 1).catch((e: unknown) => e);
      expect(isAuditkitError(error, 'invalid_state')).toBe(true);
    } finally {
      // Never hand a failed transaction back to the pool, whatever the assertion said.
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });

  it('checks out, uses and releases a pool client', async () => {
    const before = pool.totalCount - pool.idleCount;
    const seen = await withTransactionContext(audit, pool, async (client) => {
      expect(pool.totalCount - pool.idleCount).toBe(before + 1);
      return setting(client as pg.PoolClient);
    });
    expect(JSON.parse(String(seen)).tenantId).toBe('default-tenant');
    expect(pool.totalCount - pool.idleCount).toBe(before);
  });

  it('sets the context of a Prisma interactive transaction through $executeRawUnsafe', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The shape Prisma's `tx` has; the statement runs on a real connection.
      const tx = { $executeRawUnsafe: (query: string, ...values: unknown[]) => client.query(query, values) };
      await audit.runWithContext({ actor: { id: 'p1', type: 'service' } }, () =>
        setPrismaAuditContext(audit, tx),
      );
      expect(JSON.parse(String(await setting(client))).actor).toEqual({ type: 'service', id: 'p1' });
      await client.query('COMMIT');
      expect(SET_CONTEXT_SQL).toBe("SELECT set_config('auditkit.context', $1, true)");
    } finally {
      client.release();
    }
  });
});
