import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestSchema } from '../../test/helpers/postgres-server.js';
import { type Auditor, createAuditor } from '../core/auditor.js';
import type { AuditorOptions } from '../core/config.js';
import type { AuditkitError } from '../core/errors.js';
import type { AuditEvent, Outcome, Target } from '../core/event.js';
import { REDACTED } from '../core/redact.js';
import { pgliteStore } from '../store/pglite/index.js';
import { postgresStore } from '../store/postgres/index.js';
import type { AuditStore } from '../store/store.js';
import { securityMessage } from './messages.js';
import type { SecurityEventInputs } from './security-inputs.js';
import { SECURITY_EVENT_NAMES, type SecurityEventName, type SecurityMessageParts } from './vocabulary.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

/** One security event as called, and what must be stored for it. */
interface Case<K extends SecurityEventName = SecurityEventName> {
  name: K;
  input: SecurityEventInputs[K];
  action: string;
  outcome?: Outcome;
  target: Target;
  message: string;
  /** The stored actor id (default: the context's admin). */
  actorId?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
}
const ada = { id: 'u1', label: 'ada@example.com' };
const bob = { id: 'u2', label: 'Bob' };
const at = <K extends SecurityEventName>(c: Case<K>): Case => c as unknown as Case;

/** Every method of `audit.security`, called the way an app would. */
const CASES: Case[] = [
  at({
    name: 'loginSucceeded',
    input: { user: ada, method: 'oauth:github' },
    action: 'user.login',
    target: { type: 'user', ...ada },
    message: 'ada@example.com logged in with OAuth (github)',
    actorId: 'u1',
  }),
  at({
    name: 'loginFailed',
    input: { identifier: 'eve@example.com', reason: 'unknown_user', method: 'password' },
    action: 'user.login',
    outcome: 'failure',
    reason: 'unknown_user',
    target: { type: 'user', label: 'eve@example.com' },
    message: 'Login failed for eve@example.com with a password: unknown user',
  }),
  at({
    name: 'logout',
    input: { user: ada },
    action: 'user.logout',
    target: { type: 'user', ...ada },
    message: 'ada@example.com logged out',
  }),
  at({
    name: 'tokenIssued',
    input: {
      user: ada,
      token: {
        id: 'tok_9',
        label: 'CI deploy',
        kind: 'personal_access',
        expiresAt: '2027-01-01T00:00:00.000Z',
      },
    },
    action: 'token.issued',
    target: { type: 'user', ...ada },
    message: 'Token CI deploy issued to ada@example.com',
    metadata: {
      credential: {
        id: 'tok_9',
        label: 'CI deploy',
        kind: 'personal_access',
        expiresAt: '2027-01-01T00:00:00.000Z',
      },
    },
  }),
  at({
    name: 'tokenRevoked',
    input: { user: 'u1', token: { id: 'tok_9' } },
    action: 'token.revoked',
    target: { type: 'user', id: 'u1' },
    message: 'Token tok_9 of u1 revoked',
    metadata: { credential: { id: 'tok_9' } },
  }),
  at({
    name: 'passwordChanged',
    input: { user: ada },
    action: 'password.changed',
    target: { type: 'user', ...ada },
    message: 'Password of ada@example.com changed',
  }),
  at({
    name: 'passwordResetRequested',
    input: { user: ada },
    action: 'password.reset_requested',
    target: { type: 'user', ...ada },
    message: 'Password reset requested for ada@example.com',
  }),
  at({
    name: 'twoFactorEnabled',
    input: { user: ada, method: 'totp' },
    action: 'two_factor.enabled',
    target: { type: 'user', ...ada },
    message: 'Two-factor authentication enabled for ada@example.com (totp)',
  }),
  at({
    name: 'twoFactorDisabled',
    input: { user: ada, reason: 'lost phone' },
    action: 'two_factor.disabled',
    target: { type: 'user', ...ada },
    reason: 'lost phone',
    message: 'Two-factor authentication disabled for ada@example.com',
  }),
  at({
    name: 'userCreated',
    input: { user: bob },
    action: 'user.created',
    target: { type: 'user', ...bob },
    message: 'User Bob created',
  }),
  at({
    name: 'userDeleted',
    input: { user: bob, selfService: true, reason: 'GDPR request' },
    action: 'user.deleted',
    target: { type: 'user', ...bob },
    reason: 'GDPR request',
    message: 'Bob deleted their own account',
    actorId: 'u2',
  }),
  at({
    name: 'roleCreated',
    input: { role: { id: 'accountant', label: 'Accountant' } },
    action: 'role.created',
    target: { type: 'role', id: 'accountant', label: 'Accountant' },
    message: 'Role Accountant created',
  }),
  at({
    name: 'roleDeleted',
    input: { role: 'accountant' },
    action: 'role.deleted',
    target: { type: 'role', id: 'accountant' },
    message: 'Role accountant deleted',
  }),
  at({
    name: 'permissionGranted',
    input: { permission: 'invoices:write', to: { type: 'role', id: 'accountant', label: 'Accountant' } },
    action: 'permission.granted',
    target: { type: 'role', id: 'accountant', label: 'Accountant' },
    message: 'Permission invoices:write granted to role Accountant',
    metadata: { permission: 'invoices:write' },
  }),
  at({
    name: 'permissionRevoked',
    input: { permission: 'invoices:write', from: { type: 'user', id: 'u2' } },
    action: 'permission.revoked',
    target: { type: 'user', id: 'u2' },
    message: 'Permission invoices:write revoked from user u2',
    metadata: { permission: 'invoices:write' },
  }),
  at({
    name: 'memberAdded',
    input: { user: bob, to: { type: 'group', id: 'g1', label: 'Finance' } },
    action: 'member.added',
    target: { type: 'user', ...bob },
    message: 'Bob added to group Finance',
    metadata: { membership: { type: 'group', id: 'g1', label: 'Finance' } },
  }),
  at({
    name: 'memberRemoved',
    input: { user: bob, from: { type: 'role', id: 'accountant' } },
    action: 'member.removed',
    target: { type: 'user', ...bob },
    message: 'Bob removed from role accountant',
    metadata: { membership: { type: 'role', id: 'accountant' } },
  }),
  at({
    name: 'organisationCreated',
    input: { organisation: { id: 'org_a', label: 'Acme' } },
    action: 'organisation.created',
    target: { type: 'organisation', id: 'org_a', label: 'Acme' },
    message: 'Organisation Acme created',
  }),
  at({
    name: 'organisationDeleted',
    input: { organisation: 'org_a' },
    action: 'organisation.deleted',
    target: { type: 'organisation', id: 'org_a' },
    message: 'Organisation org_a deleted',
  }),
  at({
    name: 'projectCreated',
    input: { project: { id: 'p1', label: 'Apollo' } },
    action: 'project.created',
    target: { type: 'project', id: 'p1', label: 'Apollo' },
    message: 'Project Apollo created',
  }),
  at({
    name: 'projectDeleted',
    input: { project: 'p1' },
    action: 'project.deleted',
    target: { type: 'project', id: 'p1' },
    message: 'Project p1 deleted',
  }),
];

