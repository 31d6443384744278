import { describe, expect, it } from 'vitest';
import { type CapturedRow, pair } from './capture.js';
import { diffRows, recordedColumns, recordId, relationChanges, relationColumns } from './diff.js';
import { captureScope, forceLog, withoutAuditing } from './scope.js';

describe('diffRows', () => {
  it('lists every recorded column of an insert as [null, value] and of a delete as [value, null]', () => {
    const row = { id: 1, status: 'new', note: 'x' };
    expect(diffRows('insert', null, row, { exclude: ['note'] })).toEqual({
      id: [null, 1],
      status: [null, 'new'],
    });
    expect(diffRows('delete', row, null, { include: ['status'] })).toEqual({ status: ['new', null] });
  });

  it('lists only the changed columns of an update, comparing JSON values deeply', () => {
    const before = { id: 1, status: 'new', tags: ['a'], meta: { n: 1 } };
    const after = { id: 1, status: 'paid', tags: ['a'], meta: { n: 2 } };
    expect(diffRows('update', before, after)).toEqual({
      status: ['new', 'paid'],
      meta: [{ n: 1 }, { n: 2 }],
    });
    expect(diffRows('update', before, before)).toEqual({});
  });

  it('shows that a masked column changed, never its value; null sides stay null', () => {
    expect(diffRows('update', { iban: 'DE1' }, { iban: 'DE2' }, { mask: ['iban'] })).toEqual({
      iban: ['[REDACTED]', '[REDACTED]'],
    });
    expect(diffRows('update', { iban: null }, { iban: 'DE2' }, { mask: ['iban'] })).toEqual({
      iban: [null, '[REDACTED]'],
    });
    expect(diffRows('update', { iban: 'DE1' }, { iban: 'DE1' }, { mask: ['iban'] })).toEqual({});
    expect(recordedColumns({ iban: 'DE1', id: 1 }, { mask: ['iban'] })).toEqual({
      iban: '[REDACTED]',
      id: 1,
    });
  });
});

describe('recordId', () => {
  it('is the key text, or the compact JSON array of the key texts in key order', () => {
    expect(recordId({ id: 42 }, ['id'])).toBe('42');
    expect(recordId({ a: 7, b: 'A-1' }, ['a', 'b'])).toBe('["7","A-1"]');
    expect(recordId({ flag: true }, ['flag'])).toBe('true');
  });
});

describe('relationChanges', () => {
  it('adds on insert, removes on delete, and moves a link on an update of a key', () => {
    expect(relationChanges('insert', null, { owner: '1', related: '7' }, 'tags')).toEqual([
      { action: 'relation.added', ownerId: '1', changes: { tags: [null, '7'] } },
    ]);
    expect(relationChanges('delete', { owner: '1', related: '7' }, null, 'tags')).toEqual([
      { action: 'relation.removed', ownerId: '1', changes: { tags: ['7', null] } },
    ]);
    expect(
      relationChanges('update', { owner: '1', related: '7' }, { owner: '1', related: '8' }, 'tags'),
    ).toEqual([
      { action: 'relation.removed', ownerId: '1', changes: { tags: ['7', null] } },
      { action: 'relation.added', ownerId: '1', changes: { tags: [null, '8'] } },
    ]);
    expect(
      relationChanges('update', { owner: '1', related: '7' }, { owner: '1', related: '7' }, 'tags'),
    ).toEqual([]);
    expect(relationColumns('order_id')).toEqual(['order_id']);
  });
});

describe('pair', () => {
  const row = (id: string, status: string): CapturedRow => ({ row: { id: Number(id), status }, id });

  it('pairs an update’s rows by key, whatever order the database returned them in', () => {
    const changes = pair('update', [row('1', 'a'), row('2', 'b')], [row('2', 'B'), row('1', 'A')]);
    expect(changes.map((c) => [c.before?.row.status, c.after?.row.status])).toEqual([
      ['b', 'B'],
      ['a', 'A'],
    ]);
  });

  it('pairs the one row whose key the update changed', () => {
    const [change] = pair('update', [row('1', 'a')], [row('9', 'a')]);
    expect([change?.before?.id, change?.after?.id]).toEqual(['1', '9']);
  });

  it('tells an upsert’s inserted rows from the rows it updated', () => {
    const changes = pair(
      'insert',
      [row('1', 'old')],
      [
        { ...row('1', 'new'), created: false },
        { ...row('2', 'x'), created: true },
      ],
      true,
    );
    expect(changes.map((c) => [c.operation, c.before?.row.status ?? null])).toEqual([
      ['update', 'old'],
      ['insert', null],
    ]);
  });
});

describe('withoutAuditing / forceLog', () => {
  it('marks the async scope of the function, the innermost call winning', async () => {
    expect(captureScope()).toBeUndefined();
    await withoutAuditing(async () => {
      await Promise.resolve();
      expect(captureScope()).toBe('off');
      await forceLog(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(captureScope()).toBe('forced');
      });
      expect(captureScope()).toBe('off');
    });
    expect(captureScope()).toBeUndefined();
  });
});
