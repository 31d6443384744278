import { z } from 'zod';
import { AuditkitError } from '../core/errors.js';
import {
  type AuditEvent,
  type AuditEventInput,
  describeIssues,
  type Target,
  targetSchema,
} from '../core/event.js';
import { createNotificationDispatcher, type NotificationDispatcher } from '../notify/dispatcher.js';
import type { Notice, NoticeEvent, NotificationResult } from '../notify/notifier.js';
import type { AuditPage, AuditQuery } from '../store/store.js';
import { type ErrorDetails, errorDetails } from './error-details.js';
import {
  type ErrorNotification,
  type ListErrorNotificationsOptions,
  listErrorNotifications,
  NOTIFICATION_ACTIONS,
  NOTIFICATION_TARGET_TYPE,
  notificationRecordOf,
} from './notification-log.js';
import type { NotifyOptions } from './notify-options.js';
import { markErrorRecorded } from './recorded-errors.js';

/** The default action of an error event recorded by `captureErrors`. */
export const CAPTURED_ERROR_ACTION = 'action.failed';

/** How `captureErrors` records a failure. */
export interface CaptureErrorsOptions {
  /** The error event's action, e.g. `invoice.send_failed`; default `action.failed`. */
  action?: string;
  /** What was acted on. */
  target?: Target;
  /** What was being done (ids, parameters), stored as `metadata.context` (masked like everything else). */
  context?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Send a notice when the auditor has `notify` set. Default true. */
  notify?: boolean;
}

const captureOptionsSchema = z.strictObject({
  action: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s\u0000-\u001f]+$/, 'action must not contain spaces or control characters')
    .optional(),
  target: targetSchema.optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  notify: z.boolean().optional(),
});

/** Checks `captureErrors` options; throws `invalid_event` naming each bad field. */
export function checkCaptureOptions(options: unknown): CaptureErrorsOptions {
  const parsed = captureOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const fields = describeIssues(parsed.error);
  throw new AuditkitError('invalid_event', `Invalid captureErrors options: ${fields.join('; ')}`, {
    details: { fields },
  });
}

export interface RetryUnsentOptions {
  /** Errors at or after this time (default 7 days ago). */
  since?: Date;
  tenantId?: string;
  /** A notice still pending after this long was lost (a crash); it is sent again. Default 60 000 ms. */
  pendingAfterMs?: number;
  /** Wait before the first retry of a failed notice, doubled for each further try. Default 60 000 ms. */
  minDelayMs?: number;
  /** Longest wait between tries. Default 3 600 000 ms (an hour). */
  maxDelayMs?: number;
  /** Tries after which a notice is given up on (it stays listed as failed). Default 10. */
  maxTries?: number;
  /** Also send notices the rate limit suppressed. Default false. */
  includeSuppressed?: boolean;
  now?: () => Date;
}

export interface RetryReport {
  /** Notices sent again. */
  tried: number;
  sent: number;
  failed: number;
  /** Unsent notices not due yet, given up, suppressed or in flight here. */
  skipped: number;
}

/**
 * `audit.errors`: the failed-action log's notices. Error events are written with their notice
 * `pending`; a follow-up event records each try (`notification.sent` / `.failed` / `.suppressed`).
 */
export interface ErrorLog {
  /** Error events whose notice was to be sent, with where each stands, newest first (after a flush). */
  list(options?: ListErrorNotificationsOptions): Promise<ErrorNotification[]>;
  /**
   * Sends again the notices that are due: failed ones after a doubling delay, and pending ones left by
   * a crash. Run it from a job; each try is recorded. Resolves with what it did.
   */
  retryUnsent(options?: RetryUnsentOptions): Promise<RetryReport>;
}

/** What the error log needs from the auditor. */
export interface ErrorLogDeps {
  record(input: AuditEventInput): Promise<AuditEvent>;
  reportError(error: unknown, code?: string): void;
  query(query: AuditQuery): Promise<AuditPage>;
  /** Stores what this auditor recorded so far, so a listing sees its own follow-ups. */
  flush(): Promise<void>;
  notify?: NotifyOptions | undefined;
}

/** The actor of follow-up events: Auditkit itself. */
const NOTIFIER_ACTOR = { type: 'system', id: 'auditkit', label: 'Auditkit notifier' } as const;

