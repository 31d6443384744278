/** The UI roles, each including the rights of the ones before it. */
export const ROLES = ['viewer', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a role may do: read events; export them and verify the chains; run retention and erasure. */
export type Permission = 'read' | 'export' | 'verify' | 'admin';

const GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  auditor: ['read', 'export', 'verify'],
  admin: ['read', 'export', 'verify', 'admin'],
};

/** Someone using the UI: a built-in user, a token, or whoever the host app's `authorize` returns. */
export interface UiUser {
  /** Recorded as the actor id of what they do in the UI. */
  id: string;
  name?: string;
  role: Role;
  /** Organisations they may see; absent means every organisation. */
  tenants?: readonly string[];
  /** How they were authenticated (set by the UI). */
  via?: 'password' | 'token' | 'host';
}

/**
 * True when `user` has `permission`.
 *
 * @example
 * can({ id: 'ada', role: 'auditor' }, 'export') // true
 */
export function can(user: UiUser, permission: Permission): boolean {
  return (GRANTS[user.role] ?? []).includes(permission);
}
