import { AuditkitError } from '../../core/errors.js';
import { type AuditEvent, auditEventSchema, describeIssues } from '../../core/event.js';
import { toStorableString } from '../../core/redact.js';
import { storableJsonText } from '../sql/event-rows.js';

/**
 * One event as stored in MongoDB. `data` holds the whole event as JSON text, so reading it back gives
 * exactly what was written whatever its keys (`$where`, `a.b`, `__proto__`, NUL bytes are all fine in JSON,
 * not all in BSON); the other fields are copies for filters and indexes.
 */
export interface EventDocument {
  /** The event id, lower case. */
  _id: string;
  occurredAt: Date;
  category: string;
  action: string;
  outcome: string;
  tenantId: string | null;
  actorType: string;
  actorId?: string;
  actorLabel?: string;
  targetType?: string;
  targetId?: string;
  targetLabel?: string;
  requestId?: string;
  requestPath?: string;
  processId?: string;
  correlationId?: string;
  status?: number;
  message?: string;
  reason?: string;
  idempotencyKey?: string;
  seq?: number;
  hash?: string;
  data: string;
}

const text = (value: string | null | undefined) =>
  value === undefined || value === null ? undefined : toStorableString(value);

/** The document for an event; throws `invalid_event` (naming it) for an event that cannot be JSON or has no valid date. */
export function toDocument(event: AuditEvent): EventDocument {
  const time = event.occurredAt instanceof Date ? event.occurredAt.getTime() : Number.NaN;
  if (Number.isNaN(time)) {
    throw new AuditkitError(
      'invalid_event',
      `Event ${event.id} has no valid occurredAt; nothing was stored.`,
    );
  }
  let data: string;
  try {
    data = storableJsonText(event);
  } catch (error) {
    throw new AuditkitError(
      'invalid_event',
      `Event ${event.id} cannot be stored as JSON (${error instanceof Error ? error.message : String(error)}); nothing was stored.`,
      { cause: error, details: { id: event.id } },
    );
  }
  const fields: Record<string, unknown> = {
    _id: String(event.id).toLowerCase(),
    occurredAt: new Date(time),
    category: event.category,
    action: text(event.action),
    outcome: event.outcome,
    tenantId: text(event.tenantId) ?? null,
    actorType: text(event.actor?.type),
    actorId: text(event.actor?.id),
    actorLabel: text(event.actor?.label),
    targetType: text(event.target?.type),
    targetId: text(event.target?.id),
    targetLabel: text(event.target?.label),
    requestId: text(event.correlation?.requestId ?? event.request?.id),
    requestPath: text(event.request?.path),
    processId: text(event.correlation?.processId),
    correlationId: text(event.correlation?.correlationId),
    status: Number.isInteger(event.request?.status) ? event.request?.status : undefined,
    message: text(event.message),
    reason: text(event.reason),
    idempotencyKey: text(event.idempotencyKey),
    seq: Number.isSafeInteger(event.seq) ? event.seq : undefined,
    hash: text(event.hash),
    data,
  };
  // No undefined values: the driver would store them as null.
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields as unknown as EventDocument;
}

/** Reads a stored document back into a validated event (`store_error` if it is not one). */
export function fromDocument(
  doc: Pick<EventDocument, '_id' | 'data' | 'occurredAt'> & Partial<EventDocument>,
): AuditEvent {
  let raw: Record<string, unknown>;
  try {
    const parsed = JSON.parse(doc.data) as unknown;
    raw = parsed !== null && typeof parsed === 'object' ? { ...(parsed as Record<string, unknown>) } : {};
  } catch (error) {
    throw new AuditkitError('store_error', `The stored event ${doc._id} holds unreadable JSON.`, {
      cause: error,
    });
  }
  if (typeof raw.occurredAt === 'string' || typeof raw.occurredAt === 'number')
    raw.occurredAt = new Date(raw.occurredAt);
  else if (raw.occurredAt === undefined) raw.occurredAt = doc.occurredAt;
  if (raw.id === undefined) raw.id = doc._id;
  if (typeof doc.seq === 'number') raw.seq = doc.seq;
  if (typeof doc.hash === 'string') raw.hash = doc.hash;
  const result = auditEventSchema.safeParse(raw);
  if (!result.success) {
    const fields = describeIssues(result.error);
    throw new AuditkitError(
      'store_error',
      `The stored event ${doc._id} is not a valid AuditEvent: ${fields.join('; ')}`,
      {
        details: { id: doc._id, fields },
      },
    );
  }
  return result.data;
}
