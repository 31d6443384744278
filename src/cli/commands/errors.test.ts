import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../../core/auditor.js';
import { startWebhookServer } from '../../notify/testing/servers.js';
import { webhookNotifier } from '../../notify/webhook-notifier.js';
import { pgliteStore } from '../../store/pglite/index.js';
import type { CliIo } from '../io.js';
import { runCli } from '../main.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-cli-errors-'));
const dataDir = join(dir, 'audit');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env: { AUDITKIT_DATA_DIR: dataDir },
  };
  const code = await runCli(args, io);
  return { code, out, err };
}
const json = async (args: string[]) => {
  const run = await cli([...args, '--format', 'json']);
  expect(run.code, run.err).toBe(0);
  return JSON.parse(run.out) as Array<Record<string, unknown>>;
};

const fail = (audit: Auditor, tenantId: string, message: string) =>
  audit
    .runWithContext({ tenantId }, () =>
      audit.captureErrors(async () => {
        throw new Error(message);
      }),
    )
    .catch(() => undefined);

beforeAll(async () => {
  const hook = await startWebhookServer();
  const notifying = createAuditor({
    store: pgliteStore({ dataDir }),
    mode: 'sync',
    spool: false,
    notify: { notifiers: [webhookNotifier({ url: hook.url })], retries: 0 },
  });
  await notifying.migrate();
  await fail(notifying, 'org_1', 'sent fine');
  await notifying.flush();
  hook.answers.push(500);
  await fail(notifying, 'org_1', 'webhook down');
  await notifying.flush();
  hook.answers.push(500);
  await fail(notifying, 'org_2', 'other org down');
  await notifying.close();
  await hook.close();

  // An app that dies after recording an error and before its notice went out: the notice stays pending.
  const store = pgliteStore({ dataDir });
  const dying = createAuditor({
    store,
    mode: 'sync',
    spool: false,
    notify: { notifiers: [{ name: 'stuck', notify: () => new Promise<void>(() => {}) }] },
  });
  await fail(dying, 'org_1', 'crashed before notice');
  await store.close();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auditkit errors', () => {
  it('--unsent lists the errors whose notice is pending or failed, newest first, with attempts and the last error', async () => {
    const rows = await json(['errors', '--unsent']);
    expect(rows.map((r) => [r.tenantId, r.message, r.notice, r.attempts])).toEqual([
      ['org_1', 'crashed before notice', 'pending', 0],
      ['org_2', 'other org down', 'failed', 1],
      ['org_1', 'webhook down', 'failed', 1],
    ]);
    expect(rows[1]).toMatchObject({
      action: 'action.failed',
      error: 'Error',
      tries: 1,
      lastError: expect.stringContaining('500'),
    });
  });

  it('--tenant keeps one organisation; without --unsent the sent ones are listed too', async () => {
    expect((await json(['errors', '--unsent', '--tenant', 'org_2'])).map((r) => r.message)).toEqual([
      'other org down',
    ]);
    expect((await json(['errors', '--tenant', 'org_1'])).map((r) => [r.message, r.notice])).toEqual([
      ['crashed before notice', 'pending'],
      ['webhook down', 'failed'],
      ['sent fine', 'sent'],
    ]);
    expect(await json(['errors', '--tenant', 'org_none'])).toEqual([]);
  });

  it('--since and --until bound the errors by time; --limit keeps the newest', async () => {
    expect(await json(['errors', '--since', '2099-01-01T00:00:00Z'])).toEqual([]);
    expect(
      await json(['errors', '--until', '2000-01-01T00:00:00Z', '--since', '1999-01-01T00:00:00Z']),
    ).toEqual([]);
    expect(await json(['errors', '--since', '1h'])).toHaveLength(4);
    expect((await json(['errors', '--limit', '1'])).map((r) => r.message)).toEqual(['crashed before notice']);
  });

  it('prints a table by default and JSON lines with --format jsonl', async () => {
    const table = await cli(['errors', '--unsent']);
    expect(table.code).toBe(0);
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(
      /^time\s+id\s+tenant\s+action\s+error\s+message\s+notice\s+attempts\s+last error$/,
    );
    expect(lines[2]).toMatch(/org_1\s+action\.failed\s+Error\s+crashed before notice\s+pending\s+0/);
    expect(table.out).toContain('3 unsent notices.');
    const jsonl = await cli(['errors', '--unsent', '--format', 'jsonl']);
    expect(
      jsonl.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).notice),
    ).toEqual(['pending', 'failed', 'failed']);
  });

  it('refuses a bad flag value with a message and exit code 1', async () => {
    const bad = await cli(['errors', '--format', 'xml']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('expected table, json or jsonl');
    expect((await cli(['errors', '--since', 'yesterday-ish'])).code).toBe(1);
  });
});
