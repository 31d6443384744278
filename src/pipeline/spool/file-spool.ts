import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { AuditkitError, toAuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import type { ErrorHook } from '../writer.js';
import type { Spool, SpooledBatch } from './spool.js';

export interface FileSpoolOptions {
  dir: string;
  onError?: ErrorHook;
  /** A segment file is closed and a new one started past this size. Default 8 MiB. */
  maxSegmentBytes?: number;
}

const SEGMENT = /^(\d{12})\.jsonl$/;

/**
 * A spool in a directory: segment files of JSON lines, one line per batch, fsync per batch.
 * Fully replayed segments are deleted; progress inside a segment is kept in `<segment>.ack`
 * (written atomically by rename), so a restart replays at most one batch twice, which the
 * stores absorb because they skip ids they already have.
 */
export function createFileSpool({
  dir,
  onError,
  maxSegmentBytes = 8 * 1024 * 1024,
}: FileSpoolOptions): Spool {
  let opened = false;
  let fd: number | null = null;
  let currentSegment: string | null = null;
  let currentBytes = 0;
  let nextNumber = 1;
  let pending = 0;

  const fail = (error: unknown, what: string) =>
    toAuditkitError(error, 'spool_failed', `Audit spool ${what} failed in ${dir}`);

  const segments = () =>
    readdirSync(dir)
      .filter((f) => SEGMENT.test(f))
      .sort();
  const ackPath = (segment: string) => join(dir, `${segment}.ack`);
  const readAck = (segment: string) =>
    existsSync(ackPath(segment)) ? Number(readFileSync(ackPath(segment), 'utf8')) || 0 : 0;

  const open = () => {
    if (opened) return;
    try {
      mkdirSync(dir, { recursive: true });
      takeLock();
      for (const segment of segments()) {
        nextNumber = Math.max(nextNumber, Number(SEGMENT.exec(segment)?.[1]) + 1);
        const lines = readLines(segment);
        for (const line of lines.slice(readAck(segment))) pending += line.events?.length ?? 0;
      }
      opened = true;
    } catch (error) {
      throw fail(error, 'opening');
    }
  };

  const takeLock = () => {
    const lock = join(dir, 'lock');
    if (existsSync(lock)) {
      const pid = Number(readFileSync(lock, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new AuditkitError(
          'spool_failed',
          `The audit spool ${dir} is in use by process ${pid}; give each process its own spool directory.`,
        );
      }
    }
    writeFileSync(lock, String(process.pid));
  };

  const closeSegment = () => {
    if (fd !== null) closeSync(fd);
    fd = null;
    currentSegment = null;
    currentBytes = 0;
  };

  const readLines = (segment: string): Array<{ events?: AuditEvent[] }> => {
    const text = readFileSync(join(dir, segment), 'utf8');
    const parts = text.split('\n');
    const torn = parts.pop(); // '' when the file ends with a newline
    const out: Array<{ events?: AuditEvent[] }> = [];
    for (const part of parts) out.push(parseLine(part, segment));
    if (torn) {
      onError?.(
        new AuditkitError(
          'spool_corrupt',
          `A torn last line in audit spool segment ${segment} was skipped (a crash mid-write).`,
        ),
      );
    }
    return out;
  };

  const parseLine = (line: string, segment: string): { events?: AuditEvent[] } => {
    try {
      const parsed = JSON.parse(line) as { events: AuditEvent[] };
      return { events: parsed.events.map((e) => ({ ...e, occurredAt: new Date(e.occurredAt) })) };
    } catch (error) {
      onError?.(
        new AuditkitError(
          'spool_corrupt',
          `An unreadable line in audit spool segment ${segment} was skipped.`,
          { cause: error },
        ),
      );
      return {};
    }
  };

  return {
    append(events) {
      if (events.length === 0) return;
      open();
      try {
        if (fd === null) {
          currentSegment = `${String(nextNumber++).padStart(12, '0')}.jsonl`;
          fd = openSync(join(dir, currentSegment), 'a');
        }
        const line = `${JSON.stringify({ v: 1, events })}\n`;
        writeSync(fd, line);
        fsyncSync(fd);
        currentBytes += Buffer.byteLength(line);
        pending += events.length;
        if (currentBytes >= maxSegmentBytes) closeSegment();
      } catch (error) {
        closeSegment();
        throw fail(error, 'write');
      }
    },
    pendingCount: () => {
      if (!opened) {
        try {
          open();
        } catch (error) {
          onError?.(error as AuditkitError);
        }
      }
      return pending;
    },
    *batches(): Iterable<SpooledBatch> {
      open();
      // The segment being written is closed first, so replay only ever reads immutable files.
      closeSegment();
      for (const segment of segments()) {
        const lines = readLines(segment);
        let acked = readAck(segment);
        for (let i = acked; i < lines.length; i++) {
          const events = lines[i]?.events;
          const ack = () => {
            acked = i + 1;
            pending -= events?.length ?? 0;
            if (acked >= lines.length) {
              unlinkSync(join(dir, segment));
              if (existsSync(ackPath(segment))) unlinkSync(ackPath(segment));
            } else {
              writeFileSync(`${ackPath(segment)}.tmp`, String(acked));
              renameSync(`${ackPath(segment)}.tmp`, ackPath(segment));
            }
          };
          if (!events || events.length === 0) {
            ack();
            continue;
          }
          yield { events, ack };
        }
        if (lines.length === 0) unlinkSync(join(dir, segment));
      }
    },
    close() {
      closeSegment();
      if (opened) {
        try {
          const lock = join(dir, 'lock');
          if (existsSync(lock) && Number(readFileSync(lock, 'utf8')) === process.pid) unlinkSync(lock);
        } catch {
          // best effort: a stale lock from this pid is taken over on the next start anyway
        }
      }
      opened = false;
      pending = 0;
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
