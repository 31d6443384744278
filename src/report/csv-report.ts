import type { Writable } from 'node:stream';
import type { AuditEvent } from '../core/event.js';
import { type ReportContext, type ReportWriter, writeChunk } from './report-writer.js';

/** The CSV columns, in order: one row per event, nested parts as JSON. */
export const CSV_COLUMNS: readonly [string, (e: AuditEvent) => unknown][] = [
  ['id', (e) => e.id],
  ['occurred_at', (e) => e.occurredAt.toISOString()],
  ['tenant_id', (e) => e.tenantId],
  ['category', (e) => e.category],
  ['action', (e) => e.action],
  ['outcome', (e) => e.outcome],
  ['actor_type', (e) => e.actor.type],
  ['actor_id', (e) => e.actor.id],
  ['actor_label', (e) => e.actor.label],
  ['actor_ip', (e) => e.actor.ip],
  ['target_type', (e) => e.target?.type],
  ['target_id', (e) => e.target?.id],
  ['target_label', (e) => e.target?.label],
  ['request_method', (e) => e.request?.method],
  ['request_path', (e) => e.request?.path],
  ['status', (e) => e.request?.status],
  ['request_id', (e) => e.correlation?.requestId ?? e.request?.id],
  ['reason', (e) => e.reason],
  ['message', (e) => e.message],
  ['changes', (e) => e.changes],
  ['metadata', (e) => e.metadata],
  ['seq', (e) => e.seq],
  ['hash', (e) => e.hash],
];

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text starting with
 * `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'`, so a spreadsheet shows it instead of
 * running it as a formula (CSV injection).
 */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV with a header row, CRLF line ends (RFC 4180), UTF-8. */
export function csvReport(): ReportWriter {
  return {
    format: 'csv',
    contentType: 'text/csv; charset=utf-8',
    async write(open, out: Writable, context: ReportContext) {
      await writeChunk(out, `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`);
      let written = 0;
      for await (const event of open()) {
        await writeChunk(out, `${CSV_COLUMNS.map(([, get]) => csvField(get(event))).join(',')}\r\n`);
        written += 1;
        if (written % 1000 === 0) context.onProgress?.(written);
      }
      context.onProgress?.(written);
      return written;
    },
  };
}
