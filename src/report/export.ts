import type { Writable } from 'node:stream';
import { z } from 'zod';
import { AuditkitError } from '../core/errors.js';
import type { VerifyReport } from '../integrity/verify.js';
import type { AuditQuery, AuditStore } from '../store/store.js';
import { csvReport } from './csv-report.js';
import { streamEvents } from './event-stream.js';
import { jsonlReport } from './jsonl-report.js';
import { type PdfReportOptions, pdfReport } from './pdf-report.js';
import { REPORT_FORMATS, type ReportFormat, type ReportWriter } from './report-writer.js';

export const exportOptionsSchema = z.strictObject({
  format: z.enum(REPORT_FORMATS),
  /** Where the report goes: a file stream, an HTTP response, stdout. Not ended by `exportEvents`. */
  out: z.custom<Writable>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Writable).write === 'function',
  ),
  /** The usual filters (see `AuditQuery`), without `cursor` and `limit`. */
  query: z
    .custom<Omit<AuditQuery, 'cursor' | 'limit'>>((v) => typeof v === 'object' && v !== null)
    .default({}),
  /** PDF title (default "Audit report"). */
  title: z.string().min(1).default('Audit report'),
  /** A verification to print in the PDF (see `verify`). */
  verification: z
    .custom<VerifyReport>((v) => typeof v === 'object' && v !== null)
    .nullable()
    .default(null),
  pdf: z.custom<PdfReportOptions>((v) => typeof v === 'object' && v !== null).default({}),
  /** Events per page read from the store (default 1000). */
  pageSize: z.number().int().min(1).max(1000).default(1000),
  onProgress: z.custom<(written: number) => void>((v) => typeof v === 'function').optional(),
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
});

export type ExportOptions = z.input<typeof exportOptionsSchema>;

/** The writer of one format. */
export function reportWriter(format: ReportFormat, pdf: PdfReportOptions = {}): ReportWriter {
  switch (format) {
    case 'csv':
      return csvReport();
    case 'jsonl':
      return jsonlReport();
    case 'pdf':
      return pdfReport(pdf);
  }
}

/**
 * Exports the events matching `query` as CSV, JSON Lines or PDF, streaming: a page of events in memory
 * at a time, writes waiting for the output to drain, so millions of events take constant memory.
 *
 * @example
 * await exportEvents(audit.store, { format: 'csv', out: createWriteStream('audit.csv'), query: { tenantId: 'org_1' } });
 */
export async function exportEvents(store: AuditStore, options: ExportOptions): Promise<{ events: number }> {
  const parsed = exportOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`);
    throw new AuditkitError('invalid_config', `Invalid export options: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const config = parsed.data;
  const writer = reportWriter(config.format, config.pdf);
  const events = await writer.write(() => streamEvents(store, config.query, config.pageSize), config.out, {
    title: config.title,
    query: config.query,
    generatedAt: (config.now ?? (() => new Date()))(),
    verification: config.verification,
    ...(config.onProgress ? { onProgress: config.onProgress } : {}),
  });
  return { events };
}
