import { PGlite } from '@electric-sql/pglite';
import { and, eq } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { integer, jsonb, pgTable, primaryKey, serial, text } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type DataSource, type EntityManager, EntitySchema } from 'typeorm';
import { uniqueSchemaName } from '../../../test/helpers/postgres-server.js';
import { type Auditor, createAuditor } from '../../core/auditor.js';
import type { AuditorOptions } from '../../core/config.js';
import type { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { pgliteStore } from '../../store/pglite/index.js';
import { postgresStore } from '../../store/postgres/index.js';
import type { ChangeCaptureOptions } from '../capture.js';
import { auditDrizzle } from '../drizzle/index.js';
import { auditDialect } from '../kysely/index.js';
import { installAuditSubscriber } from '../typeorm/index.js';
import { pglitePool } from './pglite-pool.js';

/**
 * The tables every capture test uses: serial, composite and secret-bearing keys, a join table, a wide
 * table, a JSON column.
 */
export const WIDE_COLUMNS = Array.from({ length: 100 }, (_, i) => `c${i + 1}`);
export const TABLES_SQL = `
  CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, status text NOT NULL,
    total integer NOT NULL, iban text, note text);
  CREATE TABLE order_lines (order_id integer NOT NULL, line_no integer NOT NULL, sku text NOT NULL,
    qty integer NOT NULL, PRIMARY KEY (order_id, line_no));
  CREATE TABLE tags (id integer PRIMARY KEY, name text NOT NULL);
  CREATE TABLE order_tags (order_id integer NOT NULL, tag_id integer NOT NULL, PRIMARY KEY (order_id, tag_id));
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, password_hash text NOT NULL);
  CREATE TABLE sessions (id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE);
  CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, deleted_at timestamptz);
  CREATE TABLE wide (id serial PRIMARY KEY, body text, ${WIDE_COLUMNS.map((c) => `${c} text`).join(', ')});
  CREATE TABLE profiles (id serial PRIMARY KEY, settings jsonb NOT NULL);`;

/** Capture settings the tests share: the IBAN masked, the note never recorded, order_tags as a relation. */
export const CAPTURE_OPTIONS: ChangeCaptureOptions = {
  tables: {
    orders: { mask: ['iban'], exclude: ['note'] },
    order_tags: {
      relation: {
        ownerType: 'orders',
        ownerColumns: 'order_id',
        relatedType: 'tags',
        relatedColumns: 'tag_id',
      },
    },
  },
};

export interface OrderInput {
  customer: string;
  status: string;
  total: number;
  iban?: string | null;
  note?: string | null;
}

/** The same operations through each ORM, so tests can compare what each records. */
export interface OrmClient {
  name: string;
  insertOrder(order: OrderInput): Promise<number>;
  setStatus(id: number, status: string): Promise<void>;
  setStatusWhereCustomer(customer: string, status: string): Promise<void>;
  /** Sets some columns of one order (only those given). */
  updateOrder(id: number, set: Partial<OrderInput>): Promise<void>;
  deleteOrder(id: number): Promise<void>;
  insertLine(line: { order_id: number; line_no: number; sku: string; qty: number }): Promise<void>;
  setLineQty(orderId: number, lineNo: number, qty: number): Promise<void>;
  deleteLine(orderId: number, lineNo: number): Promise<void>;
  /** Links a tag (rows 1..3 of tags exist) to an order through order_tags, or unlinks it. */
  addTag(orderId: number, tagId: number): Promise<void>;
  removeTag(orderId: number, tagId: number): Promise<void>;
  insertUser(email: string, passwordHash: string): Promise<number>;
  deleteUser(id: number): Promise<void>;
  /** Inserts the line, or (it exists) sets its qty: ON CONFLICT (order_id, line_no) DO UPDATE. */
  upsertLine(line: { order_id: number; line_no: number; sku: string; qty: number }): Promise<void>;
  insertWide(values: Record<string, string>): Promise<number>;
  setWide(id: number, column: string, value: string): Promise<void>;
  insertProfile(settings: Record<string, unknown>): Promise<number>;
  setProfile(id: number, settings: Record<string, unknown>): Promise<void>;
  transaction(fn: (orm: OrmClient) => Promise<void>): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: test tables are untyped on purpose
export type AnyKysely = Kysely<any>;

export function kyselyClient(db: AnyKysely): OrmClient {
  return {
    name: 'kysely',
    async insertOrder(order) {
      const row = await db.insertInto('orders').values(order).returning('id').executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async setStatus(id, status) {
      await db.updateTable('orders').set({ status }).where('id', '=', id).execute();
    },
    async setStatusWhereCustomer(customer, status) {
      await db.updateTable('orders').set({ status }).where('customer', '=', customer).execute();
    },
    async updateOrder(id, set) {
      await db.updateTable('orders').set(set).where('id', '=', id).execute();
    },
    async deleteOrder(id) {
      await db.deleteFrom('orders').where('id', '=', id).execute();
    },
    async insertLine(line) {
      await db.insertInto('order_lines').values(line).execute();
    },
    async setLineQty(orderId, lineNo, qty) {
      await db
        .updateTable('order_lines')
        .set({ qty })
        .where('order_id', '=', orderId)
        .where('line_no', '=', lineNo)
        .execute();
    },
    async deleteLine(orderId, lineNo) {
      await db
        .deleteFrom('order_lines')
        .where('order_id', '=', orderId)
        .where('line_no', '=', lineNo)
        .execute();
    },
    async addTag(orderId, tagId) {
      await db.insertInto('order_tags').values({ order_id: orderId, tag_id: tagId }).execute();
    },
    async removeTag(orderId, tagId) {
      await db.deleteFrom('order_tags').where('order_id', '=', orderId).where('tag_id', '=', tagId).execute();
    },
    async insertUser(email, passwordHash) {
      const row = await db
        .insertInto('users')
        .values({ email, password_hash: passwordHash })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async deleteUser(id) {
      await db.deleteFrom('users').where('id', '=', id).execute();
    },
    async upsertLine(line) {
      await db
        .insertInto('order_lines')
        .values(line)
        .onConflict((oc) => oc.columns(['order_id', 'line_no']).doUpdateSet({ qty: line.qty }))
        .execute();
    },
    async insertWide(values) {
      const row = await db.insertInto('wide').values(values).returning('id').executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async setWide(id, column, value) {
      await db
        .updateTable('wide')
        .set({ [column]: value })
        .where('id', '=', id)
        .execute();
    },
    async insertProfile(settings) {
      const row = await db
        .insertInto('profiles')
        .values({ settings: JSON.stringify(settings) })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async setProfile(id, settings) {
      await db
        .updateTable('profiles')
        .set({ settings: JSON.stringify(settings) })
        .where('id', '=', id)
        .execute();
    },
    transaction: (fn) => db.transaction().execute((trx) => fn(kyselyClient(trx))),
  };
}

export const drizzleOrders = pgTable('orders', {
  id: serial('id').primaryKey(),
  customer: text('customer').notNull(),
  status: text('status').notNull(),
  total: integer('total').notNull(),
  iban: text('iban'),
  note: text('note'),
});
export const drizzleLines = pgTable(
  'order_lines',
  {
    order_id: integer('order_id').notNull(),
    line_no: integer('line_no').notNull(),
    sku: text('sku').notNull(),
    qty: integer('qty').notNull(),
  },
  (t) => [primaryKey({ columns: [t.order_id, t.line_no] })],
);

export const drizzleOrderTags = pgTable(
  'order_tags',
  { order_id: integer('order_id').notNull(), tag_id: integer('tag_id').notNull() },
  (t) => [primaryKey({ columns: [t.order_id, t.tag_id] })],
);
export const drizzleUsers = pgTable('users', {
  id: serial('id').primaryKey(),
  email: text('email').notNull(),
  password_hash: text('password_hash').notNull(),
});
export const drizzleProfiles = pgTable('profiles', {
  id: serial('id').primaryKey(),
  settings: jsonb('settings').notNull(),
});
export const drizzleWide = pgTable('wide', {
  id: serial('id').primaryKey(),
  body: text('body'),
  ...Object.fromEntries(WIDE_COLUMNS.map((c) => [c, text(c)])),
});

interface DrizzleDb {
  // biome-ignore lint/suspicious/noExplicitAny: both drivers' databases fit
  insert: any;
  // biome-ignore lint/suspicious/noExplicitAny: both drivers' databases fit
  update: any;
  // biome-ignore lint/suspicious/noExplicitAny: both drivers' databases fit
  delete: any;
  transaction<T>(fn: (tx: DrizzleDb) => Promise<T>): Promise<T>;
}

export function drizzleClient(db: DrizzleDb): OrmClient {
  return {
    name: 'drizzle',
    async insertOrder(order) {
      const rows = await db.insert(drizzleOrders).values(order).returning({ id: drizzleOrders.id });
      return rows[0].id as number;
    },
    async setStatus(id, status) {
      await db.update(drizzleOrders).set({ status }).where(eq(drizzleOrders.id, id));
    },
    async setStatusWhereCustomer(customer, status) {
      await db.update(drizzleOrders).set({ status }).where(eq(drizzleOrders.customer, customer));
    },
    async updateOrder(id, set) {
      await db.update(drizzleOrders).set(set).where(eq(drizzleOrders.id, id));
    },
    async deleteOrder(id) {
      await db.delete(drizzleOrders).where(eq(drizzleOrders.id, id));
    },
    async insertLine(line) {
      await db.insert(drizzleLines).values(line);
    },
    async setLineQty(orderId, lineNo, qty) {
      await db
        .update(drizzleLines)
        .set({ qty })
        .where(and(eq(drizzleLines.order_id, orderId), eq(drizzleLines.line_no, lineNo)));
    },
    async deleteLine(orderId, lineNo) {
      await db
        .delete(drizzleLines)
        .where(and(eq(drizzleLines.order_id, orderId), eq(drizzleLines.line_no, lineNo)));
    },
    async addTag(orderId, tagId) {
      await db.insert(drizzleOrderTags).values({ order_id: orderId, tag_id: tagId });
    },
    async removeTag(orderId, tagId) {
      await db
        .delete(drizzleOrderTags)
        .where(and(eq(drizzleOrderTags.order_id, orderId), eq(drizzleOrderTags.tag_id, tagId)));
    },
    async insertUser(email, passwordHash) {
      const rows = await db
        .insert(drizzleUsers)
        .values({ email, password_hash: passwordHash })
        .returning({ id: drizzleUsers.id });
      return rows[0].id as number;
    },
    async deleteUser(id) {
      await db.delete(drizzleUsers).where(eq(drizzleUsers.id, id));
    },
    async upsertLine(line) {
      await db
        .insert(drizzleLines)
        .values(line)
        .onConflictDoUpdate({
          target: [drizzleLines.order_id, drizzleLines.line_no],
          set: { qty: line.qty },
        });
    },
    async insertWide(values) {
      const rows = await db.insert(drizzleWide).values(values).returning({ id: drizzleWide.id });
      return rows[0].id as number;
    },
    async setWide(id, column, value) {
      await db
        .update(drizzleWide)
        .set({ [column]: value })
        .where(eq(drizzleWide.id, id));
    },
    async insertProfile(settings) {
      const rows = await db
        .insert(drizzleProfiles)
        .values({ settings })
        .returning({ id: drizzleProfiles.id });
      return rows[0].id as number;
    },
    async setProfile(id, settings) {
      await db.update(drizzleProfiles).set({ settings }).where(eq(drizzleProfiles.id, id));
    },
    transaction: (fn) => db.transaction((tx) => fn(drizzleClient(tx))),
  };
}

interface OrderEntity extends OrderInput {
  id: number;
  tags?: TagEntity[];
}
interface TagEntity {
  id: number;
  name: string;
}
interface UserEntity {
  id: number;
  email: string;
  password_hash: string;
}
interface LineEntity {
  order_id: number;
  line_no: number;
  sku: string;
  qty: number;
}
export const typeormOrders = new EntitySchema<OrderEntity>({
  name: 'Order',
  tableName: 'orders',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    customer: { type: 'text' },
    status: { type: 'text' },
    total: { type: 'int' },
    iban: { type: 'text', nullable: true },
    note: { type: 'text', nullable: true },
  },
  relations: {
    tags: {
      type: 'many-to-many',
      target: 'Tag',
      joinTable: {
        name: 'order_tags',
        joinColumn: { name: 'order_id', referencedColumnName: 'id' },
        inverseJoinColumn: { name: 'tag_id', referencedColumnName: 'id' },
      },
    },
  },
});
export const typeormTags = new EntitySchema<TagEntity>({
  name: 'Tag',
  tableName: 'tags',
  columns: { id: { type: 'int', primary: true }, name: { type: 'text' } },
});
export const typeormUsers = new EntitySchema<UserEntity>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    email: { type: 'text' },
    password_hash: { type: 'text' },
  },
});
/** A table with TypeORM soft deletes (`softRemove` / `recover` set and clear `deleted_at`). */
export const typeormNotes = new EntitySchema<{ id: number; body: string; deleted_at: Date | null }>({
  name: 'Note',
  tableName: 'notes',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    body: { type: 'text' },
    deleted_at: { type: 'timestamptz', deleteDate: true, nullable: true },
  },
});
export const typeormWide = new EntitySchema<Record<string, unknown>>({
  name: 'Wide',
  tableName: 'wide',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    body: { type: 'text', nullable: true },
    ...Object.fromEntries(WIDE_COLUMNS.map((c) => [c, { type: 'text' as const, nullable: true }])),
  },
});
export const typeormProfiles = new EntitySchema<{ id: number; settings: Record<string, unknown> }>({
  name: 'Profile',
  tableName: 'profiles',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    settings: { type: 'jsonb' },
  },
});
export const typeormLines = new EntitySchema<LineEntity>({
  name: 'OrderLine',
  tableName: 'order_lines',
  columns: {
    order_id: { type: 'int', primary: true },
    line_no: { type: 'int', primary: true },
    sku: { type: 'text' },
    qty: { type: 'int' },
  },
});

