import { describe, expect, it } from 'vitest';
import { describeServer } from '../postgres/postgres-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { defineMigrations, MIGRATIONS } from './migrations.js';
import { monthOf, monthsBetween, partitionName } from './partitions.js';
import { buildEventQuery, escapeLike } from './query-builder.js';
import { isConnectionError, toStoreError } from './sql-errors.js';
import { quoteIdent } from './sql-executor.js';

describe('shared SQL helpers', () => {
  it('quotes identifiers, doubling quotes, and refuses names PostgreSQL would truncate', () => {
    expect(quoteIdent('public')).toBe('"public"');
    expect(quoteIdent('we"ird name')).toBe('"we""ird name"');
    expect(() => quoteIdent('x'.repeat(64))).toThrowError(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() => quoteIdent('')).toThrowError(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => quoteIdent('a\u0000b')).toThrowError(expect.objectContaining({ code: 'invalid_config' }));
  });

  it('cursors round-trip with microseconds and reject anything altered', () => {
    const position = {
      occurredAt: '2026-11-05T10:00:00.123456Z',
      id: '01a2109d-b7cf-7582-8dc8-f11de9525ac7',
    };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
    const altered = Buffer.from(
      Buffer.from(cursor, 'base64url').toString().replace('.123456', '.123'),
    ).toString('base64url');
    expect(() => decodeCursor(altered)).toThrowError(expect.objectContaining({ code: 'invalid_cursor' }));
    expect(() => decodeCursor(`${cursor}x`)).toThrowError(
      expect.objectContaining({ code: 'invalid_cursor' }),
    );
  });

  it('escapes LIKE wildcards and the escape character', () => {
    expect(escapeLike('100%_a\\b')).toBe('100\\%\\_a\\\\b');
  });

  it('builds one parameterised statement: values never end up in the SQL text', () => {
    const built = buildEventQuery('"s"."audit_events"', {
      tenantId: "org'; DROP TABLE x; --",
      text: 'a%b',
      action: ['user.*', 'x.y'],
      status: '5xx',
      limit: 10,
    });
    expect(built.text).not.toContain('DROP');
    expect(built.params).toContain("org'; DROP TABLE x; --");
    expect(built.params).toContain('%a\\%b%');
    expect(built.params.at(-1)).toBe(11);
    expect(built.limit).toBe(10);
  });

  it('names monthly partitions in UTC', () => {
    expect(partitionName(monthOf(new Date('2026-11-30T23:59:59.999Z')))).toBe('audit_events_p2026_11');
    expect(partitionName(monthOf(new Date('2026-12-01T00:00:00.000Z')))).toBe('audit_events_p2026_12');
    expect(monthsBetween(new Date('2019-11-20Z'), new Date('2020-02-01Z')).map(partitionName)).toEqual([
      'audit_events_p2019_11',
      'audit_events_p2019_12',
      'audit_events_p2020_01',
      'audit_events_p2020_02',
    ]);
  });

  it('keeps migrations ordered and refuses duplicate versions', () => {
    const extra = { version: 50, name: 'next', up: () => ['SELECT 1'] };
    expect(defineMigrations([extra], MIGRATIONS).map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 50]);
    expect(() => defineMigrations(MIGRATIONS, [{ ...extra, version: 1 }])).toThrowError(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });

  it('classifies connection failures as store_unavailable and the rest as store_error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('terminating connection'), { code: '57P01' });
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    expect(isConnectionError(refused)).toBe(true);
    expect(isConnectionError(shutdown)).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(syntax)).toBe(false);
    expect(toStoreError(refused, { operation: 'append', target: 'db' }).code).toBe('store_unavailable');
    expect(toStoreError(syntax, { operation: 'append', target: 'db' })).toMatchObject({
      code: 'store_error',
      details: { sqlState: '42601' },
    });
    expect(toStoreError(syntax, { operation: 'migrate', target: 'db', code: 'migration_failed' }).code).toBe(
      'migration_failed',
    );
  });

  it('describes a server without its password', () => {
    expect(
      describeServer({ connectionString: 'postgres://app:hunter2@db.internal:6432/audit?sslmode=require' }),
    ).toBe('PostgreSQL at postgres://app@db.internal:6432/audit');
    expect(describeServer({ connectionString: 'postgres:///audit?host=/var/run/postgresql' })).toBe(
      'PostgreSQL at postgres://(socket /var/run/postgresql)/audit',
    );
    expect(describeServer({ connectionString: 'host=x password=hunter2' })).not.toContain('hunter2');
    expect(describeServer({ host: 'db', port: 5432, database: 'a', user: 'u' })).toBe(
      'PostgreSQL at u@db:5432/a',
    );
  });
});
