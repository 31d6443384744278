import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { uniqueSchemaName } from '../../../../test/helpers/postgres-server.js';
import { type Auditor, createAuditor } from '../../../core/auditor.js';
import type { AuditkitError } from '../../../core/errors.js';
import type { AuditEvent } from '../../../core/event.js';
import { pgliteStore } from '../../../store/pglite/index.js';
import { postgresStore } from '../../../store/postgres/index.js';
import type { SqlExecutor } from '../../../store/sql/sql-executor.js';
import { type AuditTriggers, auditTriggers } from '../trigger-installer.js';

/** The application_name the harness connects with, so tests can see it recorded. */
export const APPLICATION_NAME = 'auditkit-trigger-test';

/** One database with business tables, an audit store in another schema, and ways to talk to it. */
export interface TriggerHarness {
  name: 'PGlite' | 'PostgreSQL';
  audit: Auditor;
  triggers: AuditTriggers;
  /** The schema of the business tables (also the search_path of `sql`). */
  schema: string;
  /** The schema of the audit tables and trigger functions. */
  auditSchema: string;
  /** Raw SQL on the business tables, autocommit; several statements when there are no values. */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** What `withTransactionContext` runs on: a `pg.Pool`, or the PGlite database. */
  client: unknown;
  /** SQL access to the same database for an installer of another audit schema. */
  access(schema: string): { executor: SqlExecutor; schema: string; partitioned: boolean; name: string };
  /** `change` events, oldest first. */
  changes(): Promise<AuditEvent[]>;
  errors: AuditkitError[];
  close(): Promise<void>;
}

const oldestFirst = (a: AuditEvent, b: AuditEvent) =>
  a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

async function allChanges(audit: Auditor): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await audit.query({ category: 'change', limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return events.sort(oldestFirst);
}

/** An in-memory PGlite holding both the business tables and the audit store. */
export async function pgliteHarness(): Promise<TriggerHarness> {
  const db = await PGlite.create();
  const schema = uniqueSchemaName('trg_app');
  const auditSchema = uniqueSchemaName('trg_audit');
  await db.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
  const errors: AuditkitError[] = [];
  const audit = createAuditor({
    store: pgliteStore({ db, schema: auditSchema }),
    mode: 'sync',
    spool: false,
    onError: (error) => errors.push(error),
  });
  await audit.migrate();
  const sql = async <T>(text: string, values?: unknown[]): Promise<T[]> => {
    if (!values) return ((await db.exec(text)).at(-1)?.rows ?? []) as T[];
    return (await db.query<T>(text, values)).rows;
  };
  const executor: SqlExecutor = {
    query: async <T>(text: string, params?: readonly unknown[]) =>
      db.query<T>(text, params as unknown[] | undefined),
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: async <T>(text: string, params?: readonly unknown[]) =>
            tx.query<T>(text, params as unknown[]),
        }),
      ),
  };
  return {
    name: 'PGlite',
    audit,
    triggers: auditTriggers(audit),
    schema,
    auditSchema,
    sql,
    client: db,
    access: (s) => ({ executor, schema: s, partitioned: false, name: 'pglite' }),
    changes: () => allChanges(audit),
    errors,
    async close() {
      await audit.close();
      await db.close();
    },
  };
}

/** Two schemas of their own on the shared PostgreSQL server. */
export async function postgresHarness(url: string): Promise<TriggerHarness> {
  const schema = uniqueSchemaName('trg_app');
  const auditSchema = uniqueSchemaName('trg_audit');
  const pool = new pg.Pool({
    connectionString: url,
    max: 12,
    application_name: APPLICATION_NAME,
    options: `-c search_path="${schema}"`,
  });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const errors: AuditkitError[] = [];
  const audit = createAuditor({
    store: postgresStore({ connectionString: url, schema: auditSchema }),
    mode: 'sync',
    spool: false,
    onError: (error) => errors.push(error),
  });
  await audit.migrate();
  const executor: SqlExecutor = {
    query: async <T>(text: string, params?: readonly unknown[]) =>
      (await pool.query(text, params as unknown[] | undefined)) as unknown as { rows: T[] },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <T>(text: string, params?: readonly unknown[]) =>
            (await client.query(text, params as unknown[] | undefined)) as unknown as { rows: T[] },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
  };
  return {
    name: 'PostgreSQL',
    audit,
    triggers: auditTriggers(audit),
    schema,
    auditSchema,
    sql: async <T>(text: string, values?: unknown[]) => {
      const result = (await pool.query(text, values)) as unknown as { rows: T[] } | { rows: T[] }[];
      return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
    },
    client: pool,
    access: (s) => ({ executor, schema: s, partitioned: true, name: 'postgres' }),
    changes: () => allChanges(audit),
    errors,
    async close() {
      await audit.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.query(`DROP SCHEMA IF EXISTS "${auditSchema}" CASCADE`);
      await pool.end();
    },
  };
}

/** An event without what differs from run to run (id, time), for comparing shapes. */
export function shape(event: AuditEvent) {
  const { id: _id, occurredAt: _at, ...rest } = event;
  return rest;
}
