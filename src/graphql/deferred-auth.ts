import {
  defaultFieldResolver,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { tryGetContext } from '../core/context.js';

/** An authentication failure kept aside until a protected field needs the user. */
export interface DeferredAuthError {
  error: unknown;
  /** Why, in the auth vocabulary (`invalid_token`, `expired`, ...); stored as the auth event's reason. */
  reason: string | undefined;
}

/** What a guarded schema reports when it raises a deferred error, so the operation is audited as denied. */
export interface AuthDenial {
  /** `Type.field` of the protected field whose resolution raised the error. */
  field: string;
  reason: string;
  message: string;
}

// A symbol property survives `Object.assign` and spreads, which is how GraphQL servers merge contexts.
const DEFERRED = Symbol.for('auditkit.graphql.deferredAuth');
const FLAG = 'auditkit.graphql.deferredAuth';

/**
 * Keeps an authentication error found before GraphQL runs (an invalid token seen by an HTTP middleware or
 * the context factory) instead of failing the whole request: public fields such as introspection still
 * resolve, and the error is raised only when a protected top-level field is resolved, where the plugin
 * audits the attempt. `target` is the GraphQL context (or the object it is built from, such as the HTTP
 * request); without one the error is kept in the running audit context.
 *
 * @example
 * context: async ({ request }) => {
 *   try { return { user: await verify(request.headers.get('authorization')) }; }
 *   catch (error) { return deferAuthError({}, error, 'invalid_token'); }
 * }
 */
export function deferAuthError<T extends object>(target: T, error: unknown, reason?: string): T;
export function deferAuthError(target: undefined, error: unknown, reason?: string): void;
export function deferAuthError<T extends object>(
  target: T | undefined,
  error: unknown,
  reason?: string,
): T | undefined {
  const deferred: DeferredAuthError = { error, reason };
  if (target === undefined) {
    const context = tryGetContext();
    if (context) (context.flags as Record<string, unknown>)[FLAG] = deferred;
    return undefined;
  }
  Object.defineProperty(target, DEFERRED, {
    value: deferred,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return target;
}

/** The deferred error for this GraphQL context: on it, on its `req`/`request`, or in the audit context. */
export function deferredAuthError(context: unknown): DeferredAuthError | undefined {
  if (typeof context === 'object' && context !== null) {
    const own = (context as { [DEFERRED]?: DeferredAuthError })[DEFERRED];
    if (own) return own;
    for (const key of ['req', 'request'] as const) {
      const inner = (context as Record<string, unknown>)[key];
      if (typeof inner === 'object' && inner !== null) {
        const found = (inner as { [DEFERRED]?: DeferredAuthError })[DEFERRED];
        if (found) return found;
      }
    }
  }
  return tryGetContext()?.flags[FLAG] as DeferredAuthError | undefined;
}

/** Listeners per GraphQL context: the operation records that want to hear about a denial. */
const listeners = new WeakMap<object, (denial: AuthDenial) => void>();

/** Registers the operation that runs with this GraphQL context (one at a time per context). */
export function onAuthDenied(context: unknown, listener: (denial: AuthDenial) => void): void {
  if (typeof context === 'object' && context !== null) listeners.set(context, listener);
}

const guarded = new WeakMap<GraphQLSchema, string>();

/**
 * Wraps the resolvers of the root types' fields so that a deferred auth error is raised when one of them
 * (other than `publicFields`) resolves. Only root fields need it: nothing nested is reachable without one.
 * Idempotent per schema; without a deferred error the wrapper only adds one lookup per root field.
 */
export function guardSchema(schema: GraphQLSchema, publicFields: readonly string[]): void {
  const key = [...publicFields].sort().join(',');
  if (guarded.get(schema) === key) return;
  const isPublic = (type: string, field: string) =>
    publicFields.includes(field) || publicFields.includes(`${type}.${field}`);
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (type) guardType(type, isPublic);
  }
  guarded.set(schema, key);
}

const ORIGINAL = Symbol.for('auditkit.graphql.originalResolver');
type Wrapped = GraphQLFieldResolver<unknown, unknown> & {
  [ORIGINAL]?: GraphQLFieldResolver<unknown, unknown>;
};

function guardType(type: GraphQLObjectType, isPublic: (type: string, field: string) => boolean): void {
  for (const field of Object.values(type.getFields())) {
    const coordinate = `${type.name}.${field.name}`;
    const open = isPublic(type.name, field.name);
    for (const slot of ['resolve', 'subscribe'] as const) {
      if (slot === 'subscribe' && !field.subscribe) continue;
      const current = field[slot] as Wrapped | undefined;
      const original = current?.[ORIGINAL] ?? current ?? defaultFieldResolver;
      if (open) {
        if (current?.[ORIGINAL]) field[slot] = current[ORIGINAL];
        continue;
      }
      const wrapper: Wrapped = (source, args, context, info) => {
        const deferred = deferredAuthError(context);
        if (deferred) throw raise(deferred, coordinate, context);
        return original(source, args, context, info);
      };
      wrapper[ORIGINAL] = original;
      field[slot] = wrapper;
    }
  }
}

function raise(deferred: DeferredAuthError, field: string, context: unknown): GraphQLError {
  const { error } = deferred;
  const graphqlError =
    error instanceof GraphQLError
      ? error
      : new GraphQLError(error instanceof Error ? error.message : 'Not authenticated', {
          extensions: { code: 'UNAUTHENTICATED' },
        });
  const code = graphqlError.extensions?.code;
  const reason = deferred.reason ?? (typeof code === 'string' ? code.toLowerCase() : 'unauthenticated');
  if (typeof context === 'object' && context !== null) {
    listeners.get(context)?.({ field, reason, message: graphqlError.message });
  }
  return graphqlError;
}
