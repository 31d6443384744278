import { type Command, InvalidArgumentError } from 'commander';
import { CATEGORIES, type Category, OUTCOMES, type Outcome } from '../../core/event.js';
import type { AuditQuery } from '../../store/store.js';
import { type CliIo, formatTable, openStore, type StoreFlags } from '../io.js';
import { addStoreFlags } from './store-flags.js';

interface QueryFlags extends StoreFlags {
  from?: Date;
  to?: Date;
  category?: Category[];
  action?: string[];
  outcome?: Outcome[];
  tenant?: string;
  actor?: string;
  actorType?: string;
  targetType?: string;
  targetId?: string;
  requestId?: string;
  path?: string;
  status?: AuditQuery['status'];
  text?: string;
  limit: number;
  cursor?: string;
  format: 'table' | 'json' | 'jsonl';
}

export function registerQuery(program: Command, io: CliIo): void {
  addStoreFlags(program.command('query').description('Search events, newest first'))
    .option(
      '--from <time>',
      'events at or after this time (ISO 8601, or a duration ago such as 15m, 24h, 7d)',
      (v: string) => parseTime(v),
    )
    .option('--to <time>', 'events before this time (same forms as --from)', (v: string) => parseTime(v))
    .option('--category <name...>', `one or more of ${CATEGORIES.join(', ')}`, collect(CATEGORIES))
    .option('--action <name...>', 'exact action, or a prefix ending in * (user.*)')
    .option('--outcome <name...>', `one or more of ${OUTCOMES.join(', ')}`, collect(OUTCOMES))
    .option('--tenant <id>', 'organisation id')
    .option('--actor <id>', 'actor id')
    .option('--actor-type <type>', 'user, service, system or anonymous')
    .option('--target-type <type>', 'record type or table')
    .option('--target-id <id>', 'record id')
    .option('--request-id <id>', 'request id')
    .option('--path <prefix>', 'request path prefix')
    .option('--status <code>', 'HTTP status, or a class such as 5xx', parseStatus)
    .option('--text <words>', 'free text over message, action, reason, labels and ids')
    .option('--limit <n>', 'events per page (1-1000)', parseLimit, 50)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--format <format>', 'table, json or jsonl', parseFormat, 'table')
    .action(async (flags: QueryFlags) => {
      const store = openStore(flags, io);
      try {
        const page = await store.query({
          from: flags.from,
          to: flags.to,
          category: flags.category,
          action: flags.action,
          outcome: flags.outcome,
          tenantId: flags.tenant,
          actorId: flags.actor,
          actorType: flags.actorType,
          targetType: flags.targetType,
          targetId: flags.targetId,
          requestId: flags.requestId,
          pathPrefix: flags.path,
          status: flags.status,
          text: flags.text,
          limit: flags.limit,
          cursor: flags.cursor,
        });
        if (flags.format === 'json') io.stdout(`${JSON.stringify(page, null, 2)}\n`);
        else if (flags.format === 'jsonl')
          for (const event of page.events) io.stdout(`${JSON.stringify(event)}\n`);
        else {
          const rows = page.events.map((e) => [
            e.occurredAt.toISOString(),
            e.category,
            e.action,
            e.outcome,
            e.tenantId ?? '',
            [e.actor.type, e.actor.id ?? e.actor.label].filter(Boolean).join(':'),
            e.target ? [e.target.type, e.target.id].filter(Boolean).join(':') : '',
            e.request?.status?.toString() ?? '',
          ]);
          io.stdout(
            `${formatTable(['time', 'category', 'action', 'outcome', 'tenant', 'actor', 'target', 'status'], rows)}\n`,
          );
          io.stdout(
            page.nextCursor ? `\nMore: --cursor ${page.nextCursor}\n` : `\n${page.events.length} event(s).\n`,
          );
        }
      } finally {
        await store.close();
      }
    });
}

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** An ISO time, or a duration ago (`15m`, `24h`, `7d`). */
export function parseTime(value: string, now = Date.now()): Date {
  const duration = DURATION.exec(value.trim());
  if (duration) return new Date(now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('expected an ISO 8601 time or a duration such as 24h.');
  return date;
}

function parseStatus(value: string): AuditQuery['status'] {
  if (/^[1-5]xx$/i.test(value)) return value.toLowerCase() as AuditQuery['status'];
  const n = Number(value);
  if (!Number.isInteger(n) || n < 100 || n > 999)
    throw new InvalidArgumentError('expected a status such as 404 or 5xx.');
  return n;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError('expected a whole number from 1 to 1000.');
  return n;
}

function parseFormat(value: string): QueryFlags['format'] {
  if (value !== 'table' && value !== 'json' && value !== 'jsonl')
    throw new InvalidArgumentError('expected table, json or jsonl.');
  return value;
}

function collect<T extends string>(allowed: readonly T[]) {
  return (value: string, previous: T[] | undefined): T[] => {
    if (!allowed.includes(value as T))
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}.`);
    return [...(previous ?? []), value as T];
  };
}
