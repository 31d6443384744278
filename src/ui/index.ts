/**
 * The admin web UI: events, details and diffs, record timelines, people, dashboard, integrity, export.
 * Published as `auditkit/ui`; mount it in Express, Fastify or Hono, or run `auditkit ui`.
 */
export { type AuditUi, auditUi, SECURITY_HEADERS, type UiRequestContext } from './audit-ui.js';
export { hashPassword } from './auth/password.js';
export { can, type Permission, ROLES, type Role, type UiUser } from './auth/roles.js';
export {
  type AuditUiOptions,
  type Authorize,
  type AuthorizeInput,
  resolveAuditUiOptions,
  type UiTokenConfig,
  type UiUserConfig,
} from './config.js';
export { escapeHtml, html, SafeHtml } from './html.js';
export { auditUiExpress, type ExpressRequestLike } from './mount/express.js';
export {
  auditUiFastify,
  type FastifyInstanceLike,
  type FastifyReplyLike,
  type FastifyRequestLike,
} from './mount/fastify.js';
export { auditUiHono, type HonoContextLike } from './mount/hono.js';
export { auditUiNode } from './mount/node.js';
export { type RecordState, recordStateAt } from './record-state.js';
export { canSee, scopeQuery } from './scope.js';
export { type ServeAuditUiOptions, serveAuditUi } from './serve.js';
