import { describe, expect, it } from 'vitest';
import { auditEventInputSchema, auditEventSchema, describeIssues } from './event.js';
import { newEventId } from './ids.js';

describe('event schema', () => {
  it('accepts a minimal input and a full stored event', () => {
    expect(auditEventInputSchema.safeParse({ category: 'custom', action: 'report.exported' }).success).toBe(
      true,
    );
    const stored = auditEventSchema.parse({
      id: newEventId(),
      occurredAt: new Date(),
      category: 'auth',
      action: 'user.login',
      outcome: 'failure',
      actor: { type: 'user', id: 'u1', ip: '127.0.0.1' },
      reason: 'bad_password',
    });
    expect(stored.outcome).toBe('failure');
  });

  it('names every bad field', () => {
    const result = auditEventInputSchema.safeParse({
      category: 'nope',
      action: '',
      outcome: 'meh',
      actor: { type: 'robot' },
      extra: 1,
    });
    expect(result.success).toBe(false);
    const fields = describeIssues(result.error!).join('\n');
    for (const field of ['category', 'action', 'outcome', 'actor.type', 'extra'])
      expect(fields).toContain(field);
  });

  it('parses ISO strings for occurredAt', () => {
    const parsed = auditEventInputSchema.parse({
      category: 'custom',
      action: 'a',
      occurredAt: '2026-01-01T00:00:00Z',
    });
    expect(parsed.occurredAt).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it('uses time-ordered UUIDv7 ids', () => {
    const ids = Array.from({ length: 1000 }, newEventId);
    expect(
      ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });
});
