/**
 * The Auditkit demo: a tiny notes service that audits what it does, on the embedded PGlite store.
 * `npm start` runs it; later modules grow it (HTTP middleware, GraphQL, admin UI).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createAuditor } from 'auditkit';
import { pgliteStore } from 'auditkit/pglite';

const dataDir = fileURLToPath(new URL('./.data/', import.meta.url));
const port = Number(process.env.PORT ?? 3000);

const audit = createAuditor({
  store: pgliteStore({ dataDir: `${dataDir}audit` }),
  spool: { dir: `${dataDir}spool` },
  onError: (error) => console.error(`[audit] ${error.code}: ${error.message}`),
});
await audit.migrate();
await seed();

const notes = new Map<string, { id: string; text: string; owner: string }>();

const server = createServer((req, res) => {
  const requestId = String(req.headers['x-request-id'] ?? randomUUID());
  const user = typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined;
  res.setHeader('x-request-id', requestId);
  audit
    .runWithContext(
      {
        actor: user ? { type: 'user', id: user } : undefined,
        tenantId: 'org_demo',
        requestId,
        ip: req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
        request: { method: req.method, path: req.url },
      },
      () => route(req, res),
    )
    .catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
});

async function route(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'POST' && url.pathname === '/notes') {
    const text = await readBody(req);
    const note = {
      id: randomUUID(),
      text,
      owner: audit.context()?.actor ? String(req.headers['x-user']) : 'anonymous',
    };
    notes.set(note.id, note);
    await audit.record({
      category: 'change',
      action: 'note.created',
      target: { type: 'note', id: note.id },
      changes: note,
    });
    return send(res, 201, 'application/json', JSON.stringify(note));
  }
  if (url.pathname === '/events.json') {
    const page = await audit.query({ limit: 50, cursor: url.searchParams.get('cursor') ?? undefined });
    return send(res, 200, 'application/json', JSON.stringify(page, null, 2));
  }
  if (url.pathname === '/') {
    await audit.flush();
    const { events } = await audit.query({ limit: 50 });
    const rows = events
      .map(
        (e) =>
          `<tr><td>${esc(e.occurredAt.toISOString())}</td><td>${esc(e.category)}</td><td>${esc(e.action)}</td><td>${esc(e.outcome)}</td><td>${esc(`${e.actor.type}:${e.actor.id ?? ''}`)}</td><td>${esc(e.target ? `${e.target.type}:${e.target.id ?? ''}` : '')}</td></tr>`,
      )
      .join('');
    return send(
      res,
      200,
      'text/html; charset=utf-8',
      `<!doctype html><title>Auditkit demo</title><h1>Latest audit events</h1><p>POST /notes with an <code>x-user</code> header to record more; <a href="/events.json">JSON</a>.</p><table border="1" cellpadding="4"><tr><th>time</th><th>category</th><th>action</th><th>outcome</th><th>actor</th><th>target</th></tr>${rows}</table>`,
    );
  }
  await audit.record({
    category: 'error',
    action: 'http.not_found',
    outcome: 'failure',
    reason: 'not_found',
    target: { type: 'route', id: url.pathname },
  });
  return send(res, 404, 'text/plain', 'not found');
}

async function seed() {
  const { events } = await audit.query({ limit: 1 });
  if (events.length > 0) return;
  await audit.as({ type: 'service', id: 'demo-seed', label: 'Demo seeding' }, async () => {
    await audit.record({
      category: 'auth',
      action: 'user.login',
      actor: { type: 'user', id: 'ada', label: 'Ada Lovelace', ip: '203.0.113.7' },
      tenantId: 'org_demo',
    });
    await audit.record({
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      reason: 'bad_password',
      actor: { type: 'anonymous', label: 'grace@example.com' },
      tenantId: 'org_demo',
    });
    await audit.record({
      category: 'change',
      action: 'invoice.updated',
      tenantId: 'org_demo',
      target: { type: 'invoice', id: 'INV-1001' },
      changes: { status: ['draft', 'sent'], total: [100, 120] },
    });
    await audit.record({
      category: 'custom',
      action: 'report.exported',
      tenantId: 'org_demo',
      target: { type: 'report', id: '42' },
      metadata: { format: 'csv', apiKey: 'this-is-masked' },
    });
  });
  await audit.flush();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, 10_000)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function esc(value: string) {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

server.listen(port, () =>
  console.log(`Auditkit demo on http://localhost:${port} (audit data in ${dataDir})`),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void audit.close().then(() => process.exit(0));
  });
}
