import type { AuditContext } from '../core/context.js';
import { AuditkitError } from '../core/errors.js';
import type { AuditEvent, AuditEventInput } from '../core/event.js';
import { newEventId } from '../core/ids.js';

/**
 * The organisations a user belongs to, as the app knows them: the auditor's `tenantsOf` option.
 *
 * @example
 * const audit = createAuditor({ tenantsOf: async (userId) => db.memberships.orgIdsOf(userId) });
 */
export type TenantsOf = (userId: string) => readonly string[] | Promise<readonly string[]>;

/** What fan-out needs from the auditor. */
export interface TenantFanOutDeps {
  record(input: AuditEventInput): Promise<AuditEvent>;
  reportError(error: unknown, code?: string): void;
  context(): AuditContext | undefined;
  tenantsOf?: TenantsOf | undefined;
  /** How long the resolver may take before the event is written to the context's tenant. Default 10 s. */
  tenantsOfTimeoutMs?: number;
}

/** A resolver slower than this is given up on, so a hung membership service cannot hold an event back. */
export const TENANTS_OF_TIMEOUT_MS = 10_000;

/** Where one event goes: explicit tenants, or the organisations of a user. */
export interface FanOutTarget {
  /** The organisations to write to, given by the caller (no resolver call). */
  tenants?: readonly string[];
  /** The user whose organisations `tenantsOf` resolves. */
  userId?: string;
}

/** The error code reported when the organisations of a user could not be resolved. */
export const TENANT_RESOLUTION_FAILED = 'tenant_resolution_failed';

/**
 * Records `input` once per organisation: the explicit `tenants`, else those `tenantsOf(userId)`
 * returns. Two or more copies share one `correlation.correlationId` (the context's when it has one).
 * When the resolver fails, times out, returns something that is not a list of ids, or returns nothing,
 * the event is written once, to the context's tenant, and the problem goes to `onError`: it is never lost.
 */
export async function recordPerTenant(
  deps: TenantFanOutDeps,
  input: AuditEventInput,
  target: FanOutTarget,
): Promise<AuditEvent[]> {
  const tenants = target.tenants ? unique(target.tenants) : await resolveTenants(deps, target.userId);
  if (tenants.length === 0) return [await deps.record(input)];
  if (tenants.length === 1) return [await deps.record({ ...input, tenantId: tenants[0] })];
  const correlationId = deps.context()?.correlationId ?? newEventId();
  return Promise.all(
    tenants.map((tenantId) =>
      deps.record({ ...input, tenantId, correlation: { ...input.correlation, correlationId } }),
    ),
  );
}

async function resolveTenants(deps: TenantFanOutDeps, userId: string | undefined): Promise<string[]> {
  if (userId === undefined || !deps.tenantsOf) return [];
  const failed = (message: string, cause?: unknown): string[] => {
    deps.reportError(
      new AuditkitError(
        TENANT_RESOLUTION_FAILED,
        `${message}; the event was written once, to the tenant of the current context.`,
        { cause, details: { userId } },
      ),
      TENANT_RESOLUTION_FAILED,
    );
    return [];
  };
  const timeoutMs = deps.tenantsOfTimeoutMs ?? TENANTS_OF_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.();
  });
  let resolved: unknown;
  try {
    resolved = await Promise.race([Promise.resolve().then(() => deps.tenantsOf?.(userId)), timedOut]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return failed(`tenantsOf("${userId}") failed: ${reason}`, error);
  } finally {
    clearTimeout(timer);
  }
  if (!Array.isArray(resolved) || resolved.some((t) => typeof t !== 'string' || t === '')) {
    return failed(`tenantsOf("${userId}") must return a list of organisation ids`);
  }
  if (resolved.length === 0) return failed(`tenantsOf("${userId}") returned no organisation`);
  return unique(resolved as string[]);
}

function unique(tenants: readonly string[]): string[] {
  return [...new Set(tenants)];
}
