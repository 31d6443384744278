/**
 * Retention (batch removal, partition drops) and erasure (GDPR right to be forgotten), both keeping the
 * hash chain verifiable and both recorded as audit events. Published with `auditkit/integrity`.
 */
export { type CleanupOptions, type CleanupReport, cleanup } from './cleanup.js';
export { ERASE_MODES, type EraseMode, type EraseOptions, type EraseReport, erase } from './erase.js';
export type { AuditorLike, MaintenanceTarget } from './maintenance-target.js';
export { expiredPartitions, listMonthPartitions, type MonthPartition } from './partitions.js';
export {
  type Cutoffs,
  commonCutoff,
  cutoffsOf,
  type RetentionPolicy,
  retentionPolicySchema,
} from './policy.js';
export { pseudonymOf } from './pseudonym.js';
export { type ScrubRules, scrubEvent } from './scrub.js';
