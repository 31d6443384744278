import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor } from '../core/auditor.js';
import { pgliteStore } from '../store/pglite/index.js';
import { parseTime } from './commands/query.js';
import type { CliIo } from './io.js';
import { runCli } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-cli-'));
const dataDir = join(dir, 'audit');

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { AUDITKIT_DATA_DIR: dataDir, ...env },
  };
  return { cli, out: () => out.join(''), err: () => err.join('') };
}

beforeAll(async () => {
  const migrate = io();
  expect(await runCli(['migrate'], migrate.cli)).toBe(0);
  expect(migrate.out()).toContain('up to date');
  const audit = createAuditor({ store: pgliteStore({ dataDir }), mode: 'sync', spool: false });
  await audit.record({
    category: 'auth',
    action: 'user.login',
    outcome: 'failure',
    reason: 'bad_password',
    actor: { type: 'user', id: 'u1' },
    tenantId: 'org_1',
  });
  await audit.record({
    category: 'access',
    action: 'http.request',
    request: { path: '/api/orders', status: 503 },
    tenantId: 'org_2',
  });
  await audit.record({
    category: 'custom',
    action: 'report.exported',
    target: { type: 'report', id: '42' },
    tenantId: 'org_1',
  });
  await audit.close();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auditkit query', () => {
  it('prints a table, newest first', async () => {
    const run = io();
    expect(await runCli(['query'], run.cli)).toBe(0);
    const lines = run.out().split('\n');
    expect(lines[0]).toMatch(/^time\s+category\s+action/);
    expect(lines[2]).toContain('report.exported');
    expect(run.out()).toContain('3 event(s).');
  });

  it('filters by tenant, category, outcome and status class', async () => {
    const run = io();
    expect(
      await runCli(
        ['query', '--tenant', 'org_1', '--category', 'auth', '--outcome', 'failure', '--format', 'jsonl'],
        run.cli,
      ),
    ).toBe(0);
    const events = run
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'user.login', reason: 'bad_password' });

    const byStatus = io();
    expect(await runCli(['query', '--status', '5xx', '--format', 'json'], byStatus.cli)).toBe(0);
    expect(JSON.parse(byStatus.out()).events.map((e: { action: string }) => e.action)).toEqual([
      'http.request',
    ]);
  });

  it('pages with --limit and --cursor', async () => {
    const first = io();
    await runCli(['query', '--limit', '2', '--format', 'json'], first.cli);
    const page = JSON.parse(first.out());
    expect(page.events).toHaveLength(2);
    const second = io();
    await runCli(['query', '--limit', '2', '--format', 'json', '--cursor', page.nextCursor], second.cli);
    expect(JSON.parse(second.out()).events).toHaveLength(1);
  });

  it('explains bad flags and exits non-zero', async () => {
    const run = io();
    expect(await runCli(['query', '--category', 'nope'], run.cli)).not.toBe(0);
    expect(run.err()).toContain('expected one of change, access, auth');
    const limit = io();
    expect(await runCli(['query', '--limit', '5000'], limit.cli)).not.toBe(0);
    expect(limit.err()).toContain('1 to 1000');
  });

  it('reports an unreachable database as a clear error', async () => {
    const run = io({ AUDITKIT_DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' });
    expect(await runCli(['query'], run.cli)).toBe(1);
    expect(run.err()).toMatch(/auditkit: .*store_unavailable/);
    expect(run.err()).not.toContain('secret');
  }, 30_000);
});

describe('parseTime', () => {
  it('reads ISO times and durations ago', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    expect(parseTime('2026-01-01T00:00:00Z')).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(parseTime('24h', now)).toEqual(new Date('2026-01-09T00:00:00Z'));
    expect(parseTime('7d', now)).toEqual(new Date('2026-01-03T00:00:00Z'));
    expect(() => parseTime('yesterday')).toThrow(/ISO 8601/);
  });
});
