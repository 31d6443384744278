import type { AuditEvent, AuditEventInput, ParsedAuditEventInput } from './event.js';

/**
 * The auditor's internal record path for events that Auditkit's own adapters build (valid by
 * construction: every field has the schema's type), which skips the input validation of `record()`.
 * Redaction still runs on every event. Keyed by a symbol so it stays off the public `Auditor` API.
 */
export const RECORD_TRUSTED: unique symbol = Symbol.for('auditkit.recordTrusted');

/**
 * Records a trusted input: the stored event itself when it was taken synchronously (no promise to make,
 * await or hook), else a promise of it. Throws what `record()` would reject with.
 */
export type TrustedRecord = (input: ParsedAuditEventInput) => AuditEvent | Promise<AuditEvent>;

/**
 * The trusted record path of an auditor when it has one, else its validating `record()` (an auditor
 * wrapped or implemented elsewhere).
 */
export function trustedRecorder(audit: {
  record(input: AuditEventInput): Promise<AuditEvent>;
}): TrustedRecord {
  const trusted = (audit as { [RECORD_TRUSTED]?: TrustedRecord })[RECORD_TRUSTED];
  return typeof trusted === 'function' ? trusted : (input) => audit.record(input as AuditEventInput);
}
