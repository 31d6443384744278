import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auditor } from '../core/auditor.js';
import {
  type ActorLike,
  type ActorSource,
  type AuditContext,
  createContext,
  resolveActor,
  runInContext,
  tryGetContext,
} from '../core/context.js';
import { AuditkitError, toAuditkitError } from '../core/errors.js';
import type {
  Actor,
  AuditEvent,
  AuditEventInput,
  Outcome,
  ParsedAuditEventInput,
  RequestInfo,
} from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { type TrustedRecord, trustedRecorder } from '../core/trusted-record.js';
import { errorWasRecorded } from '../errors-log/recorded-errors.js';
import { createNotificationDispatcher, type NotificationDispatcher } from '../notify/dispatcher.js';
import type { NoticeEvent, NotificationResult } from '../notify/notifier.js';
import { type AccessLogFile, createAccessLogFile } from './access-log-file.js';
import { actorFromUser } from './actor.js';
import { appendField, describeBody } from './body-format.js';
import { type BodyTap, type ResponseTap, tapRequest, tapResponse } from './body-tap.js';
import { createClientIpResolver } from './client-ip.js';
import { type HttpAuditOptions, type ResolvedHttpAuditOptions, resolveHttpAuditOptions } from './config.js';
import { createJwtVerifier, type JwtVerdict, type JwtVerifier } from './jwt-actor.js';
import { createFieldMasker, type FieldMasker } from './masking.js';
import { compileExtensionMatcher, compilePathMatcher, type PathMatcher } from './path-matcher.js';
import type { RequestAudit } from './request-audit.js';
import { parseTraceparent, pickRequestId } from './request-id.js';
import { createSampler, type Sampler } from './sampling.js';

/** What an adapter tells the core about its framework, for one request. */
export interface FrameworkBinding<Req> {
  /** The framework's request object, handed to the `actor`, `tenant` and `extra` callables. */
  req: Req;
  /** The matched route pattern (`/users/:id`), asked once the response is sent. */
  route(): string | undefined;
  /** The framework's user object (Passport `req.user`, ...), asked when the actor is resolved. */
  user(): unknown;
  /**
   * The framework answered before it made its own request object (Fastify's 400 for a malformed URL):
   * `req` is Node's, and the `actor`, `tenant` and `extra` callables, written for the framework's, are
   * not asked.
   */
  bare?: boolean;
  /** When the request arrived (`performance.now()`), for a capture begun after that. */
  startedAt?: number;
}

/**
 * The framework-neutral capture core shared by the Express, Fastify and Hono adapters. An adapter calls
 * `begin` for each request with Node's request/response objects, runs the app inside `capture.run`,
 * and reports thrown errors with `capture.error`; the core does everything else.
 */
export interface HttpAudit<Req> {
  readonly options: Readonly<ResolvedHttpAuditOptions>;
  readonly audit: Auditor;
  /** Starts capturing one request; undefined when the adapter is disabled. */
  begin(
    req: IncomingMessage,
    res: ServerResponse,
    binding: FrameworkBinding<Req>,
  ): HttpRequestCapture | undefined;
  /**
   * Resolves when every request begun so far has finished and handed its events to the auditor, except
   * `current` (the request calling, which cannot finish while it waits).
   */
  idle(current?: HttpRequestCapture): Promise<void>;
}

/** In-flight work per auditor, so `flushHttpAudit(audit)` can wait for all of it. */
const registry = new WeakMap<Auditor, Set<HttpAudit<unknown>>>();
const sinks = new WeakMap<Auditor, Set<AccessLogFile>>();
/**
 * The capture a request's context belongs to, so a handler calling `flushHttpAudit` does not wait on
 * itself. A symbol key on the context (copied into nested contexts) instead of a WeakMap entry per request.
 */
const CAPTURE = Symbol('auditkit.httpCapture');
type ContextWithCapture = AuditContext & { [CAPTURE]?: HttpRequestCapture };

