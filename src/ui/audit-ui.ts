import { PassThrough, Readable } from 'node:stream';
import type { Auditor } from '../core/auditor.js';
import { AuditkitError, isAuditkitError } from '../core/errors.js';
import type { AuditEvent, Outcome } from '../core/event.js';
import { readVerification, VERIFIED_ACTION } from '../integrity/auditor-integrity.js';
import { hasSqlAccess, sqlAccessOf, tablesOf } from '../integrity/sql-access.js';
import { exportEvents } from '../report/export.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/report-writer.js';
import type { AuditQuery, AuditStore } from '../store/store.js';
import { loadAsset } from './assets/assets.js';
import { type Authenticated, Authenticator, PRELOGIN_COOKIE, SESSION_COOKIE } from './auth/authenticate.js';
import { verifyPassword } from './auth/password.js';
import { LoginRateLimiter } from './auth/rate-limit.js';
import { can, type Permission, type UiUser } from './auth/roles.js';
import { parseCookies, randomId, SessionSigner, serializeCookie } from './auth/session.js';
import { type AuditUiOptions, type ResolvedAuditUiOptions, resolveAuditUiOptions } from './config.js';
import { filterParams, hasFilters, parseInstant, QUICK_RANGES, readFilters, toQuery } from './filters.js';
import type { SafeHtml } from './html.js';
import { adminPage } from './pages/admin-page.js';
import { dashboardPage } from './pages/dashboard-page.js';
import { eventPage } from './pages/event-page.js';
import { eventsPage } from './pages/events-page.js';
import { type ChainHead, type CheckpointSummary, integrityPage } from './pages/integrity-page.js';
import { messagePage, type PageContext } from './pages/layout.js';
import { loginPage } from './pages/login-page.js';
import { personPage } from './pages/person-page.js';
import { recordPage } from './pages/record-page.js';
import { recordStateAt } from './record-state.js';
import { canSee, scopeQuery } from './scope.js';
import { summarizeStore } from './summary.js';
import { scopeKey, VerifyJobs } from './verify-jobs.js';

/** What a mount knows about a request beyond the Fetch `Request`. */
export interface UiRequestContext {
  /** The framework's request object, handed to `authorize`. */
  native?: unknown;
  /** The client's address (for the login rate limit and the audit trail). */
  clientIp?: string;
}

/** The admin UI: one framework-neutral handler, mounted by the Express, Fastify, Hono and node adapters. */
export interface AuditUi {
  /** Where it is mounted, e.g. `/audit`. */
  readonly basePath: string;
  /** Answers one request (Fetch API). Requests outside `basePath` get a 404. */
  handle(request: Request, context?: UiRequestContext): Promise<Response>;
  /** Waits for background verifications; the auditor is left open (it belongs to the caller). */
  close(): Promise<void>;
}

/** Security headers of every answer: strict CSP (no inline script or style), no framing, no referrer to other sites. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on our own form posts.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const MAX_FORM_BYTES = 64 * 1024;
const CONTENT_TYPES: Record<ReportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  pdf: 'application/pdf',
};
const FAILED_LOGIN_ACTIONS = ['user.login', 'user.login.*', 'login.*', 'ui.login'];

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly heading: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Creates the admin UI over an auditor's store. Mount it with `auditUiExpress`, `auditUiFastify`,
 * `auditUiHono` or `auditUiNode`, or run it alone with `auditkit ui`.
 *
 * @example
 * const ui = auditUi({ audit, basePath: '/audit', users: [{ username: 'ada', passwordHash, role: 'admin' }] });
 * app.use('/audit', auditUiExpress(ui));
 */
export function auditUi(options: AuditUiOptions): AuditUi {
  return new AuditUiHandler(resolveAuditUiOptions(options));
}

class AuditUiHandler implements AuditUi {
  readonly basePath: string;
  readonly #options: ResolvedAuditUiOptions;
  readonly #audit: Auditor;
  readonly #store: AuditStore;
  readonly #signer: SessionSigner;
  readonly #auth: Authenticator;
  readonly #limiter: LoginRateLimiter;
  readonly #addressLimiter: LoginRateLimiter;
  readonly #jobs: VerifyJobs;
  readonly #now: () => Date;