const ADMIN = { type: 'user', id: 'admin-1', label: 'Admin' } as const;

/** Calls one case in a request of org_a by the admin. */
function call(audit: Auditor, c: Case): Promise<AuditEvent[]> {
  const method = audit.security[c.name] as (input: unknown) => Promise<AuditEvent[]>;
  return audit.runWithContext({ actor: ADMIN, tenantId: 'org_a', requestId: `req-${c.name}` }, () =>
    method(c.input),
  );
}

function securitySuite(name: string, makeStore: () => Promise<AuditStore>): void {
  describe(`${name}: every security event type`, () => {
    const open: Auditor[] = [];
    const auditor = async (options: AuditorOptions = {}) => {
      const audit = createAuditor({ store: await makeStore(), mode: 'sync', spool: false, ...options });
      open.push(audit);
      await audit.migrate();
      return audit;
    };
    afterAll(async () => {
      await Promise.all(open.map((a) => a.close()));
    });

    it('covers the whole vocabulary', () => {
      expect(CASES.map((c) => c.name).sort()).toEqual([...SECURITY_EVENT_NAMES].sort());
    });

    it('stores each one with its action, outcome, target, actor, message and message parts', async () => {
      const audit = await auditor();
      for (const c of CASES) {
        const [event, ...more] = await call(audit, c);
        expect(more).toEqual([]);
        const stored = await audit.get(event?.id ?? '');
        expect(stored, c.name).toMatchObject({
          category: 'auth',
          action: c.action,
          outcome: c.outcome ?? 'success',
          tenantId: 'org_a',
          target: c.target,
          message: c.message,
          actor: { type: 'user', id: c.actorId ?? ADMIN.id },
          correlation: { requestId: `req-${c.name}` },
          metadata: { ...c.metadata, messageParts: expect.objectContaining({ key: c.name }) },
        });
        expect(stored?.target, c.name).toEqual(c.target);
        expect(stored?.reason, c.name).toBe(c.reason);
        // The parts alone rebuild the English message, so a translated UI and the stored text agree.
        expect(securityMessage(stored?.metadata?.messageParts as SecurityMessageParts), c.name).toBe(
          c.message,
        );
      }
    });

    it('is queryable by tenant, actor and action', async () => {
      const audit = await auditor();
      for (const c of CASES) await call(audit, c);
      const all = await audit.query({ tenantId: 'org_a', category: 'auth', limit: 1000 });
      expect(all.events).toHaveLength(CASES.length);
      expect((await audit.query({ tenantId: 'org_b' })).events).toEqual([]);
      for (const c of CASES) {
        const found = await audit.query({
          tenantId: 'org_a',
          action: c.action,
          actorId: c.actorId ?? ADMIN.id,
        });
        expect(
          found.events.map((e) => e.message),
          c.name,
        ).toContain(c.message);
      }
      const byAdmin = await audit.query({ actorId: ADMIN.id, limit: 1000 });
      expect(byAdmin.events).toHaveLength(CASES.filter((c) => c.actorId === undefined).length);
      const logins = await audit.query({ action: 'user.login', outcome: 'failure' });
      expect(logins.events.map((e) => e.reason)).toEqual(['unknown_user']);
      expect((await audit.query({ action: 'permission.*' })).events).toHaveLength(2);
    });
  });
}

