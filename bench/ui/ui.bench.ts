/**
 * Admin UI list page with many events in PostgreSQL: the page as served over HTTP by the UI (session-less
 * bearer token, HTML rendered, the ui.search event recorded) beside the bare `store.query()` of the same
 * filter, in alternating rounds of the same run; medians.
 *
 *   npx tsx bench/ui/ui.bench.ts                                  # 1,000,000 events, own PostgreSQL
 *   AUDITKIT_BENCH_UI_EVENTS=200000 npx tsx bench/ui/ui.bench.ts  # fewer
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/ui/ui.bench.ts
 */
import { pathToFileURL } from 'node:url';
import { createAuditor } from '../../src/core/auditor.js';
import type { AuditEvent, Category, Outcome } from '../../src/core/event.js';
import { postgresStore } from '../../src/store/postgres/index.js';
import { encodeCursor } from '../../src/store/sql/cursor.js';
import type { AuditQuery } from '../../src/store/store.js';
import { auditUi } from '../../src/ui/audit-ui.js';
import { serveAuditUi } from '../../src/ui/serve.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, median, printTable } from '../table.js';

const EVENTS = Number(process.env.AUDITKIT_BENCH_UI_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.AUDITKIT_BENCH_UI_ROUNDS ?? 15);
const TOKEN = 'bench-token-0123456789abcdef0123456789';
const DAYS = 30;
const END = Date.UTC(2026, 5, 1);
const START = END - DAYS * 86_400_000;

const CATEGORIES: Category[] = [
  'access',
  'access',
  'access',
  'access',
  'change',
  'change',
  'auth',
  'error',
  'custom',
];

/** Deterministic events spread over 30 days: 20 organisations, 2,000 actors, 5% failures. */
function batch(from: number, count: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = from; i < from + count; i++) {
    const at = START + Math.floor(((i + 0.5) / EVENTS) * (END - START));
    const category = CATEGORIES[i % CATEGORIES.length] as Category;
    const outcome: Outcome = i % 20 === 0 ? 'failure' : i % 97 === 0 ? 'error' : 'success';
    const hex = i.toString(16).padStart(12, '0');
    const actor = `u${i % 2000}`;
    events.push({
      id: `01900000-0000-7000-8000-${hex}`,
      occurredAt: new Date(at),
      category,
      action:
        category === 'auth' ? 'user.login' : category === 'change' ? 'record.updated' : `${category}.event`,
      outcome,
      tenantId: `org_${i % 20}`,
      actor: { type: 'user', id: actor, label: `User ${actor}` },
      target: { type: 'invoice', id: `INV-${i % 50_000}` },
      ...(category === 'access'
        ? {
            request: {
              method: 'GET',
              path: `/api/invoices/${i % 50_000}`,
              status: outcome === 'success' ? 200 : 500,
            },
          }
        : {}),
      ...(category === 'change' ? { changes: { total: [i % 1000, (i % 1000) + 1] } } : {}),
      ...(outcome === 'failure' ? { reason: i % 40 === 0 ? 'bad_password' : 'http_404' } : {}),
      message: `event ${i}`,
    });
  }
  return events;
}

