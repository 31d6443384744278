import type { AuditEvent } from '../core/event.js';
import type { Outbox, OutboxPosition, OutboxRead } from './outbox.js';

export interface MemoryOutboxOptions {
  /** Every reader that will read, so nothing is discarded before each one has it. */
  readers: readonly string[];
  /** Events kept at most; past it the oldest are discarded (readers see them as `skipped`). */
  maxEvents: number;
}

/** An outbox in memory: fast, bounded, and gone with the process (what was not delivered is lost). */
export function createMemoryOutbox({ readers, maxEvents }: MemoryOutboxOptions): Outbox {
  // events[i] has sequence number base + i.
  let events: AuditEvent[] = [];
  let base = 0;
  let head = 0;
  const cursors = new Map<string, number>(readers.map((r) => [r, 0]));

  const cursorOf = (reader: string) => cursors.get(reader) ?? base;

  const trim = () => {
    let lowest = head;
    for (const seq of cursors.values()) lowest = Math.min(lowest, seq);
    discardBefore(lowest);
  };

  const discardBefore = (seq: number) => {
    const count = seq - base;
    if (count <= 0) return;
    events = events.slice(count);
    base = seq;
  };

  return {
    async append(batch) {
      for (const event of batch) events.push(event);
      head += batch.length;
      if (head - base > maxEvents) discardBefore(head - maxEvents);
    },
    async read(reader, max): Promise<OutboxRead> {
      let seq = cursorOf(reader);
      const skipped = Math.max(0, base - seq);
      seq = Math.max(seq, base);
      const slice = events.slice(seq - base, seq - base + max);
      return { events: slice, next: { seq: seq + slice.length }, skipped };
    },
    async commit(reader, position: OutboxPosition) {
      cursors.set(reader, Math.max(cursorOf(reader), position.seq));
      trim();
    },
    pending: (reader) => head - Math.max(cursorOf(reader), base),
    async close() {
      events = [];
    },
  };
}
