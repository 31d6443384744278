import { z } from 'zod';
import type { Notifier } from '../notify/notifier.js';

/**
 * The auditor's `notify` option: who gets a notice of each error `captureErrors` records, and how hard
 * to try. Retries, backoff and the rate limit are `src/notify`'s dispatcher's.
 *
 * @example
 * createAuditor({ notify: { notifiers: [webhookNotifier({ url })], maxNotices: 5 } })
 */
export const notifyOptionsSchema = z.strictObject({
  notifiers: z
    .array(
      z.custom<Notifier>(
        (v) => typeof v === 'object' && v !== null && typeof (v as Notifier).notify === 'function',
        { message: 'each notifier must have a notify(notice) method' },
      ),
    )
    .min(1, 'give at least one notifier (webhookNotifier, smtpNotifier)'),
  /** Most notices per window; the rest are recorded as suppressed. Default 5. */
  maxNotices: z.number().int().min(0).optional(),
  /** The rate-limit window. Default 60 000 ms. */
  windowMs: z.number().int().positive().optional(),
  /** Attempts after the first, per notifier and try. Default 2. */
  retries: z.number().int().min(0).max(10).optional(),
  /** First retry delay, doubled each attempt. Default 200 ms. */
  retryDelayMs: z.number().int().min(0).optional(),
});

export type NotifyOptions = z.input<typeof notifyOptionsSchema>;