securitySuite('pglite', async () => pgliteStore());
describe.skipIf(!url)(`postgres${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  const drops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });
  securitySuite('postgres', async () => {
    const { schema, drop } = await createTestSchema(url, 'security');
    drops.push(drop);
    return postgresStore({ connectionString: url, schema });
  });
});

describe('audit.security input', () => {
  let shared: Promise<Auditor> | undefined;
  // One embedded database for these cases: each opens in seconds on a loaded machine.
  const auditor = () => {
    shared ??= (async () => {
      const audit = createAuditor({ store: pgliteStore(), mode: 'sync', spool: false });
      await audit.migrate();
      return audit;
    })();
    return shared;
  };
  afterAll(async () => {
    await (await shared)?.close();
  });

  it('a typo in a reason or method is a type error and, at run time, invalid_event naming the field', async () => {
    const audit = await auditor();
    const before = (await audit.query({ limit: 1000 })).events.length;
    const thrown = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error as AuditkitError;
      }
      throw new Error('expected a synchronous throw');
    };
    const typo = thrown(() =>
      // @ts-expect-error 'bad_pasword' is not a login failure reason
      audit.security.loginFailed({ user: 'u1', reason: 'bad_pasword' }),
    );
    expect(typo).toMatchObject({ name: 'AuditkitError', code: 'invalid_event' });
    expect(typo.details?.fields).toEqual([expect.stringMatching(/^reason: /)]);
    const method = thrown(() =>
      // @ts-expect-error 'oauth' needs a provider: oauth:<provider>
      audit.security.loginSucceeded({ user: 'u1', method: 'oauth' }),
    );
    expect(method.details?.fields).toEqual([expect.stringContaining('method must be one of')]);
    const unknownKey = thrown(() =>
      // @ts-expect-error `role` is not an option of passwordChanged
      audit.security.passwordChanged({ user: 'u1', role: 'admin' }),
    );
    expect(unknownKey.code).toBe('invalid_event');
    const nobody = thrown(() => audit.security.loginFailed({ reason: 'locked' }));
    expect(nobody.details?.fields).toEqual([expect.stringContaining('needs the user or the identifier')]);
    const emptyUser = thrown(() => audit.security.logout({ user: '' }));
    expect(emptyUser.details?.fields).toEqual([expect.stringMatching(/^user: /)]);
    expect((await audit.query({ limit: 1000 })).events).toHaveLength(before);
  });

  it('takes the actor from the context when the event is written, or the one given, or the user for a login', async () => {
    const audit = await auditor();
    let current: { id: string } | undefined;
    const events = await audit.runWithContext({ actor: () => current }, async () => {
      current = { id: 'admin-7' }; // authenticated after the context started
      const [changed] = await audit.security.passwordChanged({ user: 'u1' });
      const [granted] = await audit.security.permissionGranted({
        permission: 'billing:read',
        to: { type: 'user', id: 'u1' },
        actor: { type: 'service', id: 'scim-sync' },
      });
      const [login] = await audit.security.loginSucceeded({ user: 'u1', method: '2fa' });
      return { changed, granted, login };
    });
    expect(events.changed?.actor).toEqual({ type: 'user', id: 'admin-7' });
    expect(events.granted?.actor).toEqual({ type: 'service', id: 'scim-sync' });
    expect(events.login?.actor).toEqual({ type: 'user', id: 'u1' });
    expect(events.login?.message).toBe('u1 logged in with two-factor authentication');
    const outside = await audit.security.roleCreated({ role: 'auditor' });
    expect(outside[0]?.actor).toEqual({ type: 'system' });
  });

  it('never stores a secret: masked metadata keys, and a JWT given as a token id', async () => {
    const audit = await auditor();
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsIm5hbWUiOiJBZGEifQ.c2lnbmF0dXJlLWJ5dGVz';
    const [changed] = await audit.security.passwordChanged({
      user: 'u1',
      metadata: { newPassword: 'hunter2', apiKey: 'k-123', via: 'settings page' },
    });
    const [issued] = await audit.security.tokenIssued({ user: 'u1', token: { id: jwt } });
    const stored = await audit.get(changed?.id ?? '');
    expect(stored?.metadata).toMatchObject({ newPassword: REDACTED, apiKey: REDACTED, via: 'settings page' });
    const token = await audit.get(issued?.id ?? '');
    expect(JSON.stringify(token)).not.toContain(jwt);
    expect(JSON.stringify(stored)).not.toContain('hunter2');
  });

  it('writes organisation events, and memberships of an organisation, to that organisation', async () => {
    const audit = await auditor();
    const events = await audit.runWithContext({ tenantId: 'org_platform' }, async () => [
      ...(await audit.security.organisationCreated({ organisation: { id: 'org_new', label: 'New Co' } })),
      ...(await audit.security.memberAdded({ user: 'u1', to: { type: 'organisation', id: 'org_new' } })),
      ...(await audit.security.memberAdded({ user: 'u1', to: { type: 'group', id: 'g1' } })),
      ...(await audit.security.projectCreated({ project: 'p9', tenantId: 'org_other' })),
    ]);
    expect(events.map((e) => e.tenantId)).toEqual(['org_new', 'org_new', 'org_platform', 'org_other']);
  });
});
