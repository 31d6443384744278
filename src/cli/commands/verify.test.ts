import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { readVerification, VERIFIED_ACTION } from '../../integrity/auditor-integrity.js';
import { pgliteStore } from '../../store/pglite/index.js';
import type { CliIo } from '../io.js';
import { registerCleanup } from './cleanup.js';
import { registerErase } from './erase.js';
import { registerExport } from './export.js';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, registerKeys } from './keys.js';
import { registerSeal } from './seal.js';
import { registerVerify } from './verify.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-cli-integrity-'));
const dataDir = join(dir, 'audit');
const keyDir = join(dir, 'keys');
const DAY = 86_400_000;

/** Runs `auditkit <args>` in-process with the integrity commands, like runCli does. */
async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { AUDITKIT_DATA_DIR: dataDir, ...env },
  };
  const program = new Command('auditkit')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  for (const register of [
    registerKeys,
    registerSeal,
    registerVerify,
    registerCleanup,
    registerErase,
    registerExport,
  ]) {
    register(program, io);
  }
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    code = error instanceof CommanderError ? error.exitCode : 1;
    if (!(error instanceof CommanderError)) {
      err.push(isAuditkitError(error) ? `${error.message} [${error.code}]` : String(error));
    }
  }
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  const store = pgliteStore({ dataDir });
  await store.migrate();
  const now = Date.now();
  await store.append(
    Array.from({ length: 30 }, (_, i) => ({
      id: crypto.randomUUID(),
      occurredAt: new Date(now - (60 - i * 2) * DAY + DAY / 2),
      category: i % 2 === 0 ? ('access' as const) : ('auth' as const),
      action: i % 2 === 0 ? 'http.request' : 'user.login',
      outcome: 'success' as const,
      tenantId: 'org_cli',
      actor: {
        type: 'user' as const,
        id: i % 3 === 0 ? 'u_carol' : 'u_dave',
        label: i % 3 === 0 ? 'Carol Danvers' : 'Dave',
      },
    })),
  );
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auditkit keys', () => {
  it('generate writes a private key only its owner can read and a public key, then refuses to overwrite', async () => {
    const result = await run(['keys', 'generate', '--out', keyDir]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Key [0-9a-f]{16} written/);
    expect(statSync(join(keyDir, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(keyDir, PUBLIC_KEY_FILE), 'utf8')).toContain('BEGIN PUBLIC KEY');
    const again = await run(['keys', 'generate', '--out', keyDir]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('--force');
  });

  it('public prints the public half and id prints the same key id for both halves', async () => {
    const pub = await run(['keys', 'public', join(keyDir, PRIVATE_KEY_FILE)]);
    expect(pub.out).toBe(readFileSync(join(keyDir, PUBLIC_KEY_FILE), 'utf8'));
    const a = await run(['keys', 'id', join(keyDir, PRIVATE_KEY_FILE)]);
    const b = await run(['keys', 'id', join(keyDir, PUBLIC_KEY_FILE)]);
    expect(a.out).toMatch(/^[0-9a-f]{16}\n$/);
    expect(a.out).toBe(b.out);
  });
});

