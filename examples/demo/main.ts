/**
 * The Auditkit demo: a small invoicing API on Fastify, audited by Auditkit on the embedded PGlite store.
 * `npm start` runs it, sends a few requests to itself so there is something to look at, and prints where
 * to look. Try:
 *
 *   curl -s localhost:3000/login -H 'content-type: application/json' -d '{"username":"ada","password":"lovelace"}'
 *   curl -s localhost:3000/api/invoices -H "authorization: Bearer <token from above>"
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createAuditor } from 'auditkit';
import { auditPlugin, flushHttpAudit } from 'auditkit/fastify';
import { pgliteStore } from 'auditkit/pglite';
import { auditUi, auditUiFastify, hashPassword } from 'auditkit/ui';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';

const dataDir = process.env.DEMO_DATA_DIR
  ? `${process.env.DEMO_DATA_DIR.replace(/\/$/, '')}/`
  : fileURLToPath(new URL('./.data/', import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const JWT_SECRET = process.env.DEMO_JWT_SECRET ?? 'demo-secret-change-me-demo-secret-change-me';
const TENANT = 'org_demo';

/** Demo users; a real app checks hashed passwords in its database. */
const USERS: Record<string, { password: string; name: string; role: string }> = {
  ada: { password: 'lovelace', name: 'Ada Lovelace', role: 'admin' },
  grace: { password: 'hopper', name: 'Grace Hopper', role: 'accountant' },
};

interface Invoice {
  id: string;
  customer: string;
  total: number;
  status: 'draft' | 'sent' | 'paid';
  iban?: string;
}
const invoices = new Map<string, Invoice>([
  ['INV-1001', { id: 'INV-1001', customer: 'Analytical Engines Ltd', total: 1200, status: 'sent' }],
]);

const audit = createAuditor({
  store: pgliteStore({ dataDir: `${dataDir}audit` }),
  spool: { dir: `${dataDir}spool` },
  tenantId: TENANT,
  // Masked everywhere (bodies, changes, metadata), on top of passwords, tokens, cookies...
  redact: { keys: ['iban'] },
  integrity: { intervalMs: 2000, checkpointEvery: 50 },
  retention: { categories: { access: 90 } },
  onError: (error) => console.error(`[audit] ${error.code}: ${error.message}`),
});
await audit.migrate();

const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
// Uploads arrive as a stream the handler only measures: Auditkit summarises them (type, size).
for (const type of ['multipart/form-data', 'application/octet-stream']) {
  app.addContentTypeParser(type, (_request, payload, done) => {
    let bytes = 0;
    payload.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    payload.on('end', () => done(null, { bytes }));
    payload.on('error', done);
  });
}

await app.register(auditPlugin, {
  audit,
  logResponseBody: true,
  jwt: { secret: JWT_SECRET, tenantClaim: 'org_id' },
  loginPaths: ['/login'],
  logoutPaths: ['/logout'],
  // Uploads are summarised anyway; the landing page's HTML is not worth storing.
  skipBodyFor: ['/api/uploads', /^\/$/],
  // The admin UI records what its users do itself (ui.* events).
  excludePaths: ['/favicon.ico', '/health', /^\/audit(\/|$)/],
  accessLog: { dir: `${dataDir}access-log` },
});

app.get('/health', async () => ({ ok: true }));

/** The admin UI under /audit, with one demo admin whose credentials the console prints. */
const UI_USER = process.env.DEMO_UI_USER ?? 'admin';
const UI_PASSWORD = process.env.DEMO_UI_PASSWORD ?? 'auditkit-demo';
const ui = auditUi({
  audit,
  basePath: '/audit',
  users: [
    { username: UI_USER, passwordHash: await hashPassword(UI_PASSWORD), role: 'admin', name: 'Demo admin' },
  ],
});
await app.register(auditUiFastify(ui));

