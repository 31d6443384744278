import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { newEventId } from '../../core/ids.js';
import { createFileSpool } from './file-spool.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'auditkit-spool-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const event = (i: number): AuditEvent => ({
  id: newEventId(),
  occurredAt: new Date(1_700_000_000_000 + i),
  category: 'custom',
  action: 'spooled',
  outcome: 'success',
  actor: { type: 'system' },
  metadata: { i },
});

describe('createFileSpool', () => {
  it('hands batches back oldest first with dates revived, and forgets acknowledged ones', () => {
    const spool = createFileSpool({ dir: tempDir() });
    spool.append([event(1), event(2)]);
    spool.append([event(3)]);
    expect(spool.pendingCount()).toBe(3);
    const seen: number[] = [];
    for (const batch of spool.batches()) {
      for (const e of batch.events) seen.push((e.metadata as { i: number }).i);
      expect(batch.events[0]?.occurredAt).toBeInstanceOf(Date);
      batch.ack();
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(spool.pendingCount()).toBe(0);
    expect([...spool.batches()]).toEqual([]);
    spool.close();
  });

  it('survives a restart: unacknowledged batches are still there, acknowledged ones are not', () => {
    const dir = tempDir();
    const first = createFileSpool({ dir });
    first.append([event(1)]);
    first.append([event(2)]);
    first.append([event(3)]);
    for (const batch of first.batches()) {
      batch.ack();
      break; // the process "dies" after storing one batch
    }
    first.close();
    const second = createFileSpool({ dir });
    expect(second.pendingCount()).toBe(2);
    expect([...second.batches()].map((b) => (b.events[0]!.metadata as { i: number }).i)).toEqual([2, 3]);
    second.close();
  });

  it('rotates segments by size and deletes each once fully replayed', () => {
    const dir = tempDir();
    const spool = createFileSpool({ dir, maxSegmentBytes: 200 });
    for (let i = 0; i < 10; i++) spool.append([event(i)]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(1);
    for (const batch of spool.batches()) batch.ack();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
    spool.close();
  });

  it('skips a torn last line left by a crash mid-write, and says so', () => {
    const dir = tempDir();
    const errors: AuditkitError[] = [];
    const first = createFileSpool({ dir });
    first.append([event(1)]);
    first.close();
    const segment = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(join(dir, segment), '{"v":1,"events":[{"id":"trunc');
    const second = createFileSpool({ dir, onError: (e) => errors.push(e) });
    expect([...second.batches()].map((b) => b.events.length)).toEqual([1]);
    expect(errors.map((e) => e.code)).toContain('spool_corrupt');
    second.close();
  });

  it('refuses a directory locked by another live process, and takes over a stale lock', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lock'), String(process.ppid)); // the parent process is alive
    expect(() => createFileSpool({ dir }).append([event(1)])).toThrowError(
      expect.objectContaining({ code: 'spool_failed' }),
    );
    writeFileSync(join(dir, 'lock'), '999999999'); // no such process
    const spool = createFileSpool({ dir });
    spool.append([event(1)]);
    expect(spool.pendingCount()).toBe(1);
    spool.close();
  });

  it('reports an unwritable location as spool_failed instead of crashing', () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const spool = createFileSpool({ dir: join(file, 'spool') }); // ENOTDIR, even for root
    expect(() => spool.append([event(1)])).toThrowError(expect.objectContaining({ code: 'spool_failed' }));
  });
});
