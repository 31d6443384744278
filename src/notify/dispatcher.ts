import type { Notice, NotificationResult, Notifier } from './notifier.js';

export interface NotificationDispatcherOptions {
  notifiers: Notifier[];
  /** Most notices sent per window; later ones in the window are counted, not sent. Default 5. */
  maxNotices?: number;
  /** Length of the rate-limit window. Default 60 000 ms. */
  windowMs?: number;
  /** Attempts after the first, per notifier. Default 2. */
  retries?: number;
  /** Delay before the first retry, doubled for each next one. Default 200 ms. */
  retryDelayMs?: number;
  /** Clock, for tests of the window. */
  now?: () => number;
}

/** Sends notices through every notifier with retries, at most `maxNotices` per window. */
export interface NotificationDispatcher {
  /** Never rejects: the outcome (sent, rate limited, failed) is the result, ready to record on the event. */
  dispatch(notice: Omit<Notice, 'suppressed'>): Promise<NotificationResult>;
  /** Notices dropped by the rate limit since the last one sent. */
  suppressed(): number;
}

/**
 * Creates the dispatcher the HTTP adapters use for error notices. An error storm sends `maxNotices`
 * notices per window; the next notice after it says how many were suppressed.
 *
 * @example
 * const notices = createNotificationDispatcher({ notifiers: [webhookNotifier({ url })], maxNotices: 3 });
 * const result = await notices.dispatch({ subject, text, event });
 */
export function createNotificationDispatcher({
  notifiers,
  maxNotices = 5,
  windowMs = 60_000,
  retries = 2,
  retryDelayMs = 200,
  now = Date.now,
}: NotificationDispatcherOptions): NotificationDispatcher {
  let windowStart = Number.NEGATIVE_INFINITY;
  let sentInWindow = 0;
  let suppressed = 0;

  const deliver = async (notifier: Notifier, notice: Notice) => {
    let attempts = 0;
    let lastError: unknown;
    while (attempts <= retries) {
      if (attempts > 0) await sleep(retryDelayMs * 2 ** (attempts - 1));
      attempts += 1;
      try {
        await notifier.notify(notice);
        return { notifier: notifier.name, sent: true, attempts };
      } catch (error) {
        lastError = error;
      }
    }
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    return { notifier: notifier.name, sent: false, attempts, error: message.slice(0, 500) };
  };

  return {
    suppressed: () => suppressed,
    async dispatch(partial) {
      if (notifiers.length === 0) return { sent: false, reason: 'no_notifiers', deliveries: [] };
      const at = now();
      if (at - windowStart >= windowMs) {
        windowStart = at;
        sentInWindow = 0;
      }
      if (sentInWindow >= maxNotices) {
        suppressed += 1;
        return { sent: false, reason: 'rate_limited', deliveries: [] };
      }
      sentInWindow += 1;
      const notice: Notice = { ...partial, suppressed };
      suppressed = 0;
      const deliveries = await Promise.all(notifiers.map((n) => deliver(n, notice)));
      const sent = deliveries.some((d) => d.sent);
      return sent ? { sent, deliveries } : { sent, reason: 'failed', deliveries };
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
