import { normaliseActor } from '../core/context.js';
import { AuditkitError } from '../core/errors.js';
import {
  type Actor,
  type AuditEvent,
  type AuditEventInput,
  describeIssues,
  type Target,
} from '../core/event.js';
import { securityMessage } from './messages.js';
import {
  type ParsedSecurityEventInputs,
  SECURITY_INPUT_SCHEMAS,
  type SecurityEventInputs,
} from './security-inputs.js';
import { type FanOutTarget, recordPerTenant, type TenantFanOutDeps } from './tenant-fan-out.js';
import { SECURITY_EVENT_TYPES, type SecurityEventName, type SecurityMessageParts } from './vocabulary.js';

/**
 * `audit.security`: typed security events (category `auth`) with a fixed vocabulary. Every method
 * validates its input (a bad value throws `invalid_event` synchronously, like `record()`), records the
 * event with an English `message` and its structured `metadata.messageParts`, and resolves with every
 * stored copy: events about a user are written once per organisation of that user (`tenantsOf`).
 *
 * @example
 * await audit.security.loginFailed({ identifier: 'ada@example.com', reason: 'bad_password', method: 'password' });
 * await audit.security.permissionGranted({ permission: 'invoices:write', to: { type: 'role', id: 'accountant' } });
 */
export interface SecurityEvents {
  /** `user.login`, success. The actor defaults to the user who logged in. */
  loginSucceeded(input: SecurityEventInputs['loginSucceeded']): Promise<AuditEvent[]>;
  /** `user.login`, failure, with a reason from `LOGIN_FAILURE_REASONS`. */
  loginFailed(input: SecurityEventInputs['loginFailed']): Promise<AuditEvent[]>;
  /** `user.logout`. */
  logout(input: SecurityEventInputs['logout']): Promise<AuditEvent[]>;
  /** `token.issued`: give the token's id, never the token. */
  tokenIssued(input: SecurityEventInputs['tokenIssued']): Promise<AuditEvent[]>;
  /** `token.revoked`. */
  tokenRevoked(input: SecurityEventInputs['tokenRevoked']): Promise<AuditEvent[]>;
  /** `password.changed`. */
  passwordChanged(input: SecurityEventInputs['passwordChanged']): Promise<AuditEvent[]>;
  /** `password.reset_requested`. */
  passwordResetRequested(input: SecurityEventInputs['passwordResetRequested']): Promise<AuditEvent[]>;
  /** `two_factor.enabled`, with the second factor's kind as `method` (`totp`, `webauthn`). */
  twoFactorEnabled(input: SecurityEventInputs['twoFactorEnabled']): Promise<AuditEvent[]>;
  /** `two_factor.disabled`. */
  twoFactorDisabled(input: SecurityEventInputs['twoFactorDisabled']): Promise<AuditEvent[]>;
  /** `user.created`, by an admin (the context's actor) or by themselves (`selfService: true`). */
  userCreated(input: SecurityEventInputs['userCreated']): Promise<AuditEvent[]>;
  /** `user.deleted`, by an admin or by themselves; written to every organisation of the user. */
  userDeleted(input: SecurityEventInputs['userDeleted']): Promise<AuditEvent[]>;
  /** `role.created`. */
  roleCreated(input: SecurityEventInputs['roleCreated']): Promise<AuditEvent[]>;
  /** `role.deleted`. */
  roleDeleted(input: SecurityEventInputs['roleDeleted']): Promise<AuditEvent[]>;
  /** `permission.granted` to a role or a user (the target). */
  permissionGranted(input: SecurityEventInputs['permissionGranted']): Promise<AuditEvent[]>;
  /** `permission.revoked` from a role or a user (the target). */
  permissionRevoked(input: SecurityEventInputs['permissionRevoked']): Promise<AuditEvent[]>;
  /** `member.added`: a user joined a role, group or organisation (an organisation's own log by default). */
  memberAdded(input: SecurityEventInputs['memberAdded']): Promise<AuditEvent[]>;
  /** `member.removed`. */
  memberRemoved(input: SecurityEventInputs['memberRemoved']): Promise<AuditEvent[]>;
  /** `organisation.created`, written to that organisation's log by default. */
  organisationCreated(input: SecurityEventInputs['organisationCreated']): Promise<AuditEvent[]>;
  /** `organisation.deleted`, written to that organisation's log by default. */
  organisationDeleted(input: SecurityEventInputs['organisationDeleted']): Promise<AuditEvent[]>;
  /** `project.created`. */
  projectCreated(input: SecurityEventInputs['projectCreated']): Promise<AuditEvent[]>;
  /** `project.deleted`. */
  projectDeleted(input: SecurityEventInputs['projectDeleted']): Promise<AuditEvent[]>;
}

