import { describe, expect, it } from 'vitest';
import {
  createContext,
  getContext,
  normaliseActor,
  resolveActor,
  runInContext,
  runWithContext,
  tryGetContext,
} from './context.js';
import { AuditkitError } from './errors.js';

describe('audit context', () => {
  it('is available through every await inside runWithContext, and gone outside', async () => {
    expect(tryGetContext()).toBeUndefined();
    await runWithContext({ tenantId: 'org_1', requestId: 'r1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(getContext()).toMatchObject({ tenantId: 'org_1', requestId: 'r1' });
    });
    expect(tryGetContext()).toBeUndefined();
  });

  it('throws no_context from getContext outside any context', () => {
    expect(() => getContext()).toThrowError(expect.objectContaining({ code: 'no_context' }));
  });

  it('lets nested contexts inherit and override, merging metadata', () => {
    runWithContext({ tenantId: 'org_1', requestId: 'r1', metadata: { a: 1 } }, () => {
      runWithContext({ tenantId: 'org_2', metadata: { b: 2 } }, () => {
        expect(getContext()).toMatchObject({ tenantId: 'org_2', requestId: 'r1', metadata: { a: 1, b: 2 } });
      });
      expect(getContext().tenantId).toBe('org_1');
    });
  });

  it('keeps concurrent requests apart', async () => {
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        runWithContext({ requestId: id }, async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          return getContext().requestId;
        }),
      ),
    );
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('createContext and runInContext', () => {
  it('make the context runWithContext would run, inheriting from the running one', () => {
    expect(createContext({ requestId: 'r1', traceId: undefined })).toEqual({
      requestId: 'r1',
      metadata: undefined,
      flags: {},
    });
    runWithContext({ tenantId: 'org_1', requestId: 'r1', metadata: { a: 1 } }, () => {
      getContext().flags.seen = true;
      const child = createContext({ requestId: 'r2', metadata: { b: 2 } });
      expect(child).toMatchObject({ tenantId: 'org_1', requestId: 'r2', metadata: { a: 1, b: 2 } });
      expect(child.flags).toEqual({ seen: true });
      expect(child.flags).not.toBe(getContext().flags);
    });
  });

  it('enter exactly the given object each time, so changes made inside are seen by every later entry', async () => {
    const context = createContext({ requestId: 'r1' });
    const seen = runInContext(context, (label) => `${label}:${tryGetContext() === context}`, 'first');
    expect(seen).toBe('first:true');
    await runInContext(context, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      getContext().tenantId = 'org_late';
    });
    runInContext(context, () => expect(getContext().tenantId).toBe('org_late'));
    expect(tryGetContext()).toBeUndefined();
  });
});

describe('normaliseActor', () => {
  it('reads a string as a user id and a partial actor with an id as a user', () => {
    expect(normaliseActor('u1')).toEqual({ type: 'user', id: 'u1' });
    expect(normaliseActor({ id: 7 as unknown as string, label: 'Ada' })).toEqual({
      type: 'user',
      id: '7',
      label: 'Ada',
    });
    expect(normaliseActor({ type: 'service', id: 'cron' })).toEqual({ type: 'service', id: 'cron' });
  });

  it('returns undefined for nothing and rejects unknown types', () => {
    expect(normaliseActor(null)).toBeUndefined();
    expect(normaliseActor('')).toBeUndefined();
    expect(() => normaliseActor({ type: 'robot' as never })).toThrow(AuditkitError);
  });
});

describe('resolveActor', () => {
  it('resolves values, functions and promises alike', async () => {
    expect(await resolveActor('u1')).toEqual({ type: 'user', id: 'u1' });
    expect(await resolveActor(() => ({ id: 'u2' }))).toEqual({ type: 'user', id: 'u2' });
    expect(await resolveActor(Promise.resolve('u3'))).toEqual({ type: 'user', id: 'u3' });
    expect(await resolveActor(async () => null)).toBeUndefined();
  });
});
