import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import { createAccessLogFile } from './access-log-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const event = (i: number): AuditEvent => ({
  id: `0190d2f0-0000-7000-8000-${String(i).padStart(12, '0')}`,
  occurredAt: new Date('2025-01-01T00:00:00Z'),
  category: 'access',
  action: 'http.request',
  outcome: 'success',
  actor: { type: 'anonymous' },
  request: { path: `/items/${i}`, status: 200 },
});

describe('createAccessLogFile', () => {
  it('appends one JSON line per event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditkit-access-'));
    dirs.push(dir);
    const file = createAccessLogFile({
      dir: join(dir, 'nested'),
      maxBytes: 1_000_000,
      maxFiles: 3,
      onError: () => {},
    });
    for (let i = 0; i < 5; i++) file.write(event(i));
    await file.flush();
    const lines = readFileSync(file.path, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).request.path)).toEqual([
      '/items/0',
      '/items/1',
      '/items/2',
      '/items/3',
      '/items/4',
    ]);
    expect(JSON.parse(lines[0] as string).occurredAt).toBe('2025-01-01T00:00:00.000Z');
  });

  it('rotates by size and keeps maxFiles old files, losing no line in between', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditkit-access-'));
    dirs.push(dir);
    const lineBytes = JSON.stringify(event(0)).length + 1;
    const file = createAccessLogFile({ dir, maxBytes: lineBytes * 4, maxFiles: 2, onError: () => {} });
    for (let i = 0; i < 10; i++) file.write(event(i));
    await file.flush();
    expect(readdirSync(dir).sort()).toEqual(['access.log', 'access.log.1', 'access.log.2']);
    const read = (name: string) =>
      readFileSync(join(dir, name), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).request.path);
    expect([...read('access.log.2'), ...read('access.log.1'), ...read('access.log')]).toEqual(
      Array.from({ length: 10 }, (_, i) => `/items/${i}`),
    );
  });

  it('reports a write failure instead of throwing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditkit-access-'));
    dirs.push(dir);
    const errors: AuditkitError[] = [];
    const blocked = join(dir, 'not-a-dir');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(blocked, 'a file where the directory should be');
    const file = createAccessLogFile({
      dir: blocked,
      maxBytes: 1000,
      maxFiles: 1,
      onError: (e) => errors.push(e),
    });
    file.write(event(1));
    await file.flush();
    expect(errors.map((e) => e.code)).toEqual(['access_log_failed']);
  });
});
