import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueSchemaName } from '../../../test/helpers/postgres-server.js';
import type { CliIo } from '../io.js';
import { runCli } from '../main.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-cli-triggers-'));
const dataDir = join(dir, 'db');
const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

function io(env: Record<string, string | undefined> = { AUDITKIT_DATA_DIR: dataDir }) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env };
  return { cli, out: () => out.join(''), err: () => err.join('') };
}

/** Runs SQL on the CLI's PGlite directory (one process may hold it at a time: opened, then closed). */
async function onDatabase<T>(fn: (db: PGlite) => Promise<T>): Promise<T> {
  // Opened like the store opens it: with pg_trgm, which the free-text index of audit_events needs.
  const db = await PGlite.create({ dataDir, extensions: { pg_trgm } });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  await onDatabase((db) =>
    db.exec(`
      CREATE TABLE orders (id serial PRIMARY KEY, status text, iban text, note text);
      CREATE TABLE tags (id serial PRIMARY KEY, name text);
      CREATE TABLE members (id serial PRIMARY KEY, badge_no text, meta jsonb);
      CREATE TABLE order_tags (order_id int, tag_id int, PRIMARY KEY (order_id, tag_id));
      CREATE TABLE logbook (line text);`),
  );
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auditkit triggers', () => {
  it('installs triggers with column settings, and the changes are recorded', async () => {
    const run = io();
    const flags = ['--exclude', 'note', '--mask', 'iban', '--mask-mode', 'changed'];
    expect(await runCli(['triggers', 'install', 'orders', ...flags], run.cli)).toBe(0);
    expect(run.err()).toBe('');
    expect(run.out()).toBe('Installed audit triggers on public.orders (key id; masked iban).\n');
    // The settings apply to every table named: a column missing from one of them is an error.
    const both = io();
    expect(await runCli(['triggers', 'install', 'orders', 'tags', '--mask', 'iban'], both.cli)).toBe(1);
    expect(both.err()).toContain('mask: public.tags has no column "iban"');
    const tags = io();
    expect(await runCli(['triggers', 'install', 'tags'], tags.cli)).toBe(0);
    expect(tags.out()).toBe('Installed audit triggers on public.tags (key id).\n');
    await onDatabase(async (db) => {
      await db.exec("INSERT INTO orders (status, iban, note) VALUES ('new', 'DE89370400440532013000', 'n')");
      const rows = await db.query<{ data: { changes: unknown } }>(
        "SELECT data FROM audit_events WHERE category = 'change'",
      );
      expect(rows.rows.map((r) => r.data.changes)).toEqual([
        { id: [null, 1], status: [null, 'new'], iban: ['[REDACTED]', '[REDACTED]'] },
      ]);
    });
  });

  it("masks the app's own secret names with --secret-keys, in columns and inside JSON values", async () => {
    const run = io();
    const flags = ['--secret-keys', 'badge_no', '--force-log-deletes'];
    expect(await runCli(['triggers', 'install', 'members', ...flags], run.cli)).toBe(0);
    expect(run.out()).toBe('Installed audit triggers on public.members (key id; masked badge_no).\n');
    await onDatabase(async (db) => {
      await db.exec(
        `INSERT INTO members (badge_no, meta) VALUES ('B-1234', '{"badgeNo": "B-1234", "team": "ops"}')`,
      );
      const rows = await db.query<{ data: unknown }>(
        "SELECT data FROM audit_events WHERE data->'target'->>'type' = 'members'",
      );
      expect(JSON.stringify(rows.rows)).not.toContain('B-1234');
      expect(JSON.stringify(rows.rows)).toContain('ops');
    });
    const json = io();
    expect(await runCli(['triggers', 'status', '--json'], json.cli)).toBe(0);
    const members = (JSON.parse(json.out()) as { table: string; options: unknown }[]).find(
      (t) => t.table === 'public.members',
    );
    expect(members?.options).toEqual({ forceLogDeletes: true });
  });

  it('records a join table as links with --relation, and warns about a table without a key', async () => {
    const run = io();
    expect(
      await runCli(
        ['triggers', 'install', 'order_tags', '--relation', 'orders(order_id).tags(tag_id):labels'],
        run.cli,
      ),
    ).toBe(0);
    expect(run.out()).toContain('links on orders as labels');
    const keyless = io();
    expect(await runCli(['triggers', 'install', 'logbook'], keyless.cli)).toBe(0);
    expect(keyless.err()).toContain('warning: public.logbook has no primary key');
    await onDatabase(async (db) => {
      await db.exec('INSERT INTO order_tags VALUES (1, 3)');
      const rows = await db.query<{ data: { action: string; target: unknown; changes: unknown } }>(
        "SELECT data FROM audit_events WHERE action LIKE 'relation.%'",
      );
      expect(rows.rows.map((r) => [r.data.action, r.data.target, r.data.changes])).toEqual([
        ['relation.added', { type: 'orders', id: '1' }, { labels: [null, '3'] }],
      ]);
    });
  });

  it('lists the tables with their settings, as a table or JSON', async () => {
    const run = io();
    expect(await runCli(['triggers', 'status'], run.cli)).toBe(0);
    const lines = run.out().split('\n');
    expect(lines[0]).toMatch(/^table\s+state\s+key\s+options/);
    expect(run.out()).toMatch(/public\.orders\s+active\s+id\s+\{/);
    const json = io();
    expect(await runCli(['triggers', 'status', '--json'], json.cli)).toBe(0);
    const list = JSON.parse(json.out()) as { table: string; active: boolean; options: unknown }[];
    expect(list.find((s) => s.table === 'public.orders')?.options).toEqual({
      exclude: ['note'],
      mask: ['iban'],
      maskMode: 'changed',
    });
    expect(list.map((s) => s.table)).toEqual([
      'public.logbook',
      'public.members',
      'public.order_tags',
      'public.orders',
      'public.tags',
    ]);
    expect(list.every((s) => s.active)).toBe(true);
  });

  it('prints the SQL to paste into migrations without changing anything', async () => {
    const run = io();
    expect(await runCli(['triggers', 'install', 'tags', '--include', 'name', '--print-sql'], run.cli)).toBe(
      0,
    );
    expect(run.out()).toContain('-- Auditkit trigger mode');
    expect(run.out()).toContain('CREATE TRIGGER auditkit_changes_insert AFTER INSERT ON "public"."tags"');
    const status = io();
    await runCli(['triggers', 'status', '--json'], status.cli);
    const tags = (JSON.parse(status.out()) as { name: string; options: unknown }[]).find(
      (s) => s.name === 'tags',
    );
    expect(tags?.options).toEqual({}); // as installed before: --print-sql changed nothing
  });

  it('uninstalls, keeping the events, and says when a table had no triggers', async () => {
    const run = io();
    expect(await runCli(['triggers', 'uninstall', 'orders', 'nothing_here'], run.cli)).toBe(0);
    expect(run.out()).toContain('Removed the audit triggers of public.orders; its events stay.');
    expect(run.out()).toContain('nothing_here had no audit triggers.');
    await onDatabase(async (db) => {
      await db.exec("UPDATE orders SET status = 'paid'");
      const rows = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_events WHERE target_type = 'orders' AND action LIKE 'record.%'",
      );
      expect(rows.rows[0]?.n).toBe(1);
    });
  });

  it('explains bad flags and unknown tables, and exits non-zero', async () => {
    const mode = io();
    expect(await runCli(['triggers', 'install', 'tags', '--mask-mode', 'hide'], mode.cli)).not.toBe(0);
    expect(mode.err()).toContain('expected redact or changed');
    const spec = io();
    expect(await runCli(['triggers', 'install', 'tags', '--relation', 'tags.orders'], spec.cli)).not.toBe(0);
    expect(spec.err()).toContain('owner(owner_columns).related(related_columns)');
    const two = io();
    expect(await runCli(['triggers', 'install', 'tags', 'orders', '--relation', 'a(x).b(y)'], two.cli)).toBe(
      1,
    );
    expect(two.err()).toContain('--relation describes one join table');
    const missing = io();
    expect(await runCli(['triggers', 'install', 'nope'], missing.cli)).toBe(1);
    expect(missing.err()).toMatch(/There is no table "nope".*\[invalid_config\]/);
    const column = io();
    expect(await runCli(['triggers', 'install', 'tags', '--exclude', 'nmae'], column.cli)).toBe(1);
    expect(column.err()).toContain('has no column "nmae"');
  });
});

describe.skipIf(!url)(`auditkit triggers on PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  const app = uniqueSchemaName('cli_trg_app');
  const audit = uniqueSchemaName('cli_trg_audit');
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: url, max: 2 });
    await pool.query(
      `CREATE SCHEMA "${app}"; CREATE TABLE "${app}"."Invoices" (id int PRIMARY KEY, total int)`,
    );
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${app}" CASCADE; DROP SCHEMA IF EXISTS "${audit}" CASCADE`);
    await pool.end();
  });

  it('installs on a schema-qualified, quoted table, creating the audit schema first', async () => {
    const run = io({ AUDITKIT_DATABASE_URL: url });
    expect(await runCli(['triggers', 'install', `"${app}"."Invoices"`, '--schema', audit], run.cli)).toBe(0);
    expect(run.out()).toContain(`Installed audit triggers on ${app}.Invoices (key id).`);
    await pool.query(`INSERT INTO "${app}"."Invoices" VALUES (1, 10)`);
    const rows = await pool.query(`SELECT target_type, target_id, actor_type FROM "${audit}".audit_events`);
    expect(rows.rows).toEqual([{ target_type: 'Invoices', target_id: '1', actor_type: 'system' }]);
  });
});
