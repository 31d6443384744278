export type {
  HistoryEntry,
  HistoryOptions,
  HistoryTarget,
  RecordVersion,
} from './changes/history/index.js';
export { captureScope, forceLog, withoutAuditing } from './changes/scope.js';
export { type Auditor, type AuditorStats, createAuditor } from './core/auditor.js';
export {
  type AuditLogger,
  type AuditorOptions,
  ENVIRONMENT_OVERRIDES,
  resolveAuditorOptions,
} from './core/config.js';
export {
  type ActorLike,
  type ActorSource,
  type AuditContext,
  type AuditContextInput,
  getContext,
  normaliseActor,
  resolveActor,
  runWithContext,
  tryGetContext,
} from './core/context.js';
export { defaultStore } from './core/default-store.js';
export { AuditkitError, type AuditkitErrorCode, isAuditkitError } from './core/errors.js';
export {
  ACTOR_TYPES,
  type Actor,
  type AuditEvent,
  type AuditEventInput,
  auditEventInputSchema,
  auditEventSchema,
  CATEGORIES,
  type Category,
  type Correlation,
  OUTCOMES,
  type Outcome,
  type RequestInfo,
  type Target,
} from './core/event.js';
export { newEventId } from './core/ids.js';
export {
  createRedactor,
  DEFAULT_SENSITIVE_KEYS,
  REDACTED,
  type RedactionOptions,
  type Redactor,
} from './core/redact.js';
export type { AuditorIntegrity, IntegrityOptions } from './integrity/auditor-integrity.js';
export type { EventWriter, WriterStats } from './pipeline/writer.js';
export type { AppendResult, AuditPage, AuditQuery, AuditStore } from './store/store.js';
