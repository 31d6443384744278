import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import type { Auditor, createAuditor } from '../core/auditor.js';
import type { AuditkitError } from '../core/errors.js';
import { pgliteStore } from '../store/pglite/index.js';
import {
  readVerification,
  recordVerification,
  VERIFIED_ACTION,
  verificationSummary,
} from './auditor-integrity.js';
import { generateSigningKeys } from './keys.js';
import { syncAuditors } from './testing/sync-auditors.js';
import type { VerifyReport } from './verify.js';

const auditor = syncAuditors('auditkit-verify-record-');

async function sealedAuditor(options: Parameters<typeof createAuditor>[0] = {}): Promise<Auditor> {
  const audit = auditor(options);
  await audit.migrate();
  for (const tenantId of ['org_a', 'org_a', 'org_b']) {
    await audit.record({
      category: 'change',
      action: 'invoice.updated',
      tenantId,
      target: { type: 'invoice' },
    });
  }
  await audit.seal({ checkpointNow: true });
  return audit;
}

const recorded = async (audit: Auditor) => (await audit.query({ action: VERIFIED_ACTION })).events;

/** A report as verify() gives it, for the summary's own tests. */
function report(overrides: Partial<VerifyReport> = {}): VerifyReport {
  return {
    ok: true,
    checkedEvents: 3,
    checkpointsVerified: 2,
    unsealed: 0,
    signaturesChecked: false,
    keyId: null,
    chains: [],
    problems: [],
    firstProblem: null,
    warnings: [],
    ...overrides,
  } as VerifyReport;
}

describe('audit.verify({ record })', () => {
  it('records nothing unless asked: a monitor verifying often adds no events', async () => {
    const audit = await sealedAuditor();
    expect((await audit.verify()).ok).toBe(true);
    expect(await recorded(audit)).toEqual([]);
  });

  it('records the summary as integrity.verified, as the actor of the running context', async () => {
    const audit = await sealedAuditor();
    const report = await audit.as({ type: 'user', id: 'ada', label: 'Ada' }, () =>
      audit.verify({ record: true }),
    );
    expect(report.ok).toBe(true);
    const [event] = await recorded(audit);
    expect(event).toMatchObject({
      category: 'custom',
      outcome: 'success',
      tenantId: null,
      actor: { type: 'user', id: 'ada', label: 'Ada' },
      target: { type: 'audit_log' },
      message: `Verified ${report.checkedEvents} event(s) in 2 chain(s), ${report.checkpointsVerified} checkpoint(s): intact.`,
    });
    expect(readVerification(event as never)?.summary).toMatchObject({
      ok: true,
      checkedEvents: report.checkedEvents,
      checkpointsVerified: report.checkpointsVerified,
      problems: 0,
      firstProblem: null,
      scope: { from: null, to: null },
      chainCount: 2,
      ranges: [
        { tenantId: 'org_a', fromSeq: 1, lastSeq: 2, events: 2, ok: true },
        { tenantId: 'org_b', fromSeq: 1, lastSeq: 1, events: 1, ok: true },
      ],
    });
  });

  it('records one organisation in that organisation, and a failure with its first problem', async () => {
    const audit = await sealedAuditor();
    const from = new Date('2020-01-01T00:00:00.000Z');
    const report = await audit.verify({
      tenantId: 'org_a',
      from,
      publicKey: generateSigningKeys().publicKeyPem, // the checkpoints are unsigned: each is a problem
      record: true,
      actor: { type: 'service', id: 'nightly' },
    });
    expect(report.ok).toBe(false);
    const [event] = await recorded(audit);
    expect(event).toMatchObject({
      outcome: 'failure',
      tenantId: 'org_a',
      actor: { type: 'service', id: 'nightly' },
      target: { type: 'audit_log', id: 'org_a' },
    });
    expect(event?.message).toContain(report.firstProblem?.message);
    expect(readVerification(event as never)?.summary).toMatchObject({
      ok: false,
      problems: report.problems.length,
      firstProblem: { kind: report.firstProblem?.kind, message: report.firstProblem?.message },
      scope: { tenantId: 'org_a', from: from.toISOString(), to: null },
    });
  });

  it('still returns the report when the result cannot be recorded, and tells onError', async () => {
    const errors: AuditkitError[] = [];
    const audit = await sealedAuditor({ onError: (e) => errors.push(e) });
    const report = await audit.verify({ record: true, actor: { type: 'robot' } as never });
    expect(report.ok).toBe(true);
    expect(errors.map((e) => e.code)).toContain('invalid_event');
    expect(await recorded(audit)).toEqual([]);
  });
});

describe('recordVerification / readVerification', () => {
  it('appends to a bare store, as Auditkit verification when no actor is given', async () => {
    const store = pgliteStore();
    await store.migrate();
    try {
      const event = await recordVerification(store, report(), {}, { startedAt: new Date() });
      expect(await store.get(event.id)).toEqual(event);
      expect(event.actor).toEqual({ type: 'system', id: 'auditkit-verify', label: 'Auditkit verification' });
      expect(readVerification(event)).toMatchObject({
        eventId: event.id,
        tenantId: null,
        summary: { ok: true },
      });
    } finally {
      await store.close();
    }
  });

  it('lists at most 100 chains, keeping the count of all of them', () => {
    const chains = Array.from({ length: 150 }, (_, i) => ({
      tenantId: `org_${i}`,
      ok: true,
      fromSeq: 1,
      lastSeq: 5,
      events: 5,
      removed: 0,
      checkpoints: 1,
      lastCheckpointId: null,
      uncheckpointed: 0,
      anchor: null,
    }));
    const summary = verificationSummary(report({ chains }), {}, new Date('2026-01-01T00:00:00Z'));
    expect(summary.ranges).toHaveLength(100);
    expect(summary.chainCount).toBe(150);
    expect(summary.startedAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('reads nothing from another action, or from metadata of another shape (events are input)', () => {
    expect(readVerification(makeEvent({ action: 'user.login' }))).toBeNull();
    expect(readVerification(makeEvent({ action: VERIFIED_ACTION, metadata: { ok: true } }))).toBeNull();
    expect(
      readVerification(
        makeEvent({
          action: VERIFIED_ACTION,
          metadata: { ...verificationSummary(report(), {}, new Date()), ok: 'yes' },
        }),
      ),
    ).toBeNull();
  });
});
