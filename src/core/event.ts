import { z } from 'zod';

/** What kind of thing happened. */
export const CATEGORIES = ['change', 'access', 'auth', 'process', 'error', 'custom'] as const;
/** How it ended. */
export const OUTCOMES = ['success', 'failure', 'denied', 'error'] as const;
/** Who did it. */
export const ACTOR_TYPES = ['user', 'service', 'system', 'anonymous'] as const;

export const categorySchema = z.enum(CATEGORIES);
export const outcomeSchema = z.enum(OUTCOMES);

const text = z.string();
const optionalText = text.optional();
const jsonRecord = z.record(z.string(), z.unknown());

export const actorSchema = z.strictObject({
  type: z.enum(ACTOR_TYPES),
  id: optionalText,
  label: optionalText,
  ip: optionalText,
  userAgent: optionalText,
  sessionId: optionalText,
});

export const targetSchema = z.strictObject({
  type: text.min(1, 'target.type must not be empty'),
  id: optionalText,
  label: optionalText,
});

export const requestSchema = z.strictObject({
  id: optionalText,
  method: optionalText,
  path: optionalText,
  route: optionalText,
  status: z.number().int().min(0).max(999).optional(),
  durationMs: z.number().min(0).optional(),
  query: z.unknown().optional(),
  headers: jsonRecord.optional(),
  responseHeaders: jsonRecord.optional(),
  body: z.unknown().optional(),
  responseBody: z.unknown().optional(),
});

export const correlationSchema = z.strictObject({
  requestId: optionalText,
  traceId: optionalText,
  spanId: optionalText,
  processId: optionalText,
  stepId: optionalText,
  correlationId: optionalText,
});

/** An action name such as `user.login` or `order.refunded`: short, printable, no spaces. */
const actionSchema = text
  .min(1, 'action must not be empty')
  .max(200, 'action must be at most 200 characters')
  .regex(/^[^\s\u0000-\u001f]+$/, 'action must not contain spaces or control characters');

const dateInput = z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]);

/**
 * The stored event: one row in one store, whatever captured it.
 * `seq` and `hash` are set later by the sealer (tamper evidence); writers leave them empty.
 */
export const auditEventSchema = z.strictObject({
  id: z.uuid(),
  occurredAt: z.date().refine((d) => !Number.isNaN(d.getTime()), 'occurredAt must be a valid date'),
  category: categorySchema,
  action: actionSchema,
  outcome: outcomeSchema,
  tenantId: text.nullable().optional(),
  actor: actorSchema,
  target: targetSchema.optional(),
  changes: jsonRecord.optional(),
  request: requestSchema.optional(),
  correlation: correlationSchema.optional(),
  reason: optionalText,
  message: optionalText,
  metadata: jsonRecord.optional(),
  idempotencyKey: text.max(200).optional(),
  seq: z.number().int().nonnegative().optional(),
  hash: optionalText,
});

/** What `audit.record()` accepts: the stored event minus what Auditkit fills in. */
export const auditEventInputSchema = auditEventSchema
  .omit({ id: true, occurredAt: true, outcome: true, actor: true, seq: true, hash: true })
  .extend({
    id: z.uuid().optional(),
    occurredAt: dateInput.optional(),
    outcome: outcomeSchema.optional(),
    actor: actorSchema.optional(),
  });

export type Category = z.infer<typeof categorySchema>;
export type Outcome = z.infer<typeof outcomeSchema>;
export type Actor = z.infer<typeof actorSchema>;
export type ActorType = Actor['type'];
export type Target = z.infer<typeof targetSchema>;
export type RequestInfo = z.infer<typeof requestSchema>;
export type Correlation = z.infer<typeof correlationSchema>;
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type AuditEventInput = z.input<typeof auditEventInputSchema>;
export type ParsedAuditEventInput = z.output<typeof auditEventInputSchema>;

/** Turns zod issues into `path: message` strings that name each bad field. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(event)';
    return `${path}: ${issue.message}`;
  });
}