  constructor(options: ResolvedAuditUiOptions) {
    this.#options = options;
    this.basePath = options.basePath;
    this.#audit = options.audit;
    this.#store = options.audit.store;
    this.#signer = new SessionSigner(options.sessionSecret);
    this.#auth = new Authenticator(options, this.#signer);
    this.#now = options.now ?? (() => new Date());
    const clock = () => this.#now().getTime();
    this.#limiter = new LoginRateLimiter({ ...options.loginRateLimit, now: clock });
    // A looser limit per address alone, against one client spraying many user names.
    this.#addressLimiter = new LoginRateLimiter({
      max: options.loginRateLimit.max * 4,
      windowMs: options.loginRateLimit.windowMs,
      now: clock,
    });
    this.#jobs = new VerifyJobs(async (o, job) => {
      // Recorded as the UI user, and flushed so the integrity page reads it back from the store.
      const report = await this.#audit.verify({ ...o, record: true, actor: job.actor });
      await this.#audit.flush().catch(() => {});
      return report;
    }, options.publicKey);
  }

  async close(): Promise<void> {
    await this.#jobs.idle();
  }

  async handle(request: Request, context: UiRequestContext = {}): Promise<Response> {
    try {
      const response = await this.#route(request, context);
      return withSecurityHeaders(response);
    } catch (error) {
      if (error instanceof HttpProblem) {
        return withSecurityHeaders(this.#problem(request, null, error.status, error.heading, error.message));
      }
      // A bug or a store outage: a plain page, no stack or SQL in the answer.
      const message = isAuditkitError(error, 'store_unavailable')
        ? 'The audit store is not reachable right now. Try again in a moment.'
        : 'Something went wrong while answering this request.';
      this.#audit.reportError(error, 'ui_error');
      return withSecurityHeaders(this.#problem(request, null, 500, 'Error', message));
    }
  }

  async #route(request: Request, context: UiRequestContext): Promise<Response> {
    const url = new URL(request.url);
    const base = this.basePath;
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
      return text(404, 'Not found');
    }
    const path = url.pathname.slice(base.length) || '/';
    const method = request.method.toUpperCase();

    if (path.startsWith('/assets/') && (method === 'GET' || method === 'HEAD')) {
      return this.#asset(request, path.slice('/assets/'.length));
    }
    if (path === '/login') {
      if (method === 'GET') return this.#loginForm(request, url);
      if (method === 'POST') return this.#login(request, url, context);
      return text(405, 'Method not allowed');
    }

    const authenticated = await this.#auth.authenticate(request, context.native, this.#now().getTime());
    if (!authenticated) return this.#unauthenticated(request, url);
    const { user } = authenticated;

    if (method === 'POST') {
      this.#checkStateChange(request, url, authenticated, await readForm(request));
    } else if (method !== 'GET' && method !== 'HEAD') {
      return text(405, 'Method not allowed');
    }

    const ctx = this.#context(authenticated);
    const form = method === 'POST' ? await readForm(request) : null;
    const note = (action: string, outcome: Outcome, extra: Omit<UiNote, 'action' | 'outcome'> = {}) =>
      this.#note(user, request, context, { action, outcome, ...extra });
    const need = (permission: Permission) => {
      if (!can(user, permission)) {
        note('ui.access.denied', 'denied', { reason: `needs_${permission}`, metadata: { path } });
        throw new HttpProblem(403, 'Not allowed', `Your role (${user.role}) may not do this.`);
      }
    };

    if (path === '/' && method !== 'POST') return redirect(`${base}/events`);
    if (path === '/logout' && method === 'POST') {
      note('ui.logout', 'success', { category: 'auth' });
      return redirect(`${base}/login`, [this.#cookie(url, SESSION_COOKIE, '', 0)]);
    }
    need('read');
    if (path === '/events' && method !== 'POST') return this.#events(ctx, url, user, note);
    const eventMatch = /^\/events\/([0-9a-fA-F-]{36})$/.exec(path);
    if (eventMatch && method !== 'POST') return this.#event(ctx, eventMatch[1] as string, user, note);
    if (path === '/records' && method !== 'POST') return this.#record(ctx, url, user, note);
    if (path === '/people' && method !== 'POST') return this.#person(ctx, url, user, note);
    if (path === '/dashboard' && method !== 'POST') return this.#dashboard(ctx, url, user, note);
    if (path === '/integrity' && method !== 'POST') return this.#integrity(ctx, user, note);
    const jobMatch = /^\/integrity\/jobs\/([A-Za-z0-9_-]{1,40})$/.exec(path);
    if (jobMatch && method !== 'POST') {
      const job = this.#jobs.get(jobMatch[1] as string, scopeKey(user.tenants));
      if (!job) return json(404, { error: 'no such job' });
      return json(200, {
        id: job.id,
        state: job.state,
        checked: job.checked,
        total: job.total,
        ok: job.report?.ok ?? null,
      });
    }
    if (path === '/integrity/verify' && method === 'POST') {
      need('verify');
      const job = this.#jobs.start(user.id, user.tenants, {
        type: 'user',
        id: user.id,
        ...(user.name ? { label: user.name } : {}),
      });
      note('ui.verify', 'success', { metadata: { job: job.id } });
      return redirect(`${base}/integrity`);
    }
    if (path === '/export' && method !== 'POST') {
      need('export');
      return this.#export(url, user, note);
    }
    if (path === '/admin' && method !== 'POST') {
      need('admin');
      return html(200, adminPage(ctx, { restricted: user.tenants !== undefined }));
    }
    if ((path === '/admin/cleanup' || path === '/admin/erase') && method === 'POST') {
      need('admin');
      return this.#adminAction(ctx, path, form ?? new URLSearchParams(), user, note);
    }
    return this.#problem(request, ctx, 404, 'Not found', 'There is no such page.');
  }

  // ---- pages ---------------------------------------------------------------------------------------

  async #events(ctx: PageContext, url: URL, user: UiUser, note: NoteFn): Promise<Response> {
    const filters = readFilters(url.searchParams);
    const { query, errors } = toQuery(filters, this.#now());
    const cursor = url.searchParams.get('cursor') ?? undefined;
    let events: AuditEvent[] = [];
    let nextCursor: string | null = null;
    if (errors.length === 0) {
      const scoped = this.#scoped(query, user, note);
      try {
        const page = await this.#store.query({
          ...scoped,
          limit: this.#options.pageSize,
          ...(cursor ? { cursor } : {}),
        });
        events = page.events;
        nextCursor = page.nextCursor;
      } catch (error) {
        if (!isAuditkitError(error, 'invalid_query') && !isAuditkitError(error, 'invalid_cursor'))
          throw error;
        errors.push(error.message);
      }
    }
    note(hasFilters(filters) ? 'ui.search' : 'ui.events.listed', errors.length > 0 ? 'failure' : 'success', {
      metadata: {
        filters: Object.fromEntries(filterParams(filters)),
        page: cursor ? 'older' : 'first',
        results: events.length,
      },
    });
    return html(
      200,
      eventsPage(ctx, {
        filters,
        events,
        nextCursor,
        paged: cursor !== undefined,
        errors,
        canExport: can(user, 'export'),
      }),
    );
  }

  async #event(ctx: PageContext, id: string, user: UiUser, note: NoteFn): Promise<Response> {
    const event = await this.#store.get(id.toLowerCase());
    if (!event) throw new HttpProblem(404, 'Not found', 'There is no event with this id.');
    if (!canSee(event, user)) {
      note('ui.event.viewed', 'denied', {
        reason: 'other_organisation',
        target: { type: 'audit_event', id },
      });
      throw new HttpProblem(403, 'Not allowed', 'This event belongs to an organisation you may not see.');
    }
    const requestId = event.correlation?.requestId ?? event.request?.id;
    let related: AuditEvent[] = [];
    if (requestId) {
      const scoped = scopeQuery({ requestId, limit: 50 }, user);
      if (scoped) related = (await this.#store.query(scoped)).events.filter((e) => e.id !== event.id);
    }
    note('ui.event.viewed', 'success', { target: { type: 'audit_event', id: event.id } });
    return html(200, eventPage(ctx, { event, related }));
  }

  async #record(ctx: PageContext, url: URL, user: UiUser, note: NoteFn): Promise<Response> {
    const type = (url.searchParams.get('type') ?? '').slice(0, 500);
    const id = (url.searchParams.get('id') ?? '').slice(0, 500);
    if (!type || !id)
      throw new HttpProblem(400, 'Which record?', 'Give a record type and id (?type=invoice&id=42).');
    const atText = url.searchParams.get('at') ?? '';
    const at = atText ? parseInstant(atText) : this.#now();
    const scoped = this.#scoped({ targetType: type, targetId: id }, user, note);
    // A record's history is read newest first, a bounded number of pages (the state replays what was read).
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    let truncated = false;
    for (let page = 0; page < 4; page++) {
      const result = await this.#store.query({ ...scoped, limit: 500, ...(cursor ? { cursor } : {}) });
      events.push(...result.events);
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
      truncated = page === 3;
    }
    note('ui.record.viewed', 'success', { target: { type, id }, metadata: { at: atText || null } });
    return html(
      200,
      recordPage(ctx, {
        type,
        id,
        events,
        truncated,
        at: atText,
        state: at ? recordStateAt(events, at) : null,
        ...(at ? {} : { error: '"At" is not a date and time.' }),
      }),
    );
  }

  async #person(ctx: PageContext, url: URL, user: UiUser, note: NoteFn): Promise<Response> {
    const actorId = (url.searchParams.get('actor') ?? '').slice(0, 500);
    if (!actorId) throw new HttpProblem(400, 'Who?', 'Give an actor id (?actor=u_123).');
    const scoped = this.#scoped({ actorId }, user, note);
    const failed: AuditQuery = { category: 'auth', outcome: ['failure', 'denied'], limit: 20 };
    const [activity, security, ownFailures, namedFailures] = await Promise.all([
      this.#store.query({ ...scoped, limit: 20 }),
      this.#store.query({ ...scoped, category: 'auth', limit: 20 }),
      this.#store.query({ ...scoped, ...failed }),
      // Failed logins are often anonymous, naming the user only in the label or the target.
      this.#store.query({ ...this.#scoped({ text: actorId }, user, note), ...failed, limit: 100 }),
    ]);
    const seen = new Set<string>();
    const failedLogins = [...ownFailures.events, ...namedFailures.events]
      .filter((e) => e.actor.id === actorId || e.actor.label === actorId || e.target?.id === actorId)
      .filter((e) => !seen.has(e.id) && seen.add(e.id))
      .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime())
      .slice(0, 20);
    const label = activity.events.find((e) => e.actor.label)?.actor.label ?? null;
    note('ui.person.viewed', 'success', { target: { type: 'actor', id: actorId } });
    return html(
      200,
      personPage(ctx, { actorId, label, activity: activity.events, security: security.events, failedLogins }),
    );
  }

  async #dashboard(ctx: PageContext, url: URL, user: UiUser, note: NoteFn): Promise<Response> {
    const asked = url.searchParams.get('range') ?? '7d';
    const range = QUICK_RANGES[asked] ? asked : '7d';
    const to = this.#now();
    const from = new Date(to.getTime() - (QUICK_RANGES[range]?.ms ?? 0));
    const bucket =
      range === '15m' || range === '1h' ? 'minute' : range === '24h' || range === '7d' ? 'hour' : 'day';
    const scoped = this.#scoped({ from, to }, user, note);
    const [all, logins] = await Promise.all([
      summarizeStore(this.#store, scoped, { bucket, top: 10 }),
      summarizeStore(
        this.#store,
        { ...scoped, category: 'auth', action: FAILED_LOGIN_ACTIONS, outcome: ['failure', 'denied'] },
        { bucket, top: 10 },
      ),
    ]);
    note('ui.dashboard.viewed', 'success', { metadata: { range } });
    return html(
      200,
      dashboardPage(ctx, {
        range,
        bucket,
        from,
        to,
        summary: all.summary,
        failedLogins: logins.summary,
        approximate: all.approximate || logins.approximate,
      }),
    );
  }

  async #integrity(ctx: PageContext, user: UiUser, note: NoteFn): Promise<Response> {
    let available = false;
    let heads: ChainHead[] = [];
    let checkpoints: CheckpointSummary[] = [];
    if (hasSqlAccess(this.#store) || hasSqlAccess((this.#store as { sql?: unknown }).sql)) {
      const access = sqlAccessOf(this.#store);
      const tables = tablesOf(access);
      const tenants = user.tenants === undefined ? null : [...user.tenants];
      const where = tenants ? ' WHERE tenant_id = ANY($1::text[])' : '';
      const params = tenants ? [tenants] : [];
      try {
        const headRows = await access.executor.query<{
          tenant_id: string | null;
          last_seq: string | number;
          checkpoint_seq: string | number;
          checkpoint_at: string | null;
        }>(
          `SELECT tenant_id, last_seq, checkpoint_seq, to_char(checkpoint_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS checkpoint_at FROM ${tables.heads}${where} ORDER BY tenant_id NULLS FIRST LIMIT 200`,
          params,
        );
        const checkpointRows = await access.executor.query<{
          id: string;
          tenant_id: string | null;
          first_seq: string | number;
          last_seq: string | number;
          created_at: string;
          signed: boolean;
        }>(
          `SELECT id, tenant_id, first_seq, last_seq, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS created_at, signature IS NOT NULL AS signed FROM ${tables.checkpoints}${where} ORDER BY created_at DESC LIMIT 20`,
          params,
        );
        heads = headRows.rows.map((r) => ({
          tenantId: r.tenant_id,
          lastSeq: Number(r.last_seq),
          checkpointSeq: Number(r.checkpoint_seq),
          checkpointAt: r.checkpoint_at,
        }));
        checkpoints = checkpointRows.rows.map((r) => ({
          id: r.id,
          tenantId: r.tenant_id,
          firstSeq: Number(r.first_seq),
          lastSeq: Number(r.last_seq),
          createdAt: r.created_at,
          signed: r.signed === true,
        }));
        available = true;
      } catch {
        available = false; // the integrity tables were never created (nothing sealed on this store yet)
      }
    }
    // The latest recorded results (from the UI, `auditkit verify` or `audit.verify({ record: true })`), of
    // the user's organisations only: a run over every chain is recorded without one, for unrestricted users.
    // Filtered on the target type too, which is indexed (maintenance events are few).
    const recordedQuery = scopeQuery(
      { action: VERIFIED_ACTION, targetType: 'audit_log', category: 'custom', limit: 10 },
      user,
    );
    const recorded = recordedQuery
      ? (await this.#store.query(recordedQuery)).events.flatMap((e) => readVerification(e) ?? [])
      : [];
    note('ui.integrity.viewed', 'success');
    return html(
      200,
      integrityPage(ctx, {
        available,
        heads,
        checkpoints,
        job: this.#jobs.latest(scopeKey(user.tenants)),
        recorded,
        canVerify: can(user, 'verify'),
      }),
    );
  }

  async #export(url: URL, user: UiUser, note: NoteFn): Promise<Response> {
    const format = url.searchParams.get('format') as ReportFormat;
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
      throw new HttpProblem(400, 'Which format?', `Export as one of ${REPORT_FORMATS.join(', ')}.`);
    }
    const filters = readFilters(url.searchParams);
    const { query, errors } = toQuery(filters, this.#now());
    if (errors.length > 0) throw new HttpProblem(400, 'Bad filter', errors.join(' '));
    const scoped = this.#scoped(query, user, note);
    if (format === 'pdf') {
      try {
        await import('pdfkit');
      } catch {
        throw new HttpProblem(
          501,
          'PDF unavailable',
          'PDF exports need the pdfkit package (npm install pdfkit).',
        );
      }
    }
    const out = new PassThrough();
    const metadata = { format, filters: Object.fromEntries(filterParams(filters)) };
    exportEvents(this.#store, { format, out, query: scoped, title: `${this.#options.title} export` }).then(
      ({ events }) => {
        note('ui.export', 'success', { metadata: { ...metadata, events } });
        out.end();
      },
      (error: unknown) => {
        note('ui.export', 'error', { reason: 'export_failed', metadata });
        this.#audit.reportError(error, 'ui_error');
        out.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
    const stamp = this.#now().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    return new Response(Readable.toWeb(out) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: {
        'content-type': CONTENT_TYPES[format],
        'content-disposition': `attachment; filename="audit-${stamp}.${format}"`,
        'cache-control': 'no-store',
      },
    });
  }

  async #adminAction(
    ctx: PageContext,
    path: string,
    form: URLSearchParams,
    user: UiUser,
    note: NoteFn,
  ): Promise<Response> {
    if (user.tenants !== undefined) {
      throw new HttpProblem(403, 'Not allowed', 'Retention and erasure need an admin of every organisation.');
    }
    const dryRun = form.get('dryRun') === '1';
    const actor = { type: 'user' as const, id: user.id, ...(user.name ? { label: user.name } : {}) };
    let result: { ok: boolean; message: string };
    if (path === '/admin/cleanup') {
      const daysText = (form.get('days') ?? '').trim();
      const days = daysText === '' ? undefined : Number(daysText);
      try {
        if (days !== undefined && (!Number.isInteger(days) || days < 1)) {
          throw new AuditkitError('invalid_config', 'Days is a whole number of days, 1 or more.');
        }
        const report = await this.#audit.cleanup({ dryRun, actor, ...(days === undefined ? {} : { days }) });
        result = {
          ok: true,
          message: `${dryRun ? 'Dry run: would remove' : 'Removed'} ${report.removed} event(s)${report.droppedPartitions.length > 0 ? `, dropped ${report.droppedPartitions.length} partition(s)` : ''}.`,
        };
        note('ui.retention', 'success', {
          metadata: { dryRun, days: days ?? null, removed: report.removed },
        });
      } catch (error) {
        result = { ok: false, message: error instanceof Error ? error.message : String(error) };
        note('ui.retention', 'failure', { metadata: { dryRun, days: days ?? null } });
      }
    } else {
      const subject = (form.get('subject') ?? '').trim();
      try {
        if (!subject) throw new AuditkitError('invalid_config', 'Give the actor id of the person to erase.');
        const report = await this.#audit.erase({ subject, dryRun, actor });
        result = {
          ok: true,
          message: `${dryRun ? 'Dry run: would change' : 'Changed'} ${report.changed} event(s); pseudonym ${report.pseudonym}.`,
        };
        note('ui.erase', 'success', {
          metadata: { dryRun, changed: report.changed, pseudonym: report.pseudonym },
        });
      } catch (error) {
        result = { ok: false, message: error instanceof Error ? error.message : String(error) };
        note('ui.erase', 'failure', { metadata: { dryRun } });
      }
    }
    return html(result.ok ? 200 : 400, adminPage(ctx, { restricted: false, result }));
  }

  // ---- login ---------------------------------------------------------------------------------------

  #loginForm(request: Request, url: URL, error?: string, status = 200, username = ''): Response {
    const cookies = parseCookies(request.headers.get('cookie'));
    let nonce = cookies.get(PRELOGIN_COOKIE);
    const setCookies: string[] = [];
    if (!nonce || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) {
      nonce = randomId();
      setCookies.push(this.#cookie(url, PRELOGIN_COOKIE, nonce, 3600));
    }
    const next = safeNext(url.searchParams.get('next'), this.basePath);
    const ctx = this.#context(null);
    const notice =
      error ??
      (this.#options.users.length === 0
        ? 'No user is configured for password logins; use a token or the host application.'
        : undefined);
    return html(
      status,
      loginPage(ctx, this.#signer.csrfToken(`login|${nonce}`), next, notice, username),
      setCookies,
    );
  }

  async #login(request: Request, url: URL, context: UiRequestContext): Promise<Response> {
    const form = await readForm(request);
    const nonce = parseCookies(request.headers.get('cookie')).get(PRELOGIN_COOKIE) ?? '';
    if (!sameOrigin(request, url) || !nonce || !this.#signer.checkCsrf(`login|${nonce}`, form.get('_csrf'))) {
      return this.#loginForm(request, url, 'The login form expired; please try again.', 403);
    }
    const username = (form.get('username') ?? '').slice(0, 200);
    const password = (form.get('password') ?? '').slice(0, 1000);
    const ip = context.clientIp ?? 'unknown';
    const key = `${ip}|${username.toLowerCase()}`;
    const anonymous: UiUser = { id: username || '(none)', role: 'viewer' };
    const wait = Math.max(this.#limiter.retryAfter(key), this.#addressLimiter.retryAfter(ip));
    if (wait > 0) {
      this.#note(anonymous, request, context, {
        action: 'ui.login',
        outcome: 'denied',
        reason: 'rate_limited',
        category: 'auth',
        anonymous: true,
      });
      const response = this.#loginForm(
        request,
        url,
        `Too many failed logins. Try again in ${Math.ceil(wait / 60_000)} minute(s).`,
        429,
        username,
      );
      response.headers.set('retry-after', String(Math.ceil(wait / 1000)));
      return response;
    }
    const found = username ? this.#auth.userNamed(username) : null;
    const ok = await verifyPassword(found?.passwordHash, password);
    if (!found || !ok) {
      this.#limiter.fail(key);
      this.#addressLimiter.fail(ip);
      this.#note(anonymous, request, context, {
        action: 'ui.login',
        outcome: 'failure',
        reason: found ? 'bad_password' : 'unknown_user',
        category: 'auth',
        anonymous: true,
      });
      return this.#loginForm(request, url, 'Wrong user name or password.', 401, username);
    }
    this.#limiter.succeed(key);
    const now = this.#now().getTime();
    const session = this.#signer.issue({
      sub: found.user.id,
      sid: randomId(),
      exp: now + this.#options.sessionTtlMs,
    });
    this.#note(found.user, request, context, { action: 'ui.login', outcome: 'success', category: 'auth' });
    return redirect(safeNext(form.get('next'), this.basePath), [
      this.#cookie(url, SESSION_COOKIE, session, Math.floor(this.#options.sessionTtlMs / 1000)),
      this.#cookie(url, PRELOGIN_COOKIE, '', 0),
    ]);
  }

  #unauthenticated(request: Request, url: URL): Response {
    const wantsHtml = (request.headers.get('accept') ?? '').includes('text/html');
    if (wantsHtml && request.method === 'GET' && !request.headers.has('authorization')) {
      // The login form, with a 401: nothing of the audit log is in the answer.
      const next = `${url.pathname}${url.search}`;
      const login = new URL(url);
      login.search = new URLSearchParams({ next }).toString();
      return this.#loginForm(request, login, undefined, 401);
    }
    return new Response('Authentication required.\n', {
      status: 401,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'www-authenticate': 'Bearer',
        'cache-control': 'no-store',
      },
    });
  }

  /** POSTs must come from this origin and carry the session's CSRF token (bearer clients excepted). */
  #checkStateChange(request: Request, url: URL, auth: Authenticated, form: URLSearchParams): void {
    if (auth.csrfBinding === null) return;
    const token = request.headers.get('x-csrf-token') ?? form.get('_csrf');
    if (!sameOrigin(request, url) || !this.#signer.checkCsrf(auth.csrfBinding, token)) {
      throw new HttpProblem(
        403,
        'Request refused',
        'The form expired or came from another site; reload the page and try again.',
      );
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** The query restricted to the user's organisations; a filter on another one answers 403. */
  #scoped<Q extends AuditQuery>(query: Q, user: UiUser, note: NoteFn): Q {
    const scoped = scopeQuery(query, user);
    if (!scoped) {
      note('ui.access.denied', 'denied', {
        reason: 'other_organisation',
        metadata: { tenantId: query.tenantId ?? null },
      });
      throw new HttpProblem(403, 'Not allowed', 'You may not see events of this organisation.');
    }
    return scoped;
  }

  #context(auth: Authenticated | null): PageContext {
    return {
      base: this.basePath,
      title: this.#options.title,
      user: auth?.user ?? null,
      csrf: auth?.csrfBinding ? this.#signer.csrfToken(auth.csrfBinding) : null,
    };
  }

  #problem(
    request: Request,
    ctx: PageContext | null,
    status: number,
    heading: string,
    message: string,
  ): Response {
    const wantsHtml = (request.headers.get('accept') ?? '').includes('text/html');
    if (!wantsHtml) return text(status, message);
    return html(status, messagePage(ctx ?? this.#context(null), heading, message));
  }

  #asset(request: Request, name: string): Response {
    const found = loadAsset(name);
    if (!found) return text(404, 'Not found');
    const headers = { 'content-type': found.type, etag: found.etag, 'cache-control': 'public, max-age=3600' };
    if (request.headers.get('if-none-match') === found.etag)
      return new Response(null, { status: 304, headers });
    return new Response(request.method === 'HEAD' ? null : found.body, { status: 200, headers });
  }

  #cookie(url: URL, name: string, value: string, maxAge: number): string {
    const secure =
      this.#options.secureCookies === 'auto' ? url.protocol === 'https:' : this.#options.secureCookies;
    return serializeCookie(name, value, { path: this.basePath || '/', secure, maxAge });
  }

  /** Records what a UI user did, as the UI user; never fails the page. */
  #note(user: UiUser, request: Request, context: UiRequestContext, note: UiNote): void {
    try {
      const userAgent = request.headers.get('user-agent') ?? undefined;
      void this.#audit
        .record({
          category: note.category ?? 'access',
          action: note.action,
          outcome: note.outcome,
          tenantId: user.tenants?.length === 1 ? (user.tenants[0] as string) : null,
          actor: {
            type: note.anonymous ? 'anonymous' : 'user',
            ...(note.anonymous ? { label: user.id } : { id: user.id }),
            ...(user.name && !note.anonymous ? { label: user.name } : {}),
            ...(context.clientIp ? { ip: context.clientIp } : {}),
            ...(userAgent ? { userAgent: userAgent.slice(0, 500) } : {}),
          },
          ...(note.target ? { target: note.target } : {}),
          ...(note.reason ? { reason: note.reason } : {}),
          metadata: { ui: true, ...(user.via ? { via: user.via } : {}), ...note.metadata },
        })
        .catch(() => {});
    } catch (error) {
      this.#audit.reportError(error, 'ui_error');
    }
  }
}