/** Builds the error log over an auditor's record path; `settle()` waits for notices in flight. */
export function createErrorLog(deps: ErrorLogDeps): {
  capture<T>(fn: () => T, options?: CaptureErrorsOptions): T;
  errors: ErrorLog;
  settle(): Promise<void>;
} {
  const dispatcher: NotificationDispatcher | undefined = deps.notify
    ? createNotificationDispatcher(deps.notify)
    : undefined;
  const inFlight = new Set<Promise<void>>();
  const sending = new Set<string>();

  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const followUp = async (event: AuditEvent, result: NotificationResult) => {
    const record = notificationRecordOf(result);
    const how =
      record.state === 'sent'
        ? `sent (${record.notifiers.join(', ')})`
        : record.state === 'suppressed'
          ? 'suppressed by the rate limit'
          : `failed after ${record.attempts} attempt${record.attempts === 1 ? '' : 's'}${record.error ? `: ${record.error}` : ''}`;
    return deps.record({
      category: 'error',
      action: NOTIFICATION_ACTIONS[record.state],
      outcome: record.state === 'sent' ? 'success' : 'failure',
      tenantId: event.tenantId ?? null,
      actor: { ...NOTIFIER_ACTOR },
      target: { type: NOTIFICATION_TARGET_TYPE, id: event.id, label: event.action },
      message: `Notice of ${event.action} ${how}`,
      metadata: { notification: record },
    });
  };

  /** Sends the notice of a stored error event and records the outcome; never rejects. */
  const notify = async (event: AuditEvent): Promise<'sent' | 'failed'> => {
    if (!dispatcher) return 'failed';
    sending.add(event.id);
    try {
      const result = await dispatcher.dispatch(noticeOf(event));
      await followUp(event, result);
      return result.sent ? 'sent' : 'failed';
    } catch (error) {
      deps.reportError(error, 'notify_failed');
      return 'failed';
    } finally {
      sending.delete(event.id);
    }
  };

  /** Records the error event (its notice pending), then sends the notice in the background. */
  const recordError = async (error: unknown, options: CaptureErrorsOptions): Promise<void> => {
    const details = errorDetails(error);
    const tracked = dispatcher !== undefined && options.notify !== false;
    const input: AuditEventInput = {
      category: 'error',
      action: options.action ?? CAPTURED_ERROR_ACTION,
      outcome: 'error',
      message: details.message !== '' ? details.message : details.name,
      reason: details.name,
      metadata: {
        ...options.metadata,
        error: details as ErrorDetails & Record<string, unknown>,
        ...(options.context ? { context: options.context } : {}),
        ...(tracked ? { notification: { state: 'pending' } } : {}),
      },
    };
    if (options.target) input.target = options.target;
    let event: AuditEvent;
    try {
      event = await deps.record(input);
    } catch (failure) {
      deps.reportError(failure, 'error_capture_failed');
      return;
    }
    if (tracked) track(notify(event).then(() => undefined));
  };

  const capture = <T>(fn: () => T, given: CaptureErrorsOptions = {}): T => {
    const options = checkCaptureOptions(given);
    const onError = (error: unknown): Promise<void> => {
      // Nested captures, and the HTTP adapter the error is rethrown to, record each error once.
      if (!markErrorRecorded(error)) return Promise.resolve();
      const work = recordError(error, options);
      track(work);
      return work;
    };
    let result: T;
    try {
      result = fn();
    } catch (error) {
      // A synchronous function stays synchronous: the event is handed over, the error thrown at once.
      void onError(error);
      throw error;
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
      return Promise.resolve(result).then(undefined, async (error: unknown) => {
        await onError(error);
        throw error;
      }) as T;
    }
    return result;
  };

  const errors: ErrorLog = {
    list: async (options) => {
      await deps.flush();
      return listErrorNotifications(deps.query, options);
    },
    async retryUnsent(options = {}) {
      const now = (options.now ?? (() => new Date()))().getTime();
      const pendingAfterMs = options.pendingAfterMs ?? 60_000;
      const minDelayMs = options.minDelayMs ?? 60_000;
      const maxDelayMs = options.maxDelayMs ?? 3_600_000;
      const maxTries = options.maxTries ?? 10;
      const report: RetryReport = { tried: 0, sent: 0, failed: 0, skipped: 0 };
      await deps.flush();
      const unsent = await listErrorNotifications(deps.query, {
        since: options.since,
        tenantId: options.tenantId,
        unsent: true,
      });
      // Oldest first: they have waited longest.
      for (const entry of unsent.reverse()) {
        if (!due(entry)) {
          report.skipped += 1;
          continue;
        }
        report.tried += 1;
        const outcome = await notify(entry.event);
        report[outcome] += 1;
      }
      return report;

      function due(entry: ErrorNotification): boolean {
        if (!dispatcher || sending.has(entry.event.id) || entry.tries >= maxTries) return false;
        if (entry.state === 'suppressed' && !options.includeSuppressed) return false;
        if (entry.state === 'pending') return now - entry.event.occurredAt.getTime() >= pendingAfterMs;
        const wait = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, entry.tries - 1));
        return now - (entry.lastAttemptAt ?? entry.event.occurredAt).getTime() >= wait;
      }
    },
  };

  return {
    capture,
    errors,
    async settle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

/** The notice of a stored (already masked) error event. */
export function noticeOf(event: AuditEvent): Omit<Notice, 'suppressed'> {
  const error = event.metadata?.error as ErrorDetails | undefined;
  const requestId = event.correlation?.requestId ?? event.request?.id;
  const notice: NoticeEvent = {
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    action: event.action,
    message: event.message,
    tenantId: event.tenantId ?? null,
    ...(requestId ? { requestId } : {}),
    ...(event.request ? { request: event.request } : {}),
    actor: { type: event.actor.type, id: event.actor.id, label: event.actor.label },
    ...(error ? { error: { name: error.name, message: error.message, stack: error.stack } } : {}),
  };
  const actor = `${event.actor.type}${event.actor.id ? `:${event.actor.id}` : ''}`;
  const text = [
    `${event.action} failed: ${event.message ?? ''}`,
    `When: ${notice.occurredAt}`,
    `Tenant: ${notice.tenantId ?? '-'}`,
    `Actor: ${actor}`,
    `Request id: ${requestId ?? '-'}`,
    `Event id: ${event.id}`,
    error?.stack ? `\n${error.stack}` : '',
  ].join('\n');
  return {
    subject: `[auditkit] ${event.action} failed: ${event.message ?? 'error'}`.slice(0, 200),
    text,
    event: notice,
  };
}
