import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../core/auditor.js';
import type { AuditkitError } from '../core/errors.js';
import { pgliteStore } from '../store/pglite/index.js';
import type { SqlAuditStore } from '../store/sql/sql-audit-store.js';
import { recordPerTenant, TENANT_RESOLUTION_FAILED, type TenantsOf } from './tenant-fan-out.js';

/** The app's memberships: who belongs to which organisations. */
const MEMBERSHIPS: Record<string, string[]> = {
  u1: ['org_a', 'org_b', 'org_c'],
  u2: ['org_b'],
};

describe('per-organisation fan-out of security events', () => {
  let store: SqlAuditStore;
  let audit: Auditor;
  let resolve: TenantsOf;
  const calls: string[] = [];
  const errors: AuditkitError[] = [];

  beforeAll(async () => {
    // One embedded database for the file; every test uses tenants of its own where counts matter.
    store = pgliteStore();
    audit = createAuditor({
      store,
      mode: 'sync',
      spool: false,
      onError: (e) => errors.push(e),
      tenantsOf: (userId) => {
        calls.push(userId);
        return resolve(userId);
      },
    });
    await audit.migrate();
  });
  afterAll(() => audit.close());
  const reset = (resolver: TenantsOf = async (userId) => MEMBERSHIPS[userId] ?? []) => {
    resolve = resolver;
    calls.length = 0;
    errors.length = 0;
  };
  const tenantsOfEvents = async (query: Parameters<Auditor['query']>[0]) =>
    (await audit.query({ limit: 1000, ...query })).events.map((e) => e.tenantId).sort();

  it('writes an event about a user once per organisation of that user, and nothing to the others', async () => {
    reset();
    await audit.runWithContext({ tenantId: 'org_a', actor: 'u1' }, () =>
      audit.security.loginFailed({ user: 'u2', reason: 'bad_2fa', method: '2fa' }),
    );
    const copies = await audit.runWithContext({ tenantId: 'org_a', actor: 'u1' }, () =>
      audit.security.passwordChanged({ user: { id: 'u1', label: 'Ada' } }),
    );
    expect(calls).toEqual(['u2', 'u1']);
    expect(copies.map((e) => e.tenantId).sort()).toEqual(['org_a', 'org_b', 'org_c']);
    // Everything but the tenant is the same event.
    const [first, ...others] = copies;
    for (const copy of others) {
      expect({ ...copy, id: first?.id, tenantId: first?.tenantId, occurredAt: first?.occurredAt }).toEqual(
        first,
      );
    }
    expect(await tenantsOfEvents({ action: 'password.changed' })).toEqual(['org_a', 'org_b', 'org_c']);
    expect(await tenantsOfEvents({ action: 'user.login', targetId: 'u2' })).toEqual(['org_b']);
    expect(errors).toEqual([]);
  });

  it('gives the copies one correlationId, so they can be found together (the context’s when it has one)', async () => {
    reset();
    const copies = await audit.security.twoFactorEnabled({ user: 'u1', method: 'webauthn' });
    const correlationId = copies[0]?.correlation?.correlationId;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(copies.every((e) => e.correlation?.correlationId === correlationId)).toBe(true);
    expect(await tenantsOfEvents({ correlationId })).toEqual(['org_a', 'org_b', 'org_c']);
    expect(await tenantsOfEvents({ correlationId, tenantId: 'org_b' })).toEqual(['org_b']);

    const inRequest = await audit.runWithContext({ correlationId: 'corr-login-42' }, () =>
      audit.security.loginSucceeded({ user: 'u1', method: 'saml' }),
    );
    expect(inRequest.map((e) => e.correlation?.correlationId)).toEqual(Array(3).fill('corr-login-42'));
    // A single copy needs no correlation of its own.
    const single = await audit.security.logout({ user: 'u2' });
    expect(single.map((e) => [e.tenantId, e.correlation])).toEqual([['org_b', undefined]]);
  });

  it('keeps every organisation’s queries to its own copies', async () => {
    reset();
    await audit.runWithContext({ tenantId: 'org_b', actor: 'u2' }, async () => {
      await audit.security.roleCreated({ role: 'b-only-role' });
      await audit.security.passwordResetRequested({ user: 'u2' });
    });
    await audit.runWithContext({ tenantId: 'org_c', actor: 'u1' }, () =>
      audit.security.projectCreated({ project: 'c-only-project' }),
    );
    for (const tenantId of ['org_a', 'org_b', 'org_c', 'org_d']) {
      const events = (await audit.query({ tenantId, limit: 1000 })).events;
      expect(events.every((e) => e.tenantId === tenantId)).toBe(true);
    }
    expect((await audit.query({ tenantId: 'org_a', targetId: 'b-only-role' })).events).toEqual([]);
    expect((await audit.query({ tenantId: 'org_a', actorId: 'u2' })).events).toEqual([]);
    expect((await audit.query({ tenantId: 'org_b', text: 'c-only-project' })).events).toEqual([]);
    expect((await audit.query({ tenantId: 'org_d' })).events).toEqual([]);
    expect(await tenantsOfEvents({ targetId: 'b-only-role' })).toEqual(['org_b']);
  });

  it('does not fan out events that belong to one organisation, nor a failed login of an unknown user', async () => {
    reset();
    await audit.runWithContext({ tenantId: 'org_fan_none' }, async () => {
      await audit.security.roleDeleted({ role: 'old-role' });
      await audit.security.memberAdded({ user: 'u1', to: { type: 'group', id: 'g-fan' } });
      await audit.security.permissionGranted({ permission: 'x:read', to: { type: 'user', id: 'u1' } });
      await audit.security.userCreated({ user: 'u-new' });
      await audit.security.loginFailed({ identifier: 'nobody@example.com', reason: 'unknown_user' });
    });
    expect(calls).toEqual([]);
    expect(await tenantsOfEvents({ tenantId: 'org_fan_none' })).toHaveLength(5);
  });

  it('uses the organisations given with tenantId instead of the resolver', async () => {
    reset();
    const listed = await audit.security.passwordChanged({
      user: 'u1',
      tenantId: ['org_x', 'org_y', 'org_x'],
    });
    const one = await audit.security.passwordChanged({ user: 'u1', tenantId: 'org_z' });
    const none = await audit.security.passwordChanged({ user: 'u1', tenantId: null });
    expect(calls).toEqual([]);
    expect(listed.map((e) => e.tenantId)).toEqual(['org_x', 'org_y']);
    expect(one.map((e) => e.tenantId)).toEqual(['org_z']);
    expect(none.map((e) => e.tenantId)).toEqual([null]);
  });

  it('still writes the event once, to the context’s tenant, when the resolver fails or finds nothing', async () => {
    const resolvers: [string, TenantsOf][] = [
      ['rejects', async () => Promise.reject(new Error('membership service down'))],
      [
        'throws',
        () => {
          throw new Error('boom');
        },
      ],
      ['returns nothing', async () => []],
      ['returns garbage', async () => ['org_a', 42] as unknown as string[]],
    ];
    for (const [what, resolver] of resolvers) {
      reset(resolver);
      const tenantId = `org_fallback_${what.replace(' ', '_')}`;
      const written = await audit.runWithContext({ tenantId }, () =>
        audit.security.userDeleted({ user: 'u1' }),
      );
      expect(
        written.map((e) => e.tenantId),
        what,
      ).toEqual([tenantId]);
      expect(await tenantsOfEvents({ tenantId }), what).toEqual([tenantId]);
      expect(
        errors.map((e) => e.code),
        what,
      ).toEqual([TENANT_RESOLUTION_FAILED]);
      expect(errors[0]?.message, what).toContain('the event was written once');
    }
  });

  it('gives up on a resolver that does not answer, and writes the event to the context’s tenant', async () => {
    reset();
    const written = await audit.runWithContext({ tenantId: 'org_hung' }, () =>
      recordPerTenant(
        {
          record: audit.record,
          reportError: audit.reportError,
          context: audit.context,
          tenantsOf: () => new Promise<string[]>(() => {}),
          tenantsOfTimeoutMs: 20,
        },
        { category: 'auth', action: 'password.changed', target: { type: 'user', id: 'u1' } },
        { userId: 'u1' },
      ),
    );
    expect(written.map((e) => e.tenantId)).toEqual(['org_hung']);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      [TENANT_RESOLUTION_FAILED, expect.stringContaining('no answer within 20 ms')],
    ]);
  });

  it('fans out in async mode too, each copy through the writer', async () => {
    const asyncAudit = createAuditor({
      store: pgliteStore(),
      spool: false,
      tenantsOf: () => ['org_async_1', 'org_async_2'],
    });
    try {
      await asyncAudit.migrate();
      await asyncAudit.security.passwordChanged({ user: 'u1' });
      await asyncAudit.flush();
      const events = (await asyncAudit.query({ action: 'password.changed' })).events;
      expect(events.map((e) => e.tenantId).sort()).toEqual(['org_async_1', 'org_async_2']);
    } finally {
      await asyncAudit.close();
    }
  });
});
