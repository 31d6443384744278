import { describe, expect, it } from 'vitest';
import { isAuditkitError } from '../../core/errors.js';
import { dollarTag, regexLiteral, sqlString } from './sql-text.js';
import { parseTriggerTableOptions } from './trigger-options.js';
import {
  type CatalogTable,
  keyColumnSql,
  normaliseColumnName,
  parseRelationSpec,
  planTrigger,
  secretPatternOf,
} from './trigger-plan.js';
import { functionNameFor, installTableSql, triggerFunctionSql } from './trigger-sql.js';

const column = (name: string, baseType = 'text', extra: Partial<CatalogTable['columns'][number]> = {}) => ({
  name,
  type: baseType,
  baseType,
  kind: 'b',
  category: 'S',
  ...extra,
});

const orders: CatalogTable = {
  schema: 'shop',
  name: 'orders',
  relkind: 'r',
  columns: [column('id', 'int4'), column('status'), column('iban'), column('note'), column('password_hash')],
  primaryKey: ['id'],
};

const plan = (options: Parameters<typeof planTrigger>[0]['options'], table = orders) =>
  planTrigger({
    auditSchema: 'audit',
    table,
    functionName: functionNameFor(table),
    options,
    isSecret: (name) => /password|token/.test(name),
    secretPattern: secretPatternOf(),
  });

describe('planTrigger', () => {
  it('records every column, masks secret-looking names and the mask list, drops excluded ones', () => {
    const p = plan({ mask: ['iban'], exclude: ['note'] });
    expect(p.modes).toEqual({ id: '', status: '', iban: 'r', note: 'x', password_hash: 'r' });
    expect(p.primaryKey).toEqual(['id']);
    expect(p.includeOnly).toBe(false);
    expect(p.warnings).toEqual([]);
  });

  it('records only the include list, and masks with "changed" when asked', () => {
    const p = plan({ include: ['status', 'iban'], mask: ['iban'], maskMode: 'changed' });
    expect(p.modes).toEqual({ id: 'x', status: '', iban: 'c', note: 'x', password_hash: 'x' });
    expect(p.includeOnly).toBe(true);
  });

  it('names every unknown column in one invalid_config error', () => {
    const error = (() => {
      try {
        plan({
          include: ['stauts'],
          exclude: ['nope'],
          relation: { ownerType: 'o', ownerColumns: 'x', relatedType: 't', relatedColumns: ['id'] },
        });
      } catch (e) {
        return e;
      }
    })();
    expect(isAuditkitError(error, 'invalid_config')).toBe(true);
    expect((error as Error).message).toContain('include: shop.orders has no column "stauts"');
    expect((error as Error).message).toContain('exclude: shop.orders has no column "nope"');
    expect((error as Error).message).toContain('relation.ownerColumns: shop.orders has no column "x"');
  });

  it('refuses views and the audit tables themselves', () => {
    expect(() => plan({}, { ...orders, relkind: 'v' })).toThrow(/is not a table/);
    expect(() => plan({}, { ...orders, schema: 'audit', name: 'audit_events' })).toThrow(
      /Auditkit's own tables/,
    );
  });

  it('warns about a table without a primary key, and takes primaryKey from the options', () => {
    const keyless = { ...orders, primaryKey: [] };
    expect(plan({}, keyless).warnings[0]).toContain('has no primary key');
    expect(plan({ primaryKey: ['status'] }, keyless)).toMatchObject({ primaryKey: ['status'], warnings: [] });
  });
});

describe('key text', () => {
  it('reads ::text-identical types from the JSON image and casts the others back first', () => {
    expect(keyColumnSql('n', column('id', 'int4'), 'id')).toBe("(n ->> 'id')");
    expect(keyColumnSql('n', column('at', 'timestamptz'), 'at')).toBe(
      "((n ->> 'at')::pg_catalog.timestamptz)::text",
    );
    expect(keyColumnSql('n', column('code', 'bpchar'), 'code')).toBe(
      "((n ->> 'code')::pg_catalog.bpchar)::text",
    );
    expect(keyColumnSql('n', column('mood', 'mood', { kind: 'e' }), 'mood')).toBe("(n ->> 'mood')");
    expect(keyColumnSql('n', undefined, "it's")).toBe("(n ->> 'it''s')");
  });
});