app.post('/login', async (request, reply) => {
  const { username, password } = (request.body ?? {}) as { username?: string; password?: string };
  const user = username ? USERS[username] : undefined;
  if (!user || user.password !== password) {
    request.audit?.reason(user ? 'bad_password' : 'unknown_user');
    return reply.code(401).send({ error: 'invalid credentials' });
  }
  request.audit?.actor({ type: 'user', id: username as string, label: user.name });
  const token = await new SignJWT({ name: user.name, role: user.role, org_id: TENANT })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(username as string)
    .setIssuedAt()
    .setExpirationTime('8h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  return { token, tokenType: 'Bearer' };
});

app.post('/logout', async () => ({ ok: true }));

/** Routes under /api need a valid bearer token (Auditkit also verifies it, to name the actor). */
const requireUser = async (request: FastifyRequest, reply: FastifyReply) => {
  const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  try {
    if (!token) throw new Error('no token');
    await jwtVerify(token, new TextEncoder().encode(JWT_SECRET), { algorithms: ['HS256'] });
  } catch {
    return reply.code(401).send({ error: 'log in first: POST /login' });
  }
};

app.register(async (api) => {
  api.addHook('preHandler', requireUser);

  api.get('/api/invoices', async () => [...invoices.values()]);

  api.get('/api/invoices/:id', async (request, reply) => {
    const invoice = invoices.get((request.params as { id: string }).id);
    return invoice ?? reply.code(404).send({ error: 'no such invoice' });
  });

  api.post('/api/invoices', async (request, reply) => {
    const body = request.body as Partial<Invoice>;
    if (!body?.customer || typeof body.total !== 'number') {
      return reply.code(422).send({ error: 'customer and a numeric total are required' });
    }
    const invoice: Invoice = {
      id: `INV-${1000 + invoices.size + 1}`,
      customer: body.customer,
      total: body.total,
      status: 'draft',
      ...(body.iban ? { iban: body.iban } : {}),
    };
    invoices.set(invoice.id, invoice);
    await audit.record({
      category: 'change',
      action: 'record.created',
      target: { type: 'invoice', id: invoice.id, label: invoice.customer },
      changes: Object.fromEntries(Object.entries(invoice).map(([k, v]) => [k, [null, v]])),
    });
    return reply.code(201).send(invoice);
  });

  api.patch('/api/invoices/:id', async (request, reply) => {
    const invoice = invoices.get((request.params as { id: string }).id);
    if (!invoice) return reply.code(404).send({ error: 'no such invoice' });
    const patch = request.body as Partial<Invoice>;
    const changes: Record<string, [unknown, unknown]> = {};
    for (const key of ['customer', 'total', 'status'] as const) {
      if (patch?.[key] !== undefined && patch[key] !== invoice[key]) {
        changes[key] = [invoice[key], patch[key]];
        Object.assign(invoice, { [key]: patch[key] });
      }
    }
    await audit.record({
      category: 'change',
      action: 'record.updated',
      target: { type: 'invoice', id: invoice.id, label: invoice.customer },
      changes,
    });
    return invoice;
  });

  api.delete('/api/invoices/:id', async (request, reply) => {
    const invoice = invoices.get((request.params as { id: string }).id);
    if (!invoice) return reply.code(404).send({ error: 'no such invoice' });
    invoices.delete(invoice.id);
    await audit.record({
      category: 'change',
      action: 'record.deleted',
      target: { type: 'invoice', id: invoice.id, label: invoice.customer },
      changes: Object.fromEntries(Object.entries(invoice).map(([k, v]) => [k, [v, null]])),
    });
    return reply.code(204).send();
  });

  api.post('/api/uploads', async (request, reply) => {
    request.audit?.extra({ upload: request.body });
    return reply.code(201).send({ id: randomUUID(), ...(request.body as object) });
  });

  api.get('/api/reports/boom', async () => {
    throw new Error('Report generator crashed: division by zero in quarter 3');
  });
});

app.get('/', async (_request, reply) => {
  await flushHttpAudit(audit);
  await audit.flush();
  const { events } = await audit.query({ limit: 30 });
  const rows = events
    .map(
      (e) =>
        `<tr><td>${esc(e.occurredAt.toISOString())}</td><td>${esc(e.category)}</td><td>${esc(e.action)}</td>` +
        `<td>${esc(e.outcome)}</td><td>${esc(e.actor.label ?? e.actor.id ?? e.actor.type)}</td>` +
        `<td>${esc(e.request ? `${e.request.method ?? ''} ${e.request.path ?? ''} ${e.request.status ?? ''}` : '')}</td>` +
        `<td>${esc(e.target ? `${e.target.type}:${e.target.id ?? ''}` : '')}</td></tr>`,
    )
    .join('');
  return reply
    .type('text/html; charset=utf-8')
    .send(
      '<!doctype html><meta charset="utf-8"><title>Auditkit demo</title>' +
        '<style>body{font:14px system-ui;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>' +
        '<h1>Auditkit demo</h1><p>An invoicing API on Fastify, audited by Auditkit into PGlite. ' +
        'Log in with <code>POST /login {"username":"ada","password":"lovelace"}</code>, then call ' +
        '<code>/api/invoices</code> with the bearer token. Every request below became an audit event.</p>' +
        `<p><a href="/audit/">Open the admin UI</a> (user <code>${esc(UI_USER)}</code>, password printed on the console).</p>` +
        `<h2>Latest events</h2><table><tr><th>time</th><th>category</th><th>action</th><th>outcome</th><th>actor</th><th>request</th><th>target</th></tr>${rows}</table>`,
    );
});

function esc(value: string) {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A first run sends itself a few requests, so the audit log has something to show. */
async function exerciseOnce(base: string) {
  const { events } = await audit.query({ limit: 1, category: 'access' });
  if (events.length > 0) return;
  const json = (body: unknown, token?: string) => ({
    headers: {
      'content-type': 'application/json',
      'user-agent': 'auditkit-demo-tour',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  await fetch(`${base}/login`, { method: 'POST', ...json({ username: 'ada', password: 'wrong' }) });
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    ...json({ username: 'ada', password: 'lovelace' }),
  });
  const { token } = (await login.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const created = await fetch(`${base}/api/invoices`, {
    method: 'POST',
    ...json({ customer: 'Difference Engines plc', total: 990, iban: 'GB82WEST12345698765432' }, token),
  });
  const invoice = (await created.json()) as Invoice;
  await fetch(`${base}/api/invoices/${invoice.id}`, {
    method: 'PATCH',
    ...json({ status: 'sent', total: 1090 }, token),
  });
  await fetch(`${base}/api/invoices`, { headers: auth });
  await fetch(`${base}/api/uploads`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(64 * 1024),
  });
  await fetch(`${base}/api/reports/boom`, { headers: auth });
  await fetch(`${base}/api/invoices`); // no token: 401
  await fetch(`${base}/api/invoices/INV-1001`, { method: 'DELETE', headers: auth });
  await fetch(`${base}/logout`, { method: 'POST', headers: auth });
  await flushHttpAudit(audit);
  await audit.flush();
}

await app.listen({ port, host });
const address = app.server.address();
const listening = typeof address === 'object' && address ? address.port : port;
const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${listening}`;
await exerciseOnce(base);
console.log(`Auditkit demo on ${base} (audit data in ${dataDir})`);
console.log(`Admin UI on ${base}/audit (user ${UI_USER}, password ${UI_PASSWORD})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => ui.close())
      .then(() => audit.close())
      .then(() => process.exit(0));
  });
}
