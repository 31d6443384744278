import type { AuditEvent } from '../core/event.js';
import type { NotificationResult } from '../notify/notifier.js';
import type { AuditPage, AuditQuery } from '../store/store.js';

/**
 * Where the notice of an error event stands. The error event is written `pending`; what happened to its
 * notice is a later, separate event (the log is append-only and hash chained, so nothing is updated).
 */
export const NOTIFICATION_STATES = ['pending', 'sent', 'failed', 'suppressed'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/**
 * The follow-up events that record what happened to a notice: category `error`, outcome `success`
 * (sent) or `failure`, target `{ type: 'audit_event', id: <the error event's id> }`, same tenant as the
 * error. Error events themselves have outcome `error`, so `outcome: 'error'` lists the errors alone.
 */
export const NOTIFICATION_ACTIONS = {
  sent: 'notification.sent',
  failed: 'notification.failed',
  /** Dropped by the rate limit of an error storm (the next notice says how many were). */
  suppressed: 'notification.suppressed',
} as const;

/** The target type of follow-up events. */
export const NOTIFICATION_TARGET_TYPE = 'audit_event';

/** `metadata.notification` of a follow-up event. */
export interface NotificationRecord {
  state: Exclude<NotificationState, 'pending'>;
  /** Delivery attempts this follow-up accounts for (the most any notifier needed). */
  attempts: number;
  notifiers: string[];
  /** The last delivery error, when it failed. */
  error?: string;
}

/** One error event and where its notice stands. */
export interface ErrorNotification {
  event: AuditEvent;
  state: NotificationState;
  /** Delivery attempts so far, over every try. */
  attempts: number;
  /** Follow-ups recorded so far (tries of the notice). */
  tries: number;
  lastAttemptAt?: Date;
  lastError?: string;
}

export interface ListErrorNotificationsOptions {
  /** Errors at or after this time (default: 7 days ago). */
  since?: Date;
  /** Errors before this time. */
  until?: Date;
  tenantId?: string;
  /** Only notices not sent (pending, failed, suppressed). */
  unsent?: boolean;
  /** Most entries returned, newest first (default all). */
  limit?: number;
}

export const DEFAULT_LOOKBACK_MS = 7 * 86_400_000;

/** The follow-up's `metadata.notification` for a dispatch result. */
export function notificationRecordOf(result: NotificationResult): NotificationRecord {
  const state: NotificationRecord['state'] = result.sent
    ? 'sent'
    : result.reason === 'rate_limited'
      ? 'suppressed'
      : 'failed';
  const record: NotificationRecord = {
    state,
    attempts: Math.max(0, ...result.deliveries.map((d) => d.attempts)),
    notifiers: result.deliveries.map((d) => d.notifier),
  };
  const error = result.deliveries.find((d) => !d.sent && d.error)?.error;
  if (!result.sent && error) record.error = error;
  return record;
}

/**
 * The notice state an error event was written with: `pending` for `captureErrors` events, or the
 * dispatch result the HTTP adapters store after sending (`{ sent, reason, deliveries }`). Undefined for
 * an error nobody was to be notified of.
 */
function initialState(event: AuditEvent): Omit<ErrorNotification, 'event'> | undefined {
  const stored = event.metadata?.notification as Record<string, unknown> | undefined;
  if (typeof stored !== 'object' || stored === null) return undefined;
  if (stored.state === 'pending') return { state: 'pending', attempts: 0, tries: 0 };
  if (typeof stored.sent !== 'boolean' || stored.reason === 'no_notifiers') return undefined;
  const record = notificationRecordOf({
    sent: stored.sent,
    reason: stored.reason as NotificationResult['reason'],
    deliveries: Array.isArray(stored.deliveries)
      ? (stored.deliveries as NotificationResult['deliveries'])
      : [],
  });
  return {
    state: record.state,
    attempts: record.attempts,
    tries: 1,
    lastAttemptAt: event.occurredAt,
    ...(record.error ? { lastError: record.error } : {}),
  };
}

/** Applies follow-up events (oldest first) to the initial state of each error event. */
export function foldNotifications(
  errors: readonly AuditEvent[],
  followUps: readonly AuditEvent[],
): ErrorNotification[] {
  const byError = new Map<string, ErrorNotification>();
  for (const event of errors) {
    const initial = initialState(event);
    if (initial) byError.set(event.id, { event, ...initial });
  }
  const ordered = [...followUps].sort(
    (a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : 1),
  );
  for (const followUp of ordered) {
    const entry = followUp.target?.id ? byError.get(followUp.target.id) : undefined;
    const record = followUp.metadata?.notification as NotificationRecord | undefined;
    if (!entry || !record || typeof record.state !== 'string' || entry.state === 'sent') continue;
    entry.state = record.state;
    entry.attempts += Number.isFinite(record.attempts) ? record.attempts : 0;
    entry.tries += 1;
    entry.lastAttemptAt = followUp.occurredAt;
    if (record.error) entry.lastError = record.error;
  }
  return [...byError.values()].sort(
    (a, b) =>
      b.event.occurredAt.getTime() - a.event.occurredAt.getTime() || (a.event.id < b.event.id ? 1 : -1),
  );
}

async function all(query: (q: AuditQuery) => Promise<AuditPage>, filters: AuditQuery): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await query({ ...filters, limit: 1000, cursor });
    events.push(...page.events);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return events;
}

/**
 * Error events whose notice was to be sent, with where each stands, newest first: what
 * `auditkit errors --unsent` prints. Reads the errors of the window and every follow-up since its start.
 *
 * @example
 * const unsent = await listErrorNotifications((q) => store.query(q), { unsent: true, tenantId: 'org_1' });
 */
export async function listErrorNotifications(
  query: (q: AuditQuery) => Promise<AuditPage>,
  options: ListErrorNotificationsOptions = {},
): Promise<ErrorNotification[]> {
  const since = options.since ?? new Date(Date.now() - DEFAULT_LOOKBACK_MS);
  const scope: AuditQuery = options.tenantId === undefined ? {} : { tenantId: options.tenantId };
  const errors = await all(query, {
    ...scope,
    category: 'error',
    outcome: 'error',
    from: since,
    to: options.until,
  });
  const followUps = await all(query, {
    ...scope,
    category: 'error',
    action: 'notification.*',
    targetType: NOTIFICATION_TARGET_TYPE,
    from: since,
  });
  const states = foldNotifications(errors, followUps);
  const wanted = options.unsent ? states.filter((s) => s.state !== 'sent') : states;
  return options.limit === undefined ? wanted : wanted.slice(0, options.limit);
}