/** A subject as `{ id, label }`. */
interface Ref {
  id?: string;
  label?: string;
}

/** What one method contributes beyond the shared options. */
interface Shape {
  target: Target;
  /** The person the event is about, for the default actor and the per-user fan-out. */
  user?: Ref;
  identifier: string;
  related?: SecurityMessageParts['related'];
  method?: string;
  reason?: string;
  /** The organisation the event belongs to when the caller names none. */
  ownTenant?: string;
  extra?: Record<string, unknown>;
}

/** The object without its undefined fields (stored events stay small and compare cleanly). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const ref = (value: string | Ref): Ref => (typeof value === 'string' ? { id: value } : value);
const nameOf = (value: Ref): string => value.label ?? value.id ?? '';
const targetOf = (type: string, value: Ref): Target => compact({ type, id: value.id, label: value.label });

/** The per-method part of each event. */
const SHAPES: { [K in SecurityEventName]: (input: ParsedSecurityEventInputs[K]) => Shape } = {
  loginSucceeded: (i) => aboutUser(i.user, { method: i.method }),
  loginFailed: (i) => {
    const user = i.user === undefined ? undefined : ref(i.user);
    const target: Target = user
      ? compact({ type: 'user', id: user.id, label: user.label ?? i.identifier })
      : compact({ type: 'user', label: i.identifier });
    return {
      target,
      user: user?.id !== undefined ? user : undefined,
      identifier: user ? (user.label ?? i.identifier ?? user.id ?? '') : (i.identifier ?? ''),
      method: i.method,
      reason: i.reason,
    };
  },
  logout: (i) => aboutUser(i.user),
  tokenIssued: (i) => withToken(i.user, i.token),
  tokenRevoked: (i) => withToken(i.user, i.token),
  passwordChanged: (i) => aboutUser(i.user),
  passwordResetRequested: (i) => aboutUser(i.user),
  twoFactorEnabled: (i) => aboutUser(i.user, { method: i.method }),
  twoFactorDisabled: (i) => aboutUser(i.user, { method: i.method }),
  userCreated: (i) => aboutUser(i.user),
  userDeleted: (i) => aboutUser(i.user),
  roleCreated: (i) => about('role', i.role),
  roleDeleted: (i) => about('role', i.role),
  permissionGranted: (i) => permission(i.permission, i.to),
  permissionRevoked: (i) => permission(i.permission, i.from),
  memberAdded: (i) => membership(i.user, i.to),
  memberRemoved: (i) => membership(i.user, i.from),
  organisationCreated: (i) => ({
    ...about('organisation', i.organisation),
    ownTenant: ref(i.organisation).id,
  }),
  organisationDeleted: (i) => ({
    ...about('organisation', i.organisation),
    ownTenant: ref(i.organisation).id,
  }),
  projectCreated: (i) => about('project', i.project),
  projectDeleted: (i) => about('project', i.project),
};

function about(type: string, value: string | Ref): Shape {
  const subject = ref(value);
  return { target: targetOf(type, subject), identifier: nameOf(subject) };
}

function aboutUser(value: string | Ref, more: Partial<Shape> = {}): Shape {
  const user = ref(value);
  return { target: targetOf('user', user), user, identifier: nameOf(user), ...more };
}

function withToken(
  user: string | Ref,
  token: { id: string; label?: string; kind?: string; expiresAt?: Date },
): Shape {
  // Stored as `credential`: a key named like "token" is masked by the redactor, and this is only an id.
  const credential = compact({
    id: token.id,
    label: token.label,
    kind: token.kind,
    expiresAt: token.expiresAt?.toISOString(),
  });
  return aboutUser(user, {
    related: { type: 'token', identifier: token.label ?? token.id },
    extra: { credential },
  });
}