describe('auditkit seal, verify, cleanup, erase, export', () => {
  const signing = () => join(keyDir, PRIVATE_KEY_FILE);
  const publicKey = () => join(keyDir, PUBLIC_KEY_FILE);

  it('seal chains the events and writes signed checkpoints', async () => {
    const result = await run([
      'seal',
      '--signing-key',
      signing(),
      '--checkpoint-every',
      '10',
      '--checkpoint-now',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('Sealed 30 event(s); 3 checkpoint(s) written.');
    expect(result.out).toMatch(
      /checkpoint [0-9a-f]{16} {2}tenant org_cli {2}seq 1-10 {2}signed by [0-9a-f]{16}/,
    );
  });

  it('verify says OK with the public key (progress bar on stderr), or prints the report as JSON', async () => {
    // --no-record: the export below counts the events, and a recorded verification is one more.
    const ok = await run(['verify', '--public-key', publicKey(), '--no-record']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('OK: 30 event(s) in 1 chain(s) verified; 3 checkpoint(s) verified.');
    expect(ok.err).toContain('100% 30/30');
    const json = await run(['verify', '--json', '--no-progress', '--no-record'], {
      AUDITKIT_PUBLIC_KEY: publicKey(),
    });
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, checkedEvents: 30, signaturesChecked: true });
    expect(json.err).toBe('');
  });

  it('export writes CSV to stdout and a PDF with the verification to a file', async () => {
    const csv = await run(['export', '--format', 'csv', '--tenant', 'org_cli', '--category', 'auth']);
    expect(csv.code).toBe(0);
    const lines = csv.out.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,occurred_at,tenant_id,category/);
    expect(lines).toHaveLength(16);
    const pdf = join(dir, 'report.pdf');
    const report = await run([
      'export',
      '--format',
      'pdf',
      '--out',
      pdf,
      '--title',
      'CLI report',
      '--verify',
      '--public-key',
      publicKey(),
    ]);
    expect(report.code).toBe(0);
    expect(report.out).toContain('Exported 30 event(s) to');
    expect(report.out).toContain('Verification: OK.');
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    try {
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      expect(text).toContain('CLI report');
      expect(text).toContain('OK: the chain is intact.');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
    expect((await run(['export', '--format', 'pdf'])).err).toContain('--out');
    expect((await run(['export', '--format', 'xml'])).code).toBe(1);
  });

  it('cleanup --dry-run counts, cleanup removes in batches, and verify stays green from the anchor', async () => {
    const dry = await run(['cleanup', '--days', '30', '--category', 'access', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('Would remove 8 event(s) (dry run: nothing changed).');
    const done = await run([
      'cleanup',
      '--days',
      '30',
      '--batch-size',
      '3',
      '--signing-key',
      signing(),
      '--no-progress',
    ]);
    expect(done.code).toBe(0);
    expect(done.out).toContain('Removed 15 event(s).');
    expect(done.out).toContain('5 batch(es) of at most 3.');
    expect(done.out).toContain('the chain now starts after seq 10');
    const verified = await run(['verify', '--public-key', publicKey(), '--no-progress']);
    expect(verified.code).toBe(0);
    expect(verified.out).toContain('intact from seq 11');
  });

  it('erase pseudonymises a person, refuses without a secret, and the chain still verifies', async () => {
    const refused = await run(['erase', '--subject', 'u_carol']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('AUDITKIT_PSEUDONYM_KEY');
    const keyFile = join(dir, 'pseudonym.key');
    writeFileSync(keyFile, 'a-long-random-secret-for-tests\n');
    const result = await run(['erase', '--subject', 'u_carol', '--pseudonym-key-file', keyFile]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Changed \d+ event\(s\); the subject is now user#[0-9a-f]{12}\./);
    expect(result.out).toContain('(privacy.erased)');
    const jsonl = await run(['export', '--format', 'jsonl']);
    expect(jsonl.out).not.toContain('Carol');
    expect(jsonl.out).not.toContain('u_carol');
    await run(['seal', '--signing-key', signing(), '--checkpoint-now']);
    const verified = await run(['verify', '--public-key', publicKey(), '--no-progress']);
    expect(verified.code).toBe(0);
  });

  it('verify fails with exit code 1 when a checkpoint is checked against another key', async () => {
    const otherDir = join(dir, 'other');
    await run(['keys', 'generate', '--out', otherDir]);
    const result = await run(['verify', '--public-key', join(otherDir, PUBLIC_KEY_FILE), '--no-progress']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('FAILED');
    expect(result.err).toContain('[verification_failed]');
  });

  it('verify records its result as an integrity.verified event (failures too), unless --no-record', async () => {
    const verified = async () => {
      const store = pgliteStore({ dataDir });
      try {
        return (await store.query({ action: VERIFIED_ACTION, limit: 100 })).events;
      } finally {
        await store.close();
      }
    };
    const before = (await verified()).length;
    const ok = await run(['verify', '--public-key', publicKey(), '--no-progress', '--tenant', 'org_cli']);
    expect(ok.code).toBe(0);
    const [latest] = await verified();
    expect(latest).toMatchObject({
      category: 'custom',
      outcome: 'success',
      tenantId: 'org_cli',
      actor: { type: 'service', id: 'auditkit-cli', label: expect.stringMatching(/^auditkit verify by /) },
      target: { type: 'audit_log', id: 'org_cli' },
    });
    const recorded = readVerification(latest as AuditEvent);
    expect(recorded?.summary).toMatchObject({
      ok: true,
      problems: 0,
      firstProblem: null,
      scope: { tenantId: 'org_cli', from: null, to: null },
      signaturesChecked: true,
      chainCount: 1,
    });
    expect(recorded?.summary.ranges).toEqual([
      expect.objectContaining({ tenantId: 'org_cli', ok: true, lastSeq: expect.any(Number) }),
    ]);

    const otherDir = join(dir, 'other');
    const failed = await run(['verify', '--public-key', join(otherDir, PUBLIC_KEY_FILE), '--no-progress']);
    expect(failed.code).toBe(1);
    const [bad] = await verified();
    expect(bad).toMatchObject({ outcome: 'failure', tenantId: null, target: { type: 'audit_log' } });
    expect(readVerification(bad as AuditEvent)?.summary).toMatchObject({
      ok: false,
      problems: expect.any(Number),
      firstProblem: { kind: 'checkpoint', message: expect.any(String) },
    });
    expect(bad?.message).toMatch(/^Verification found \d+ problem\(s\)/);

    const count = (await verified()).length;
    expect(count).toBe(before + 2);
    await run(['verify', '--public-key', publicKey(), '--no-progress', '--no-record']);
    expect(await verified()).toHaveLength(count);
  });
});
