import { describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../core/auditor.js';
import { pgliteStore } from '../store/pglite/index.js';
import type { AuditStore } from '../store/store.js';
import { generateSigningKeys } from './keys.js';
import { verifyProof } from './proof.js';
import { syncAuditors } from './testing/sync-auditors.js';

const keys = generateSigningKeys();
const auditor = syncAuditors('auditkit-integrity-');

async function recordSome(audit: Auditor, count: number, tenantId = 'org_a'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = await audit.record({
      category: 'change',
      action: 'invoice.updated',
      tenantId,
      actor: { type: 'user', id: 'u1', label: 'Ada', ip: '203.0.113.9' },
      target: { type: 'invoice', id: `INV-${i}` },
      changes: { total: [i, i + 1] },
    });
    ids.push(event.id);
  }
  return ids;
}

describe('auditor integrity methods', () => {
  it('seals in the background when `integrity` is configured, and verifies the signed chain', async () => {
    const audit = auditor({
      integrity: { signingKey: keys.privateKeyPem, intervalMs: 20, checkpointEvery: 5 },
    });
    await audit.migrate();
    await recordSome(audit, 12);
    await expect
      .poll(async () => (await audit.verify({ publicKey: keys.publicKeyPem })).checkedEvents, {
        timeout: 10_000,
      })
      .toBe(12);
    const report = await audit.verify({ publicKey: keys.publicKeyPem });
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.signaturesChecked).toBe(true);
  });

  it('seals on demand without a background sealer, and gives a receipt that verifies offline', async () => {
    const audit = auditor();
    await audit.migrate();
    const [first] = await recordSome(audit, 3);
    const sealed = await audit.seal({ signingKey: keys.privateKeyPem, checkpointNow: true });
    expect(sealed.sealed).toBe(3);
    const receipt = await audit.proof(first as string);
    expect(verifyProof(receipt, keys.publicKeyPem).ok).toBe(true);
    expect(verifyProof(receipt, generateSigningKeys().publicKeyPem).ok).toBe(false);
  });

  it('cleans up with the retention option when no days are given, and records retention.purged', async () => {
    const audit = auditor({ retention: { categories: { access: 30 } } });
    await audit.migrate();
    const old = new Date(Date.now() - 40 * 86_400_000);
    await audit.record({ category: 'access', action: 'http.request', occurredAt: old });
    await audit.record({ category: 'change', action: 'invoice.updated', occurredAt: old });
    await audit.record({ category: 'access', action: 'http.request' });
    const report = await audit.cleanup();
    expect(report.removed).toBe(1);
    expect(report.skippedUnsealed).toBe(0);
    await audit.flush();
    const purged = await audit.query({ action: 'retention.purged' });
    expect(purged.events).toHaveLength(1);
    const left = await audit.query({ category: 'access' });
    expect(left.events).toHaveLength(1);
  });

  it('asks for a retention when neither the option nor the call gives one', async () => {
    const audit = auditor();
    await audit.migrate();
    await expect(audit.cleanup()).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('erases a subject through the auditor and keeps the chain verifiable', async () => {
    const audit = auditor({ integrity: { intervalMs: 60_000 } });
    await audit.migrate();
    await recordSome(audit, 4);
    await audit.seal({ checkpointNow: true });
    const report = await audit.erase({ subject: 'u1', pseudonymKey: 'a-long-enough-secret-key' });
    expect(report.changed).toBeGreaterThan(0);
    const [event] = (await audit.query({ action: 'invoice.updated', limit: 1 })).events;
    expect(JSON.stringify(event)).not.toContain('Ada');
    expect(JSON.stringify(event)).not.toContain('203.0.113.9');
    await audit.seal({ checkpointNow: true });
    expect((await audit.verify()).ok).toBe(true);
  });

  it('names the store when it has no SQL access', async () => {
    const inner = pgliteStore();
    const bare: AuditStore = {
      name: 'custom',
      migrate: () => inner.migrate(),
      append: (events) => inner.append(events),
      query: (query) => inner.query(query),
      get: (id) => inner.get(id),
      close: () => inner.close(),
    } as AuditStore;
    const audit = auditor({ store: bare });
    await expect(audit.verify()).rejects.toMatchObject({ code: 'not_supported' });
  });

  it('rejects an integrity option it does not know, naming it', () => {
    expect(() => createAuditor({ integrity: { interval: 5 } as never })).toThrow(/integrity/);
  });
});
