import { describe, expect, it } from 'vitest';
import { actorFromUser } from './actor.js';

describe('actorFromUser', () => {
  it('reads the usual shapes of framework user objects', () => {
    expect(actorFromUser({ id: 7, name: 'Ada' })).toEqual({ type: 'user', id: '7', label: 'Ada' });
    expect(actorFromUser({ sub: 'u1', email: 'a@example.com' })).toEqual({
      type: 'user',
      id: 'u1',
      label: 'a@example.com',
    });
    expect(actorFromUser({ _id: { toHexString: () => 'abc123' } })).toEqual({ type: 'user', id: 'abc123' });
    expect(actorFromUser({ id: 'svc', type: 'service' })).toEqual({ type: 'service', id: 'svc' });
    expect(actorFromUser('u2')).toBe('u2');
  });

  it('finds no actor in nothing', () => {
    for (const none of [undefined, null, false, '', {}, { role: 'admin' }])
      expect(actorFromUser(none)).toBeUndefined();
  });
});