describe('relation specs', () => {
  it('reads owner(columns).related(columns)[:name]', () => {
    expect(parseRelationSpec('users(user_id).roles(role_id)')).toEqual({
      ownerType: 'users',
      ownerColumns: ['user_id'],
      relatedType: 'roles',
      relatedColumns: ['role_id'],
      name: 'roles',
    });
    expect(parseRelationSpec(' orders ( a, b ) . tags ( tag_id ) : labels ')).toEqual({
      ownerType: 'orders',
      ownerColumns: ['a', 'b'],
      relatedType: 'tags',
      relatedColumns: ['tag_id'],
      name: 'labels',
    });
    expect(() => parseRelationSpec('users.roles')).toThrow(/owner\(owner_columns\)/);
  });
});

describe('secret names', () => {
  it('matches the redactor fragments on names without separators, plus extra keys', () => {
    const pattern = new RegExp(secretPatternOf(['ssn']));
    for (const name of ['password_hash', 'API-Key', 'refresh token', 'client.secret', 'SSN'])
      expect(pattern.test(normaliseColumnName(name)), name).toBe(true);
    expect(pattern.test(normaliseColumnName('status'))).toBe(false);
  });
});

describe('SQL text', () => {
  it('quotes literals safely whatever standard_conforming_strings says', () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlString('a\\b')).toBe("E'a\\\\b'");
    expect(regexLiteral('a.b(c)')).toBe('a\\.b\\(c\\)');
  });

  it('picks a dollar tag that the function body does not contain', () => {
    expect(dollarTag('plain')).toBe('$ak$');
    expect(dollarTag('has $ak$ and $ak1$')).toBe('$ak2$');
  });

  it('names generated functions readably, uniquely and within 63 bytes', () => {
    const a = functionNameFor({ schema: 'public', name: 'Order Lines With A Very Long Name Indeed Yes' });
    const b = functionNameFor({ schema: 'other', name: 'Order Lines With A Very Long Name Indeed Yes' });
    expect(a).toMatch(/^auditkit_capture_order_lines_with_a_very_long_n_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
  });

  it('generates a function and a trigger per operation, skipping byte-identical updates unless asked', () => {
    const statements = installTableSql(plan({}));
    const fn = functionNameFor(orders);
    for (const [i, suffix] of ['_i', '_u', '_d'].entries()) {
      expect(statements[i]).toMatch(
        new RegExp(`^CREATE OR REPLACE FUNCTION "audit"\\."${fn}${suffix}"\\(\\)`),
      );
    }
    expect(statements).toContain(
      `CREATE TRIGGER auditkit_changes_update AFTER UPDATE ON "shop"."orders" FOR EACH ROW WHEN (OLD.* *<> NEW.*) EXECUTE FUNCTION "audit"."${fn}_u"()`,
    );
    expect(statements).toContain(
      `CREATE TRIGGER auditkit_changes_delete AFTER DELETE ON "shop"."orders" FOR EACH ROW EXECUTE FUNCTION "audit"."${fn}_d"()`,
    );
    expect(installTableSql(plan({ recordNoOpUpdates: true })).join('\n')).not.toContain('*<>');
    // Only updates skip rows whose recorded columns did not change.
    const [insert, update] = triggerFunctionSql(plan({}));
    expect(insert).not.toContain('IF ch IS NULL THEN');
    expect(update).toContain('IF ch IS NULL THEN');
  });
});

describe('parseTriggerTableOptions', () => {
  it('keeps what was given and rejects unknown or bad fields', () => {
    expect(parseTriggerTableOptions('t', { mask: ['a'], maskMode: 'changed' })).toEqual({
      mask: ['a'],
      maskMode: 'changed',
    });
    expect(() => parseTriggerTableOptions('t', { masks: ['a'] })).toThrow(/Trigger options of t/);
    expect(() => parseTriggerTableOptions('t', { maskMode: 'hide' })).toThrow(/maskMode/);
  });
});
