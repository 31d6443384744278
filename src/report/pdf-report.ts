import type { Writable } from 'node:stream';
import { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import type { ReportContext, ReportWriter } from './report-writer.js';

export interface PdfReportOptions {
  /** Events listed in the table (default 100,000); the summary always counts all of them. */
  maxRows?: number;
  /** Actors listed in the summary (default 10). */
  topActors?: number;
}

/** Counts for the summary, in bounded memory (at most 10,000 distinct actors are told apart). */
export interface ReportSummary {
  total: number;
  byCategory: Map<string, number>;
  byOutcome: Map<string, number>;
  byActor: Map<string, number>;
  first: Date | null;
  last: Date | null;
}

const MAX_DISTINCT_ACTORS = 10_000;
const OTHER_ACTORS = '(other actors)';

function actorName(e: AuditEvent): string {
  const who = e.actor.label ?? e.actor.id;
  return who ? `${e.actor.type}: ${who}` : e.actor.type;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Counts events by category, outcome and actor. */
export async function summarize(
  events: AsyncIterable<AuditEvent>,
  onEvent?: () => void,
): Promise<ReportSummary> {
  const summary: ReportSummary = {
    total: 0,
    byCategory: new Map(),
    byOutcome: new Map(),
    byActor: new Map(),
    first: null,
    last: null,
  };
  for await (const e of events) {
    summary.total += 1;
    bump(summary.byCategory, e.category);
    bump(summary.byOutcome, e.outcome);
    const actor = actorName(e);
    bump(
      summary.byActor,
      summary.byActor.has(actor) || summary.byActor.size < MAX_DISTINCT_ACTORS ? actor : OTHER_ACTORS,
    );
    if (!summary.first || e.occurredAt < summary.first) summary.first = e.occurredAt;
    if (!summary.last || e.occurredAt > summary.last) summary.last = e.occurredAt;
    onEvent?.();
  }
  return summary;
}

/** Standard PDF fonts speak WinAnsi: anything else becomes `?` rather than garbage. */
function printable(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value).replace(/[^\u0020-\u007e\u00a0-\u00ff]/g, '?');
}

function describeFilters(query: ReportContext['query']): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const text =
      value instanceof Date ? value.toISOString() : Array.isArray(value) ? value.join(', ') : String(value);
    lines.push(`${key}: ${text}`);
  }
  return lines.length > 0 ? lines : ['none (every event)'];
}

type Doc = PDFKit.PDFDocument;

/** Checkpoint ids are sha256 hex; 16 characters name one unambiguously in print (like a short git id). */
function short(id: string | null): string {
  return id ? id.slice(0, 16) : '(none)';
}

const MARGIN = 40;
const FOOTER = 'Auditkit audit report';

const TABLE: { title: string; width: number; get: (e: AuditEvent) => unknown }[] = [
  { title: 'Time (UTC)', width: 98, get: (e) => e.occurredAt.toISOString().replace('T', ' ').slice(0, 19) },
  { title: 'Category', width: 44, get: (e) => e.category },
  { title: 'Action', width: 96, get: (e) => e.action },
  { title: 'Outcome', width: 40, get: (e) => e.outcome },
  { title: 'Actor', width: 92, get: actorName },
  {
    title: 'Target',
    width: 92,
    get: (e) => (e.target ? [e.target.type, e.target.id].filter(Boolean).join(': ') : ''),
  },
  { title: 'Tenant', width: 53, get: (e) => e.tenantId ?? '' },
];

/**
 * A PDF report (pdfkit, an optional dependency): title and time, the filters used, summary counts by
 * category, outcome and actor, the verification result with checkpoint ids (when a verification is
 * given), then the table of events, with page numbers. Written as it goes (pages are not kept in
 * memory); the events are read twice, once for the summary and once for the table.
 */
