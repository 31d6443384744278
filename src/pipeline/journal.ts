import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { toAuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';

/**
 * Write-ahead journal for `journal: true`: each accepted event is written to a segment file before
 * `record()` resolves (the page cache survives SIGKILL; fsync runs once per flushed batch), and a segment
 * is deleted once every event in it is stored or spooled. A restart hands leftover events back for replay;
 * the stores skip ids they already have, so replaying a little too much is harmless.
 */
export class Journal {
  private fd: number | null = null;
  private segment: { name: string; lastSeq: number; count: number } | null = null;
  private readonly closed: Array<{ name: string; lastSeq: number }> = [];
  private seq = 0;

  constructor(
    private readonly dir: string,
    private readonly eventsPerSegment = 5000,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Events left by an earlier process, oldest first; their files are removed once `forgetRecovered()` runs. */
  recover(): AuditEvent[] {
    const events: AuditEvent[] = [];
    for (const name of this.files()) {
      for (const line of readFileSync(join(this.dir, name), 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const event = JSON.parse(line) as AuditEvent;
          events.push({ ...event, occurredAt: new Date(event.occurredAt) });
        } catch {
          // a torn last line from a crash mid-write: that event never got an acknowledgement
        }
      }
    }
    return events;
  }

  forgetRecovered(): void {
    for (const name of this.files()) if (name !== this.segment?.name) unlinkSync(join(this.dir, name));
  }

  /** Writes one event; returns its sequence number. */
  append(event: AuditEvent): number {
    try {
      if (this.fd === null || !this.segment) {
        const name = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${this.seq + 1}.jsonl`;
        this.fd = openSync(join(this.dir, name), 'a');
        this.segment = { name, lastSeq: this.seq, count: 0 };
      }
      writeSync(this.fd, `${JSON.stringify(event)}\n`);
      this.seq += 1;
      this.segment.lastSeq = this.seq;
      this.segment.count += 1;
      if (this.segment.count >= this.eventsPerSegment) this.rotate();
      return this.seq;
    } catch (error) {
      throw toAuditkitError(error, 'spool_failed', `Audit journal write failed in ${this.dir}`);
    }
  }

  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Every event up to `seq` is stored or spooled: drop the segments that hold only such events. */
  markDurable(seq: number): void {
    if (this.segment && this.segment.lastSeq <= seq && this.segment.count > 0) this.rotate();
    while (this.closed.length > 0 && (this.closed[0]?.lastSeq ?? Infinity) <= seq) {
      const done = this.closed.shift()!;
      try {
        unlinkSync(join(this.dir, done.name));
      } catch {
        // already gone
      }
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private rotate(): void {
    if (this.fd !== null) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    if (this.segment) this.closed.push({ name: this.segment.name, lastSeq: this.segment.lastSeq });
    this.fd = null;
    this.segment = null;
  }

  private files(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
  }
}