function permission(name: string, to: { type: string; id: string; label?: string }): Shape {
  return {
    target: targetOf(to.type, to),
    identifier: name,
    related: { type: to.type, identifier: nameOf(to) },
    extra: { permission: name },
  };
}

function membership(value: string | Ref, group: { type: string; id: string; label?: string }): Shape {
  return {
    ...aboutUser(value),
    related: { type: group.type, identifier: nameOf(group) },
    ownTenant: group.type === 'organisation' ? group.id : undefined,
    extra: { membership: compact({ type: group.type, id: group.id, label: group.label }) },
  };
}

/** Builds `audit.security` over an auditor's record path. */
export function createSecurityEvents(deps: TenantFanOutDeps): SecurityEvents {
  const method =
    <K extends SecurityEventName>(name: K) =>
    (input: SecurityEventInputs[K]): Promise<AuditEvent[]> => {
      const { event, fanOut } = buildSecurityEvent(name, input);
      return recordPerTenant(deps, event, fanOut);
    };
  const events = {} as Record<SecurityEventName, unknown>;
  for (const name of Object.keys(SECURITY_EVENT_TYPES) as SecurityEventName[]) events[name] = method(name);
  return events as unknown as SecurityEvents;
}

/**
 * Validates one security event and builds what `record()` takes, plus where it goes. Throws
 * `invalid_event` naming every bad field.
 */
export function buildSecurityEvent<K extends SecurityEventName>(
  name: K,
  raw: SecurityEventInputs[K],
): { event: AuditEventInput; fanOut: FanOutTarget } {
  const parsed = SECURITY_INPUT_SCHEMAS[name].safeParse(raw);
  if (!parsed.success) {
    const fields = describeIssues(parsed.error);
    throw new AuditkitError('invalid_event', `Invalid security event ${name}: ${fields.join('; ')}`, {
      details: { fields, event: name },
    });
  }
  const input = parsed.data as ParsedSecurityEventInputs[K] & {
    actor?: Parameters<typeof normaliseActor>[0];
    tenantId?: string | null | string[];
    reason?: string;
    metadata?: Record<string, unknown>;
    selfService?: boolean;
  };
  const type = SECURITY_EVENT_TYPES[name];
  const shape = SHAPES[name](input as never);
  const selfService = input.selfService === true;
  const parts: SecurityMessageParts = {
    key: name,
    action: type.verb,
    field: type.field,
    identifier: shape.identifier,
  };
  if (shape.related) parts.related = shape.related;
  if (shape.method !== undefined) parts.method = shape.method;
  if (shape.reason !== undefined) parts.reason = shape.reason;
  if (selfService) parts.selfService = true;

  let actor: Actor | undefined;
  try {
    actor = normaliseActor(input.actor);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new AuditkitError('invalid_event', `Invalid security event ${name}: actor: ${message}`, {
      cause: error,
      details: { fields: [`actor: ${message}`], event: name },
    });
  }
  // The person logging in (or acting on their own account) is the actor, whoever the context says.
  if (!actor && shape.user && (selfService || name === 'loginSucceeded')) {
    actor = compact<Actor>({ type: 'user', id: shape.user.id, label: shape.user.label });
  }

  const event: AuditEventInput = {
    category: 'auth',
    action: type.action,
    outcome: name === 'loginFailed' ? 'failure' : 'success',
    target: shape.target,
    message: securityMessage(parts),
    metadata: { ...input.metadata, ...shape.extra, messageParts: parts },
  };
  if (actor) event.actor = actor;
  const reason = shape.reason ?? input.reason;
  if (reason !== undefined) event.reason = reason;

  const tenant = input.tenantId;
  if (Array.isArray(tenant)) return { event, fanOut: { tenants: tenant } };
  if (tenant !== undefined) return { event: { ...event, tenantId: tenant }, fanOut: {} };
  if (shape.ownTenant !== undefined) return { event: { ...event, tenantId: shape.ownTenant }, fanOut: {} };
  if (type.perUser && shape.user?.id !== undefined) return { event, fanOut: { userId: shape.user.id } };
  return { event, fanOut: {} };
}
