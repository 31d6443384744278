import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { AuditkitError } from '../../core/errors.js';
import { CATEGORIES, type Category, OUTCOMES, type Outcome } from '../../core/event.js';
import { verify } from '../../integrity/verify.js';
import { exportEvents } from '../../report/export.js';
import { progressBar } from '../../report/progress-bar.js';
import { REPORT_FORMATS, type ReportFormat } from '../../report/report-writer.js';
import type { AuditQuery } from '../../store/store.js';
import { type CliIo, openStore, type StoreFlags } from '../io.js';
import { parseTime } from './query.js';
import { addStoreFlags } from './store-flags.js';

interface ExportFlags extends StoreFlags {
  format: ReportFormat;
  out?: string;
  title?: string;
  from?: Date;
  to?: Date;
  category?: Category[];
  action?: string[];
  outcome?: Outcome[];
  tenant?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  text?: string;
  verify?: boolean;
  publicKey?: string;
  progress: boolean;
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string, previous: T[] | undefined): T[] => {
    if (!allowed.includes(value as T))
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}.`);
    return [...(previous ?? []), value as T];
  };
}

function format(value: string): ReportFormat {
  if (!REPORT_FORMATS.includes(value as ReportFormat)) {
    throw new InvalidArgumentError(`expected ${REPORT_FORMATS.join(', ')}.`);
  }
  return value as ReportFormat;
}

/** `auditkit export --format csv|jsonl|pdf`: every matching event, streamed, to a file or stdout. */
export function registerExport(program: Command, io: CliIo): void {
  addStoreFlags(program.command('export').description('Export events as CSV, JSON Lines or a PDF report'))
    .requiredOption('--format <format>', REPORT_FORMATS.join(', '), format)
    .option('--out <file>', 'file to write (default stdout; required for pdf)')
    .option('--title <text>', 'title of the PDF report', 'Audit report')
    .option('--from <time>', 'events at or after this time (ISO 8601, or 15m, 24h, 7d ago)', (v: string) =>
      parseTime(v),
    )
    .option('--to <time>', 'events before this time', (v: string) => parseTime(v))
    .option('--category <name...>', `one or more of ${CATEGORIES.join(', ')}`, oneOf(CATEGORIES))
    .option('--action <name...>', 'exact action, or a prefix ending in * (user.*)')
    .option('--outcome <name...>', `one or more of ${OUTCOMES.join(', ')}`, oneOf(OUTCOMES))
    .option('--tenant <id>', 'organisation id')
    .option('--actor <id>', 'actor id')
    .option('--target-type <type>', 'record type or table')
    .option('--target-id <id>', 'record id')
    .option('--text <words>', 'free text over message, action, reason, labels and ids')
    .option('--verify', 'verify the chains first and print the result in the PDF')
    .option('--public-key <file>', 'public key for --verify (AUDITKIT_PUBLIC_KEY)')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: ExportFlags) => {
      if (flags.format === 'pdf' && !flags.out) {
        throw new AuditkitError('invalid_config', 'A PDF goes to a file: pass --out report.pdf.');
      }
      const query: Omit<AuditQuery, 'cursor' | 'limit'> = {
        ...(flags.from ? { from: flags.from } : {}),
        ...(flags.to ? { to: flags.to } : {}),
        ...(flags.category ? { category: flags.category } : {}),
        ...(flags.action ? { action: flags.action } : {}),
        ...(flags.outcome ? { outcome: flags.outcome } : {}),
        ...(flags.tenant ? { tenantId: flags.tenant } : {}),
        ...(flags.actor ? { actorId: flags.actor } : {}),
        ...(flags.targetType ? { targetType: flags.targetType } : {}),
        ...(flags.targetId ? { targetId: flags.targetId } : {}),
        ...(flags.text ? { text: flags.text } : {}),
      };
      const store = openStore(flags, io);
      const out = flags.out
        ? createWriteStream(flags.out)
        : new Writable({
            write(chunk: Buffer, _encoding, callback) {
              io.stdout(chunk.toString('utf8'));
              callback();
            },
          });
      try {
        const publicKey = flags.publicKey ?? io.env.AUDITKIT_PUBLIC_KEY;
        const verification = flags.verify
          ? await verify(store, {
              ...(flags.tenant ? { tenantId: flags.tenant } : {}),
              ...(publicKey ? { publicKey } : {}),
            })
          : null;
        const bar = progressBar(io.stderr, `export ${flags.format}`, null);
        const result = await exportEvents(store, {
          format: flags.format,
          out,
          query,
          ...(flags.title ? { title: flags.title } : {}),
          verification,
          onProgress: (n) => {
            if (flags.progress && flags.out) bar.update(n);
          },
        });
        bar.finish();
        out.end();
        await finished(out);
        if (flags.out) {
          io.stdout(`Exported ${result.events} event(s) to ${flags.out} (${flags.format}).\n`);
          if (verification)
            io.stdout(verification.ok ? 'Verification: OK.\n' : 'Verification: FAILED (see the report).\n');
        }
      } finally {
        if (!out.writableEnded) out.destroy();
        await store.close();
      }
    });
}
