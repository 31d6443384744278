/** What a notifier is asked to deliver: one error, already masked, summarised for a human. */
export interface Notice {
  /** One line, e.g. `[auditkit] GET /orders/:id failed: boom`. */
  subject: string;
  /** A plain-text body: what failed, where, when, the request id and the stack. */
  text: string;
  /** The error event as it will be stored (masked). */
  event: NoticeEvent;
  /** Notices dropped by the rate limit since the last one sent. */
  suppressed: number;
}

/** The part of an error event a notice carries. */
export interface NoticeEvent {
  id: string;
  occurredAt: string;
  action: string;
  message?: string;
  tenantId?: string | null;
  requestId?: string;
  request?: { method?: string; path?: string; route?: string; status?: number };
  actor?: { type: string; id?: string; label?: string };
  error?: { name?: string; message?: string; stack?: string };
}

/**
 * Sends notices somewhere (mail, chat, paging). `notify` resolves when the notice was accepted and
 * rejects when it was not; retries and rate limits are the dispatcher's job, not the notifier's.
 *
 * @example
 * const consoleNotifier: Notifier = { name: 'console', async notify(n) { process.stderr.write(n.text) } };
 */
export interface Notifier {
  /** Short name recorded on the event, e.g. `smtp` or `webhook`. */
  readonly name: string;
  notify(notice: Notice): Promise<void>;
}

/** What happened to the notice of one event; recorded on that event as `metadata.notification`. */
export interface NotificationResult {
  sent: boolean;
  /** Why nothing was sent, when nothing was: `rate_limited`, `failed` or `no_notifiers`. */
  reason?: 'rate_limited' | 'failed' | 'no_notifiers';
  /** One entry per notifier tried. */
  deliveries: Array<{ notifier: string; sent: boolean; attempts: number; error?: string }>;
}
