import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { guardSchema } from './deferred-auth.js';
import { createOperationAudit, type GraphqlAuditOptions } from './operation-audit.js';

/**
 * An Apollo Server plugin that records one `access` event per operation, an `error` event per GraphQL
 * error, and an `auth` event when a deferred auth error is raised.
 *
 * @example
 * const server = new ApolloServer({
 *   typeDefs, resolvers,
 *   plugins: [auditApolloPlugin({ audit, actor: (ctx) => ctx.user })],
 * });
 */
export function auditApolloPlugin<TContext extends BaseContext = BaseContext>(
  options: GraphqlAuditOptions<TContext>,
): ApolloServerPlugin<TContext> {
  const core = createOperationAudit(options);
  return {
    async requestDidStart(requestContext) {
      const http = requestContext.request.http;
      const operation = core.begin({
        contextValue: requestContext.contextValue,
        method: http?.method,
        header: http ? (name) => http.headers.get(name) : undefined,
      });
      operation.variables(requestContext.request.variables);
      operation.source(requestContext.request.query);
      return {
        async didResolveSource(context) {
          operation.source(context.source);
        },
        async validationDidStart(context) {
          // Known before validation, so an operation that fails validation still has its type and fields.
          operation.document(context.document, context.request.operationName);
        },
        async didResolveOperation(context) {
          operation.document(context.document, context.operationName);
          // Guard before execution starts, so a deferred auth error is raised by protected fields only.
          guardSchema(context.schema, core.publicFields);
        },
        async didEncounterErrors(context) {
          operation.errors(context.errors as readonly GraphQLError[]);
        },
        async willSendResponse() {
          // Errors were all reported to didEncounterErrors; the response holds their formatted copies.
          operation.finish();
        },
      };
    },
  };
}
