import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAll } from '../../test/contract/store-contract.js';
import type { AuditEvent } from '../core/event.js';
import { generateSigningKeys } from '../integrity/keys.js';
import { type AuditUi, auditUi } from './audit-ui.js';
import { escapeHtml } from './html.js';
import {
  CookieClient,
  hostileEvent,
  makeAuditFixture,
  PASSWORD,
  SECRET,
  TOKEN,
  testTokens,
  testUsers,
  type UiFixture,
} from './testing/fixtures.js';

const NOW = new Date('2026-04-02T00:00:00.000Z');
const BASE = '/audit';
let fixture: UiFixture;
let ui: AuditUi;
let users: Awaited<ReturnType<typeof testUsers>>;

const client = (ip = '10.0.0.1') => new CookieClient((request) => ui.handle(request, { clientIp: ip }));
const loggedIn = async (username: string) => {
  const c = client();
  const response = await c.login(BASE, username);
  expect(response.status).toBe(303);
  return c;
};
const uiEvents = async (action: string): Promise<AuditEvent[]> => {
  await fixture.audit.flush();
  return queryAll(fixture.store, { action });
};

beforeAll(async () => {
  fixture = await makeAuditFixture([hostileEvent()]);
  users = await testUsers();
  ui = auditUi({
    audit: fixture.audit,
    basePath: BASE,
    users,
    tokens: testTokens,
    sessionSecret: SECRET,
    now: () => NOW,
    loginRateLimit: { max: 3, windowMs: 60_000 },
  });
});
afterAll(async () => {
  await ui?.close();
  await fixture?.close();
});

