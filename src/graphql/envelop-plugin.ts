import type { Plugin } from '@envelop/core';
import type { DocumentNode, GraphQLError, GraphQLSchema } from 'graphql';
import { guardSchema } from './deferred-auth.js';
import {
  createOperationAudit,
  type GraphqlAuditOptions,
  type OperationAudit,
  type OperationRecord,
  type OperationStart,
} from './operation-audit.js';

/**
 * An envelop plugin (GraphQL Yoga, or any envelop server) that records one `access` event per operation,
 * an `error` event per GraphQL error, and an `auth` event when a deferred auth error is raised.
 *
 * @example
 * const yoga = createYoga({
 *   schema,
 *   context: ({ request }) => ({ user: userFrom(request) }),
 *   plugins: [useAuditLog({ audit, actor: (ctx) => ctx.user })],
 * });
 */
export function useAuditLog<TContext extends Record<string, unknown> = Record<string, unknown>>(
  options: GraphqlAuditOptions<TContext>,
): Plugin<TContext> {
  const core = createOperationAudit(options);
  const operations = new WeakMap<object, OperationRecord>();
  const operationOf = (context: unknown): OperationRecord => {
    const key = (typeof context === 'object' && context !== null ? context : {}) as object;
    let operation = operations.get(key);
    if (!operation) {
      operation = core.begin(startFrom(context));
      operations.set(key, operation);
    }
    return operation;
  };
  const end = (context: unknown, errors?: readonly GraphQLError[]) => {
    const operation = operationOf(context);
    operation.errors(errors);
    operation.finish();
    // The same context object may serve another operation (a batch): it starts a fresh record.
    if (typeof context === 'object' && context !== null) operations.delete(context);
  };

  return {
    onParse({ context, params }) {
      const operation = operationOf(context);
      const source = params.source as unknown;
      operation.source(typeof source === 'string' ? source : (source as { body?: string } | undefined)?.body);
      return ({ result }) => {
        if (result instanceof Error) end(context, [result as GraphQLError]);
      };
    },
    onValidate({ context, params }) {
      operationOf(context).document(params.documentAST as DocumentNode, undefined);
      return ({ valid, result }) => {
        if (!valid) end(context, result as GraphQLError[]);
      };
    },
    onExecute({ args, setExecuteFn, executeFn }) {
      const context = args.contextValue;
      const operation = operationOf(context);
      operation.document(args.document, args.operationName);
      operation.variables(args.variableValues);
      guard(core, args.schema);
      // Resolvers record their own events in a context that knows the request id and the GraphQL actor.
      setExecuteFn((executeArgs) =>
        core.audit.runWithContext(
          { requestId: operation.requestId, actor: () => operation.lazyActor() },
          () => executeFn(executeArgs),
        ),
      );
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) {
            // Incremental delivery: the operation ends with its last payload.
            const errors: GraphQLError[] = [];
            return {
              onNext({ result: next }) {
                errors.push(...((next.errors ?? []) as GraphQLError[]));
              },
              onEnd() {
                end(context, errors);
              },
            };
          }
          end(context, result.errors as readonly GraphQLError[] | undefined);
          return undefined;
        },
      };
    },
  };
}

function guard(core: OperationAudit, schema: unknown): void {
  if (schema && typeof (schema as GraphQLSchema).getQueryType === 'function') {
    guardSchema(schema as GraphQLSchema, core.publicFields);
  }
}

/** Reads what a Yoga context knows of the HTTP request (a Fetch `Request` at `context.request`). */
function startFrom(contextValue: unknown): OperationStart {
  const request = (contextValue as { request?: unknown } | null)?.request as
    | { method?: string; url?: string; headers?: { get(name: string): string | null } }
    | undefined;
  let path: string | undefined;
  if (typeof request?.url === 'string') {
    try {
      path = new URL(request.url, 'http://localhost').pathname;
    } catch {
      path = undefined;
    }
  }
  return {
    contextValue,
    method: typeof request?.method === 'string' ? request.method : undefined,
    path,
    header:
      typeof request?.headers?.get === 'function'
        ? (name) => request.headers?.get(name) ?? undefined
        : undefined,
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
