import {
  type HistoryEntry,
  type HistoryOptions,
  type HistoryTarget,
  iterateHistory,
  readHistory,
} from '../changes/history/history.js';
import { type RecordVersion, versionAt } from '../changes/history/version-at.js';
import { forceLog, withoutAuditing } from '../changes/scope.js';
import {
  type TransactionClient,
  type TransactionOf,
  withTransactionContext,
} from '../changes/triggers/transaction-context.js';
import { type CaptureErrorsOptions, createErrorLog, type ErrorLog } from '../errors-log/error-log.js';
import { type AuditorIntegrity, createAuditorIntegrity } from '../integrity/auditor-integrity.js';
import { createAsyncWriter, journalDirFor, WRITE_ACCEPTED } from '../pipeline/async-writer.js';
import { createFileSpool } from '../pipeline/spool/file-spool.js';
import type { Spool } from '../pipeline/spool/spool.js';
import { createSyncWriter } from '../pipeline/sync-writer.js';
import type { EventWriter, WriterStats } from '../pipeline/writer.js';
import { createProcesses, type Processes, type RunProcess } from '../process/processes.js';
import { createSecurityEvents, type SecurityEvents } from '../security/security-events.js';
import type { AuditPage, AuditQuery, AuditStore } from '../store/store.js';
import { type AuditorOptions, type ResolvedAuditorOptions, resolveAuditorOptions } from './config.js';
import {
  type ActorLike,
  type ActorSource,
  type AuditContext,
  type AuditContextInput,
  normaliseActor,
  runWithContext,
  tryGetContext,
} from './context.js';
import { defaultStore } from './default-store.js';
import { AuditkitError, toAuditkitError } from './errors.js';
import {
  type Actor,
  type AuditEvent,
  type AuditEventInput,
  auditEventInputSchema,
  describeIssues,
  type ParsedAuditEventInput,
} from './event.js';
import { newEventId } from './ids.js';
import { createRedactor, type Redactor } from './redact.js';
import { RECORD_TRUSTED, type TrustedRecord } from './trusted-record.js';

/**
 * The object apps hold: records events, carries context, reads them back; on SQL stores it also seals,
 * verifies, proves, cleans up and erases (see {@link AuditorIntegrity}).
 */
export interface Auditor extends AuditorIntegrity {
  /**
   * Records one event. Invalid input throws `invalid_event` synchronously (a programming error); every
   * other failure goes to `onError` unless `raiseOnError` is set. Resolves with the event as stored.
   */
  record(input: AuditEventInput): Promise<AuditEvent>;
  /** Runs `fn` with an audit context: every event inside carries its actor, tenant and request ids. */
  runWithContext<T>(context: AuditContextInput, fn: () => T): T;
  /** Sets the actor of the running context (for example once authentication has happened). */
  setActor(actor: ActorSource): void;
  /** The running context, if any. */
  context(): AuditContext | undefined;
  /** Acts as a named actor outside any request, e.g. a job: `audit.as({ type: 'service', id: 'sync' }, fn)`. */
  as<T>(actor: ActorLike, fn: () => T): T;
  /** Typed security events with a fixed vocabulary: `audit.security.passwordChanged({ user: 'u1' })`. */
  readonly security: SecurityEvents;
  /** Runs a business process and its steps: `audit.process('user.registration', { subject }, async (p) => ...)`. */
  process: RunProcess;
  /** Processes that span requests, by id: `start`, `step`, `startStep`, `finishStep`, `finish`, `get`. */
  readonly processes: Processes;
  /**
   * Runs `fn`; when it throws (or its promise rejects), records an `error` event with the message, error
   * class, stack, context and request, sends a notice when `notify` is set, and rethrows the error unchanged.
   */
  captureErrors<T>(fn: () => T, options?: CaptureErrorsOptions): T;
  /** The failed-action log's notices: `list({ unsent: true })`, `retryUnsent()`. */
  readonly errors: ErrorLog;
  /** Creates or upgrades the store schema. */
  migrate(): Promise<void>;
  query(query?: AuditQuery): Promise<AuditPage>;
  get(id: string): Promise<AuditEvent | null>;
  /**
   * Runs `fn` with app-level change capture off (a bulk import): its inserts, updates and deletes leave
   * no `change` event, except deletes under `forceLog`. Other events are recorded as usual.
   */
  withoutAuditing<T>(fn: () => T): T;
  /** Runs `fn` with change capture on even inside `withoutAuditing`: `audit.forceLog(() => deleteUser(id))`. */
  forceLog<T>(fn: () => T): T;
  /** The timeline of one record, oldest first, each entry with actor, request and diff: `{ type: 'orders', id: '42' }`. */
  history(target: HistoryTarget, options?: HistoryOptions): Promise<HistoryEntry[]>;
  /** The same timeline as an async iterator holding at most two pages in memory (long histories). */
  iterateHistory(
    target: HistoryTarget,
    options?: HistoryOptions,
  ): AsyncGenerator<HistoryEntry, void, undefined>;
  /** The record as it was at `at`, rebuilt from its change events; null when it did not exist then. */
  versionAt(type: string, id: string, at: Date | string): Promise<RecordVersion | null>;
  /** Resolves when everything recorded so far is stored (or durably spooled while the store is down). */
  flush(): Promise<void>;
  /** Flushes, then releases the store and the spool. */
  close(): Promise<void>;
  stats(): AuditorStats;
  readonly store: AuditStore;
  readonly redactor: Redactor;
  readonly options: Readonly<ResolvedAuditorOptions>;
  /** Reports an error the way the auditor does (onError, logger, counters); for adapters. */
  reportError(error: unknown, code?: string): void;
  /**
   * Runs `fn` in a database transaction whose changes the audit triggers (trigger mode) record with
   * the running context: `set_config('auditkit.context', <json>, true)`, actor resolved now. Owns the
   * transaction for a `pg` client outside one, a `pg.Pool` and a PGlite database; only sets the
   * context inside one (a PGlite transaction, `ExecuteSql`, `fromKysely(trx)`). See `auditkit/triggers`.
   *
   * @example
   * await audit.withTransactionContext(pool, (client) => client.query('DELETE FROM users WHERE id = $1', [id]));
   */
  withTransactionContext<C extends TransactionClient, T>(
    client: C,
    fn: (tx: TransactionOf<C>) => Promise<T>,
  ): Promise<T>;
}

