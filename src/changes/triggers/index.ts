/**
 * `auditkit/triggers`: trigger mode. PostgreSQL (and PGlite) row triggers record every insert, update
 * and delete of the tables you choose, whatever client made it (raw SQL, an ORM, psql, a migration),
 * in the same transaction, as the same `change` events app-level capture writes.
 *
 * @example
 * import { auditTriggers } from 'auditkit/triggers';
 * await auditTriggers(audit).install({ orders: { mask: ['iban'] }, users: {} });
 * // The context of a transaction: actor, tenant, request id.
 * await audit.withTransactionContext(pool, (client) => client.query('UPDATE orders SET status = $1 WHERE id = $2', ['paid', 42]));
 */
export { refreshCaptureCatalog } from '../capture-catalog.js';
export type { RelationCaptureOptions } from '../diff.js';
export {
  auditContextJson,
  type ContextAuditor,
  type PGliteDatabase,
  type PGliteTransaction,
  type PgPoolClientSource,
  type PgQueryClient,
  type PrismaRawClient,
  SET_CONTEXT_SQL,
  setPrismaAuditContext,
  type TransactionClient,
  type TransactionOf,
  withTransactionContext,
} from './transaction-context.js';
export {
  type AuditTriggers,
  type AuditTriggersSettings,
  auditTriggers,
  type InstalledTrigger,
  type TriggerStatus,
  type TriggerTables,
  type TriggerTarget,
  type UninstalledTrigger,
} from './trigger-installer.js';
export { type TriggerTableOptions, triggerTableOptionsSchema } from './trigger-options.js';
export { parseRelationSpec } from './trigger-plan.js';
export {
  CONTEXT_SETTING,
  MISSING_AUDIT_TABLE_SQLSTATE,
  TRIGGER_NAMES,
  TRIGGERS_TABLE,
} from './trigger-sql.js';
