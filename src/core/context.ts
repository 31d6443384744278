import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditkitError } from './errors.js';
import { ACTOR_TYPES, type Actor, type ActorType, type RequestInfo } from './event.js';

/** An actor as apps naturally have it: a full actor, a partial one (`{ id, label }` means a user), or a user id. */
export type ActorLike = Partial<Actor> | string;

/**
 * Where the actor comes from. A function or promise is resolved when an event is written, not when the
 * context starts, because authentication often completes later (inside a GraphQL resolver, say).
 */
export type ActorSource =
  | ActorLike
  | null
  | undefined
  | Promise<ActorLike | null | undefined>
  | (() => ActorLike | null | undefined | Promise<ActorLike | null | undefined>);

/** What `runWithContext` accepts. Every field is optional; nested contexts inherit from their parent. */
export interface AuditContextInput {
  actor?: ActorSource;
  tenantId?: string | null;
  requestId?: string;
  traceId?: string;
  spanId?: string;
  correlationId?: string;
  processId?: string;
  stepId?: string;
  /** Client details merged into the actor of every event in this context. */
  ip?: string;
  userAgent?: string;
  sessionId?: string;
  /** The request that caused this work; events other than access events carry its summary. */
  request?: Pick<RequestInfo, 'id' | 'method' | 'path' | 'route'>;
  /** Merged into the metadata of every event in this context. */
  metadata?: Record<string, unknown>;
}

/** The live context of the current async call chain. Mutable through `setActor` and adapters. */
export interface AuditContext extends AuditContextInput {
  /** Set by `withoutAuditing`-style helpers of capture modules. */
  readonly flags: Record<string, unknown>;
}

// One storage per process, even if two copies of this module are loaded, so every part sees one context.
const STORAGE_KEY = Symbol.for('auditkit.context.storage');
const globalRef = globalThis as typeof globalThis & { [STORAGE_KEY]?: AsyncLocalStorage<AuditContext> };
const storage: AsyncLocalStorage<AuditContext> =
  globalRef[STORAGE_KEY] ?? new AsyncLocalStorage<AuditContext>();
globalRef[STORAGE_KEY] = storage;

/**
 * Runs `fn` with an audit context; events recorded anywhere inside carry its actor, tenant and ids.
 *
 * @example
 * await runWithContext({ actor: () => req.user, tenantId: 'org_1', requestId }, () => handle(req));
 */
export function runWithContext<T>(input: AuditContextInput, fn: () => T): T {
  return storage.run(createContext(input), fn);
}

/**
 * The context `runWithContext(input, ...)` would run, inheriting from the running one, without running it:
 * for adapters that enter the same context several times (see {@link runInContext}).
 *
 * @example
 * const context = createContext({ requestId }); runInContext(context, () => handle(req));
 */
export function createContext(input: AuditContextInput): AuditContext {
  const parent = storage.getStore();
  if (parent === undefined) {
    // The usual case of an HTTP request: nothing to inherit, so one object and no spread.
    const context = withoutUndefined(input) as AuditContext & { flags: Record<string, unknown> };
    context.metadata = input.metadata ? { ...input.metadata } : undefined;
    context.flags = {};
    return context;
  }
  return {
    ...parent,
    ...withoutUndefined(input),
    metadata: parent.metadata || input.metadata ? { ...parent.metadata, ...input.metadata } : undefined,
    flags: { ...parent.flags },
  };
}

/**
 * Runs `fn(arg)` inside exactly this context object (no copy), so what the code inside changes (the
 * actor, the tenant) is what every later entry sees. Adapters use it to step back into a request's
 * context from framework callbacks that lost it.
 *
 * @example
 * runInContext(context, (req) => next(req), req);
 */
export function runInContext<T, A = undefined>(context: AuditContext, fn: (arg: A) => T, arg?: A): T {
  return storage.run(context, fn, arg as A);
}

/** The current context, or undefined outside any. */
export function tryGetContext(): AuditContext | undefined {
  return storage.getStore();
}

/** The current context; throws `no_context` outside `runWithContext`. */
export function getContext(): AuditContext {
  const context = storage.getStore();
  if (!context) {
    throw new AuditkitError(
      'no_context',
      'No audit context is active here: wrap the work in audit.runWithContext(...) or use an HTTP adapter.',
    );
  }
  return context;
}

/** Normalises what apps pass as an actor into an `Actor`; returns undefined for nothing. */
export function normaliseActor(value: ActorLike | null | undefined): Actor | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : { type: 'user', id: value };
  if (typeof value !== 'object') {
    throw new AuditkitError(
      'actor_resolution_failed',
      `An actor must be an object or a user id string, got ${typeof value}.`,
    );
  }
  const type: ActorType | undefined = value.type ?? (value.id !== undefined ? 'user' : undefined);
  if (type === undefined && value.label === undefined) return undefined;
  if (type !== undefined && !ACTOR_TYPES.includes(type)) {
    throw new AuditkitError(
      'actor_resolution_failed',
      `Unknown actor type "${String(type)}"; use one of ${ACTOR_TYPES.join(', ')}.`,
    );
  }
  const actor: Actor = { type: type ?? 'anonymous' };
  for (const key of ['id', 'label', 'ip', 'userAgent', 'sessionId'] as const) {
    const field = value[key];
    if (field !== undefined && field !== null) actor[key] = String(field);
  }
  return actor;
}

/** Resolves a lazy actor source (value, promise or function) into an `Actor`. */
export async function resolveActor(source: ActorSource): Promise<Actor | undefined> {
  const value = typeof source === 'function' ? source() : source;
  return normaliseActor(await value);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  // for-in without the entries array: this runs for every request an HTTP adapter sees.
  for (const key in value) {
    const v = value[key];
    if (v !== undefined && Object.hasOwn(value, key)) (out as Record<string, unknown>)[key] = v;
  }
  return out;
}