export interface AuditorStats extends WriterStats {
  /** Errors reported through onError since start. */
  errors: number;
  lastError: { code: string; message: string; at: Date } | null;
}

/**
 * Creates an auditor.
 *
 * @example
 * const audit = createAuditor({ store: pgliteStore({ dataDir: './audit-data' }) });
 * await audit.migrate();
 * await audit.record({ category: 'custom', action: 'report.exported', target: { type: 'report', id: '42' } });
 */
export function createAuditor(options: AuditorOptions = {}): Auditor {
  const config = resolveAuditorOptions(options);
  const store = config.store ?? defaultStore();
  const redactor: Redactor =
    config.redact && 'redactEvent' in config.redact ? config.redact : createRedactor(config.redact ?? {});
  let errors = 0;
  let lastError: AuditorStats['lastError'] = null;
  let closed = false;

  const reportError = (error: unknown, code = 'write_failed') => {
    const wrapped = toAuditkitError(error, code, 'Audit write failed');
    errors += 1;
    lastError = { code: wrapped.code, message: wrapped.message, at: new Date() };
    try {
      config.logger?.error({ err: wrapped, code: wrapped.code }, wrapped.message);
      config.onError?.(wrapped);
    } catch {
      // A throwing hook must not turn an audit problem into an app crash.
    }
  };
  const onError = (error: AuditkitError) => reportError(error, error.code);

  const spool: Spool | null =
    config.spool === false ? null : createFileSpool({ dir: config.spool.dir, onError });
  const writer: EventWriter =
    config.mode === 'sync'
      ? createSyncWriter({ store, retry: config.retry, spool, onError, raiseOnError: config.raiseOnError })
      : createAsyncWriter({
          store,
          batchSize: config.batchSize,
          flushIntervalMs: config.flushIntervalMs,
          maxQueueSize: config.maxQueueSize,
          retry: config.retry,
          spool,
          journalDir: config.journal && config.spool !== false ? journalDirFor(config.spool.dir) : null,
          onError,
          raiseOnError: config.raiseOnError,
        });

  /** One new object for the event, with only the fields that have a value (no spread copies). */
  const buildEvent = (
    input: ParsedAuditEventInput,
    context: AuditContext | undefined,
    actor: Actor,
  ): AuditEvent => {
    const event: AuditEvent = {
      id: input.id ?? newEventId(),
      occurredAt: input.occurredAt ?? new Date(),
      category: input.category,
      action: input.action,
      outcome: input.outcome ?? 'success',
      tenantId:
        input.tenantId !== undefined ? input.tenantId : (context?.tenantId ?? config.tenantId ?? null),
      actor,
    };
    if (input.target !== undefined) event.target = input.target;
    if (input.changes !== undefined) event.changes = input.changes;
    const request = input.request ?? (context?.request ? contextRequest(context) : undefined);
    if (request !== undefined) event.request = request;
    const correlation = correlationOf(context, input.correlation);
    if (correlation !== undefined) event.correlation = correlation;
    if (input.reason !== undefined) event.reason = input.reason;
    if (input.message !== undefined) event.message = input.message;
    if (context?.metadata || input.metadata) event.metadata = { ...context?.metadata, ...input.metadata };
    if (input.idempotencyKey !== undefined) event.idempotencyKey = input.idempotencyKey;
    return event;
  };

  const record = (input: AuditEventInput): Promise<AuditEvent> => {
    if (closed)
      throw new AuditkitError('closed', 'This auditor is closed; create a new one to record more events.');
    const parsed = auditEventInputSchema.safeParse(input);
    if (!parsed.success) {
      const fields = describeIssues(parsed.error);
      throw new AuditkitError('invalid_event', `Invalid audit event: ${fields.join('; ')}`, {
        details: { fields },
      });
    }
    return accept(parsed.data);
  };

  const accept = (input: ParsedAuditEventInput): Promise<AuditEvent> => {
    try {
      const accepted = acceptNow(input);
      return accepted instanceof Promise ? accepted : Promise.resolve(accepted);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  /**
   * Builds, redacts and queues a validated input, and returns the stored event itself when the actor was
   * synchronous and the writer took the event at once: no promise at all on that path, since on Node 20
   * every promise runs the AsyncLocalStorage hooks. May throw (callers turn that into a rejection).
   */
  const acceptNow = (input: ParsedAuditEventInput): AuditEvent | Promise<AuditEvent> => {
    const context = tryGetContext();
    const actor = eventActor(input.actor, context, reportError);
    return actor instanceof Promise
      ? actor.then((resolved) => commit(buildEvent(input, context, resolved)))
      : commit(buildEvent(input, context, actor));
  };
  const commit = (built: AuditEvent): AuditEvent | Promise<AuditEvent> => {
    const event = redactor.redactEvent(built);
    let written: Promise<void>;
    try {
      written = writer.write(event);
    } catch (error) {
      written = Promise.reject(error);
    }
    if (written === WRITE_ACCEPTED) return event;
    return written.then(
      () => event,
      (error: unknown) => {
        if (config.raiseOnError) throw toAuditkitError(error, 'write_failed', 'Audit write failed');
        reportError(error);
        return event;
      },
    );
  };
  // Adapters' events are valid by construction: they skip validation, never redaction (trusted-record.ts).
  const recordTrusted: TrustedRecord = (input) => {
    if (closed)
      throw new AuditkitError('closed', 'This auditor is closed; create a new one to record more events.');
    return acceptNow(input);
  };

  const integrity = createAuditorIntegrity(
    { store, record, reportError },
    config.integrity,
    config.retention,
  );
  integrity.start();

  const security = createSecurityEvents({
    record,
    reportError,
    context: tryGetContext,
    tenantsOf: config.tenantsOf,
  });
  const processes = createProcesses({
    record,
    reportError,
    context: tryGetContext,
    runWithContext,
    query: (query) => store.query(query),
    flush: () => writer.flush(),
  });
  const errorLog = createErrorLog({
    record,
    reportError,
    query: (query) => store.query(query),
    flush: () => writer.flush(),
    notify: config.notify,
  });

  const auditor: Auditor = {
    record,
    runWithContext: (context, fn) => runWithContext(context, fn),
    setActor(actor) {
      const context = tryGetContext();
      if (!context) {
        reportError(
          new AuditkitError(
            'no_context',
            'setActor() was called outside runWithContext(); the actor was not set.',
          ),
          'no_context',
        );
        return;
      }
      context.actor = actor;
    },
    context: tryGetContext,
    as: (actor, fn) => runWithContext({ actor }, fn),
    security,
    process: processes.run,
    processes,
    captureErrors: errorLog.capture,
    errors: errorLog.errors,
    migrate: () => store.migrate(),
    query: (query) => store.query(query),
    get: (id) => store.get(id),
    withoutAuditing,
    forceLog,
    history: (target, options) => readHistory(store, target, options),
    iterateHistory: (target, options) => iterateHistory(store, target, options),
    versionAt: (type, id, at) => versionAt(store, { type, id }, at),
    // Notices in flight record their outcome first, so what flush() promises covers those events too.
    flush: () => errorLog.settle().then(() => writer.flush()),
    async close() {
      if (closed) return;
      await errorLog.settle();
      if (closed) return;
      closed = true;
      try {
        await integrity.stop();
        await writer.close();
      } finally {
        await store.close();
      }
    },
    stats: () => ({ ...writer.stats(), errors, lastError }),
    seal: integrity.seal,
    verify: integrity.verify,
    proof: integrity.proof,
    cleanup: integrity.cleanup,
    erase: integrity.erase,
    store,
    redactor,
    options: config,
    reportError,
    withTransactionContext: (client, fn) => withTransactionContext(auditor, client, fn),
  };
  Object.defineProperty(auditor, RECORD_TRUSTED, { value: recordTrusted });
  return auditor;
}

/**
 * The explicit actor, else the context's (resolved now), else anonymous in a context or system outside one.
 * Synchronous when the context's actor source is (a value, or a function returning one).
 */
function eventActor(
  explicit: Actor | undefined,
  context: AuditContext | undefined,
  reportError: (error: unknown, code?: string) => void,
): Actor | Promise<Actor> {
  // An explicit actor may be shared by several events (an adapter's), so it is copied before adding to it.
  if (explicit || context?.actor === undefined) return withClient(explicit, context, false);
  const failed = (error: unknown) => {
    reportError(error, 'actor_resolution_failed');
    return withClient(undefined, context, true);
  };
  let value: unknown;
  try {
    const source = context.actor;
    value = typeof source === 'function' ? source() : source;
  } catch (error) {
    return failed(error);
  }
  if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
    return Promise.resolve(value as PromiseLike<ActorLike | null | undefined>).then(
      (resolved) => withClient(normaliseActor(resolved), context, true),
      failed,
    );
  }
  try {
    return withClient(normaliseActor(value as ActorLike | null | undefined), context, true);
  } catch (error) {
    return failed(error);
  }
}

/**
 * Defaults the actor and adds the context's client details (ip, user agent, session). `fresh` says the
 * actor was made for this event (by normaliseActor), so it is completed in place instead of copied.
 */
function withClient(found: Actor | undefined, context: AuditContext | undefined, fresh: boolean): Actor {
  if (!context) return found ?? { type: 'system' };
  const actor: Actor = found === undefined ? { type: 'anonymous' } : fresh ? found : { ...found };
  if (context.ip !== undefined) actor.ip ??= context.ip;
  if (context.userAgent !== undefined) actor.userAgent ??= context.userAgent;
  if (context.sessionId !== undefined) actor.sessionId ??= context.sessionId;
  return actor;
}

/** The context's request summary as an event's `request`, its id defaulting to the context's request id. */
function contextRequest(context: AuditContext): AuditEvent['request'] {
  const source = context.request as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in source) {
    const v = source[key];
    if (v === undefined || !Object.hasOwn(source, key)) continue;
    out[key] = v;
    kept += 1;
  }
  if (out.id === undefined && context.requestId !== undefined) {
    out.id = context.requestId;
    kept += 1;
  }
  return kept === 0 ? undefined : (out as AuditEvent['request']);
}

