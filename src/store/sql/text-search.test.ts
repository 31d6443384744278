import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeEvent } from '../../../test/contract/store-contract.js';
import { uniqueSchemaName } from '../../../test/helpers/postgres-server.js';
import type { AuditEvent } from '../../core/event.js';
import { pgliteStore } from '../pglite/index.js';
import { postgresStore } from '../postgres/index.js';
import { encodeCursor } from './cursor.js';
import type { EventRow } from './event-rows.js';
import { buildEventQuery } from './query-builder.js';
import type { SqlAuditStore } from './sql-audit-store.js';
import {
  indexableTerm,
  TEXT_SEARCH_COLUMNS,
  TEXT_SEARCH_INDEX,
  TEXT_SEARCH_MIGRATION,
  textSearchCondition,
} from './text-search.js';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

/** `count` ordinary events (labels, ids, messages made of a few common words) and a handful of rare ones. */
function corpus(count: number): { events: AuditEvent[]; rare: AuditEvent[] } {
  const base = Date.UTC(2026, 0, 1);
  const events = Array.from({ length: count }, (_, i) =>
    makeEvent({
      occurredAt: new Date(base + i * 1000),
      category: 'access',
      action: 'http.request',
      tenantId: `org_${i % 20}`,
      actor: { type: 'user', id: `u_${i % 500}`, label: `User ${WORDS[i % 8]} ${i % 500}` },
      target: { type: 'route', id: `/api/items/${i}` },
      message: `GET /api/items/${i} ${WORDS[(i * 7) % 8]}`,
    }),
  );
  const rare = [
    makeEvent({
      occurredAt: new Date(base + 10 * 1000 + 1),
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      reason: 'bad_password',
      actor: { type: 'anonymous', label: 'zanzibar-quokka@example.com' },
    }),
    makeEvent({
      occurredAt: new Date(base + 20 * 1000 + 1),
      category: 'change',
      action: 'invoice.updated',
      actor: { type: 'user', id: 'u_1', label: 'Ada' },
      target: { type: 'invoice', id: 'INV-QZX-9001', label: 'Invoice nine thousand and one' },
    }),
    makeEvent({
      occurredAt: new Date(base + 30 * 1000 + 1),
      action: 'report.exported',
      message: '100%_quokka done',
    }),
  ];
  return { events, rare };
}

/** What `text` must match, computed the way the store documents it (case-insensitive substring per field). */
function expectedIds(events: AuditEvent[], term: string): string[] {
  const needle = term.toLowerCase();
  const fields = (e: AuditEvent) => [
    e.message,
    e.action,
    e.reason,
    e.actor.label,
    e.actor.id,
    e.target?.label,
    e.target?.id,
  ];
  return events
    .filter((e) => fields(e).some((f) => typeof f === 'string' && f.toLowerCase().includes(needle)))
    .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || (a.id < b.id ? 1 : -1))
    .map((e) => e.id);
}

const TERMS = [
  'zanzibar',
  'QUOKKA',
  'inv-qzx',
  '100%_quo',
  'nine thousand',
  'bad_password',
  'login bad',
  'items/4999',
  'charlie',
  'ab',
  '%',
];

