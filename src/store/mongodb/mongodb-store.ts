import { z } from 'zod';
import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import type { AppendResult, AuditPage, AuditQuery, AuditStore } from '../store.js';
import { type EventDocument, fromDocument, toDocument } from './mongodb-documents.js';
import { describeMongo, duplicateKeyErrors, toMongoStoreError } from './mongodb-errors.js';
import { buildMongoFind, cursorAfter, type MongoFilter } from './mongodb-query.js';

/** What the store needs from a find cursor. */
export interface MongoFindCursorLike<T> {
  sort(sort: Record<string, 1 | -1>): MongoFindCursorLike<T>;
  limit(limit: number): MongoFindCursorLike<T>;
  toArray(): Promise<T[]>;
}

/** What the store needs from a collection: any `Collection` of the official driver (4.x to 6.x) fits. */
export interface MongoCollectionLike {
  insertMany(
    docs: readonly EventDocument[],
    options: { ordered: boolean },
  ): Promise<{ insertedCount: number }>;
  find(
    filter: MongoFilter,
    options?: { projection?: Record<string, 0 | 1> },
  ): MongoFindCursorLike<EventDocument>;
  findOne(filter: MongoFilter): Promise<EventDocument | null>;
  createIndexes(
    specs: Array<{ key: Record<string, 1 | -1>; name: string; [option: string]: unknown }>,
  ): Promise<unknown>;
  createIndex(
    key: Record<string, 1 | -1>,
    options: { name: string; expireAfterSeconds?: number },
  ): Promise<unknown>;
  deleteMany(filter: MongoFilter): Promise<{ deletedCount: number }>;
}

export interface MongoDbLike {
  collection(name: string): MongoCollectionLike;
  createCollection(name: string, options?: object): Promise<unknown>;
  command(command: object): Promise<unknown>;
}

/**
 * The part of a `MongoClient` the store uses, so `mongodb` stays an optional peer dependency.
 * Any `MongoClient` of the official driver fits.
 */
export interface MongoClientLike {
  db(name?: string): MongoDbLike;
  close(): Promise<void>;
}

const optionsSchema = z
  .strictObject({
    /** `mongodb://` or `mongodb+srv://` connection string; or pass `client`. */
    url: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'url must start with mongodb:// or mongodb+srv://')
      .optional(),
    /** A connected or unconnected MongoClient you own: `close()` leaves it open. */
    client: z
      .custom<MongoClientLike>(
        (v) => typeof v === 'object' && v !== null && typeof (v as MongoClientLike).db === 'function',
        { message: 'client must be a MongoClient' },
      )
      .optional(),
    /** Database name; default: the one in the URL, else `auditkit`. */
    database: z.string().min(1).optional(),
    /** Collection name. Default `audit_events`. */
    collection: z.string().min(1).default('audit_events'),
    /** Keep events this many days; a TTL index on occurredAt deletes older ones. Unset: keep everything. */
    retentionDays: z.number().positive().optional(),
    /**
     * Create the unique (tenantId, idempotencyKey) index, so a client retry under the same key is stored once.
     * Default true. A sharded collection can only have unique indexes that start with its shard key: there,
     * turn this off (ids stay unique when `_id` is the shard key, e.g. `{ _id: 'hashed' }`).
     */
    idempotencyIndex: z.boolean().default(true),
    /** How long to look for a server before an operation fails with store_unavailable. Default 5000 ms. */
    serverSelectionTimeoutMS: z.number().int().positive().default(5000),
  })
  .refine((o) => (o.url === undefined) !== (o.client === undefined), {
    message: 'pass either url or client (exactly one)',
  });

export type MongodbStoreOptions = z.input<typeof optionsSchema>;

