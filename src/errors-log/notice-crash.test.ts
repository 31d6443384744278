import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestSchema } from '../../test/helpers/postgres-server.js';
import { runCli } from '../cli/main.js';
import { createAuditor } from '../core/auditor.js';
import { startWebhookServer } from '../notify/testing/servers.js';
import { webhookNotifier } from '../notify/webhook-notifier.js';
import { postgresStore } from '../store/postgres/index.js';

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');
const fixture = join(import.meta.dirname, 'testing', 'crash-before-notice.ts');

/** Runs the auditkit CLI in-process and returns its exit code and output. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (out += t), env: {} });
  return { code, out };
}

describe.skipIf(!url)(
  `a crash between "error recorded" and "notice sent"${url ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const drops: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const drop of drops) await drop();
    });

    it('leaves the error pending: auditkit errors --unsent lists it, and retryUnsent sends it once', async () => {
      const { schema, drop } = await createTestSchema(url, 'notice_crash');
      drops.push(drop);
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, schema], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('exit', (c, s) => resolve([c, s])),
      );
      expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });

      const store = ['--database-url', url, '--schema', schema];
      const listed = await cli(['errors', '--unsent', ...store, '--format', 'json']);
      expect(listed.code).toBe(0);
      const [pending, ...rest] = JSON.parse(listed.out) as Array<Record<string, unknown>>;
      expect(rest).toEqual([]);
      expect(pending).toMatchObject({
        tenantId: 'org_crash',
        action: 'action.failed',
        error: 'Error',
        message: 'card declined',
        requestId: 'req-crash',
        notice: 'pending',
        attempts: 0,
      });

      // The restarted app's job sends what is still pending (here at once; by default after a minute).
      const hook = await startWebhookServer();
      const audit = createAuditor({
        store: postgresStore({ connectionString: url, schema }),
        spool: false,
        notify: { notifiers: [webhookNotifier({ url: hook.url })] },
      });
      try {
        expect(await audit.errors.retryUnsent({ pendingAfterMs: 0 })).toEqual({
          tried: 1,
          sent: 1,
          failed: 0,
          skipped: 0,
        });
        expect(await audit.errors.retryUnsent({ pendingAfterMs: 0 })).toEqual({
          tried: 0,
          sent: 0,
          failed: 0,
          skipped: 0,
        });
      } finally {
        await audit.close();
        await hook.close();
      }
      expect(hook.received.map((r) => JSON.parse(r.body).event.id)).toEqual([pending?.id]);
      expect(JSON.parse((await cli(['errors', '--unsent', ...store, '--format', 'json'])).out)).toEqual([]);
      const table = await cli(['errors', ...store, '--tenant', 'org_crash']);
      expect(table.out).toMatch(/action\.failed\s+Error\s+card declined\s+sent\s+1/);
      expect(table.out).toContain('1 error.');
    });
  },
);