/**
 * Waits until every request seen by an HTTP adapter of this auditor has finished and its events
 * (and error notices, and access-log lines) are handed over, then flushes the auditor. Use it in
 * graceful shutdown after `server.close()`, and in tests before reading events back.
 *
 * @example
 * server.close(); await flushHttpAudit(audit); await audit.close();
 */
export async function flushHttpAudit(audit: Auditor): Promise<void> {
  const current = (tryGetContext() as ContextWithCapture | undefined)?.[CAPTURE];
  for (const core of registry.get(audit) ?? []) await core.idle(current);
  await Promise.all([...(sinks.get(audit) ?? [])].map((s) => s.flush()));
  await audit.flush();
}

/** Creates the capture core for one adapter instance. Options are validated here (`invalid_config`). */
export function createHttpAudit<Req>(
  audit: Auditor,
  options: HttpAuditOptions<Req> = {},
  env: Record<string, string | undefined> = process.env,
): HttpAudit<Req> {
  if (!audit || typeof audit.record !== 'function' || typeof audit.runWithContext !== 'function') {
    throw new AuditkitError(
      'invalid_config',
      'The HTTP adapter needs an auditor: pass createAuditor(...) as `audit`.',
    );
  }
  const config = resolveHttpAuditOptions(options, env);
  const shared = buildShared(audit, config);
  // A count rather than a Set: adding each request's capture to a Set costs an identity hash per request.
  let inFlight = 0;
  let waiters: Array<{ wake: () => void; current: HttpRequestCapture | undefined }> = [];
  const isIdle = (current: HttpRequestCapture | undefined) =>
    inFlight === 0 || (inFlight === 1 && current !== undefined && current.inFlightWith(tracker));
  // One tracker per adapter instance, not a callback per request.
  const tracker: CaptureTracker = {
    settled() {
      inFlight -= 1;
      if (waiters.length === 0) return;
      const still = waiters.filter((w) => !isIdle(w.current));
      const ready = waiters.filter((w) => isIdle(w.current));
      waiters = still;
      for (const w of ready) w.wake();
    },
  };
  const core: HttpAudit<Req> = {
    options: config,
    audit,
    begin(req, res, binding) {
      if (!config.enabled) return undefined;
      const capture = new HttpRequestCapture(shared, tracker, req, res, binding as FrameworkBinding<unknown>);
      if (!capture.settled) inFlight += 1;
      return capture;
    },
    idle(current) {
      if (isIdle(current)) return Promise.resolve();
      return new Promise((wake) => waiters.push({ wake, current }));
    },
  };
  const cores = registry.get(audit) ?? new Set();
  registry.set(audit, cores);
  cores.add(core as HttpAudit<unknown>);
  return core;
}

/** Told when a capture has handed over all its events. */
interface CaptureTracker {
  settled(): void;
}

/** Everything compiled once per adapter instance and shared by its requests. */
interface Shared {
  audit: Auditor;
  /** The auditor's record path without input validation: events built here are valid by construction. */
  record: TrustedRecord;
  config: ResolvedHttpAuditOptions;
  limit: number;
  excluded: PathMatcher;
  excludedExtension: (path: string) => boolean;
  included: PathMatcher | undefined;
  skipBody: PathMatcher;
  login: PathMatcher;
  logout: PathMatcher;
  routeRules: boolean;
  clientIp: ReturnType<typeof createClientIpResolver>;
  masker: FieldMasker;
  headerMasker: FieldMasker;
  verifyJwt: JwtVerifier | undefined;
  sample: Sampler;
  notices: NotificationDispatcher | undefined;
  accessLog: AccessLogFile | undefined;
}

