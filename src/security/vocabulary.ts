/**
 * The fixed vocabulary of security events: every app logs logins, password changes, roles and
 * memberships with the same actions, reasons and message parts, so the admin UI and reports can filter,
 * count and translate them. Names here are stable API.
 */

/** Why a login failed. */
export const LOGIN_FAILURE_REASONS = [
  'bad_password',
  'bad_2fa',
  'unknown_user',
  'locked',
  'expired',
  'invalid_token',
] as const;
export type LoginFailureReason = (typeof LOGIN_FAILURE_REASONS)[number];

/** How someone authenticated; `oauth:<provider>` names the provider (`oauth:github`). */
export const LOGIN_METHODS = ['password', '2fa', 'saml', 'jwt', 'api_key'] as const;
export type LoginMethod = (typeof LOGIN_METHODS)[number] | `oauth:${string}`;

/** What a member can be added to. */
export const MEMBERSHIP_CONTAINERS = ['role', 'group', 'organisation'] as const;
export type MembershipContainer = (typeof MEMBERSHIP_CONTAINERS)[number];

/** Who a permission can be granted to. */
export const PERMISSION_GRANTEES = ['role', 'user'] as const;
export type PermissionGrantee = (typeof PERMISSION_GRANTEES)[number];

/** One entry of {@link SECURITY_EVENT_TYPES}. */
export interface SecurityEventType {
  /** The stored `action` (category `auth`). */
  readonly action: string;
  /** The message part `action`: the verb, for translation. */
  readonly verb: string;
  /** The message part `field`: what the verb acts on, for translation. */
  readonly field: string;
  /** The stored `target.type`. */
  readonly targetType: string;
  /**
   * True for events about a person rather than about one organisation: they are written once per
   * organisation the user belongs to (the auditor's `tenantsOf` resolver).
   */
  readonly perUser: boolean;
}

/**
 * Every security event `audit.security.*` records, by method name. Two methods share `user.login`
 * (their outcomes differ); every other action belongs to one method.
 */
export const SECURITY_EVENT_TYPES = {
  loginSucceeded: {
    action: 'user.login',
    verb: 'succeeded',
    field: 'login',
    targetType: 'user',
    perUser: true,
  },
  loginFailed: { action: 'user.login', verb: 'failed', field: 'login', targetType: 'user', perUser: true },
  logout: { action: 'user.logout', verb: 'ended', field: 'session', targetType: 'user', perUser: true },
  tokenIssued: { action: 'token.issued', verb: 'issued', field: 'token', targetType: 'user', perUser: true },
  tokenRevoked: {
    action: 'token.revoked',
    verb: 'revoked',
    field: 'token',
    targetType: 'user',
    perUser: true,
  },
  passwordChanged: {
    action: 'password.changed',
    verb: 'changed',
    field: 'password',
    targetType: 'user',
    perUser: true,
  },
  passwordResetRequested: {
    action: 'password.reset_requested',
    verb: 'reset_requested',
    field: 'password',
    targetType: 'user',
    perUser: true,
  },
  twoFactorEnabled: {
    action: 'two_factor.enabled',
    verb: 'enabled',
    field: 'two_factor',
    targetType: 'user',
    perUser: true,
  },
  twoFactorDisabled: {
    action: 'two_factor.disabled',
    verb: 'disabled',
    field: 'two_factor',
    targetType: 'user',
    perUser: true,
  },
  userCreated: { action: 'user.created', verb: 'created', field: 'user', targetType: 'user', perUser: false },
  userDeleted: { action: 'user.deleted', verb: 'deleted', field: 'user', targetType: 'user', perUser: true },
  roleCreated: { action: 'role.created', verb: 'created', field: 'role', targetType: 'role', perUser: false },
  roleDeleted: { action: 'role.deleted', verb: 'deleted', field: 'role', targetType: 'role', perUser: false },
  permissionGranted: {
    action: 'permission.granted',
    verb: 'granted',
    field: 'permission',
    targetType: 'role',
    perUser: false,
  },
  permissionRevoked: {
    action: 'permission.revoked',
    verb: 'revoked',
    field: 'permission',
    targetType: 'role',
    perUser: false,
  },
  memberAdded: {
    action: 'member.added',
    verb: 'added',
    field: 'membership',
    targetType: 'user',
    perUser: false,
  },
  memberRemoved: {
    action: 'member.removed',
    verb: 'removed',
    field: 'membership',
    targetType: 'user',
    perUser: false,
  },
  organisationCreated: {
    action: 'organisation.created',
    verb: 'created',
    field: 'organisation',
    targetType: 'organisation',
    perUser: false,
  },
  organisationDeleted: {
    action: 'organisation.deleted',
    verb: 'deleted',
    field: 'organisation',
    targetType: 'organisation',
    perUser: false,
  },
  projectCreated: {
    action: 'project.created',
    verb: 'created',
    field: 'project',
    targetType: 'project',
    perUser: false,
  },
  projectDeleted: {
    action: 'project.deleted',
    verb: 'deleted',
    field: 'project',
    targetType: 'project',
    perUser: false,
  },
} as const satisfies Record<string, SecurityEventType>;

/** A method name of `audit.security`, e.g. `passwordChanged`. */
export type SecurityEventName = keyof typeof SECURITY_EVENT_TYPES;

/** Every method name of `audit.security`, in the order of the issue that defined them. */
export const SECURITY_EVENT_NAMES = Object.keys(SECURITY_EVENT_TYPES) as SecurityEventName[];

/** Every action a security event is stored with (`user.login`, `password.changed`, ...), each once. */
export const SECURITY_ACTIONS: readonly string[] = [
  ...new Set(Object.values(SECURITY_EVENT_TYPES).map((t) => t.action)),
];

/**
 * The structured parts of a security event's message, stored as `metadata.messageParts` so a UI can
 * render it in any language (`key` picks the template); `message` holds the English rendering.
 */
export interface SecurityMessageParts {
  /** The method that recorded it: the translation key (`loginFailed`). */
  key: SecurityEventName;
  /** The verb (`failed`, `granted`, ...). */
  action: string;
  /** What the verb acts on (`login`, `password`, `permission`, ...). */
  field: string;
  /** Who or what it is about: the subject's label, else its id (a permission: its name). */
  identifier: string;
  /** The other party: the role a permission went to, the group a member joined, the token issued. */
  related?: { type: string; identifier: string };
  method?: string;
  reason?: string;
  /** The subject did it to themselves (signed up, deleted their own account). */
  selfService?: true;
}