async function planOf(store: SqlAuditStore, term: string, forceBitmap = false): Promise<string> {
  const built = buildEventQuery(store.table, { text: term, limit: 50 });
  const run = async (executor: SqlAuditStore['executor']) =>
    (await executor.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${built.text}`, built.params)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
  if (!forceBitmap) return run(store.executor);
  return store.executor.transaction
    ? store.executor.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        await tx.query('SET LOCAL enable_indexscan = off');
        return run(tx);
      })
    : run(store.executor);
}

/** Every page of a text search, as ids, with the index forced (bitmap scans only) when asked. */
async function searchIds(store: SqlAuditStore, term: string, forceBitmap: boolean): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const built = buildEventQuery(store.table, { text: term, limit: 1000, ...(cursor ? { cursor } : {}) });
    const read = async (executor: SqlAuditStore['executor']) => {
      if (forceBitmap) {
        await executor.query('SET LOCAL enable_seqscan = off');
        await executor.query('SET LOCAL enable_indexscan = off');
      }
      return (await executor.query<EventRow>(built.text, built.params)).rows;
    };
    const rows = store.executor.transaction
      ? await store.executor.transaction(read)
      : await read(store.executor);
    const page = rows.slice(0, built.limit);
    ids.push(...page.map((r) => r.cursor_id));
    const last = page[page.length - 1];
    cursor =
      rows.length > built.limit && last
        ? encodeCursor({ occurredAt: last.cursor_at, id: last.cursor_id })
        : undefined;
  } while (cursor);
  return ids;
}

async function indexNames(store: SqlAuditStore): Promise<string[]> {
  const rows = await store.executor.query<{ indexname: string }>(
    'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname = $2',
    [store.schema, TEXT_SEARCH_INDEX],
  );
  return rows.rows.map((r) => r.indexname);
}

describe('free-text search SQL', () => {
  it('looks a term up in the index only when it has three letters or digits in a row', () => {
    expect(indexableTerm('zan')).toBe(true);
    expect(indexableTerm('Zoë')).toBe(true);
    expect(indexableTerm('a_b')).toBe(false);
    expect(indexableTerm('ab')).toBe(false);
    expect(indexableTerm('%_%')).toBe(false);
    expect(indexableTerm('100%')).toBe(true);
  });

  it('keeps the exact per-field test beside the indexed expression, so results never change', () => {
    const condition = textSearchCondition('quokka', '$3');
    for (const column of TEXT_SEARCH_COLUMNS) expect(condition).toContain(`${column} ILIKE $3`);
    expect(condition).toMatch(/^\(\(coalesce\(message, ''\) \|\| ' ' \|\| .+\) ILIKE \$3 AND \(/);
    expect(textSearchCondition('ab', '$1')).not.toContain('coalesce');
  });

  it('writes the migration as one PL/pgSQL block whose quoting survives any schema name', () => {
    const [statement] = TEXT_SEARCH_MIGRATION.up({
      partitioned: true,
      schema: '"we$auditkit$ird"',
      qualify: (name) => `"we$auditkit$ird"."${name}"`,
    });
    expect(statement).toMatch(/^DO \$auditkit1\$/);
    expect(statement).toContain('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    expect(statement?.endsWith('$auditkit1$')).toBe(true);
  });
});

describe('free-text index on PGlite', () => {
  let store: SqlAuditStore;
  let all: AuditEvent[];
  beforeAll(async () => {
    store = pgliteStore();
    await store.migrate();
    const { events, rare } = corpus(5000);
    all = [...events, ...rare];
    await store.append(all);
    await store.executor.query('ANALYZE');
  });
  afterAll(() => store.close());

  it('is created by migrate(): the store loads pg_trgm into the database it opens', async () => {
    expect(await indexNames(store)).toEqual([TEXT_SEARCH_INDEX]);
    const ext = await store.executor.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
    expect(ext.rows).toHaveLength(1);
  });

  it('answers a rare term from the index (EXPLAIN), a two-letter one without it', async () => {
    expect(await planOf(store, 'zanzibar')).toContain(`Bitmap Index Scan on ${TEXT_SEARCH_INDEX}`);
    expect(await planOf(store, 'inv-qzx')).toContain(`Bitmap Index Scan on ${TEXT_SEARCH_INDEX}`);
    expect(await planOf(store, 'ab')).not.toContain(TEXT_SEARCH_INDEX);
  });

  it('returns exactly the per-field matches, through the index or a scan', async () => {
    for (const term of TERMS) {
      const expected = expectedIds(all, term);
      expect({ term, ids: await searchIds(store, term, true) }).toEqual({ term, ids: expected });
      expect({ term, ids: await searchIds(store, term, false) }).toEqual({ term, ids: expected });
    }
    expect(expectedIds(all, 'zanzibar')).toHaveLength(1);
    expect(expectedIds(all, 'charlie').length).toBeGreaterThan(1000);
  });

  it('an existing PGlite without pg_trgm: migrate() succeeds, no index, the same results by scan', async () => {
    const db = await PGlite.create();
    const plain = pgliteStore({ db });
    try {
      await plain.migrate();
      expect(await indexNames(plain)).toEqual([]);
      const { events, rare } = corpus(300);
      await plain.append([...events, ...rare]);
      for (const term of ['zanzibar', 'QUOKKA', '100%_quo', 'login bad']) {
        expect((await plain.query({ text: term, limit: 1000 })).events.map((e) => e.id)).toEqual(
          expectedIds([...events, ...rare], term),
        );
      }
    } finally {
      await plain.close();
      await db.close();
    }
  });

  it('textSearchIndex: false records migration 5 without the index, drops one made before, and true brings it back', async () => {
    const db = await PGlite.create({ extensions: { pg_trgm } });
    const withOption = (textSearchIndex?: boolean) =>
      pgliteStore({ db, schema: 'switch', ...(textSearchIndex === undefined ? {} : { textSearchIndex }) });
    try {
      const off = withOption(false);
      await off.migrate();
      expect(await indexNames(off)).toEqual([]);
      const ledger = await db.query('SELECT 1 FROM switch.auditkit_migrations WHERE version = 5');
      expect(ledger.rows).toHaveLength(1);
      const { events, rare } = corpus(200);
      await off.append([...events, ...rare]);
      expect((await off.query({ text: 'quokka' })).events.map((e) => e.id)).toEqual(
        expectedIds([...events, ...rare], 'quokka'),
      );
      await off.close();

      const on = withOption();
      await on.migrate();
      expect(await indexNames(on)).toEqual([TEXT_SEARCH_INDEX]);
      await on.migrate(); // nothing to do the second time
      expect(await indexNames(on)).toEqual([TEXT_SEARCH_INDEX]);
      expect((await on.query({ text: 'quokka' })).events.map((e) => e.id)).toEqual(
        expectedIds([...events, ...rare], 'quokka'),
      );
      await on.close();

      const offAgain = withOption(false);
      await offAgain.migrate();
      expect(await indexNames(offAgain)).toEqual([]);
      await offAgain.close();
    } finally {
      await db.close();
    }
  });

  it('an existing PGlite that loaded pg_trgm gets the index', async () => {
    const db = await PGlite.create({ extensions: { pg_trgm } });
    const own = pgliteStore({ db, schema: 'audit' });
    try {
      await own.migrate();
      expect(await indexNames(own)).toEqual([TEXT_SEARCH_INDEX]);
    } finally {
      await own.close();
      await db.close();
    }
  });
});

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

describe.skipIf(!url)(`free-text index on PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  let admin: pg.Pool;
  const stores: SqlAuditStore[] = [];
  const schemas: string[] = [];
  const databases: string[] = [];
  const roles: string[] = [];
  const open = (connectionString: string, schema = uniqueSchemaName('trgm')) => {
    const store = postgresStore({ connectionString, schema });
    stores.push(store);
    if (connectionString === url) schemas.push(schema);
    return store;
  };
  /** A database of its own, so whether pg_trgm is installed does not depend on other tests. */
  const freshDatabase = async (): Promise<{ name: string; url: string }> => {
    const name = uniqueSchemaName('trgm_db');
    await admin.query(`CREATE DATABASE "${name}"`);
    databases.push(name);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${name}`;
    return { name, url: dbUrl.toString() };
  };

  beforeAll(() => {
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end();
  });

  it('is created on the partitioned parent, so every partition, present or added later, has it', async () => {
    const store = open(url);
    await store.migrate();
    await store.append([makeEvent({ occurredAt: new Date('2019-02-14T10:00:00Z'), message: 'old' })]);
    const parent = await admin.query<{ kind: string }>(
      `SELECT c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [store.schema, TEXT_SEARCH_INDEX],
    );
    expect(parent.rows).toEqual([{ kind: 'I' }]); // a partitioned index
    const coverage = await admin.query<{ partitions: number; indexed: number }>(
      `SELECT count(*)::int AS partitions,
              count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM pg_index x JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid
                  JOIN pg_class pi ON pi.oid = ii.inhparent
                 WHERE x.indrelid = i.inhrelid AND pi.relname = $2))::int AS indexed
         FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = $1 AND p.relname = 'audit_events'`,
      [store.schema, TEXT_SEARCH_INDEX],
    );
    expect(coverage.rows[0]?.partitions).toBeGreaterThanOrEqual(7); // 5 around now, 2019-02, DEFAULT
    expect(coverage.rows[0]?.indexed).toBe(coverage.rows[0]?.partitions);
  });

  it('answers a rare term from the index (EXPLAIN) and returns exactly the per-field matches', async () => {
    const store = open(url);
    await store.migrate();
    const { events, rare } = corpus(20_000);
    const all = [...events, ...rare];
    await store.append(all);
    await admin.query(`ANALYZE "${store.schema}".audit_events`);
    const plan = await planOf(store, 'zanzibar');
    expect(plan).toContain('Bitmap Index Scan');
    expect(plan).toMatch(/Index Cond: \(\(\(+COALESCE\(message/);
    expect(await planOf(store, 'ab')).not.toMatch(/Index Cond: \(\(\(+COALESCE\(message/);
    for (const term of TERMS) {
      const expected = expectedIds(all, term);
      expect({ term, ids: await searchIds(store, term, true) }).toEqual({ term, ids: expected });
      expect({ term, ids: await searchIds(store, term, false) }).toEqual({ term, ids: expected });
    }
  });

  it('without the right to create pg_trgm: migrate() succeeds, no index, searches still answer', async () => {
    const db = await freshDatabase();
    const role = uniqueSchemaName('noext');
    roles.push(role);
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    // The role owns its schema but may not create anything in the database itself (no CREATE EXTENSION).
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      await owner.query(`REVOKE CREATE ON DATABASE "${db.name}" FROM PUBLIC`);
      await owner.query(`CREATE SCHEMA audit AUTHORIZATION "${role}"`);
    } finally {
      await owner.end();
    }
    const asRole = new URL(db.url);
    asRole.username = role;
    const store = open(asRole.toString(), 'audit');
    await store.migrate();
    expect(await indexNames(store)).toEqual([]);
    const ledger = await store.executor.query<{ version: number }>(
      'SELECT version FROM audit.auditkit_migrations WHERE version = 5',
    );
    expect(ledger.rows).toHaveLength(1);
    const { events, rare } = corpus(200);
    await store.append([...events, ...rare]);
    for (const term of ['zanzibar', 'inv-qzx', '100%_quo']) {
      expect((await store.query({ text: term })).events.map((e) => e.id)).toEqual(
        expectedIds([...events, ...rare], term),
      );
    }
  });

  it('a later migrate() creates the index once pg_trgm is installed; textSearchIndex: false drops it', async () => {
    const db = await freshDatabase();
    const role = uniqueSchemaName('later');
    roles.push(role);
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      await owner.query(`REVOKE CREATE ON DATABASE "${db.name}" FROM PUBLIC`);
      await owner.query(`CREATE SCHEMA audit AUTHORIZATION "${role}"`);
      const asRole = new URL(db.url);
      asRole.username = role;
      const first = open(asRole.toString(), 'audit');
      await first.migrate();
      await first.append([makeEvent({ occurredAt: new Date('2019-05-01T00:00:00Z'), message: 'before' })]);
      expect(await indexNames(first)).toEqual([]);
      // A database administrator installs the extension, in a schema of its own the role may not use yet.
      await owner.query('CREATE SCHEMA extensions');
      await owner.query('CREATE EXTENSION pg_trgm SCHEMA extensions');
      await first.migrate();
      expect(await indexNames(first)).toEqual([]);
      await owner.query(`GRANT USAGE ON SCHEMA extensions TO "${role}"`);
      await first.migrate();
      expect(await indexNames(first)).toEqual([TEXT_SEARCH_INDEX]);
      expect((await first.query({ text: 'befor' })).events.map((e) => e.message)).toEqual(['before']);

      const off = postgresStore({
        connectionString: asRole.toString(),
        schema: 'audit',
        textSearchIndex: false,
      });
      stores.push(off);
      await off.migrate();
      expect(await indexNames(off)).toEqual([]);
      const children = await owner.query(
        `SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'audit' AND indexdef LIKE '%gin_trgm_ops%'`,
      );
      expect(children.rows[0]?.n).toBe(0); // gone from every partition too
    } finally {
      await owner.end();
    }
  });

  it('schemas migrated at the same time in a database without pg_trgm both get the index', async () => {
    const db = await freshDatabase();
    const a = open(db.url, `a_${randomUUID().slice(0, 8)}`);
    const b = open(db.url, `b_${randomUUID().slice(0, 8)}`);
    await Promise.all([a.migrate(), b.migrate()]);
    expect(await indexNames(a)).toEqual([TEXT_SEARCH_INDEX]);
    expect(await indexNames(b)).toEqual([TEXT_SEARCH_INDEX]);
  });
});