/** The list page with and without filters, first page and a keyset page half-way through the history. */
export async function runUiBench(): Promise<BenchRow[]> {
  const server = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const url = process.env.AUDITKIT_BENCH_PG_URL ?? (server?.url as string);
  const schema = `bench_ui_${process.pid}`;
  const store = postgresStore({ connectionString: url, schema });
  const audit = createAuditor({ store, spool: false });
  const rows: BenchRow[] = [];
  try {
    await audit.migrate();
    await store.ensurePartitions(new Date(START), new Date(END));
    const loadStart = Date.now();
    for (let i = 0; i < EVENTS; i += 5000) await store.append(batch(i, Math.min(5000, EVENTS - i)));
    await store.executor.query(`ANALYZE "${schema}".audit_events`);
    console.error(
      `[bench ui] loaded ${EVENTS.toLocaleString('en')} events in ${Math.round((Date.now() - loadStart) / 1000)} s`,
    );

    const ui = auditUi({
      audit,
      tokens: [
        { token: TOKEN, id: 'bench', role: 'auditor' },
        {
          token: `${TOKEN}-restricted`,
          id: 'bench-org',
          role: 'viewer',
          tenants: ['org_3', 'org_7', 'org_11'],
        },
      ],
    });
    const served = await serveAuditUi(ui, { port: 0 });
    // Half-way through the history: a cursor there is what "Older events" gives after ~10,000 pages.
    const middle = new Date((START + END) / 2).toISOString().replace('Z', '000Z');
    const deep = encodeCursor({ occurredAt: middle, id: 'ffffffff-ffff-7fff-bfff-ffffffffffff' });

    const scenarios: { name: string; params: string; query: AuditQuery; token?: string }[] = [
      { name: 'first page, no filter', params: '', query: {} },
      { name: 'deep keyset page, no filter', params: `cursor=${deep}`, query: { cursor: deep } },
      {
        name: 'first page, category+outcome',
        params: 'category=auth&outcome=failure',
        query: { category: ['auth'], outcome: ['failure'] },
      },
      {
        name: 'deep page, category+outcome',
        params: `category=auth&outcome=failure&cursor=${deep}`,
        query: { category: ['auth'], outcome: ['failure'], cursor: deep },
      },
      { name: 'first page, organisation', params: 'tenant=org_7', query: { tenantId: 'org_7' } },
      { name: 'first page, actor', params: 'actor=u42', query: { actorId: 'u42' } },
      {
        name: 'first page, record (target type+id)',
        params: 'targetType=invoice&targetId=INV-4242',
        query: { targetType: 'invoice', targetId: 'INV-4242' },
      },
      {
        name: 'first page, path prefix + 5xx',
        params: 'path=/api/&status=5xx',
        query: { pathPrefix: '/api/', status: '5xx' },
      },
      { name: 'first page, free text', params: 'q=event+99999', query: { text: 'event 99999' } },
      {
        name: 'first page, user restricted to 3 orgs',
        params: '',
        query: { tenantId: ['org_3', 'org_7', 'org_11'] },
        token: `${TOKEN}-restricted`,
      },
    ];

    for (const scenario of scenarios) {
      const uiMs: number[] = [];
      const queryMs: number[] = [];
      const get = async () => {
        const started = performance.now();
        const response = await fetch(`${served.url}events?${scenario.params}`, {
          headers: { authorization: `Bearer ${scenario.token ?? TOKEN}`, accept: 'text/html' },
        });
        const body = await response.text();
        if (response.status !== 200 || !body.includes('</html>'))
          throw new Error(`UI answered ${response.status}`);
        return performance.now() - started;
      };
      const bare = async () => {
        const started = performance.now();
        await store.query({ ...scenario.query, limit: 50 });
        return performance.now() - started;
      };
      await get();
      await bare(); // warm both
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first, so neither always meets the warmer cache.
        if (round % 2 === 0) {
          queryMs.push(await bare());
          uiMs.push(await get());
        } else {
          uiMs.push(await get());
          queryMs.push(await bare());
        }
      }
      rows.push({
        metric: `UI list, ${EVENTS.toLocaleString('en')} events: ${scenario.name} (ms, median of ${ROUNDS})`,
        auditkit: median(uiMs),
        baseline: median(queryMs),
        baselineName: 'store.query() of the same filter',
        target: '< 200 ms',
        lowerIsBetter: true,
      });
    }
    await served.close();
  } finally {
    await audit.close().catch(() => {});
    if (!process.env.AUDITKIT_BENCH_PG_URL) await server?.destroy();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable(await runUiBench());
  console.log('\nMeasured on a shared 2-core machine; PostgreSQL on the same host.');
}