/** The MongoDB store, plus retention by batch delete. */
export interface MongodbStore extends AuditStore {
  /** Deletes events older than `cutoff` in batches of `batchSize`; resolves with how many went. */
  deleteOlderThan(cutoff: Date, batchSize?: number): Promise<number>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAMESPACE_EXISTS = 48;
const INDEX_OPTIONS_CONFLICT = 85;

/**
 * The indexes of the SQL stores, in MongoDB terms: the keyset order (occurredAt, _id), tenant, actor and
 * target lookups, request ids, and a unique (tenantId, idempotencyKey) so a client retry under the same
 * key is stored once.
 */
export const MONGODB_INDEXES = [
  { key: { occurredAt: -1, _id: -1 }, name: 'auditkit_time' },
  { key: { tenantId: 1, occurredAt: -1, _id: -1 }, name: 'auditkit_tenant_time' },
  {
    key: { actorId: 1, occurredAt: -1 },
    name: 'auditkit_actor_time',
    partialFilterExpression: { actorId: { $exists: true } },
  },
  { key: { targetType: 1, targetId: 1, occurredAt: -1 }, name: 'auditkit_target_time' },
  {
    key: { requestId: 1 },
    name: 'auditkit_request',
    partialFilterExpression: { requestId: { $exists: true } },
  },
  {
    key: { processId: 1, occurredAt: -1 },
    name: 'auditkit_process',
    partialFilterExpression: { processId: { $exists: true } },
  },
  {
    key: { correlationId: 1, occurredAt: -1 },
    name: 'auditkit_correlation',
    partialFilterExpression: { correlationId: { $exists: true } },
  },
  {
    key: { tenantId: 1, idempotencyKey: 1 },
    name: 'auditkit_idempotency',
    unique: true,
    partialFilterExpression: { idempotencyKey: { $type: 'string' } },
  },
] as const;

async function openClient(url: string, serverSelectionTimeoutMS: number): Promise<MongoClientLike> {
  let module: typeof import('mongodb');
  try {
    module = await import('mongodb');
  } catch (error) {
    throw new AuditkitError(
      'store_unavailable',
      'The MongoDB store needs the optional dependency mongodb: npm install mongodb',
      { cause: error },
    );
  }
  const MongoClient =
    module.MongoClient ?? (module as unknown as { default: typeof module }).default.MongoClient;
  return new MongoClient(url, {
    serverSelectionTimeoutMS,
    appName: 'auditkit',
    ignoreUndefined: true,
  }) as unknown as MongoClientLike;
}

/**
 * A store on MongoDB (the official `mongodb` driver), for very large or sharded deployments: one
 * collection, `_id` = event id (so a replayed event is skipped), the indexes of the SQL stores, the same
 * filters, order and cursors, retention by TTL index (`retentionDays`) or `deleteOlderThan()`.
 *
 * @example
 * import { mongodbStore } from 'auditkit/mongodb';
 * const store = mongodbStore({ url: process.env.MONGODB_URL!, database: 'audit', retentionDays: 400 });
 */
export function mongodbStore(options: MongodbStoreOptions): MongodbStore {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(options)'}: ${i.message}`,
    );
    throw new AuditkitError('invalid_config', `Invalid mongodbStore options:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const config = parsed.data;
  const owned = config.client === undefined;
  const target = describeMongo(config.url, config.database, config.collection);
  let opening: Promise<MongoClientLike> | undefined = config.client
    ? Promise.resolve(config.client)
    : undefined;
  let migrating: Promise<void> | undefined;
  let closed = false;

  const client = (): Promise<MongoClientLike> => {
    if (!opening) {
      opening = openClient(config.url as string, config.serverSelectionTimeoutMS);
      opening.catch(() => {
        opening = undefined;
      });
    }
    return opening;
  };
  const db = async () => (await client()).db(config.database);
  const collection = async () => (await db()).collection(config.collection);

  const run = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new AuditkitError('closed', `The MongoDB store (${target}) is closed.`);
    try {
      return await fn();
    } catch (error) {
      throw toMongoStoreError(error, { operation, target });
    }
  };

  const migrateOnce = async () => {
    const database = await db();
    try {
      await database.createCollection(config.collection);
    } catch (error) {
      if ((error as { code?: unknown }).code !== NAMESPACE_EXISTS) throw error;
    }
    const events = database.collection(config.collection);
    const wanted = MONGODB_INDEXES.filter(
      (spec) => config.idempotencyIndex || spec.name !== 'auditkit_idempotency',
    );
    await events.createIndexes(wanted.map((spec) => ({ ...spec })));
    if (config.retentionDays !== undefined) {
      const expireAfterSeconds = Math.round(config.retentionDays * 86_400);
      try {
        await events.createIndex({ occurredAt: 1 }, { name: 'auditkit_retention', expireAfterSeconds });
      } catch (error) {
        if ((error as { code?: unknown }).code !== INDEX_OPTIONS_CONFLICT) throw error;
        // The retention changed: adjust the TTL of the existing index.
        await database.command({
          collMod: config.collection,
          index: { name: 'auditkit_retention', expireAfterSeconds },
        });
      }
    }
  };

  return {
    name: 'mongodb',
    migrate() {
      migrating ??= run('migrate the audit collection', migrateOnce).finally(() => {
        migrating = undefined;
      });
      return migrating;
    },

    async append(events: readonly AuditEvent[]): Promise<AppendResult> {
      if (events.length === 0) return { inserted: 0, duplicates: 0 };
      // Every document is built first: an event that cannot be stored fails the batch before anything is written.
      const seen = new Set<string>();
      const docs: EventDocument[] = [];
      for (const event of events) {
        const doc = toDocument(event);
        if (seen.has(doc._id)) continue;
        seen.add(doc._id);
        docs.push(doc);
      }
      const inBatchDuplicates = events.length - docs.length;
      return run(`append ${events.length} events`, async () => {
        const events = await collection();
        try {
          const result = await events.insertMany(docs, { ordered: false });
          return { inserted: result.insertedCount, duplicates: inBatchDuplicates };
        } catch (error) {
          // Unordered: every document was tried. Ids (or idempotency keys) already stored are duplicates.
          const duplicates = duplicateKeyErrors(error);
          if (duplicates === null) throw error;
          return { inserted: docs.length - duplicates, duplicates: duplicates + inBatchDuplicates };
        }
      });
    },

    async query(query: AuditQuery = {}): Promise<AuditPage> {
      const find = buildMongoFind(query);
      return run('query audit events', async () => {
        const docs = await (await collection())
          .find(find.filter)
          .sort(find.sort)
          .limit(find.limit + 1)
          .toArray();
        const page = docs.slice(0, find.limit);
        const last = page[page.length - 1];
        return {
          events: page.map(fromDocument),
          nextCursor: docs.length > find.limit && last ? cursorAfter(last) : null,
        };
      });
    },

    async get(id: string): Promise<AuditEvent | null> {
      if (typeof id !== 'string' || !UUID.test(id)) return null;
      return run('read an audit event', async () => {
        const doc = await (await collection()).findOne({ _id: { $eq: id.toLowerCase() } });
        return doc ? fromDocument(doc) : null;
      });
    },

    async deleteOlderThan(cutoff: Date, batchSize = 10_000): Promise<number> {
      if (!(cutoff instanceof Date) || Number.isNaN(cutoff.getTime())) {
        throw new AuditkitError('invalid_query', 'deleteOlderThan needs a valid Date.', {
          details: { cutoff },
        });
      }
      return run('delete old audit events', async () => {
        const events = await collection();
        let deleted = 0;
        // In batches by id, so one huge delete never holds the collection for long.
        for (;;) {
          const ids = (
            await events
              .find({ occurredAt: { $lt: cutoff } }, { projection: { _id: 1 } })
              .sort({ occurredAt: 1 })
              .limit(batchSize)
              .toArray()
          ).map((d) => d._id);
          if (ids.length === 0) return deleted;
          deleted += (await events.deleteMany({ _id: { $in: ids } })).deletedCount;
        }
      });
    },

    async close() {
      if (closed) return;
      await migrating?.catch(() => undefined);
      closed = true;
      if (owned && opening) {
        const instance = await opening.catch(() => undefined);
        await instance?.close();
      }
    },
  };
}
