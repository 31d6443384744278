/**
 * Reports and export: CSV, JSON Lines and PDF, streamed from any store. Published as `auditkit/report`.
 */
export { CSV_COLUMNS, csvField, csvReport } from './csv-report.js';
export { streamEvents } from './event-stream.js';
export { type ExportOptions, exportEvents, reportWriter } from './export.js';
export { jsonlReport } from './jsonl-report.js';
export { type PdfReportOptions, pdfReport, type ReportSummary, summarize } from './pdf-report.js';
export { type Progress, progressBar } from './progress-bar.js';
export {
  REPORT_FORMATS,
  type ReportContext,
  type ReportFormat,
  type ReportWriter,
  writeChunk,
} from './report-writer.js';