describe('access: nothing is served without authentication', () => {
  it('answers every page and the export with 401 and no event data before login', async () => {
    const c = client();
    for (const path of [
      '/events',
      '/events/0192f000-0000-7000-8000-000000000003',
      '/dashboard',
      '/integrity',
    ]) {
      const response = await c.request(`${BASE}${path}`);
      expect(response.status).toBe(401);
      const page = await response.text();
      expect(page).toContain('Log in');
      expect(page).not.toContain('Ada Lovelace');
      expect(page).not.toContain('org_a');
    }
    const exported = await c.request(`${BASE}/export?format=csv`, { headers: { accept: 'text/csv' } });
    expect(exported.status).toBe(401);
    expect(exported.headers.get('www-authenticate')).toBe('Bearer');
    expect(await exported.text()).not.toContain('user.login');
  });

  it('sets a signed HttpOnly SameSite=Strict session cookie on login, and refuses a forged one', async () => {
    const c = client();
    const form = await (await c.request(`${BASE}/login`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const response = await c.post(`${BASE}/login`, { username: 'vic', password: PASSWORD, _csrf: csrf });
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie().find((s) => s.startsWith('auditkit_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/audit/);
    expect((await c.request(`${BASE}/events`)).status).toBe(200);

    const session = c.cookies.get('auditkit_session') as string;
    const [payload] = session.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'root' })).toString('base64url');
    c.cookies.set('auditkit_session', `${forged}.${session.split('.')[1]}`);
    expect((await c.request(`${BASE}/events`)).status).toBe(401);
  });

  it('refuses a login without the form token (CSRF) or from another origin', async () => {
    const c = client();
    await c.request(`${BASE}/login`);
    expect(
      (await c.post(`${BASE}/login`, { username: 'root', password: PASSWORD, _csrf: 'nope' })).status,
    ).toBe(403);
    const form = await (await c.request(`${BASE}/login`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const crossSite = await c.request(`${BASE}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.test' },
      body: new URLSearchParams({ username: 'root', password: PASSWORD, _csrf: csrf }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect(c.cookies.has('auditkit_session')).toBe(false);
  });

  it('rate-limits failed logins per user and address, and records each failure', async () => {
    const c = client('10.9.9.9');
    for (let i = 0; i < 3; i++) expect((await c.login(BASE, 'audrey', 'wrong password')).status).toBe(401);
    const limited = await c.login(BASE, 'audrey'); // right password, but too many failures first
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await client('10.9.9.8').login(BASE, 'audrey')).status).toBe(303); // another address may
    const failures = (await uiEvents('ui.login')).filter(
      (e) => e.actor.label === 'audrey' && e.outcome !== 'success',
    );
    expect(failures.map((e) => e.reason).sort()).toEqual([
      'bad_password',
      'bad_password',
      'bad_password',
      'rate_limited',
    ]);
    expect(failures[0]?.actor.ip).toBe('10.9.9.9');
  });

  it('never puts the password in the audit trail or a URL', async () => {
    await client().login(BASE, 'vic', 'a wrong password with a secret inside');
    await fixture.audit.flush();
    const all = JSON.stringify(await queryAll(fixture.store, { action: 'ui.*' }));
    expect(all).not.toContain('a wrong password with a secret inside');
    expect(all).not.toContain(PASSWORD);
  });

  it('accepts a bearer token (constant-time match) and rejects a wrong one without falling back to cookies', async () => {
    const ok = await ui.handle(
      new Request(`http://ui.test${BASE}/events`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    expect(ok.status).toBe(200);
    const page = await ok.text();
    expect(page).toContain('org_b');
    expect(page).not.toContain('org_a');
    const c = await loggedIn('root');
    const bad = await c.request(`${BASE}/events`, {
      headers: { authorization: `Bearer ${TOKEN.replace('0', '1')}` },
    });
    expect(bad.status).toBe(401);
  });

  it("uses the host application's own sessions through authorize()", async () => {
    const hosted = auditUi({
      audit: fixture.audit,
      authorize: ({ request }) =>
        request.headers.get('x-host-user') === 'carol'
          ? { id: 'carol', role: 'viewer', tenants: ['org_b'] }
          : null,
    });
    const yes = await hosted.handle(
      new Request('http://ui.test/events', { headers: { 'x-host-user': 'carol' } }),
    );
    expect(yes.status).toBe(200);
    expect(await yes.text()).toContain('secret plan of org_b');
    const no = await hosted.handle(
      new Request('http://ui.test/events', { headers: { accept: 'text/html' } }),
    );
    expect(no.status).toBe(401);
  });
});

describe('roles are enforced on the server for every route', () => {
  it('lets a viewer read but not export, verify or administer', async () => {
    const c = await loggedIn('vic');
    expect((await c.request(`${BASE}/events`)).status).toBe(200);
    expect((await c.request(`${BASE}/export?format=csv`)).status).toBe(403);
    expect((await c.request(`${BASE}/admin`)).status).toBe(403);
    const csrf = await c.csrf(`${BASE}/integrity`);
    expect((await c.post(`${BASE}/integrity/verify`, { _csrf: csrf })).status).toBe(403);
    expect(await (await c.request(`${BASE}/events`)).text()).not.toContain('/export?');
  });

  it('lets an auditor export and verify, not administer; an admin does everything', async () => {
    const auditor = await loggedIn('audrey');
    expect((await auditor.request(`${BASE}/export?format=jsonl`)).status).toBe(200);
    expect((await auditor.request(`${BASE}/admin`)).status).toBe(403);
    const admin = await loggedIn('root');
    expect((await admin.request(`${BASE}/admin`)).status).toBe(200);
  });

  it("refuses a state-changing request without the session's CSRF token", async () => {
    const c = await loggedIn('root');
    expect((await c.post(`${BASE}/admin/cleanup`, { days: '1', dryRun: '1' })).status).toBe(403);
    expect((await c.post(`${BASE}/admin/cleanup`, { days: '1', dryRun: '1', _csrf: 'forged' })).status).toBe(
      403,
    );
    const csrf = await c.csrf(`${BASE}/admin`);
    const done = await c.post(`${BASE}/admin/cleanup`, { days: '100000', dryRun: '1', _csrf: csrf });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Dry run: would remove 0 event(s)');
  });

  it('logs out with a POST that clears the cookie', async () => {
    const c = await loggedIn('vic');
    const csrf = await c.csrf(`${BASE}/events`);
    const out = await c.post(`${BASE}/logout`, { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(c.cookies.has('auditkit_session')).toBe(false);
    expect((await c.request(`${BASE}/events`)).status).toBe(401);
  });
});

describe('organisation restriction: a restricted user never sees, counts or exports another organisation', () => {
  it('lists only their organisation, and a filter on another one is refused with nothing shown', async () => {
    const alice = await loggedIn('alice');
    const list = await (await alice.request(`${BASE}/events`)).text();
    expect(list).toContain('Ada Lovelace');
    expect(list).not.toContain('org_b');
    expect(list).not.toContain('secret plan of org_b');
    const other = await alice.request(`${BASE}/events?tenant=org_b`);
    expect(other.status).toBe(403);
    expect(await other.text()).not.toContain('secret plan');
    const textSearch = await (await alice.request(`${BASE}/events?q=secret+plan`)).text();
    expect(textSearch).toContain('No events match');
  });

  it("answers 403 for the detail of another organisation's event, and keeps related lists inside", async () => {
    const alice = await loggedIn('alice');
    const other = await alice.request(`${BASE}/events/0192f000-0000-7000-8000-000000000008`);
    expect(other.status).toBe(403);
    expect(await other.text()).not.toContain('secret plan');
    expect((await alice.request(`${BASE}/events/0192f000-0000-7000-8000-000000000004`)).status).toBe(200);
  });

  it('counts only their organisation on the dashboard, the person view and the record timeline', async () => {
    const alice = await loggedIn('alice');
    const dashboard = await (await alice.request(`${BASE}/dashboard?range=7d`)).text();
    expect(dashboard).not.toContain('unknown_user'); // org_b's failed login reason
    expect(dashboard).not.toContain('Bob of B');
    const data = JSON.parse(/id="dashboard-data">([^<]*)</.exec(dashboard)?.[1] ?? '{}');
    const total = data.timeline.reduce((n: number, t: { count: number }) => n + t.count, 0);
    expect(total).toBe(7); // org_a's six sample events and the hostile one
    expect((await alice.request(`${BASE}/people?actor=bob`)).status).toBe(200);
    expect(await (await alice.request(`${BASE}/people?actor=bob`)).text()).not.toContain('Bob of B');
    expect(await (await alice.request(`${BASE}/records?type=invoice&id=INV-9`)).text()).toContain(
      'No events for this record',
    );
  });

  it('exports only their organisation, and refuses to export another one', async () => {
    const alice = await loggedIn('alice');
    const jsonl = await (await alice.request(`${BASE}/export?format=jsonl`)).text();
    const tenants = new Set(
      jsonl
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).tenantId),
    );
    expect([...tenants]).toEqual(['org_a']);
    expect((await alice.request(`${BASE}/export?format=csv&tenant=org_b`)).status).toBe(403);
  });

  it('verifies only their own chains and may not run retention or erasure', async () => {
    const alice = await loggedIn('alice');
    expect((await alice.request(`${BASE}/admin`)).status).toBe(403);
  });
});

describe('pages', () => {
  it('lists newest first with keyset pages whose links keep the filters in the URL', async () => {
    const small = auditUi({
      audit: fixture.audit,
      users,
      sessionSecret: SECRET,
      pageSize: 10,
      now: () => NOW,
    });
    const c = new CookieClient((r) => small.handle(r));
    await c.login('', 'root');
    const first = await (
      await c.request('/events?category=change&category=auth&category=custom&category=error&range=30d')
    ).text();
    const times = [...first.matchAll(/datetime="([^"]+)"/g)].map((m) => m[1] as string);
    expect(times).toEqual([...times].sort().reverse());
    const older = /href="([^"]+)" rel="next"/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    expect(older).toContain('category=change');
    expect(older).toContain('range=30d');
    expect(older).toContain('cursor=');
    const second = await (await c.request(older as string)).text();
    const next = [...second.matchAll(/datetime="([^"]+)"/g)].map((m) => m[1] as string);
    expect(next.length).toBeGreaterThan(0);
    expect(next[0]! <= times[times.length - 1]!).toBe(true);
  });

  it('filters by every field of the form, and shows an error instead of ignoring a bad one', async () => {
    const c = await loggedIn('root');
    const page = await (
      await c.request(`${BASE}/events?targetType=invoice&targetId=INV-1&action=record.*`)
    ).text();
    expect(page).toContain('record.created');
    expect(page).not.toContain('>user.login<');
    const byStatus = await (await c.request(`${BASE}/events?status=2xx&path=/api/`)).text();
    expect(byStatus).toContain('POST /api/invoices 201');
    const bad = await c.request(`${BASE}/events?status=teapot`);
    expect(bad.status).toBe(200);
    expect(await bad.text()).toContain('Status is a code such as 404');
  });

  it('shows an event with its per-field diff, masked values marked, and links to related views', async () => {
    const c = await loggedIn('root');
    const access = await (await c.request(`${BASE}/events/0192f000-0000-7000-8000-000000000004`)).text();
    expect(access).toContain('class="masked"');
    expect(access).toContain('Other events of the same request');
    expect(access).toContain('record.created');
    expect(access).toContain('/people?actor=ada');
    const change = await (await c.request(`${BASE}/events/0192f000-0000-7000-8000-000000000005`)).text();
    expect(change).toMatch(
      /<th scope="row">total<\/th><td class="before">.*990.*<\/td><td class="after">.*1090/s,
    );
    expect(change).toContain('/records?type=invoice&amp;id=INV-1');
  });

  it("shows a record's timeline and its state at a chosen time, deleted at the end", async () => {
    const c = await loggedIn('root');
    const before = await (
      await c.request(`${BASE}/records?type=invoice&id=INV-1&at=2026-04-01T09:05`)
    ).text();
    expect(before).toMatch(/total<\/th><td><span class="j-lit">990</);
    const later = await (await c.request(`${BASE}/records?type=invoice&id=INV-1&at=2026-04-01T09:15`)).text();
    expect(later).toMatch(/total<\/th><td><span class="j-lit">1090</);
    const end = await (await c.request(`${BASE}/records?type=invoice&id=INV-1`)).text();
    expect(end).toContain('was <strong>deleted</strong>');
  });

  it("shows a person's activity, security events and failed logins (also the anonymous ones naming them)", async () => {
    const c = await loggedIn('root');
    const page = await (await c.request(`${BASE}/people?actor=ada`)).text();
    expect(page).toContain('Ada Lovelace');
    const failed = page.slice(page.indexOf('Failed logins'), page.indexOf('Security events'));
    expect(failed).toContain('bad_password');
  });

  it("summarises the period on the dashboard in the page's JSON data and tables", async () => {
    const c = await loggedIn('root');
    const page = await (await c.request(`${BASE}/dashboard?range=7d`)).text();
    expect(page).toContain('Failed logins by reason');
    expect(page).toContain('bad_password');
    expect(page).toContain('unknown_user');
    expect(page).toContain('/assets/uplot.js');
  });

  it('renders a hostile event as text: no markup from data, bidi overrides shown, a 1 MB field clipped', async () => {
    const c = await loggedIn('root');
    const response = await c.request(`${BASE}/events/0192f000-0000-7000-8000-00000000beef`);
    const page = await response.text();
    expect(page).not.toContain('<script>window');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<svg onload');
    expect(page).not.toContain('<iframe');
    expect(page).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(page).toContain('[U+202E]');
    expect(page).toContain('Ünïcødé ✓ 日本語 🧪');
    expect(page.length).toBeLessThan(200_000);
    expect(page).toContain('more characters');
    const list = await (await c.request(`${BASE}/events`)).text();
    expect(list).not.toContain('<script>window');
  });

  it('sends a strict CSP and the other security headers on every answer', async () => {
    const c = await loggedIn('root');
    for (const path of ['/events', '/login', '/assets/app.css', '/nope']) {
      const response = await c.request(`${BASE}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    const page = await (await c.request(`${BASE}/events`)).text();
    expect(page).not.toMatch(/<script>(?!<)/); // no inline script
    expect(page).not.toMatch(/ style="/); // no inline style
  });

  it('exports the current filter as CSV, JSON Lines and PDF, as attachments', async () => {
    const c = await loggedIn('audrey');
    const csv = await c.request(`${BASE}/export?format=csv&category=change`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="audit-.*\.csv"/);
    const rows = (await csv.text()).trim().split('\n');
    expect(rows.length).toBe(1 + 4);
    const pdf = Buffer.from(await (await c.request(`${BASE}/export?format=pdf&category=auth`)).arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await c.request(`${BASE}/export?format=xml`)).status).toBe(400);
  });

  it("serves the package's assets with an ETag, and the login page without a session", async () => {
    const c = client();
    const css = await c.request(`${BASE}/assets/app.css`);
    expect(css.status).toBe(200);
    const etag = css.headers.get('etag') as string;
    expect((await c.request(`${BASE}/assets/app.css`, { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    expect((await c.request(`${BASE}/assets/uplot.js`)).status).toBe(200);
    expect((await c.request(`${BASE}/assets/../../package.json`)).status).toBe(404);
    expect((await c.request('/elsewhere')).status).toBe(404);
  });
});

describe('integrity page', () => {
  it('verifies in the background with progress, and shows the result and the checkpoints', async () => {
    await fixture.audit.seal({ checkpointEvery: 2 });
    const c = await loggedIn('audrey');
    const csrf = await c.csrf(`${BASE}/integrity`);
    const started = await c.post(`${BASE}/integrity/verify`, { _csrf: csrf });
    expect(started.status).toBe(303);
    const running = await (await c.request(`${BASE}/integrity`)).text();
    const job = /data-job="([^"]+)"/.exec(running)?.[1];
    await ui.close(); // waits for the background run
    if (job) {
      const state = await (await c.request(job, { headers: { accept: 'application/json' } })).json();
      expect(state).toMatchObject({ state: 'done', ok: true });
    }
    const done = await (await c.request(`${BASE}/integrity`)).text();
    expect(done).toContain('Intact');
    expect(done).toContain('Latest checkpoints');
    expect(done).toContain('org_b');
  });

  it("shows a restricted user only their organisation's chains and verification", async () => {
    const alice = await loggedIn('alice');
    const csrf = await alice.csrf(`${BASE}/integrity`);
    await alice.post(`${BASE}/integrity/verify`, { _csrf: csrf });
    await ui.close();
    const page = await (await alice.request(`${BASE}/integrity`)).text();
    expect(page).toContain('Intact');
    expect(page).toContain('org_a');
    expect(page).not.toContain('org_b');
  });

  it('records each run as integrity.verified, as the user, per organisation for a restricted one', async () => {
    const verified = await uiEvents('integrity.verified');
    const byAudrey = verified.find((e) => e.actor.id === 'audrey');
    expect(byAudrey).toMatchObject({
      category: 'custom',
      outcome: 'success',
      tenantId: null,
      actor: { type: 'user', id: 'audrey', label: 'Audrey Auditor' },
      target: { type: 'audit_log' },
    });
    expect(byAudrey?.metadata).toMatchObject({
      ok: true,
      problems: 0,
      firstProblem: null,
      scope: { from: null, to: null },
      checkpointsVerified: expect.any(Number),
    });
    const ranges = (byAudrey?.metadata?.ranges ?? []) as { tenantId: string }[];
    const chains = ranges.map((r) => r.tenantId);
    expect(chains).toEqual(expect.arrayContaining(['org_a', 'org_b']));
    const byAlice = verified.filter((e) => e.actor.id === 'alice');
    expect(byAlice.map((e) => e.tenantId)).toEqual(['org_a']);
    expect(byAlice[0]?.metadata).toMatchObject({ ok: true, scope: { tenantId: 'org_a' } });
  });

  it('shows the last recorded result after a restart of the UI, within the user organisations', async () => {
    // A new UI over the same store: nothing in memory, everything read back from the log.
    const restarted = auditUi({
      audit: fixture.audit,
      basePath: BASE,
      users,
      sessionSecret: SECRET,
      now: () => NOW,
    });
    const as = async (username: string) => {
      const c = new CookieClient((request) => restarted.handle(request, { clientIp: '10.0.0.9' }));
      expect((await c.login(BASE, username)).status).toBe(303);
      return (await c.request(`${BASE}/integrity`)).text();
    };
    try {
      const audrey = await as('audrey');
      expect(audrey).toContain('Intact');
      expect(audrey).not.toContain('No verification has been recorded yet');
      // The latest is Alice's run of org_a; Audrey's run of every organisation is in the history.
      expect(audrey).toContain('Alice of A');
      expect(audrey).toContain('Recent verifications');
      expect(audrey).toContain('Audrey Auditor');
      expect(audrey).toContain('every organisation');
      const alice = await as('alice');
      expect(alice).toContain('Intact');
      expect(alice).toContain('organisation org_a');
      expect(alice).not.toContain('Audrey Auditor');
      expect(alice).not.toContain('every organisation');
      expect(alice).not.toContain('org_b');
    } finally {
      await restarted.close();
    }
  });

  it('shows a result recorded elsewhere (audit.verify({ record: true })), a failed one with its first problem', async () => {
    const { publicKeyPem } = generateSigningKeys();
    // The fixture's checkpoints are unsigned: checked against a key, each one is a problem.
    const report = await fixture.audit.verify({
      publicKey: publicKeyPem,
      record: true,
      actor: { type: 'service', id: 'nightly-verify', label: 'Nightly verification' },
    });
    expect(report.ok).toBe(false);
    await fixture.audit.flush();
    const c = await loggedIn('audrey');
    const page = await (await c.request(`${BASE}/integrity`)).text();
    expect(page).toContain('Tampering found');
    expect(page).toContain('Nightly verification');
    expect(page).toContain(`First problem: ${escapeHtml((report.firstProblem?.message ?? '').slice(0, 60))}`);
    // Not shown to a user of org_a only: it covered every organisation.
    const alice = await (await (await loggedIn('alice')).request(`${BASE}/integrity`)).text();
    expect(alice).not.toContain('Nightly verification');
  });

  it('reads no forged or malformed integrity.verified event as a result', async () => {
    await fixture.audit.record({
      category: 'custom',
      action: 'integrity.verified',
      target: { type: 'audit_log' },
      actor: { type: 'user', id: 'mallory', label: 'Mallory' },
      metadata: { ok: true, note: 'trust me' },
    });
    await fixture.audit.flush();
    const page = await (await (await loggedIn('audrey')).request(`${BASE}/integrity`)).text();
    expect(page).not.toContain('Mallory');
    expect(page).toContain('Nightly verification');
  });
});

describe('every view, search and export in the UI is itself audited', () => {
  it('records ui.* events with the UI user as actor', async () => {
    const c = await loggedIn('audrey');
    await c.request(`${BASE}/events?q=INV`);
    await c.request(`${BASE}/events/0192f000-0000-7000-8000-000000000003`);
    await (await c.request(`${BASE}/export?format=csv&category=change`)).text();
    const search = (await uiEvents('ui.search')).find(
      (e) => e.metadata?.filters && (e.metadata.filters as { q?: string }).q === 'INV',
    );
    expect(search?.actor).toMatchObject({
      type: 'user',
      id: 'audrey',
      label: 'Audrey Auditor',
      ip: '10.0.0.1',
    });
    const viewed = await uiEvents('ui.event.viewed');
    expect(
      viewed.some((e) => e.target?.id === '0192f000-0000-7000-8000-000000000003' && e.actor.id === 'audrey'),
    ).toBe(true);
    const exported = (await uiEvents('ui.export')).find((e) => e.actor.id === 'audrey');
    expect(exported?.metadata).toMatchObject({ format: 'csv', events: 4, filters: { category: 'change' } });
    await (await loggedIn('alice')).request(`${BASE}/events?tenant=org_b`);
    const denied = await uiEvents('ui.access.denied');
    expect(denied.some((e) => e.actor.id === 'alice' && e.reason === 'other_organisation')).toBe(true);
  });
});
