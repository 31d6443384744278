import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import { can } from './auth/roles.js';
import { parseInstant, readFilters, toQuery } from './filters.js';
import { recordStateAt } from './record-state.js';
import { canSee, scopeQuery } from './scope.js';

const alice = { id: 'alice', role: 'viewer' as const, tenants: ['org_a', 'org_c'] };
const root = { id: 'root', role: 'admin' as const };

describe("scopeQuery: the user's organisations intersect the filter, never widen it", () => {
  it("leaves an unrestricted user's query as it is", () => {
    expect(scopeQuery({ tenantId: 'org_b', actorId: 'u' }, root)).toEqual({
      tenantId: 'org_b',
      actorId: 'u',
    });
  });

  it("adds the user's organisations when the query names none", () => {
    expect(scopeQuery({ actorId: 'u' }, alice)).toEqual({ actorId: 'u', tenantId: ['org_a', 'org_c'] });
  });

  it("keeps a filter inside the user's organisations, and refuses (null) one that reaches outside", () => {
    expect(scopeQuery({ tenantId: 'org_a' }, alice)).toEqual({ tenantId: ['org_a'] });
    expect(scopeQuery({ tenantId: 'org_b' }, alice)).toBeNull();
    expect(scopeQuery({ tenantId: ['org_a', 'org_b'] }, alice)).toBeNull();
    expect(scopeQuery({}, { ...alice, tenants: [] })).toBeNull();
  });

  it('lets a restricted user see only events of their organisations (never one without an organisation)', () => {
    expect(canSee(makeEvent({ tenantId: 'org_a' }), alice)).toBe(true);
    expect(canSee(makeEvent({ tenantId: 'org_b' }), alice)).toBe(false);
    expect(canSee(makeEvent({ tenantId: null }), alice)).toBe(false);
    expect(canSee(makeEvent({ tenantId: 'org_b' }), root)).toBe(true);
  });
});

describe('roles', () => {
  it('grant read to viewers, export and verify to auditors, everything to admins', () => {
    expect([can({ id: 'v', role: 'viewer' }, 'read'), can({ id: 'v', role: 'viewer' }, 'export')]).toEqual([
      true,
      false,
    ]);
    expect([can({ id: 'a', role: 'auditor' }, 'verify'), can({ id: 'a', role: 'auditor' }, 'admin')]).toEqual(
      [true, false],
    );
    expect(can(root, 'admin')).toBe(true);
  });
});

describe('filters in the URL', () => {
  const now = new Date('2026-04-02T00:00:00Z');

  it('turns URL parameters into a store query, quick ranges relative to now', () => {
    const filters = readFilters(
      new URLSearchParams(
        'range=24h&category=auth&category=nope&outcome=failure&status=5xx&q=ada&path=/api/&tenant=org_a',
      ),
    );
    expect(toQuery(filters, now)).toEqual({
      errors: [],
      query: {
        from: new Date('2026-04-01T00:00:00Z'),
        category: ['auth'],
        outcome: ['failure'],
        status: '5xx',
        text: 'ada',
        pathPrefix: '/api/',
        tenantId: 'org_a',
      },
    });
  });

  it('names what it cannot read instead of dropping it silently', () => {
    const { errors } = toQuery(
      readFilters(new URLSearchParams('range=1y&from=soon&status=abc&action=a b')),
      now,
    );
    expect(errors).toHaveLength(4);
  });

  it('reads datetime-local values as UTC and ISO values as given', () => {
    expect(parseInstant('2026-04-01T09:15')?.toISOString()).toBe('2026-04-01T09:15:00.000Z');
    expect(parseInstant('2026-04-01')?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(parseInstant('2026-04-01T09:15:00+02:00')?.toISOString()).toBe('2026-04-01T07:15:00.000Z');
    expect(parseInstant('never')).toBeNull();
  });
});

describe('recordStateAt', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 3, 1, 9, m));
  const history = [
    makeEvent({
      category: 'change',
      action: 'record.updated',
      occurredAt: at(10),
      changes: { total: [990, 1090] },
    }),
    makeEvent({
      category: 'change',
      action: 'record.created',
      occurredAt: at(0),
      changes: { total: [null, 990], customer: [null, 'Ada'] },
    }),
    makeEvent({
      category: 'change',
      action: 'record.deleted',
      occurredAt: at(20),
      changes: { total: [1090, null], customer: ['Ada', null] },
    }),
    makeEvent({ category: 'access', action: 'http.request', occurredAt: at(5) }),
  ];

  it('replays the change events up to a time, in time order', () => {
    expect(recordStateAt(history, at(5))).toMatchObject({
      fields: { total: 990, customer: 'Ada' },
      deleted: false,
      applied: 1,
    });
    expect(recordStateAt(history, at(15)).fields).toEqual({ total: 1090, customer: 'Ada' });
  });

  it('says when the record was deleted, and when nothing was recorded yet', () => {
    expect(recordStateAt(history, at(30))).toMatchObject({ deleted: true, applied: 3 });
    expect(recordStateAt(history, new Date(Date.UTC(2025, 0, 1)))).toMatchObject({
      fields: null,
      applied: 0,
    });
  });
});
