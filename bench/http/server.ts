/**
 * One server of the HTTP benchmark, run in its own process (forked by http.bench.ts):
 *   <framework>-baseline   the app, nothing logged
 *   <framework>-auditkit   the app with Auditkit: bodies logged and masked, PostgreSQL through the async writer
 *   fastify-pino           the app with Fastify's own pino request logging to a file, no Auditkit
 * It answers `ready` with its port over IPC, and on `stop` closes and reports what it audited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { type Auditor, createAuditor } from '../../src/core/auditor.js';
import { auditMiddleware } from '../../src/http/express/index.js';
import { auditPlugin } from '../../src/http/fastify/index.js';
import { flushHttpAudit } from '../../src/http/http-audit.js';
import { postgresStore } from '../../src/store/postgres/index.js';

const variant = process.argv[2] ?? 'fastify-baseline';
const [framework, mode] = variant.split('-') as ['fastify' | 'express', 'baseline' | 'auditkit' | 'pino'];
const pgUrl = process.env.BENCH_PG_URL ?? '';

const order = (id: string) => ({
  id,
  status: 'paid',
  total: 129.9,
  currency: 'EUR',
  customer: { id: 'c-77', email: 'ada@example.com', name: 'Ada Lovelace' },
  items: [
    { sku: 'BK-1', qty: 1, price: 99.9 },
    { sku: 'PN-4', qty: 3, price: 10 },
  ],
});

let audit: Auditor | undefined;
const httpOptions = {
  logRequestBody: true,
  logResponseBody: true,
  sensitiveFields: ['iban'],
  loginPaths: ['/login'],
};
if (mode === 'auditkit') {
  audit = createAuditor({
    store: postgresStore({ connectionString: pgUrl, schema: `bench_http_${process.pid}` }),
    mode: 'async',
    spool: false,
    batchSize: 1000,
    flushIntervalMs: 100,
    maxQueueSize: 100_000,
    onError: (error) => process.send?.({ type: 'error', message: `${error.code}: ${error.message}` }),
  });
  await audit.migrate();
}

let server: Server;
let closeApp: () => Promise<void>;
let logDir: string | undefined;
if (framework === 'fastify') {
  logDir = mode === 'pino' ? mkdtempSync(join(tmpdir(), 'auditkit-bench-pino-')) : undefined;
  const app = Fastify({ logger: logDir ? { level: 'info', file: join(logDir, 'requests.log') } : false });
  if (audit) await app.register(auditPlugin, { audit, ...httpOptions });
  app.get('/orders/:id', async (request) => order((request.params as { id: string }).id));
  app.post('/orders', async (request, reply) =>
    reply.code(201).send({ created: true, received: request.body }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  server = app.server;
  closeApp = () => app.close();
} else {
  const app = express();
  app.disable('x-powered-by');
  if (audit) app.use(auditMiddleware(audit, httpOptions));
  app.get('/orders/:id', (req, res) => {
    res.json(order(req.params.id));
  });
  app.post('/orders', express.json(), (req, res) => {
    res.status(201).json({ created: true, received: req.body });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closeApp = () => new Promise((resolve) => server.close(() => resolve()));
}

const address = server.address();
process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });

process.on('message', async (message: { type: string }) => {
  if (message.type !== 'stop') return;
  server.closeAllConnections();
  await closeApp();
  let written = 0;
  let lost = 0;
  if (audit) {
    await flushHttpAudit(audit);
    const stats = audit.stats();
    written = stats.written;
    lost = stats.lost;
    await audit.close();
  }
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  process.send?.({ type: 'stopped', written, lost }, () => process.exit(0));
});
