import type { AuditEvent } from '../core/event.js';

export interface SendOptions {
  signal?: AbortSignal;
}

/**
 * Somewhere events are sent on after they are stored: a SIEM, a webhook, a file a log shipper tails.
 * Delivery is at-least-once: a batch that `send` rejects is sent again (after a pause), and after a crash
 * the last unconfirmed batch may be sent twice. Receivers deduplicate by event `id`.
 */
export interface Sink {
  /** Unique among the sinks of one forwarder; names its stored cursor, so keep it stable. */
  readonly name: string;
  /**
   * Delivers a batch, oldest event first; resolves once the receiver has it, rejects to have it sent again.
   * `signal` aborts when the forwarder closes.
   */
  send(events: readonly AuditEvent[], options?: SendOptions): Promise<void>;
  /** Releases connections or files. */
  close?(): Promise<void>;
}
