import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../test/reliability/fixtures/http-webhook-receiver.js';
import { webhookSink } from './webhook-sink.js';

const secret = 'a-shared-secret-of-some-length';

describe('webhookSink', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret });
  });
  afterAll(() => receiver.close());

  it('POSTs a batch as JSON { deliveryId, sentAt, events } with an HMAC signature the receiver can verify', async () => {
    const sink = webhookSink({ url: receiver.url, secret, headers: { 'x-api-key': 'k1' } });
    const events = [makeEvent({ action: 'a.one' }), makeEvent({ action: 'a.two', message: 'ünïcødé ✓' })];
    await sink.send(events);
    const delivery = receiver.deliveries.at(-1);
    expect(delivery?.signed).toBe(true);
    expect(delivery?.headers['content-type']).toBe('application/json');
    expect(delivery?.headers['x-api-key']).toBe('k1');
    expect(delivery?.headers['x-auditkit-delivery']).toBe(delivery?.body.deliveryId);
    expect(delivery?.body.events).toEqual(JSON.parse(JSON.stringify(events)));
    expect(Date.parse(delivery?.body.sentAt ?? '')).not.toBeNaN();
  });

  it('sends the same batch again under the same delivery id, so a receiver can spot a repeat', async () => {
    const sink = webhookSink({ url: receiver.url, secret });
    const events = [makeEvent(), makeEvent()];
    await sink.send(events);
    await sink.send(events);
    const [first, second] = receiver.deliveries.slice(-2);
    expect(first?.body.deliveryId).toBe(second?.body.deliveryId);
    await sink.send([makeEvent()]);
    expect(receiver.deliveries.at(-1)?.body.deliveryId).not.toBe(first?.body.deliveryId);
  });

  it('sends credentials given in the URL as basic authentication', async () => {
    await webhookSink({ url: receiver.url.replace('http://', 'http://siem%40corp:p%3Ass@') }).send([
      makeEvent(),
    ]);
    const header = receiver.deliveries.at(-1)?.headers.authorization ?? '';
    expect(Buffer.from(header.replace('Basic ', ''), 'base64').toString()).toBe('siem@corp:p:ss');
  });

  it('sends no signature without a secret', async () => {
    await webhookSink({ url: receiver.url }).send([makeEvent()]);
    expect(receiver.deliveries.at(-1)?.headers['x-auditkit-signature']).toBeUndefined();
  });

  it('fails the batch with sink_failed on a non-2xx answer, naming the status', async () => {
    receiver.setMode('fail');
    try {
      await expect(webhookSink({ url: receiver.url }).send([makeEvent()])).rejects.toMatchObject({
        code: 'sink_failed',
        message: expect.stringContaining('answered 500'),
        details: { status: 500 },
      });
    } finally {
      receiver.setMode('ok');
    }
  });

  it('fails with sink_failed when the receiver does not answer within timeoutMs', async () => {
    receiver.setMode('hang');
    try {
      await expect(
        webhookSink({ url: receiver.url, timeoutMs: 200 }).send([makeEvent()]),
      ).rejects.toMatchObject({
        code: 'sink_failed',
      });
    } finally {
      receiver.setMode('ok');
    }
  });

  it('fails with sink_failed when nothing listens, without credentials or query in the message', async () => {
    const other = await startWebhookReceiver();
    const url = other.url.replace('http://', 'http://user:pw@') + '?token=secret-token';
    await other.close();
    const error = await webhookSink({ url })
      .send([makeEvent()])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'sink_failed',
      message: expect.stringContaining('could not be reached'),
    });
    expect((error as Error).message).not.toMatch(/pw|secret-token/);
  });

  it('aborts a request in flight when the signal aborts (the forwarder closing)', async () => {
    receiver.setMode('hang');
    const controller = new AbortController();
    try {
      const sending = webhookSink({ url: receiver.url, timeoutMs: 60_000 }).send([makeEvent()], {
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 50);
      await expect(sending).rejects.toMatchObject({ code: 'sink_failed' });
    } finally {
      receiver.setMode('ok');
    }
  });

  it('rejects a URL that is not http(s), an unparsable URL and a short secret with invalid_config', () => {
    expect(() => webhookSink({ url: 'ftp://example.com/x' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() => webhookSink({ url: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() => webhookSink({ url: receiver.url, secret: 'short' })).toThrow(/at least 16/);
    expect(webhookSink({ url: receiver.url, name: `siem-${randomUUID()}` }).name).toMatch(/^siem-/);
  });
});