function buildShared(audit: Auditor, config: ResolvedHttpAuditOptions): Shared {
  let clientIp: Shared['clientIp'];
  try {
    clientIp = createClientIpResolver(config.trustProxy);
  } catch (error) {
    throw new AuditkitError('invalid_config', `Invalid HTTP audit options: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let accessLog: AccessLogFile | undefined;
  if (config.accessLog) {
    accessLog = createAccessLogFile({ ...config.accessLog, onError: (e) => audit.reportError(e, e.code) });
    const files = sinks.get(audit) ?? new Set();
    sinks.set(audit, files);
    files.add(accessLog);
  }
  return {
    audit,
    record: trustedRecorder(audit),
    config,
    limit: config.saveFullBody ? Number.POSITIVE_INFINITY : config.maxBodyLength,
    excluded: compilePathMatcher(config.excludePaths),
    excludedExtension: compileExtensionMatcher(config.excludeExtensions),
    included: config.includePaths.length > 0 ? compilePathMatcher(config.includePaths) : undefined,
    skipBody: compilePathMatcher(config.skipBodyFor),
    login: compilePathMatcher(config.loginPaths),
    logout: compilePathMatcher(config.logoutPaths),
    routeRules:
      config.excludePaths.length + config.includePaths.length + config.skipBodyFor.length > 0 ||
      config.loginPaths.length + config.logoutPaths.length > 0,
    clientIp,
    masker: createFieldMasker(audit.redactor, config.sensitiveFields),
    headerMasker: createFieldMasker(audit.redactor, config.sensitiveHeaders),
    verifyJwt: config.jwt ? createJwtVerifier(config.jwt) : undefined,
    sample: createSampler(config.sampling),
    notices: config.notify ? createNotificationDispatcher(config.notify) : undefined,
    accessLog,
  };
}

const LOGIN_IDENTIFIER_FIELDS = ['username', 'email', 'login', 'user', 'name'];

/**
 * One request being captured. Adapters hand it to apps as `RequestAudit`; the other members are for
 * adapters only.
 *
 * The common request (no JWT, no login/logout route, no failure, no async `tenant`) is recorded without
 * a single promise: on Node 20 every promise runs the AsyncLocalStorage hooks, and allocations are most
 * of what an audited request costs, so the path from 'close' to the writer's queue is synchronous.
 */
export class HttpRequestCapture implements RequestAudit {
  readonly requestId: string;
  private readonly started: number;
  private readonly method: string;
  private readonly path: string;
  private readonly queryString: string;
  private readonly excludedAtStart: boolean;
  private readonly requestTap: BodyTap | undefined;
  private readonly responseTap: ResponseTap | undefined;
  /** The request's audit context, made once and re-entered as is (never copied) by run/resume/finish. */
  private readonly context: ContextWithCapture;
  private explicitActor: ActorLike | null | undefined;
  private extras: Record<string, unknown> | undefined;
  private failureReason: string | undefined;
  private thrown: unknown;
  private skipped = false;
  private finished = false;
  private doneCalled = false;
  private jwtVerdict: Promise<JwtVerdict | undefined> | undefined;
  private tenantPending: Promise<void> | undefined;
  // What the response turned out to be, set when it is over.
  private durationMs = 0;
  private aborted = false;
  private status: number | undefined;
  private route: string | undefined;

  constructor(
    private readonly shared: Shared,
    private readonly tracker: CaptureTracker,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly binding: FrameworkBinding<unknown>,
  ) {
    const { config } = shared;
    this.started = binding.startedAt ?? performance.now();
    const headers = req.headers;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.queryString = q === -1 ? '' : url.slice(q + 1);
    this.requestId = pickRequestId(headers[config.requestIdHeader]);
    if (config.echoRequestId && !res.headersSent) res.setHeader(config.requestIdHeader, this.requestId);
    this.excludedAtStart =
      shared.excludedExtension(this.path) ||
      shared.excluded(this.path) ||
      (shared.included !== undefined && !shared.included(this.path));
    const bodies = !this.excludedAtStart && !shared.skipBody(this.path);
    this.requestTap = config.logRequestBody && bodies ? tapRequest(req, shared.limit) : undefined;
    this.responseTap =
      (config.logResponseBody && bodies) || !config.echoRequestId
        ? tapResponse(
            res,
            config.logResponseBody && bodies ? shared.limit : 0,
            !config.echoRequestId || res.headersSent,
          )
        : undefined;
    const trace = parseTraceparent(headers.traceparent);
    const userAgent = headers['user-agent'];
    this.context = createContext({
      actor: () => this.resolveDefaultActor(),
      requestId: this.requestId,
      traceId: trace?.traceId,
      spanId: trace?.spanId,
      ip: shared.clientIp(req.socket?.remoteAddress, headers['x-forwarded-for']),
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
      request: { id: this.requestId, method: this.method, path: this.path },
    });
    this.context[CAPTURE] = this;
    // 'close' follows 'finish' on every response, and is the only event an aborted one gets.
    res.on('close', () => this.finish());
    // A framework that starts us late (after the client left) would otherwise wait for a 'close' already gone.
    if (res.destroyed || res.writableFinished || req.socket?.destroyed) setImmediate(() => this.finish());
    if (config.tenant && !binding.bare) this.startTenant(config.tenant);
  }

  // ---- RequestAudit: the per-request API of apps ----

  extra(data: Record<string, unknown>): void {
    if (typeof data !== 'object' || data === null) return;
    this.extras = { ...this.extras, ...data };
  }

  actor(actor: ActorLike | null): void {
    this.explicitActor = actor;
  }

  tenant(value: string | null): void {
    // Events built here skip input validation (trusted-record.ts), so a JavaScript caller's number is made text.
    this.context.tenantId = value === null || typeof value === 'string' ? value : String(value);
  }

  reason(reason: string): void {
    this.failureReason = String(reason);
  }

  error(error: unknown): void {
    this.thrown ??= error ?? new Error('Unknown error');
  }

  skip(): void {
    this.skipped = true;
  }

  // ---- adapter API ----

  /**
   * Runs the app (`fn`) inside the request's audit context, once an async `tenant` callable has
   * answered. Auditing problems are reported, not thrown, unless the auditor has `raiseOnError`.
   */
  run<T>(fn: () => T): T | Promise<T> {
    if (this.tenantPending) return this.tenantPending.then(() => runInContext(this.context, fn));
    return runInContext(this.context, fn);
  }

  /**
   * Runs `fn` back inside the request's context, for frameworks that lose it between hooks (Fastify
   * after body parsing). The same context object is re-entered, so what the app changed in it stays.
   */
  resume<T>(fn: () => T): T {
    return runInContext(this.context, fn);
  }

  /** True once the request's events are handed over (or it will never have any). */
  get settled(): boolean {
    return this.doneCalled;
  }

  /** True while this request, begun by the adapter of `tracker`, has not handed over its events. */
  inFlightWith(tracker: CaptureTracker): boolean {
    return this.tracker === tracker && !this.doneCalled;
  }

  // ---- internals ----

  private startTenant(tenant: (req: unknown) => unknown): void {
    const raise = this.shared.audit.options.raiseOnError;
    const failed = (error: unknown) => {
      const wrapped = toAuditkitError(error, 'tenant_resolution_failed', 'The tenant callable failed');
      if (raise) return wrapped;
      this.shared.audit.reportError(wrapped, wrapped.code);
      return undefined;
    };
    let value: unknown;
    try {
      value = tenant(this.binding.req);
    } catch (error) {
      // With raiseOnError the failure reaches the app through run(), which chains on this at once.
      const raised = failed(error);
      if (raised) this.tenantPending = Promise.reject(raised);
      return;
    }
    if (value instanceof Promise) {
      this.tenantPending = value.then(
        (v) => this.applyTenant(v),
        (error: unknown) => {
          const raised = failed(error);
          if (raised) throw raised;
        },
      );
    } else this.applyTenant(value);
  }

  private applyTenant(value: unknown): void {
    if (typeof value === 'string' || value === null) this.tenant(value);
  }

  private verdict(): Promise<JwtVerdict | undefined> {
    if (!this.shared.verifyJwt) return Promise.resolve(undefined);
    this.jwtVerdict ??= this.shared.verifyJwt(this.req.headers.authorization);
    return this.jwtVerdict;
  }

  /**
   * The default actor chain: `req.audit.actor(...)`, the `actor` callable, a verified JWT, the framework
   * user. Synchronous when neither the callable nor a JWT has to be asked (no promise on the hot path).
   */
  private resolveDefaultActor(): ActorLike | null | undefined | Promise<ActorLike | null | undefined> {
    if (this.explicitActor !== undefined) return this.explicitActor;
    if ((this.shared.config.actor && !this.binding.bare) || this.shared.verifyJwt) {
      return this.resolveActorAsync();
    }
    return actorFromUser(this.binding.user());
  }

  private async resolveActorAsync(): Promise<ActorLike | null | undefined> {
    if (this.explicitActor !== undefined) return this.explicitActor;
    const { config } = this.shared;
    if (config.actor && !this.binding.bare) {
      const actor = await config.actor(this.binding.req);
      if (actor) return actor;
    }
    if (this.shared.verifyJwt) {
      const verdict = await this.verdict();
      if (verdict?.ok) {
        if (verdict.tenantId !== undefined && this.context.tenantId === undefined) {
          this.context.tenantId = verdict.tenantId;
        }
        return verdict.actor;
      }
    }
    return actorFromUser(this.binding.user());
  }

  /** Records the request's events once its response is over; never throws, never rejects. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    let pending: Promise<void> | undefined;
    try {
      // 'close' may fire outside the request's async context (Hono writes after the middleware returned).
      pending = runInContext(this.context, HttpRequestCapture.recordEventsOf, this);
    } catch (error) {
      this.shared.audit.reportError(error, 'http_capture_failed');
    }
    if (pending === undefined) this.settle();
    else {
      pending.then(
        () => this.settle(),
        (error: unknown) => {
          this.shared.audit.reportError(error, 'http_capture_failed');
          this.settle();
        },
      );
    }
  }

  private static recordEventsOf(capture: HttpRequestCapture): Promise<void> | undefined {
    return capture.recordEvents();
  }

  private settle(): void {
    this.doneCalled = true;
    this.tracker.settled();
  }

  /** Notes how the response ended, then records; a promise only when something had to be awaited. */
  private recordEvents(): Promise<void> | undefined {
    const { res, shared } = this;
    this.durationMs = Math.round((performance.now() - this.started) * 1000) / 1000;
    this.aborted = !res.writableFinished;
    this.status = res.headersSent || !this.aborted ? res.statusCode : undefined;
    try {
      this.route = this.binding.route();
    } catch {
      this.route = undefined;
    }
    // Our own object (made in the constructor): events recorded later in this context see the route too.
    if (this.context.request) this.context.request.route = this.route;

    // Late tenant: the callable may only know it once authentication has run.
    const { tenant } = shared.config;
    if (tenant && this.context.tenantId === undefined && !this.binding.bare) {
      const late = this.lateTenant(tenant);
      if (late) return late.then(() => this.recordAll());
    }
    return this.recordAll();
  }

  private lateTenant(tenant: (req: unknown) => unknown): Promise<void> | undefined {
    const failed = (error: unknown) =>
      this.shared.audit.reportError(
        toAuditkitError(error, 'tenant_resolution_failed', 'The tenant callable failed'),
      );
    const apply = (value: unknown) => {
      if (typeof value === 'string') this.context.tenantId = value;
    };
    let value: unknown;
    try {
      value = tenant(this.binding.req);
    } catch (error) {
      failed(error);
      return undefined;
    }
    if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
      return Promise.resolve(value).then(apply, failed);
    }
    apply(value);
    return undefined;
  }

  private recordAll(): Promise<void> | undefined {
    const { shared, path, route, status, aborted } = this;
    // Start verifying the token even when another source names the actor, so a bad token is still audited.
    if (shared.verifyJwt) void this.verdict();
    const isLogin = shared.login(path, route);
    const isLogout = !isLogin && shared.logout(path, route);
    // A thrown error the framework answered with a 4xx (invalid JSON, validation) is the client's, not ours.
    const clientError = status !== undefined && status >= 400 && status < 500;
    const failed =
      (this.thrown !== undefined && !clientError && !aborted) || (status !== undefined && status >= 500);
    const excluded =
      this.excludedAtStart ||
      (shared.routeRules &&
        route !== undefined &&
        (shared.excluded(path, route) || (shared.included !== undefined && !shared.included(path, route))));
    const keep =
      !excluded &&
      !this.skipped &&
      (failed || aborted || isLogin || isLogout || (status !== undefined && status >= 400)
        ? true
        : shared.sample(this.method, status ?? 0, this.requestId));
    if (isLogin || isLogout || failed || shared.verifyJwt) {
      return this.recordSeveral(keep, isLogin, isLogout, failed);
    }
    // The common case: one access event, whose actor the auditor resolves from the context.
    if (!keep) return undefined;
    return this.record(this.accessInput(undefined, this.describeRequestBody()), true);
  }

  /** Login/logout routes, failures and JWTs: several events sharing one resolved actor, awaited in turn. */
  private async recordSeveral(keep: boolean, isLogin: boolean, isLogout: boolean, failed: boolean) {
    const { shared, status, aborted } = this;
    let requestBody: unknown;
    if (keep || isLogin) requestBody = this.describeRequestBody();
    const actor = isLogin || isLogout || failed ? await this.resolveActorForEvents() : undefined;
    const records: Array<Promise<void> | undefined> = [];
    if (keep) records.push(this.record(this.accessInput(actor, requestBody), true));
    if (isLogin || isLogout) {
      records.push(this.record(this.authInput(isLogin, status, aborted, actor, requestBody)));
    }
    if (shared.verifyJwt && this.jwtVerdict) {
      const verdict = await this.jwtVerdict;
      if (verdict && !verdict.ok) {
        records.push(
          this.record({
            category: 'auth',
            action: 'token.rejected',
            outcome: 'failure',
            actor,
            target: this.target(),
            request: this.summary(),
            reason: verdict.reason,
            message: verdict.message,
          }),
        );
      }
    }
    // An error captureErrors recorded on its way out of the route has its event (with this request's id).
    if (failed && !errorWasRecorded(this.thrown)) records.push(this.recordError(actor));
    await Promise.all(records);
  }

  /** The route acted on: a fresh object per event (events never share a nested object). */
  private target(): { type: string; id: string } {
    return { type: 'route', id: `${this.method} ${this.route ?? this.path}` };
  }

  /** The request summary auth and error events carry. */
  private summary(): RequestInfo {
    return {
      id: this.requestId,
      method: this.method,
      path: this.path,
      route: this.route,
      status: this.status,
    };
  }

  private accessInput(actor: Actor | undefined, requestBody: unknown): AuditEventInput {
    const { shared, aborted } = this;
    const { config } = shared;
    const outcome = aborted ? 'failure' : outcomeOf(this.status, this.thrown);
    // One literal, no spread: the redactor copies it (and drops what is undefined) anyway.
    const request: RequestInfo = {
      id: this.requestId,
      method: this.method,
      path: this.path,
      route: this.route,
      status: this.status,
      durationMs: this.durationMs,
      query: this.queryString ? this.parseQuery() : undefined,
      headers: shared.headerMasker.maskValue(this.req.headers) as Record<string, unknown>,
      responseHeaders: this.responseHeaders(),
      body: config.logRequestBody ? requestBody : undefined,
      responseBody: config.logResponseBody ? this.describeResponseBody() : undefined,
    };
    return {
      category: 'access',
      action: 'http.request',
      outcome,
      actor,
      target: this.target(),
      request,
      reason: aborted ? 'client_aborted' : outcome === 'success' ? undefined : this.failureReason,
      metadata: this.accessMetadata(aborted),
    };
  }

  private async resolveActorForEvents(): Promise<Actor> {
    const { context } = this;
    try {
      // Passed explicitly to every event of the request; the auditor adds ip and user agent from the context.
      const actor: Actor = (await resolveActor(context.actor as ActorSource)) ?? { type: 'anonymous' };
      if (context.ip !== undefined) actor.ip ??= context.ip;
      if (context.userAgent !== undefined) actor.userAgent ??= context.userAgent;
      return actor;
    } catch (error) {
      this.shared.audit.reportError(error, 'actor_resolution_failed');
      return { type: 'anonymous' };
    }
  }

  private describeRequestBody(): unknown {
    const { route } = this;
    if (!this.requestTap || (route !== undefined && this.shared.skipBody(this.path, route))) return undefined;
    const h = this.req.headers;
    return describeBody({
      tap: this.requestTap,
      contentType: h['content-type'],
      contentEncoding: h['content-encoding'],
      masker: this.shared.masker,
    });
  }

  private describeResponseBody(): unknown {
    const { responseTap: tap, route } = this;
    if (!tap || (route !== undefined && this.shared.skipBody(this.path, route))) return undefined;
    return describeBody({
      tap,
      contentType: this.responseHeader('content-type'),
      contentEncoding: this.responseHeader('content-encoding'),
      streamed: tap.writes > 1 && this.responseHeader('content-length') === undefined,
      masker: this.shared.masker,
    });
  }

  private responseHeader(name: string): string | undefined {
    const value = this.res.getHeader(name) ?? this.responseTap?.writeHeadHeaders?.[name];
    return value === undefined ? undefined : String(value);
  }

  private parseQuery(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(this.queryString)) appendField(out, key, value);
    return this.shared.masker.maskValue(out) as Record<string, unknown>;
  }

  private responseHeaders(): Record<string, unknown> {
    const set = this.res.getHeaders();
    const given = this.responseTap?.writeHeadHeaders;
    const headers: Record<string, unknown> = given ? { ...given, ...set } : set;
    return this.shared.headerMasker.maskValue(headers) as Record<string, unknown>;
  }

  /** The app's extras and the `extra` callable's, merged; the auditor copies them into the event. */
  private accessMetadata(aborted: boolean): Record<string, unknown> | undefined {
    let metadata = this.extras;
    const { extra } = this.shared.config;
    if (extra && !this.binding.bare) {
      try {
        const more = extra(this.binding.req);
        if (more && typeof more === 'object') metadata = { ...metadata, ...more };
      } catch (error) {
        this.shared.audit.reportError(toAuditkitError(error, 'extra_failed', 'The extra callable failed'));
      }
    }
    if (aborted) metadata = { ...metadata, aborted: true };
    return metadata;
  }

  private authInput(
    isLogin: boolean,
    status: number | undefined,
    aborted: boolean,
    actor: Actor | undefined,
    body: unknown,
  ): AuditEventInput {
    let outcome: Outcome;
    let reason = this.failureReason;
    if (aborted) {
      outcome = 'failure';
      reason = 'client_aborted';
    } else if ((status ?? 500) >= 500) {
      outcome = 'error';
      reason ??= 'server_error';
    } else if ((status as number) >= 400) {
      outcome = 'failure';
      reason ??= status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : `http_${status}`;
    } else {
      outcome = 'success';
      reason = undefined;
    }
    let who = actor;
    if (isLogin && (!who || who.type === 'anonymous')) {
      const identifier = loginIdentifier(body);
      if (identifier) who = { ...(who ?? { type: 'anonymous' }), label: identifier };
    }
    return {
      category: 'auth',
      action: isLogin ? 'user.login' : 'user.logout',
      outcome,
      actor: who,
      target: who?.id ? { type: 'user', id: who.id, label: who.label } : undefined,
      request: this.summary(),
      reason,
    };
  }

  private async recordError(actor: Actor | undefined): Promise<void> {
    const request = this.summary();
    const error = this.thrown;
    const details = error === undefined ? undefined : errorDetails(error);
    const message = details?.message ?? `HTTP ${request.status ?? 500}`;
    const input: AuditEventInput = {
      id: newEventId(),
      occurredAt: new Date(),
      category: 'error',
      action: 'http.error',
      outcome: 'error',
      actor,
      target: this.target(),
      request,
      message,
      reason: this.failureReason ?? details?.name ?? 'server_error',
      metadata: details ? { error: details } : undefined,
    };
    const { notices } = this.shared;
    if (notices) {
      const notification = await notices.dispatch(this.notice(input));
      input.metadata = { ...input.metadata, notification: notificationSummary(notification) };
    }
    await this.record(input);
  }

  private notice(input: AuditEventInput) {
    const masked = this.shared.audit.redactor.redactValue(input) as AuditEventInput & {
      occurredAt: string;
      metadata?: { error?: NoticeEvent['error'] };
    };
    const event: NoticeEvent = {
      id: masked.id as string,
      occurredAt: masked.occurredAt,
      action: masked.action,
      message: masked.message,
      tenantId: this.context.tenantId ?? null,
      requestId: this.requestId,
      request: masked.request,
      actor: masked.actor,
      error: masked.metadata?.error,
    };
    const where =
      `${event.request?.method ?? ''} ${event.request?.route ?? event.request?.path ?? ''}`.trim();
    const subject = `[auditkit] ${where} failed: ${event.message ?? 'error'}`.slice(0, 200);
    const text = [
      `${where} failed with status ${event.request?.status ?? 'unknown'}.`,
      `Message: ${event.message ?? ''}`,
      `When: ${event.occurredAt}`,
      `Request id: ${event.requestId}`,
      `Event id: ${event.id}`,
      `Tenant: ${event.tenantId ?? '-'}`,
      `Actor: ${event.actor ? `${event.actor.type}${event.actor.id ? `:${event.actor.id}` : ''}` : '-'}`,
      event.error?.stack ? `\n${event.error.stack}` : '',
    ].join('\n');
    return { subject, text, event };
  }

  /**
   * Hands one event to the auditor; the access event also goes to the access-log file. Never throws or
   * rejects; returns a promise only when the auditor did not take the event at once (sync mode).
   */
  private record(input: AuditEventInput, accessLog = false): Promise<void> | undefined {
    let recorded: AuditEvent | Promise<AuditEvent>;
    try {
      recorded = this.shared.record(input as ParsedAuditEventInput);
    } catch (error) {
      this.shared.audit.reportError(error);
      return undefined;
    }
    if (typeof (recorded as Partial<PromiseLike<AuditEvent>>).then === 'function') {
      return Promise.resolve(recorded).then(
        (event) => this.recorded(event, accessLog),
        (error: unknown) => this.shared.audit.reportError(error),
      );
    }
    this.recorded(recorded as AuditEvent, accessLog);
    return undefined;
  }

  private recorded(event: AuditEvent, accessLog: boolean): void {
    const sink = this.shared.accessLog;
    if (!accessLog || !sink) return;
    try {
      sink.write(event);
    } catch (error) {
      this.shared.audit.reportError(error);
    }
  }
}

function outcomeOf(status: number | undefined, thrown: unknown): Outcome {
  if (status === undefined || status >= 500) return 'error';
  if (status === 401 || status === 403) return 'denied';
  if (status >= 400) return 'failure';
  return thrown === undefined ? 'success' : 'error';
}

function errorDetails(error: unknown): { name: string; message: string; stack?: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    };
  }
  return { name: 'NonError', message: typeof error === 'string' ? error : safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function notificationSummary(result: NotificationResult): Record<string, unknown> {
  return result.reason ? { ...result } : { sent: result.sent, deliveries: result.deliveries };
}

function loginIdentifier(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  for (const field of LOGIN_IDENTIFIER_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value === 'string' && value !== '' && value !== '[REDACTED]') return value.slice(0, 200);
  }
  return undefined;
}
