/**
 * Test fixtures of the admin UI: an auditor on an in-memory PGlite with events of two organisations,
 * users of each role (passwords hashed once per process), and a cookie-keeping client for the handler.
 */
import { type Auditor, createAuditor } from '../../core/auditor.js';
import type { AuditEvent } from '../../core/event.js';
import { pgliteStore } from '../../store/pglite/index.js';
import type { AuditStore } from '../../store/store.js';
import { hashPassword } from '../auth/password.js';
import type { UiTokenConfig, UiUserConfig } from '../config.js';

export const PASSWORD = 'correct horse battery staple';
export const TOKEN = 'tok_0123456789abcdef0123456789abcdef';
export const SECRET = 'test-session-secret-test-session-secret';

let hash: Promise<string> | undefined;

/** Users: admin (all orgs), auditor (all), viewer (all), and `alice` an auditor of org_a only. */
export async function testUsers(): Promise<UiUserConfig[]> {
  // Cheap argon2 parameters: the tests log in dozens of times on a 2-core machine.
  hash ??= hashPassword(PASSWORD, { memoryCost: 4096, timeCost: 2 });
  const passwordHash = await hash;
  return [
    { username: 'root', passwordHash, role: 'admin', name: 'Root Admin' },
    { username: 'audrey', passwordHash, role: 'auditor', name: 'Audrey Auditor' },
    { username: 'vic', passwordHash, role: 'viewer', name: 'Vic Viewer' },
    { username: 'alice', passwordHash, role: 'auditor', name: 'Alice of A', tenants: ['org_a'] },
  ];
}

export const testTokens: UiTokenConfig[] = [
  { token: TOKEN, id: 'ci-bot', role: 'auditor', tenants: ['org_b'] },
];

const T0 = Date.parse('2026-04-01T09:00:00.000Z');

/** Events of org_a and org_b: logins, an invoice's history, a request with masked secrets, an error. */
export function sampleEvents(): AuditEvent[] {
  const at = (minutes: number) => new Date(T0 + minutes * 60_000);
  let n = 0;
  const id = () => `0192f000-0000-7000-8000-${String(++n).padStart(12, '0')}`;
  return [
    {
      id: id(),
      occurredAt: at(0),
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      tenantId: 'org_a',
      actor: { type: 'anonymous', label: 'ada' },
      reason: 'bad_password',
    },
    {
      id: id(),
      occurredAt: at(1),
      category: 'auth',
      action: 'user.login',
      outcome: 'success',
      tenantId: 'org_a',
      actor: { type: 'user', id: 'ada', label: 'Ada Lovelace' },
      target: { type: 'user', id: 'ada' },
    },
    {
      id: id(),
      occurredAt: at(2),
      category: 'change',
      action: 'record.created',
      outcome: 'success',
      tenantId: 'org_a',
      actor: { type: 'user', id: 'ada', label: 'Ada Lovelace' },
      target: { type: 'invoice', id: 'INV-1', label: 'Engines Ltd' },
      changes: { customer: [null, 'Engines Ltd'], total: [null, 990], status: [null, 'draft'] },
      correlation: { requestId: 'req-1' },
    },
    {
      id: id(),
      occurredAt: at(2),
      category: 'access',
      action: 'http.request',
      outcome: 'success',
      tenantId: 'org_a',
      actor: { type: 'user', id: 'ada', label: 'Ada Lovelace' },
      correlation: { requestId: 'req-1' },
      request: {
        id: 'req-1',
        method: 'POST',
        path: '/api/invoices',
        status: 201,
        headers: { authorization: '[REDACTED]', 'content-type': 'application/json' },
        body: { customer: 'Engines Ltd', total: 990, password: '[REDACTED]' },
        responseBody: { id: 'INV-1' },
      },
    },
    {
      id: id(),
      occurredAt: at(10),
      category: 'change',
      action: 'record.updated',
      outcome: 'success',
      tenantId: 'org_a',
      actor: { type: 'user', id: 'ada', label: 'Ada Lovelace' },
      target: { type: 'invoice', id: 'INV-1' },
      changes: { total: [990, 1090], status: ['draft', 'sent'] },
    },
    {
      id: id(),
      occurredAt: at(20),
      category: 'change',
      action: 'record.deleted',
      outcome: 'success',
      tenantId: 'org_a',
      actor: { type: 'user', id: 'ada', label: 'Ada Lovelace' },
      target: { type: 'invoice', id: 'INV-1' },
      changes: { customer: ['Engines Ltd', null], total: [1090, null], status: ['sent', null] },
    },
    {
      id: id(),
      occurredAt: at(5),
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      tenantId: 'org_b',
      actor: { type: 'anonymous', label: 'bob' },
      reason: 'unknown_user',
    },
    {
      id: id(),
      occurredAt: at(6),
      category: 'change',
      action: 'record.updated',
      outcome: 'success',
      tenantId: 'org_b',
      actor: { type: 'user', id: 'bob', label: 'Bob of B' },
      target: { type: 'invoice', id: 'INV-9' },
      changes: { total: [1, 2] },
      message: 'secret plan of org_b',
    },
    {
      id: id(),
      occurredAt: at(7),
      category: 'error',
      action: 'http.error',
      outcome: 'error',
      tenantId: 'org_b',
      actor: { type: 'user', id: 'bob' },
      message: 'Report generator crashed',
      reason: 'Error',
    },
  ];
}

