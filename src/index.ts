export { refreshCaptureCatalog } from './changes/capture-catalog.js';
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
export { capturesErrors, type ErrorCapturer } from './errors-log/captures-errors.js';
export { type ErrorDetails, errorDetails } from './errors-log/error-details.js';
export {
  CAPTURED_ERROR_ACTION,
  type CaptureErrorsOptions,
  type ErrorLog,
  type RetryReport,
  type RetryUnsentOptions,
} from './errors-log/error-log.js';
export {
  type ErrorNotification,
  type ListErrorNotificationsOptions,
  listErrorNotifications,
  NOTIFICATION_ACTIONS,
  NOTIFICATION_STATES,
  NOTIFICATION_TARGET_TYPE,
  type NotificationRecord,
  type NotificationState,
} from './errors-log/notification-log.js';
export type { NotifyOptions } from './errors-log/notify-options.js';
export type { AuditorIntegrity, IntegrityOptions } from './integrity/auditor-integrity.js';
export type { EventWriter, WriterStats } from './pipeline/writer.js';
export {
  foldProcess,
  PROCESS_ACTIONS,
  PROCESS_PHASES,
  type ProcessError,
  type ProcessPhase,
  type ProcessState,
  type StepState,
  type StoredProcess,
  type StoredStep,
} from './process/process-state.js';
export type {
  Processes,
  ProcessHandle,
  ProcessOptions,
  ProcessResult,
  RunProcess,
  StepResult,
} from './process/processes.js';
export { securityMessage } from './security/messages.js';
export type { SecurityEvents } from './security/security-events.js';
export { SECURITY_INPUT_SCHEMAS, type SecurityEventInputs } from './security/security-inputs.js';
export { TENANT_RESOLUTION_FAILED, type TenantsOf } from './security/tenant-fan-out.js';
export {
  LOGIN_FAILURE_REASONS,
  LOGIN_METHODS,
  type LoginFailureReason,
  type LoginMethod,
  MEMBERSHIP_CONTAINERS,
  type MembershipContainer,
  PERMISSION_GRANTEES,
  type PermissionGrantee,
  SECURITY_ACTIONS,
  SECURITY_EVENT_NAMES,
  SECURITY_EVENT_TYPES,
  type SecurityEventName,
  type SecurityEventType,
  type SecurityMessageParts,
} from './security/vocabulary.js';
export type { AppendResult, AuditPage, AuditQuery, AuditStore } from './store/store.js';
