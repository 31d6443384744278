import { type Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_LOOKBACK_MS,
  type ErrorNotification,
  listErrorNotifications,
} from '../../errors-log/notification-log.js';
import { type CliIo, formatTable, openStore, type StoreFlags } from '../io.js';
import { parseTime } from './query.js';
import { addStoreFlags } from './store-flags.js';

interface ErrorsFlags extends StoreFlags {
  unsent?: boolean;
  tenant?: string;
  since?: Date;
  until?: Date;
  limit: number;
  format: 'table' | 'json' | 'jsonl';
}

/** One row of `auditkit errors` as JSON: the error event's essentials and where its notice stands. */
export function errorRow(entry: ErrorNotification): Record<string, unknown> {
  const { event } = entry;
  return {
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    tenantId: event.tenantId ?? null,
    action: event.action,
    error: event.reason ?? null,
    message: event.message ?? null,
    requestId: event.correlation?.requestId ?? event.request?.id ?? null,
    notice: entry.state,
    attempts: entry.attempts,
    tries: entry.tries,
    lastAttemptAt: entry.lastAttemptAt?.toISOString() ?? null,
    lastError: entry.lastError ?? null,
  };
}

const cut = (text: string | undefined, max: number) =>
  text === undefined ? '' : text.length > max ? `${text.slice(0, max - 1)}…` : text;

export function registerErrors(program: Command, io: CliIo): void {
  addStoreFlags(
    program
      .command('errors')
      .description(
        'The failed-action log: error events and where their notices stand (sent, pending, failed)',
      ),
  )
    .option('--unsent', 'only errors whose notice was not sent: pending, failed or suppressed')
    .option('--tenant <id>', 'one organisation')
    .option('--since <time>', 'errors at or after this time (ISO 8601 or 24h, 7d; default 7d)', (v: string) =>
      parseTime(v),
    )
    .option('--until <time>', 'errors before this time (same forms as --since)', (v: string) => parseTime(v))
    .option('--limit <n>', 'most errors listed, newest first', parseLimit, 100)
    .option('--format <format>', 'table, json or jsonl', parseFormat, 'table')
    .action(async (flags: ErrorsFlags) => {
      const store = openStore(flags, io);
      try {
        const entries = await listErrorNotifications((query) => store.query(query), {
          unsent: flags.unsent === true,
          tenantId: flags.tenant,
          since: flags.since ?? new Date(Date.now() - DEFAULT_LOOKBACK_MS),
          until: flags.until,
          limit: flags.limit,
        });
        if (flags.format === 'json') io.stdout(`${JSON.stringify(entries.map(errorRow), null, 2)}\n`);
        else if (flags.format === 'jsonl')
          for (const entry of entries) io.stdout(`${JSON.stringify(errorRow(entry))}\n`);
        else {
          const rows = entries.map((entry) => [
            entry.event.occurredAt.toISOString(),
            entry.event.id,
            entry.event.tenantId ?? '',
            entry.event.action,
            entry.event.reason ?? '',
            cut(entry.event.message, 60),
            entry.state,
            String(entry.attempts),
            cut(entry.lastError, 40),
          ]);
          io.stdout(
            `${formatTable(['time', 'id', 'tenant', 'action', 'error', 'message', 'notice', 'attempts', 'last error'], rows)}\n`,
          );
          const what = flags.unsent ? 'unsent notice' : 'error';
          io.stdout(`\n${entries.length} ${what}${entries.length === 1 ? '' : 's'}.\n`);
        }
      } finally {
        await store.close();
      }
    });
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more.');
  return n;
}

function parseFormat(value: string): ErrorsFlags['format'] {
  if (value !== 'table' && value !== 'json' && value !== 'jsonl')
    throw new InvalidArgumentError('expected table, json or jsonl.');
  return value;
}
