/**
 * The event most benchmarks record (an invoice update made through an HTTP request, with actor, target,
 * request and changes), and the producer loop that records many of them the way a well-behaved app would.
 */
import { type Auditor, createAuditor } from '../src/core/auditor.js';
import type { AuditEventInput } from '../src/core/event.js';
import type { AuditStore } from '../src/store/store.js';

/** Event `i` of a run: a third are access events; actors, tenants and targets vary with `i`. */
export function benchEventInput(i: number, tenants = 10): AuditEventInput {
  return {
    category: i % 3 === 0 ? 'access' : 'change',
    action: i % 3 === 0 ? 'http.request' : 'invoice.updated',
    tenantId: `org_${i % tenants}`,
    actor: {
      type: 'user',
      id: `u${i % 500}`,
      label: `User ${i % 500}`,
      ip: '203.0.113.7',
      userAgent: 'bench/1.0',
    },
    target: { type: 'invoice', id: `INV-${i}` },
    changes: { status: ['draft', 'sent'], total: [100 + i, 120 + i], note: ['', 'paid by card'] },
    request: { method: 'PATCH', path: `/invoices/INV-${i}`, status: 200, durationMs: 12.5 },
    correlation: { requestId: `req-${i}` },
    metadata: { source: 'bench', attempt: 1 },
  };
}

/**
 * Records `count` events through the auditor and waits until they are written. Every 5000 events it
 * lets the flusher run (as a real app's event loop would) and holds back while more than 20,000 wait
 * in the queue: a producer that does not outrun the store by more than the queue holds.
 */
export async function recordMany(
  audit: Auditor,
  count: number,
  input: (i: number) => AuditEventInput = benchEventInput,
): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(audit.record(input(i)));
    if (i % 5000 === 4999) {
      await Promise.all(pending.splice(0));
      while (audit.stats().queued > 20_000) await new Promise((resolve) => setTimeout(resolve, 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(pending);
  await audit.flush();
}

/**
 * The auditor the ingest benchmarks write through: the async writer in batches of 1000, no spool (a
 * benchmark measures the store, not the disk).
 */
export function ingestAuditor(store: AuditStore): Auditor {
  return createAuditor({ store, batchSize: 1000, flushIntervalMs: 50, maxQueueSize: 50_000, spool: false });
}
