import type { AuditEvent } from '../core/event.js';
import type { AuditQuery } from '../store/store.js';
import type { UiUser } from './auth/roles.js';

/**
 * Restricts a query to the organisations a user may see: the user's tenants intersect the query's, never
 * widen them. Null when nothing can match (a filter on another organisation): the caller answers 403.
 *
 * @example
 * scopeQuery({ tenantId: 'org_b' }, { id: 'u', role: 'viewer', tenants: ['org_a'] }) // null
 */
export function scopeQuery<Q extends AuditQuery>(query: Q, user: UiUser): Q | null {
  if (user.tenants === undefined) return query;
  const allowed = [...user.tenants];
  if (query.tenantId === undefined) return allowed.length > 0 ? { ...query, tenantId: allowed } : null;
  const asked = Array.isArray(query.tenantId) ? query.tenantId : [query.tenantId];
  const both = asked.filter((t) => allowed.includes(t));
  return both.length > 0 && both.length === asked.length ? { ...query, tenantId: both } : null;
}

/** True when the user may see this event (unrestricted, or the event belongs to one of their organisations). */
export function canSee(event: AuditEvent, user: UiUser): boolean {
  return (
    user.tenants === undefined ||
    (typeof event.tenantId === 'string' && user.tenants.includes(event.tenantId))
  );
}
