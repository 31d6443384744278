/**
 * `auditkit/graphql`: audit GraphQL operations in GraphQL Yoga (envelop) and Apollo Server. One `access`
 * event per operation, an `error` event per GraphQL error (they come back with HTTP 200), the actor read
 * after the GraphQL context authenticated the user, and deferred authentication errors.
 */
export { auditApolloPlugin } from './apollo-plugin.js';
export { type DeferredAuthError, deferAuthError, deferredAuthError } from './deferred-auth.js';
export { documentHash, type OperationSummary, summariseOperation } from './document.js';
export { useAuditLog } from './envelop-plugin.js';
export { flushGraphqlAudit, type GraphqlAuditOptions } from './operation-audit.js';
