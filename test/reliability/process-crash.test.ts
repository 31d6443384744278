/**
 * The process is killed with SIGKILL while it records events; after a restart on the same spool every
 * event it had accepted is in PostgreSQL, exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const url = inject('pgUrl');
const fixture = join(import.meta.dirname, 'fixtures', 'crash-writer.ts');

function run(args: string[]): { child: ChildProcess; lines: string[]; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code) console.error(stderr);
      resolve(code);
    }),
  );
  return { child, lines, done };
}

describe.skipIf(!url)('process killed with SIGKILL while recording', () => {
  let spoolDir: string;
  beforeAll(() => {
    spoolDir = mkdtempSync(join(tmpdir(), 'auditkit-crash-'));
  });
  afterAll(() => rmSync(spoolDir, { recursive: true, force: true }));

  it('keeps every accepted event after a restart, without duplicates', async () => {
    const writer = run([url, spoolDir]);
    // Let it record a few thousand events, then kill it without warning.
    const deadline = Date.now() + 60_000;
    while (writer.lines.length < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    writer.child.kill('SIGKILL');
    await writer.done;
    const accepted = writer.lines.filter((l) => /^[0-9a-f-]{36}$/.test(l));

    const drain = run([url, spoolDir, '--drain']);
    expect(await drain.done).toBe(0);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ id: string; copies: string }>(
      'select id::text as id, count(*) as copies from crash.audit_events group by id',
    );
    await client.query('drop schema crash cascade');
    await client.end();
    const stored = new Map(rows.map((r) => [r.id, Number(r.copies)]));
    const missing = accepted.filter((id) => !stored.has(id));
    const duplicated = rows.filter((r) => Number(r.copies) > 1).length;
    console.log(
      `[crash] ${accepted.length} events acknowledged before SIGKILL; ${rows.length} stored after restart ` +
        `(${rows.length - accepted.length} journaled but not yet acknowledged); missing ${missing.length}, duplicated ${duplicated}`,
    );
    expect(accepted.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(duplicated).toBe(0);
  }, 120_000);
});
