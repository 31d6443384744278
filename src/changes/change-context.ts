import type { Auditor } from '../core/auditor.js';
import { type AuditContext, normaliseActor } from '../core/context.js';
import type { Actor, AuditEvent } from '../core/event.js';

/**
 * What a change event takes from the running audit context, in one place for both capture modes:
 * app-level capture builds its events from it, trigger mode hands the same parts to the triggers
 * (`auditContextJson`), so a change records the same actor, tenant and request whoever writes it.
 */
export interface ChangeContext {
  actor: Actor;
  tenantId: string | null;
  correlation?: AuditEvent['correlation'];
  request?: AuditEvent['request'];
  metadata?: AuditEvent['metadata'];
}

/**
 * The context's parts for a change event, the actor resolved now (a lazy actor set by authentication
 * is seen). Outside any context the actor is `system`; in one without an actor, `anonymous`. A failing
 * actor source is reported to `onError` (`actor_resolution_failed`) and replaced, never thrown: it must
 * not fail the change.
 *
 * @example
 * const { actor, tenantId } = await changeContext(audit, tryGetContext());
 */
export async function changeContext(
  audit: Pick<Auditor, 'options' | 'reportError'>,
  context: AuditContext | undefined,
): Promise<ChangeContext> {
  let found: Actor | undefined;
  if (context?.actor !== undefined) {
    try {
      const source = context.actor;
      found = normaliseActor(await (typeof source === 'function' ? source() : source));
    } catch (error) {
      audit.reportError(error, 'actor_resolution_failed');
    }
  }
  const actor: Actor = { ...(found ?? { type: context ? 'anonymous' : 'system' }) };
  const parts: ChangeContext = { actor, tenantId: context?.tenantId ?? audit.options.tenantId ?? null };
  if (!context) return parts;
  if (context.ip !== undefined) actor.ip ??= context.ip;
  if (context.userAgent !== undefined) actor.userAgent ??= context.userAgent;
  if (context.sessionId !== undefined) actor.sessionId ??= context.sessionId;
  const correlation = compact({
    requestId: context.requestId,
    traceId: context.traceId,
    spanId: context.spanId,
    correlationId: context.correlationId,
    processId: context.processId,
    stepId: context.stepId,
  });
  if (correlation) parts.correlation = correlation;
  if (context.request) {
    const request = compact({ ...context.request, id: context.request.id ?? context.requestId });
    if (request) parts.request = request;
  }
  if (context.metadata) parts.metadata = { ...context.metadata };
  return parts;
}

/** The object without its undefined fields, or undefined when none is left. */
function compact<T extends Record<string, unknown>>(value: T): T | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[key] = v;
    kept += 1;
  }
  return kept === 0 ? undefined : (out as T);
}
