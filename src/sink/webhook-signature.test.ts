import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import { deliveryId, signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

describe('webhook signatures', () => {
  const secret = 'a-shared-secret-of-some-length';
  const body = JSON.stringify({ events: [{ id: '1' }] });

  it('signs a body as sha256=<hex HMAC-SHA256>, which verifyWebhookSignature accepts', () => {
    const signature = signWebhookBody(secret, body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(secret, body, signature)).toBe(true);
    expect(verifyWebhookSignature(secret, Buffer.from(body), signature)).toBe(true);
  });

  it('rejects a changed body, another secret, a missing or malformed header', () => {
    const signature = signWebhookBody(secret, body);
    expect(verifyWebhookSignature(secret, `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('another-secret-entirely', body, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(secret, body, 'sha256=00')).toBe(false);
    expect(verifyWebhookSignature(secret, body, signature.toUpperCase())).toBe(false);
  });

  it('derives the delivery id from the event ids: same batch, same id', () => {
    const a = makeEvent();
    const b = makeEvent();
    expect(deliveryId([a, b])).toBe(deliveryId([{ ...a }, { ...b }]));
    expect(deliveryId([a, b])).not.toBe(deliveryId([b, a]));
    expect(deliveryId([a])).toMatch(/^[0-9a-f]{32}$/);
  });
});