interface UiNote {
  action: string;
  outcome: Outcome;
  category?: 'access' | 'auth';
  reason?: string;
  target?: { type: string; id: string };
  metadata?: Record<string, unknown>;
  /** The user is not authenticated (a failed login): recorded as an anonymous actor labelled with the name. */
  anonymous?: boolean;
}
type NoteFn = (action: string, outcome: Outcome, extra?: Omit<UiNote, 'action' | 'outcome'>) => void;

/** Reads an urlencoded form body (bounded); other bodies read as empty. */
const formCache = new WeakMap<Request, Promise<URLSearchParams>>();
function readForm(request: Request): Promise<URLSearchParams> {
  let cached = formCache.get(request);
  if (!cached) {
    cached = (async () => {
      const type = request.headers.get('content-type') ?? '';
      if (!type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
      const length = Number(request.headers.get('content-length') ?? '0');
      if (length > MAX_FORM_BYTES) throw new HttpProblem(413, 'Too large', 'The form is too large.');
      const body = await request.text();
      if (body.length > MAX_FORM_BYTES) throw new HttpProblem(413, 'Too large', 'The form is too large.');
      return new URLSearchParams(body);
    })();
    formCache.set(request, cached);
  }
  return cached;
}

/** False when the browser says the request came from another site. */
function sameOrigin(request: Request, url: URL): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.get('origin');
  if (!origin) return true;
  // Hosts, not schemes: behind a TLS-terminating proxy the page is https while the request reaches us as http.
  try {
    return new URL(origin).host === url.host;
  } catch {
    return false; // `null` or garbage
  }
}

/** A redirect target inside the UI only (no open redirect). */
function safeNext(next: string | null, base: string): string {
  const fallback = `${base}/events`;
  if (!next || next.length > 2000) return fallback;
  if (!next.startsWith(`${base}/`) || next.startsWith('//') || next.includes('\\')) return fallback;
  return next;
}

function withSecurityHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'no-store');
  return response;
}

function html(status: number, body: SafeHtml, cookies: string[] = []): Response {
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(body.toString(), { status, headers });
}

function text(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

function redirect(location: string, cookies: string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 303, headers });
}