const CONTEXT_CORRELATION = [
  'requestId',
  'traceId',
  'spanId',
  'correlationId',
  'processId',
  'stepId',
] as const;

/** The context's ids overridden by the input's (an input field set to undefined removes it); undefined when none. */
function correlationOf(
  context: AuditContext | undefined,
  input: Record<string, unknown> | undefined,
): AuditEvent['correlation'] {
  let out: Record<string, unknown> | undefined;
  if (context) {
    for (const key of CONTEXT_CORRELATION) {
      const v = context[key];
      if (v === undefined) continue;
      out ??= {};
      out[key] = v;
    }
  }
  if (input) {
    for (const key in input) {
      if (!Object.hasOwn(input, key)) continue;
      const v = input[key];
      if (v !== undefined) {
        out ??= {};
        out[key] = v;
      } else if (out && key in out) out = withoutEmpty({ ...out, [key]: undefined });
    }
  }
  return out as AuditEvent['correlation'];
}

/** Drops undefined fields and empty objects so stored events stay small and compare cleanly. */
function withoutEmpty<T extends Record<string, unknown>>(value: T): T | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in value) {
    const v = value[key];
    if (v === undefined || !Object.hasOwn(value, key)) continue;
    out[key] = v;
    kept += 1;
  }
  return kept === 0 ? undefined : (out as T);
}
