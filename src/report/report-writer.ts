import type { Writable } from 'node:stream';
import type { AuditEvent } from '../core/event.js';
import type { VerifyReport } from '../integrity/verify.js';
import type { AuditQuery } from '../store/store.js';

export const REPORT_FORMATS = ['csv', 'jsonl', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What a report knows besides its events. */
export interface ReportContext {
  /** Shown in the PDF title. */
  title: string;
  /** The filters the events were selected with, shown in the PDF. */
  query: Omit<AuditQuery, 'cursor' | 'limit'>;
  /** When the report was made. */
  generatedAt: Date;
  /** A verification of the store to print in the report (PDF), if one was run. */
  verification: VerifyReport | null;
  /** Called as events are written, with the count so far. */
  onProgress?: (written: number) => void;
}

/**
 * One output format. `open()` gives a fresh stream of the events each time it is called (a format that
 * needs two passes, like the PDF's summary then table, calls it twice); memory stays constant whatever
 * the number of events.
 */
export interface ReportWriter {
  readonly format: ReportFormat;
  /** The MIME type of the output. */
  readonly contentType: string;
  /** Writes the report to `out` (not ended by the writer unless it says so) and returns the events written. */
  write(open: () => AsyncIterable<AuditEvent>, out: Writable, context: ReportContext): Promise<number>;
}

/** Writes `chunk`, waiting for the stream to drain when its buffer is full (constant memory). */
export async function writeChunk(out: Writable, chunk: string): Promise<void> {
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    out.on('drain', onDrain);
    out.on('error', done);
  });
}
