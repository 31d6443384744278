import { AuditkitError } from '../../src/core/errors.js';
import type { AuditStore } from '../../src/store/store.js';

/** Wraps a real store so a test can take it "down" (appends fail like a lost connection) and back "up". */
export function faultyStore(
  inner: AuditStore,
): AuditStore & { down(): void; up(): void; appendCalls: number } {
  let isDown = false;
  const wrapper = {
    name: `faulty(${inner.name})`,
    appendCalls: 0,
    down: () => {
      isDown = true;
    },
    up: () => {
      isDown = false;
    },
    migrate: () => inner.migrate(),
    async append(events: Parameters<AuditStore['append']>[0]) {
      wrapper.appendCalls += 1;
      if (isDown) throw new AuditkitError('store_unavailable', 'connection refused (injected)');
      return inner.append(events);
    },
    query: (q: Parameters<AuditStore['query']>[0]) => inner.query(q),
    get: (id: string) => inner.get(id),
    close: () => inner.close(),
  };
  return wrapper;
}