export function typeormClient(manager: EntityManager): OrmClient {
  const orders = manager.getRepository(typeormOrders);
  const lines = manager.getRepository(typeormLines);
  return {
    name: 'typeorm',
    async insertOrder(order) {
      const saved = await orders.save(orders.create(order));
      return saved.id;
    },
    async setStatus(id, status) {
      const order = await orders.findOneByOrFail({ id });
      order.status = status;
      await orders.save(order);
    },
    async setStatusWhereCustomer(customer, status) {
      const found = await orders.findBy({ customer });
      for (const order of found) order.status = status;
      await orders.save(found);
    },
    async updateOrder(id, set) {
      const order = await orders.findOneByOrFail({ id });
      Object.assign(order, set);
      await orders.save(order);
    },
    async deleteOrder(id) {
      await orders.remove(await orders.findOneByOrFail({ id }));
    },
    async insertLine(line) {
      await lines.save(lines.create(line));
    },
    async setLineQty(orderId, lineNo, qty) {
      const line = await lines.findOneByOrFail({ order_id: orderId, line_no: lineNo });
      line.qty = qty;
      await lines.save(line);
    },
    async deleteLine(orderId, lineNo) {
      await lines.remove(await lines.findOneByOrFail({ order_id: orderId, line_no: lineNo }));
    },
    async addTag(orderId, tagId) {
      const found = await orders.findOneOrFail({ where: { id: orderId }, relations: { tags: true } });
      found.tags = [
        ...(found.tags ?? []),
        await manager.getRepository(typeormTags).findOneByOrFail({ id: tagId }),
      ];
      await orders.save(found);
    },
    async removeTag(orderId, tagId) {
      const found = await orders.findOneOrFail({ where: { id: orderId }, relations: { tags: true } });
      found.tags = (found.tags ?? []).filter((tag) => tag.id !== tagId);
      await orders.save(found);
    },
    async insertUser(email, passwordHash) {
      const users = manager.getRepository(typeormUsers);
      return (await users.save(users.create({ email, password_hash: passwordHash }))).id;
    },
    async deleteUser(id) {
      const users = manager.getRepository(typeormUsers);
      await users.remove(await users.findOneByOrFail({ id }));
    },
    async upsertLine(line) {
      // In a transaction, as an app using trigger mode should: TypeORM runs upsert() outside one, where
      // the audit context cannot reach the triggers.
      await manager.transaction((inner) =>
        inner.getRepository(typeormLines).upsert(line, ['order_id', 'line_no']),
      );
    },
    async insertWide(values) {
      const wide = manager.getRepository(typeormWide);
      return (await wide.save(wide.create(values))).id as number;
    },
    async setWide(id, column, value) {
      const wide = manager.getRepository(typeormWide);
      const row = await wide.findOneByOrFail({ id });
      row[column] = value;
      await wide.save(row);
    },
    async insertProfile(settings) {
      const profiles = manager.getRepository(typeormProfiles);
      return (await profiles.save(profiles.create({ settings }))).id;
    },
    async setProfile(id, settings) {
      const profiles = manager.getRepository(typeormProfiles);
      const profile = await profiles.findOneByOrFail({ id });
      profile.settings = settings;
      await profiles.save(profile);
    },
    transaction: (fn) => manager.transaction((inner) => fn(typeormClient(inner))),
  };
}

