import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { type FileHandle, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditkitError, toAuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import type { Outbox, OutboxPosition, OutboxRead } from './outbox.js';

export interface FileOutboxOptions {
  dir: string;
  /** Every reader that will read, so no segment is deleted before each one has passed it. */
  readers: readonly string[];
  /** Disk the outbox may use; past it the oldest segments are deleted (readers see them as `skipped`). Default 1 GiB. */
  maxBytes?: number;
  /** A new segment file is started past this size. Default 8 MiB. */
  maxSegmentBytes?: number;
  /** fsync after each append so a power loss keeps what was appended. Default true. */
  fsync?: boolean;
  onError?: (error: AuditkitError) => void;
}

/** A cursor: the byte offset of a line in a segment, how many events of that line are done, and the sequence number. */
interface FilePosition extends OutboxPosition {
  segment: number;
  offset: number;
  skip: number;
}

interface Segment {
  /** Sequence number of its first event; also its file name. */
  start: number;
  /** Bytes of complete lines (what readers may read). */
  bytes: number;
}

interface Line {
  seq: number;
  events: AuditEvent[];
}

const SEGMENT = /^(\d{16})\.jsonl$/;
const segmentFile = (start: number) => `${String(start).padStart(16, '0')}.jsonl`;
const FIRST_CHUNK = 256 * 1024;

/**
 * A durable outbox in a directory: `log/<first sequence number>.jsonl` segments of JSON lines (one line
 * per appended batch), and `cursors/<reader>.json` holding each reader's position, replaced atomically.
 * Segments every reader has passed are deleted. A restart resumes each reader where it last committed,
 * so at most the batch in flight at a crash is delivered twice.
 */
export function createFileOutbox({
  dir,
  readers,
  maxBytes = 1024 ** 3,
  maxSegmentBytes = 8 * 1024 * 1024,
  fsync = true,
  onError,
}: FileOutboxOptions): Outbox {
  const logDir = join(dir, 'log');
  const cursorDir = join(dir, 'cursors');
  const cursorFile = (reader: string) => join(cursorDir, `${encodeURIComponent(reader)}.json`);
  const fail = (error: unknown, what: string) =>
    toAuditkitError(error, 'sink_outbox_failed', `The sink outbox in ${dir} could not ${what}`);

  const segments: Segment[] = [];
  const cursors = new Map<string, FilePosition>();
  let head = 0;
  let writer: { handle: FileHandle; segment: Segment } | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = chain.then(fn, fn);
    chain = result.catch(() => undefined);
    return result;
  };

  // Opening: find the segments, the head (after the last complete line) and the stored cursors.
  try {
    mkdirSync(logDir, { recursive: true });
    mkdirSync(cursorDir, { recursive: true });
    takeLock(dir);
    for (const name of readdirSync(logDir).sort()) {
      const match = SEGMENT.exec(name);
      if (!match) continue;
      const start = Number(match[1]);
      const text = readFileSync(join(logDir, name), 'utf8');
      const complete = text.lastIndexOf('\n') + 1;
      segments.push({ start, bytes: Buffer.byteLength(text.slice(0, complete)) });
      head = Math.max(head, start);
      const lastLine = text.slice(0, complete).trimEnd().split('\n').at(-1);
      const parsed = lastLine ? parseLine(lastLine) : null;
      if (parsed) head = Math.max(head, parsed.seq + parsed.events.length);
    }
    for (const reader of readers) {
      const file = cursorFile(reader);
      if (!existsSync(file)) continue;
      const stored = JSON.parse(readFileSync(file, 'utf8')) as FilePosition;
      if ([stored.seq, stored.segment, stored.offset, stored.skip].every(Number.isSafeInteger)) {
        cursors.set(reader, stored);
        head = Math.max(head, stored.seq);
      }
    }
  } catch (error) {
    throw fail(error, 'be opened (check that the directory is writable and used by one process only)');
  }

  const totalBytes = () => segments.reduce((sum, s) => sum + s.bytes, 0);
  const firstPosition = (): FilePosition => {
    const first = segments[0];
    return first
      ? { segment: first.start, offset: 0, skip: 0, seq: first.start }
      : { segment: head, offset: 0, skip: 0, seq: head };
  };
  // A reader without a stored cursor starts at the oldest event kept now; discarding later ones counts as skipped.
  for (const reader of readers) if (!cursors.has(reader)) cursors.set(reader, firstPosition());
  const cursorOf = (reader: string): FilePosition => cursors.get(reader) ?? firstPosition();

  const deleteSegment = async (segment: Segment) => {
    segments.splice(segments.indexOf(segment), 1);
    await unlink(join(logDir, segmentFile(segment.start))).catch(() => undefined);
  };

  /** Deletes the segments every reader has passed, and the oldest ones while over the size bound. */
  const trim = async () => {
    let lowest = Number.POSITIVE_INFINITY;
    for (const reader of readers) lowest = Math.min(lowest, cursorOf(reader).segment);
    for (const segment of [...segments]) {
      if (segment === writer?.segment || segment.start >= lowest) break;
      await deleteSegment(segment);
    }
    while (totalBytes() > maxBytes && segments[0] && segments[0] !== writer?.segment) {
      await deleteSegment(segments[0]);
    }
  };

  const readChunk = async (segment: Segment, offset: number, length: number): Promise<Buffer> => {
    const handle = await open(join(logDir, segmentFile(segment.start)), 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  };

  return {
    append(events) {
      if (events.length === 0) return Promise.resolve();
      return serial(async () => {
        if (closed) throw new AuditkitError('closed', 'The sink outbox is closed.');
        try {
          if (!writer || writer.segment.bytes >= maxSegmentBytes) {
            await writer?.handle.close();
            // A new segment after each start: earlier files are never appended to again, so a torn
            // last line (a crash mid-write) stays torn and readers can skip it safely.
            const segment = { start: head, bytes: 0 };
            const handle = await open(join(logDir, segmentFile(head)), 'w');
            const existing = segments.findIndex((s) => s.start === head);
            if (existing >= 0) segments.splice(existing, 1); // a file holding only a torn line
            segments.push(segment);
            writer = { handle, segment };
          }
          const line = `${JSON.stringify({ v: 1, seq: head, events })}\n`;
          await writer.handle.write(line);
          if (fsync) await writer.handle.datasync();
          writer.segment.bytes += Buffer.byteLength(line);
          head += events.length;
          if (totalBytes() > maxBytes) await trim();
        } catch (error) {
          throw fail(error, `append ${events.length} event(s)`);
        }
      });
    },

    async read(reader, max): Promise<OutboxRead> {
      const start = cursorOf(reader);
      let position: FilePosition = { ...start };
      let skipped = 0;
      const events: AuditEvent[] = [];
      const done = () => ({ events, next: position, skipped });
      while (events.length < max) {
        let index = segments.findIndex((s) => s.start === position.segment);
        if (index < 0) {
          // Its segment is gone (deleted over the size bound): continue at the oldest one left.
          const next = segments.find((s) => s.start > position.segment) ?? null;
          const resume = next ? next.start : head;
          skipped += Math.max(0, resume - position.seq);
          position = {
            segment: next?.start ?? head,
            offset: 0,
            skip: 0,
            seq: Math.max(position.seq, resume),
          };
          if (!next) return done();
          index = segments.indexOf(next);
        }
        const segment = segments[index] as Segment;
        if (position.offset >= segment.bytes) {
          const next = segments[index + 1];
          if (!next) return done();
          position = { segment: next.start, offset: 0, skip: 0, seq: Math.max(position.seq, next.start) };
          continue;
        }
        let chunk: Buffer;
        try {
          let length = Math.min(FIRST_CHUNK, segment.bytes - position.offset);
          chunk = await readChunk(segment, position.offset, length);
          while (chunk.indexOf(10) < 0 && length < segment.bytes - position.offset) {
            length = Math.min(length * 4, segment.bytes - position.offset);
            chunk = await readChunk(segment, position.offset, length);
          }
        } catch (error) {
          // Deleted under us (over the size bound): the next round finds it gone and moves on.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !segments.includes(segment)) continue;
          throw fail(error, `be read for "${reader}"`);
        }
        const chunkStart = position.offset;
        let lineStart = 0;
        for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, lineStart)) {
          const text = chunk.subarray(lineStart, newline).toString('utf8');
          const lineOffset = chunkStart + lineStart;
          const nextOffset = chunkStart + newline + 1;
          lineStart = newline + 1;
          const line = parseLine(text);
          if (!line) {
            onError?.(
              new AuditkitError(
                'sink_outbox_corrupt',
                `An unreadable line in sink outbox segment ${segmentFile(segment.start)} was skipped.`,
              ),
            );
            position = { ...position, offset: nextOffset, skip: 0 };
            continue;
          }
          const available = line.events.slice(position.skip);
          const taken = available.slice(0, max - events.length);
          events.push(...taken);
          if (taken.length < available.length) {
            const skip = position.skip + taken.length;
            position = { segment: segment.start, offset: lineOffset, skip, seq: line.seq + skip };
            return done();
          }
          position = {
            segment: segment.start,
            offset: nextOffset,
            skip: 0,
            seq: line.seq + line.events.length,
          };
          if (events.length >= max) return done();
        }
        if (lineStart === 0) {
          // No complete line up to the end of the segment: a torn tail, already excluded from `bytes`.
          position = { ...position, offset: segment.bytes };
        }
      }
      return done();
    },

    commit(reader, position) {
      const next = position as FilePosition;
      return serial(async () => {
        cursors.set(reader, next);
        const file = cursorFile(reader);
        try {
          await writeFile(`${file}.tmp`, JSON.stringify(next));
          await rename(`${file}.tmp`, file);
          await trim();
        } catch (error) {
          throw fail(error, `store the cursor of "${reader}"`);
        }
      });
    },

    pending: (reader) => Math.max(0, head - Math.max(cursorOf(reader).seq, segments[0]?.start ?? head)),

    close() {
      return serial(async () => {
        if (closed) return;
        closed = true;
        await writer?.handle.close();
        writer = null;
        releaseLock(dir);
      });
    },
  };
}

function parseLine(text: string): Line | null {
  try {
    const parsed = JSON.parse(text) as { seq?: unknown; events?: unknown };
    if (typeof parsed.seq !== 'number' || !Array.isArray(parsed.events)) return null;
    const events = (parsed.events as AuditEvent[]).map((e) => ({ ...e, occurredAt: new Date(e.occurredAt) }));
    return { seq: parsed.seq, events };
  } catch {
    return null;
  }
}

function takeLock(dir: string): void {
  const lock = join(dir, 'lock');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new AuditkitError(
        'sink_outbox_failed',
        `The sink outbox ${dir} is in use by process ${pid}; give each process its own directory.`,
      );
    }
  }
  writeFileSync(lock, String(process.pid));
}

function releaseLock(dir: string): void {
  try {
    const lock = join(dir, 'lock');
    if (existsSync(lock) && Number(readFileSync(lock, 'utf8')) === process.pid) unlinkSync(lock);
  } catch {
    // best effort: a stale lock of a dead process is taken over on the next start
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
