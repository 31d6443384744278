/**
 * `auditkit/http`: the framework-neutral capture core behind the Express, Fastify and Hono adapters,
 * for writing an adapter for another Node.js framework, plus the shared option types.
 */

export type { BodySummary, BodySummaryKind } from './body-format.js';
export {
  type AccessLogOptions,
  DEFAULT_EXCLUDED_EXTENSIONS,
  HTTP_ENVIRONMENT_OVERRIDES,
  type HttpAuditOptions,
  type JwtOptions,
  type NotifyOptions,
  type PathPattern,
  type ResolvedHttpAuditOptions,
  resolveHttpAuditOptions,
  type SamplingRule,
  type StatusPattern,
} from './config.js';
export {
  createHttpAudit,
  type FrameworkBinding,
  flushHttpAudit,
  type HttpAudit,
  type HttpRequestCapture,
} from './http-audit.js';
export type { RequestAudit } from './request-audit.js';
