import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteStore } from '../store/pglite/index.js';
import type { AuditStore } from '../store/store.js';
import { scanSummary, summarizeStore } from './summary.js';
import { sampleEvents } from './testing/fixtures.js';

let store: AuditStore;
/** The same store without `summarize`, like a store that cannot aggregate. */
let plain: AuditStore;

beforeAll(async () => {
  store = pgliteStore();
  await store.migrate();
  await store.append(sampleEvents());
  plain = {
    name: 'plain',
    migrate: () => store.migrate(),
    append: (e) => store.append(e),
    query: (q) => store.query(q),
    get: (id) => store.get(id),
    close: async () => {},
  };
});
afterAll(async () => store?.close());

describe('summarizeStore', () => {
  it("uses the store's own summarize when it has one", async () => {
    const { summary, approximate } = await summarizeStore(store, { tenantId: 'org_a' }, { bucket: 'hour' });
    expect(approximate).toBe(false);
    expect(summary.total).toBe(6);
  });

  it('falls back to a scan that gives the same figures as the SQL summary', async () => {
    const query = { tenantId: ['org_a', 'org_b'] };
    const sql = await summarizeStore(store, query, { bucket: 'minute' });
    const scanned = await summarizeStore(plain, query, { bucket: 'minute' });
    expect(scanned.approximate).toBe(false);
    expect(scanned.summary.total).toBe(sql.summary.total);
    expect(scanned.summary.byCategory).toEqual(sql.summary.byCategory);
    expect(scanned.summary.byOutcome).toEqual(sql.summary.byOutcome);
    expect(scanned.summary.timeline).toEqual(sql.summary.timeline);
    // Ties are ordered by the database's collation; compare the counts, not the order of equal ones.
    const byReason = (r: { reason: string }[]) => [...r].sort((a, b) => (a.reason < b.reason ? -1 : 1));
    expect(byReason(scanned.summary.topReasons)).toEqual(byReason(sql.summary.topReasons));
    expect(scanned.summary.topActors[0]).toEqual(sql.summary.topActors[0]);
  });

  it('reads a bounded number of events and says the figures are partial', async () => {
    const { summary, approximate } = await scanSummary(plain, {}, { bucket: 'day' }, 4);
    expect(summary.total).toBe(4);
    expect(approximate).toBe(true);
  });
});
