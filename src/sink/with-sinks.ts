import { toAuditkitError } from '../core/errors.js';
import type { AuditStore } from '../store/store.js';
import { createSinkForwarder, type SinkForwarder, type SinkForwarderOptions } from './sink-forwarder.js';

/** A store that also hands every stored batch to sinks. */
export interface StoreWithSinks extends AuditStore {
  readonly sinks: SinkForwarder;
}

/**
 * Wraps a store so every batch it confirms is forwarded to the sinks, in the background, at-least-once.
 * Events go on only after the store has them; a replayed batch (a spool replay after an outage) goes on
 * again, since its first attempt may have reached the store without being forwarded. A sink that is down
 * or slow never delays `append`.
 *
 * @example
 * const audit = createAuditor({
 *   store: withSinks(postgresStore({ connectionString }), {
 *     sinks: [webhookSink({ url: 'https://siem.example.com/in', secret }), jsonlFileSink({ path: './audit.jsonl' })],
 *     dir: './audit-outbox',
 *   }),
 * });
 */
export function withSinks(store: AuditStore, options: SinkForwarderOptions): StoreWithSinks {
  const forwarder = createSinkForwarder(options);
  const report = options.onError;
  return {
    name: store.name,
    sinks: forwarder,
    migrate: () => store.migrate(),
    async append(events) {
      const result = await store.append(events);
      try {
        await forwarder.push(events);
      } catch (error) {
        // The store has the events: failing the append would only store them again. Say what was missed.
        report?.(
          toAuditkitError(
            error,
            'sink_outbox_failed',
            `${events.length} stored audit event(s) could not be queued for the sinks and will not be forwarded`,
          ),
        );
      }
      return result;
    },
    query: (query) => store.query(query),
    get: (id) => store.get(id),
    async close() {
      try {
        await forwarder.close();
      } finally {
        await store.close();
      }
    },
  };
}