/** One database with the test tables, an auditor writing to it, and a client per ORM. */
export interface CaptureFixture {
  audit: Auditor;
  clients: OrmClient[];
  /** The audited Kysely and Drizzle databases themselves, for adapter-specific tests. */
  kysely: AnyKysely;
  // biome-ignore lint/suspicious/noExplicitAny: both drivers' databases fit
  drizzle: any;
  /** The schema of the test tables and of the audit tables. */
  schema: string;
  /** The database without any capture: the PGlite database, or a `pg.Pool` (for `withTransactionContext`). */
  client: PGlite | pg.Pool;
  /** Errors the auditor reported (onError), in order. */
  errors: AuditkitError[];
  /** Another audited Kysely on the same database, with other capture options (destroy it after use). */
  kyselyWith(options: ChangeCaptureOptions): AnyKysely;
  /** Runs SQL on the test database (in the test schema). */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Every change event, oldest first. */
  changes(): Promise<AuditEvent[]>;
  /** Empties the tables and the events between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Auditor settings a test may add (redaction, tenant) to the fixture's own. */
export type FixtureAuditorOptions = Partial<Pick<AuditorOptions, 'redact' | 'tenantId'>>;

type FixtureParts = Pick<
  CaptureFixture,
  'audit' | 'errors' | 'kyselyWith' | 'sql' | 'kysely' | 'schema' | 'client' | 'close'
> & { drizzle: unknown };

async function common(parts: FixtureParts): Promise<CaptureFixture> {
  const { audit, sql } = parts;
  await audit.migrate();
  await sql(TABLES_SQL);
  return {
    ...parts,
    clients: [kyselyClient(parts.kysely), drizzleClient(parts.drizzle as DrizzleDb)],
    async changes() {
      // The store's order (time, then time-ordered id), newest first: reversed, oldest first.
      const page = await audit.query({ category: 'change', limit: 1000 });
      return [...page.events].reverse();
    },
    async reset() {
      await sql(
        'TRUNCATE orders, order_lines, order_tags, users, sessions, notes, wide, profiles, audit_events RESTART IDENTITY; ' +
          "INSERT INTO tags (id, name) VALUES (1, 'red'), (2, 'green'), (3, 'blue') ON CONFLICT DO NOTHING",
      );
    },
  };
}

/** PGlite in memory: Kysely (through a one-connection pool) and Drizzle's PGlite driver. */
export async function pgliteFixture(
  options: ChangeCaptureOptions = CAPTURE_OPTIONS,
  auditorOptions: FixtureAuditorOptions = {},
): Promise<CaptureFixture> {
  const db = await PGlite.create();
  const schema = uniqueSchemaName('changes');
  await db.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
  const errors: AuditkitError[] = [];
  const audit = createAuditor({
    ...auditorOptions,
    store: pgliteStore({ db, schema }),
    mode: 'sync',
    spool: false,
    onError: (error) => errors.push(error),
  });
  const kysely: AnyKysely = new Kysely({
    dialect: auditDialect(new PostgresDialect({ pool: pglitePool(db) as never }), audit, options),
  });
  return common({
    audit,
    errors,
    schema,
    client: db,
    kyselyWith: (other) =>
      new Kysely({
        dialect: auditDialect(new PostgresDialect({ pool: pglitePool(db) as never }), audit, other),
      }),
    async sql(text, values) {
      if (!values) {
        const results = await db.exec(text);
        return (results.at(-1)?.rows ?? []) as never[];
      }
      return (await db.query(text, values)).rows as never[];
    },
    kysely,
    drizzle: auditDrizzle(drizzlePglite(db), audit, options),
    async close() {
      await kysely.destroy();
      await audit.close();
      await db.close();
    },
  });
}

/** A schema of its own on the shared PostgreSQL: Kysely, Drizzle (node-postgres) and TypeORM. */
export async function postgresFixture(
  url: string,
  options: ChangeCaptureOptions = CAPTURE_OPTIONS,
  auditorOptions: FixtureAuditorOptions = {},
): Promise<CaptureFixture & { pool: pg.Pool; dataSource: DataSource }> {
  const schema = uniqueSchemaName('changes');
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const searchPath = `-c search_path="${schema}"`;
  const pool = new pg.Pool({ connectionString: url, max: 6, options: searchPath });
  const errors: AuditkitError[] = [];
  const audit = createAuditor({
    ...auditorOptions,
    store: postgresStore({ connectionString: url, schema }),
    mode: 'sync',
    spool: false,
    onError: (error) => errors.push(error),
  });
  const kysely: AnyKysely = new Kysely({
    dialect: auditDialect(new PostgresDialect({ pool }), audit, options),
  });
  const { DataSource } = await import('typeorm');
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    schema,
    extra: { options: searchPath, max: 6 },
    entities: [
      typeormOrders,
      typeormLines,
      typeormTags,
      typeormUsers,
      typeormNotes,
      typeormWide,
      typeormProfiles,
    ],
  });
  const fixture = await common({
    audit,
    errors,
    schema,
    client: pool,
    kyselyWith: (other) => {
      const own = new pg.Pool({ connectionString: url, max: 2, options: searchPath });
      return new Kysely({ dialect: auditDialect(new PostgresDialect({ pool: own }), audit, other) });
    },
    sql: async (text, values) => (await pool.query(text, values)).rows,
    kysely,
    drizzle: auditDrizzle(drizzleNodePg(pool), audit, options),
    async close() {
      await dataSource.destroy();
      await kysely.destroy();
      await audit.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  });
  await dataSource.initialize();
  installAuditSubscriber(dataSource, audit, options);
  fixture.clients.push(typeormClient(dataSource.manager));
  return Object.assign(fixture, { pool, dataSource });
}

/** An event reduced to what must be the same whichever ORM recorded it. */
export function shape(event: AuditEvent) {
  return {
    category: event.category,
    action: event.action,
    actor: event.actor,
    tenantId: event.tenantId,
    target: event.target,
    changes: event.changes,
  };
}
