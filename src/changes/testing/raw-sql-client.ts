import type { Auditor } from '../../core/auditor.js';
import type { TransactionClient } from '../triggers/transaction-context.js';
import type { OrderInput, OrmClient } from './fixtures.js';

type Query = (text: string, values?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

/** The query function of what `withTransactionContext` hands to its callback (a pg client, a PGlite transaction). */
const queryOf =
  (tx: unknown): Query =>
  (text, values) =>
    (tx as { query: Query }).query(text, values);

/**
 * The operations of {@link OrmClient} as hand-written SQL, each in a transaction of its own whose audit
 * context `audit.withTransactionContext` hands to the triggers: what an app without an ORM does.
 * `transaction(fn)` runs every operation of `fn` in one transaction (the context set again by each).
 */
export function rawSqlClient(audit: Auditor, client: TransactionClient): OrmClient {
  const run = async (text: string, values: unknown[] = []) =>
    (await audit.withTransactionContext(client, (tx) => queryOf(tx)(text, values))).rows;
  const insert = async (table: string, row: Record<string, unknown>, returning = '') => {
    const columns = Object.keys(row).filter((c) => row[c] !== undefined);
    const placeholders = columns.map((_, i) => `$${i + 1}`);
    return run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')})${returning}`,
      columns.map((c) => row[c]),
    );
  };
  const updateOrder = async (id: number, set: Partial<OrderInput>) => {
    const columns = Object.keys(set).filter((c) => set[c as keyof OrderInput] !== undefined);
    await run(
      `UPDATE orders SET ${columns.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE id = $${columns.length + 1}`,
      [...columns.map((c) => set[c as keyof OrderInput]), id],
    );
  };
  const id = (rows: Record<string, unknown>[]) => Number(rows[0]?.id);
  return {
    name: 'raw SQL',
    insertOrder: async (order) => id(await insert('orders', { ...order }, ' RETURNING id')),
    setStatus: (orderId, status) => updateOrder(orderId, { status }),
    setStatusWhereCustomer: async (customer, status) =>
      void (await run('UPDATE orders SET status = $1 WHERE customer = $2', [status, customer])),
    updateOrder,
    deleteOrder: async (orderId) => void (await run('DELETE FROM orders WHERE id = $1', [orderId])),
    insertLine: async (line) => void (await insert('order_lines', line)),
    setLineQty: async (orderId, lineNo, qty) =>
      void (await run('UPDATE order_lines SET qty = $1 WHERE order_id = $2 AND line_no = $3', [
        qty,
        orderId,
        lineNo,
      ])),
    deleteLine: async (orderId, lineNo) =>
      void (await run('DELETE FROM order_lines WHERE order_id = $1 AND line_no = $2', [orderId, lineNo])),
    addTag: async (orderId, tagId) => void (await insert('order_tags', { order_id: orderId, tag_id: tagId })),
    removeTag: async (orderId, tagId) =>
      void (await run('DELETE FROM order_tags WHERE order_id = $1 AND tag_id = $2', [orderId, tagId])),
    insertUser: async (email, passwordHash) =>
      id(await insert('users', { email, password_hash: passwordHash }, ' RETURNING id')),
    deleteUser: async (userId) => void (await run('DELETE FROM users WHERE id = $1', [userId])),
    upsertLine: async (line) =>
      void (await run(
        'INSERT INTO order_lines (order_id, line_no, sku, qty) VALUES ($1, $2, $3, $4) ' +
          'ON CONFLICT (order_id, line_no) DO UPDATE SET qty = EXCLUDED.qty',
        [line.order_id, line.line_no, line.sku, line.qty],
      )),
    insertWide: async (values) => id(await insert('wide', values, ' RETURNING id')),
    setWide: async (wideId, column, value) =>
      void (await run(`UPDATE wide SET ${column} = $1 WHERE id = $2`, [value, wideId])),
    insertProfile: async (settings) =>
      id(
        await run('INSERT INTO profiles (settings) VALUES ($1::jsonb) RETURNING id', [
          JSON.stringify(settings),
        ]),
      ),
    setProfile: async (profileId, settings) =>
      void (await run('UPDATE profiles SET settings = $1::jsonb WHERE id = $2', [
        JSON.stringify(settings),
        profileId,
      ])),
    transaction: (fn) =>
      audit.withTransactionContext(client, (tx) => fn(rawSqlClient(audit, tx as TransactionClient))),
  };
}
