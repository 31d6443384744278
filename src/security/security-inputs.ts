import { z } from 'zod';
import type { ActorLike } from '../core/context.js';
import {
  LOGIN_FAILURE_REASONS,
  LOGIN_METHODS,
  type LoginMethod,
  MEMBERSHIP_CONTAINERS,
  PERMISSION_GRANTEES,
  type SecurityEventName,
} from './vocabulary.js';

const id = z.string().min(1, 'must not be empty').max(500);
const label = z.string().max(500).optional();

/** A user, role, organisation or project: its id, or `{ id, label }`. */
const subject = z.union([id, z.strictObject({ id, label })], {
  error: 'must be an id or { id, label }',
});

const actor = z.custom<ActorLike>(
  (v) => (typeof v === 'string' && v !== '') || (typeof v === 'object' && v !== null && !Array.isArray(v)),
  { message: 'actor must be a user id or an actor object such as { type: "service", id: "sync" }' },
);

const loginMethod = z.custom<LoginMethod>(
  (v) =>
    typeof v === 'string' &&
    ((LOGIN_METHODS as readonly string[]).includes(v) || /^oauth:[A-Za-z0-9._-]{1,100}$/.test(v)),
  { message: `method must be one of ${LOGIN_METHODS.join(', ')} or oauth:<provider>` },
);

const dateInput = z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]);

/** Options every security event takes. */
const common = {
  /** Who did it; default: the context's actor (for a login: the user who logged in). */
  actor: actor.optional(),
  /**
   * Where it is written: one organisation (or null), or a list of them. Default: per-user events go to
   * every organisation of the user (`tenantsOf`), organisation events to that organisation, the rest to
   * the context's tenant.
   */
  tenantId: z.union([id, z.null(), z.array(id)]).optional(),
  /** Free text why (`GDPR request`, `offboarding`). */
  reason: z.string().max(1000).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
};

/** Options of events about a user. */
const aboutUser = {
  user: subject,
  /** The user did it to themselves: the actor defaults to the user, the message says so. */
  selfService: z.boolean().optional(),
  ...common,
};

const token = z.strictObject({
  /** The token's id or fingerprint, never the token itself. */
  id,
  label,
  /** `api_key`, `personal_access`, `refresh`, ... */
  kind: z.string().min(1).max(100).optional(),
  expiresAt: dateInput.optional(),
});

const grantee = z.strictObject({ type: z.enum(PERMISSION_GRANTEES), id, label });
const container = z.strictObject({ type: z.enum(MEMBERSHIP_CONTAINERS), id, label });

/** The zod schema of each `audit.security.*` method's input. */
export const SECURITY_INPUT_SCHEMAS = {
  loginSucceeded: z.strictObject({ ...aboutUser, method: loginMethod }),
  loginFailed: z
    .strictObject({
      ...common,
      /** The user, when the identifier matched one. */
      user: subject.optional(),
      /** What was typed (an email, a user name), when no user matched. */
      identifier: z.string().min(1).max(500).optional(),
      reason: z.enum(LOGIN_FAILURE_REASONS),
      method: loginMethod.optional(),
    })
    .refine((v) => v.user !== undefined || v.identifier !== undefined, {
      message: 'loginFailed needs the user or the identifier that was tried',
      path: ['user'],
    }),
  logout: z.strictObject(aboutUser),
  tokenIssued: z.strictObject({ ...aboutUser, token }),
  tokenRevoked: z.strictObject({ ...aboutUser, token }),
  passwordChanged: z.strictObject(aboutUser),
  passwordResetRequested: z.strictObject(aboutUser),
  twoFactorEnabled: z.strictObject({ ...aboutUser, method: z.string().min(1).max(100).optional() }),
  twoFactorDisabled: z.strictObject({ ...aboutUser, method: z.string().min(1).max(100).optional() }),
  userCreated: z.strictObject(aboutUser),
  userDeleted: z.strictObject(aboutUser),
  roleCreated: z.strictObject({ ...common, role: subject }),
  roleDeleted: z.strictObject({ ...common, role: subject }),
  permissionGranted: z.strictObject({ ...common, permission: id, to: grantee }),
  permissionRevoked: z.strictObject({ ...common, permission: id, from: grantee }),
  memberAdded: z.strictObject({ ...common, user: subject, to: container }),
  memberRemoved: z.strictObject({ ...common, user: subject, from: container }),
  organisationCreated: z.strictObject({ ...common, organisation: subject }),
  organisationDeleted: z.strictObject({ ...common, organisation: subject }),
  projectCreated: z.strictObject({ ...common, project: subject }),
  projectDeleted: z.strictObject({ ...common, project: subject }),
} as const satisfies Record<SecurityEventName, z.ZodType>;

/** What each `audit.security.*` method accepts. */
export type SecurityEventInputs = {
  [K in SecurityEventName]: z.input<(typeof SECURITY_INPUT_SCHEMAS)[K]>;
};
/** What each method's input is after validation. */
export type ParsedSecurityEventInputs = {
  [K in SecurityEventName]: z.output<(typeof SECURITY_INPUT_SCHEMAS)[K]>;
};