export function pdfReport(options: PdfReportOptions = {}): ReportWriter {
  const maxRows = options.maxRows ?? 100_000;
  const topActors = options.topActors ?? 10;
  return {
    format: 'pdf',
    contentType: 'application/pdf',
    async write(open, out: Writable, context: ReportContext) {
      let PDFDocument: typeof import('pdfkit');
      try {
        PDFDocument = (await import('pdfkit')).default;
      } catch (error) {
        throw new AuditkitError(
          'not_supported',
          'PDF reports need the optional dependency pdfkit: npm install pdfkit',
          {
            cause: error,
          },
        );
      }
      let seen = 0;
      const summary = await summarize(open(), () => {
        seen += 1;
        if (seen % 1000 === 0) context.onProgress?.(seen);
      });
      const doc: Doc = new PDFDocument({
        size: 'A4',
        margin: MARGIN,
        bufferPages: false,
        info: { Title: printable(context.title), Creator: 'Auditkit', CreationDate: context.generatedAt },
      });
      const finished = new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        doc.once('end', resolve);
        doc.once('error', reject);
      });
      doc.pipe(out, { end: false });
      let page = 1;
      const footer = () => {
        const { x, y } = doc;
        const bottom = doc.page.margins.bottom;
        doc.page.margins.bottom = 0;
        doc
          .font('Helvetica')
          .fontSize(7)
          .fillColor('#666666')
          .text(`${FOOTER} - page ${page}`, MARGIN, doc.page.height - 28, {
            width: doc.page.width - 2 * MARGIN,
            align: 'center',
            lineBreak: false,
          })
          .fillColor('black');
        doc.page.margins.bottom = bottom;
        doc.x = x;
        doc.y = y;
      };
      doc.on('pageAdded', () => {
        page += 1;
        footer();
      });
      footer();

      const width = doc.page.width - 2 * MARGIN;
      const heading = (text: string) => {
        doc.moveDown(0.8).font('Helvetica-Bold').fontSize(12).text(text, MARGIN).moveDown(0.2);
        doc.font('Helvetica').fontSize(9);
      };
      const line = (text: string) => doc.text(printable(text), MARGIN, undefined, { width });

      doc.font('Helvetica-Bold').fontSize(18).text(printable(context.title), { width });
      doc.font('Helvetica').fontSize(9).fillColor('#444444');
      line(`Generated ${context.generatedAt.toISOString()} by Auditkit.`);
      doc.fillColor('black');

      heading('Filters');
      for (const filter of describeFilters(context.query)) line(filter);

      heading('Summary');
      line(`Events: ${summary.total}`);
      if (summary.first && summary.last) {
        line(`From ${summary.first.toISOString()} to ${summary.last.toISOString()}`);
      }
      const counts = (title: string, map: Map<string, number>, limit = Number.POSITIVE_INFINITY) => {
        doc.moveDown(0.3).font('Helvetica-Bold').text(title, MARGIN).font('Helvetica');
        const sorted = [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
        if (sorted.length === 0) line('-');
        for (const [key, n] of sorted) line(`${key}: ${n}`);
      };
      counts('By category', summary.byCategory);
      counts('By outcome', summary.byOutcome);
      counts(`Top ${topActors} actors`, summary.byActor, topActors);

      heading('Verification');
      const v = context.verification;
      if (!v) {
        line('Not verified in this report (export with --verify, or run `auditkit verify`).');
      } else {
        doc.font('Helvetica-Bold');
        line(
          v.ok
            ? `OK: the chain is intact. ${v.checkedEvents} events checked, ${v.checkpointsVerified} checkpoints verified.`
            : `FAILED: ${v.problems.length} problem(s). ${v.checkedEvents} events checked.`,
        );
        doc.font('Helvetica');
        line(
          v.signaturesChecked
            ? `Checkpoint signatures checked with public key ${v.keyId}.`
            : 'Checkpoint signatures not checked (no public key given).',
        );
        if (v.unsealed > 0) line(`${v.unsealed} event(s) not sealed yet.`);
        if (v.firstProblem) line(`First problem: ${v.firstProblem.message}`);
        for (const chain of v.chains) {
          line(
            `Tenant ${chain.tenantId ?? '(none)'}: seq ${chain.fromSeq}-${chain.lastSeq}, ${chain.events} events, ` +
              `${chain.checkpoints} checkpoints verified, last checkpoint ${short(chain.lastCheckpointId)}` +
              (chain.anchor
                ? `; intact from seq ${chain.fromSeq}, retention anchor ${short(chain.anchor.checkpointId)}`
                : ''),
          );
        }
        for (const problem of v.problems.slice(0, 20)) line(`- ${problem.kind}: ${problem.message}`);
        for (const warning of v.warnings) line(`Note: ${warning}`);
      }

      heading('Events');
      const rowHeight = 11;
      const header = () => {
        let x = MARGIN;
        doc.font('Helvetica-Bold').fontSize(7.5);
        const y = doc.y;
        for (const column of TABLE) {
          doc.text(column.title, x, y, { width: column.width - 4, lineBreak: false, ellipsis: true });
          x += column.width;
        }
        doc
          .moveTo(MARGIN, y + rowHeight - 2)
          .lineTo(MARGIN + width, y + rowHeight - 2)
          .lineWidth(0.5)
          .stroke();
        doc.y = y + rowHeight;
        doc.font('Helvetica').fontSize(7.5);
      };
      header();
      let rows = 0;
      let written = 0;
      for await (const event of open()) {
        written += 1;
        if (written % 1000 === 0) context.onProgress?.(summary.total + written);
        if (rows >= maxRows) continue;
        if (doc.y + rowHeight > doc.page.height - doc.page.margins.bottom) {
          doc.addPage();
          header();
        }
        let x = MARGIN;
        const y = doc.y;
        for (const column of TABLE) {
          doc.text(printable(column.get(event)), x, y, {
            width: column.width - 4,
            lineBreak: false,
            ellipsis: true,
          });
          x += column.width;
        }
        doc.y = y + rowHeight;
        rows += 1;
      }
      if (written > rows) {
        doc.moveDown(0.5).font('Helvetica-Oblique');
        line(`${written - rows} more event(s) not listed: export as CSV or JSONL to get every event.`);
      }
      if (written === 0) line('No events match the filters.');
      context.onProgress?.(summary.total + written);
      doc.end();
      await finished;
      return written;
    },
  };
}
