import type { Actor, AuditEvent, AuditEventInput } from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { type SqlAccess, sqlAccessOf } from '../integrity/sql-access.js';
import type { AuditStore } from '../store/store.js';

/** An auditor as far as maintenance needs one: its store, and `record` for the maintenance event. */
export interface AuditorLike {
  readonly store: AuditStore;
  record(input: AuditEventInput): Promise<AuditEvent>;
}

/** What retention and erasure run against: an auditor, a SQL store, or bare SQL access. */
export type MaintenanceTarget = AuditorLike | AuditStore | SqlAccess;

function isAuditor(target: MaintenanceTarget): target is AuditorLike {
  return (
    typeof (target as AuditorLike).record === 'function' && typeof (target as AuditorLike).store === 'object'
  );
}

/** The SQL access behind a target. */
export function accessOf(target: MaintenanceTarget): SqlAccess {
  if (isAuditor(target)) return sqlAccessOf(target.store);
  return sqlAccessOf(target as AuditStore | SqlAccess);
}

/** Who runs maintenance when the caller does not say: the Auditkit retention or erasure job. */
export function defaultActor(job: 'retention' | 'erasure'): Actor {
  return { type: 'system', id: `auditkit-${job}`, label: `Auditkit ${job}` };
}

/**
 * Records the event saying who ran a maintenance job, when, and on what: through the auditor when there
 * is one (so it is redacted and written like any event), else appended to the store. Bare SQL access
 * cannot record; it returns null then.
 */
export async function recordMaintenanceEvent(
  target: MaintenanceTarget,
  input: {
    action: string;
    actor: Actor;
    outcome?: AuditEvent['outcome'];
    targetType: string;
    targetId?: string;
    message: string;
    metadata: Record<string, unknown>;
    tenantId?: string | null;
  },
): Promise<AuditEvent | null> {
  const event: AuditEvent = {
    id: newEventId(),
    occurredAt: new Date(),
    category: 'custom',
    action: input.action,
    outcome: input.outcome ?? 'success',
    tenantId: input.tenantId ?? null,
    actor: input.actor,
    target: { type: input.targetType, ...(input.targetId === undefined ? {} : { id: input.targetId }) },
    message: input.message,
    metadata: input.metadata,
  };
  if (isAuditor(target)) return target.record(event);
  const append = (target as { append?: AuditStore['append'] }).append;
  if (typeof append !== 'function') return null;
  await append.call(target, [event]);
  return event;
}