/** A hostile event: markup in every text field, a 1 MB field, unicode and control characters. */
export function hostileEvent(): AuditEvent {
  return {
    id: '0192f000-0000-7000-8000-00000000beef',
    occurredAt: new Date(T0 + 30 * 60_000),
    category: 'custom',
    action: '<script>window.__pwned=1</script>',
    outcome: 'success',
    tenantId: 'org_a',
    actor: {
      type: 'user',
      id: '"><img src=x onerror="window.__pwned=2">',
      label: '<b onmouseover=alert(1)>Mallory</b>',
    },
    target: {
      type: 'doc',
      id: "'); window.__pwned=3; ('",
      label: '</textarea><script>window.__pwned=4</script>',
    },
    message: `Ünïcødé ✓ 日本語 🧪 \u202Eevil\u202C <style>body{display:none}</style> ${'x'.repeat(1024 * 1024)}`,
    metadata: {
      html: '<iframe src="javascript:window.__pwned=5"></iframe>',
      '<key>': '</script><script>window.__pwned=6</script>',
    },
    changes: { note: ['<i>old</i>', '<svg onload="window.__pwned=7">'] },
  };
}

export interface UiFixture {
  audit: Auditor;
  store: AuditStore;
  close(): Promise<void>;
}

/** A sync-mode auditor on a fresh in-memory PGlite, holding {@link sampleEvents} (and more if given). */
export async function makeAuditFixture(extra: AuditEvent[] = []): Promise<UiFixture> {
  const store = pgliteStore();
  const audit = createAuditor({ store, mode: 'sync', spool: false });
  await audit.migrate();
  await store.append([...sampleEvents(), ...extra]);
  return {
    audit,
    store,
    close: async () => {
      await audit.close();
    },
  };
}

/** A client of a Fetch handler that keeps cookies like a browser (one origin). */
export class CookieClient {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly fetcher: (request: Request) => Promise<Response>,
    readonly origin = 'http://ui.test',
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; '));
    }
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    const response = await this.fetcher(
      new Request(`${this.origin}${path}`, { ...init, headers, redirect: 'manual' }),
    );
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attrs] = cookie.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq).trim();
      const value = decodeURIComponent((pair as string).slice(eq + 1));
      if (attrs.some((a) => /max-age=0/i.test(a.trim()))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Posts a form, with the page's CSRF token unless `csrf` is given. */
  post(path: string, fields: Record<string, string>): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Logs in through the form like a person: GET /login for the token, then POST. */
  async login(base: string, username: string, password = PASSWORD): Promise<Response> {
    const form = await (await this.request(`${base}/login`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
    return this.post(`${base}/login`, { username, password, _csrf: csrf, next: `${base}/events` });
  }

  /** The CSRF token of a page (from its meta tag). */
  async csrf(path: string): Promise<string> {
    const page = await (await this.request(path)).text();
    return /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
  }
}
