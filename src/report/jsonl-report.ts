import type { Writable } from 'node:stream';
import { type ReportContext, type ReportWriter, writeChunk } from './report-writer.js';

/** One event per line as JSON (JSON Lines): what `auditkit query --format jsonl` prints, for any size. */
export function jsonlReport(): ReportWriter {
  return {
    format: 'jsonl',
    contentType: 'application/jsonl; charset=utf-8',
    async write(open, out: Writable, context: ReportContext) {
      let written = 0;
      for await (const event of open()) {
        await writeChunk(out, `${JSON.stringify(event)}\n`);
        written += 1;
        if (written % 1000 === 0) context.onProgress?.(written);
      }
      context.onProgress?.(written);
      return written;
    },
  };
}
