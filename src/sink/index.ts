export { createFileOutbox, type FileOutboxOptions } from './file-outbox.js';
export { type JsonlFileSinkOptions, jsonlFileSink } from './jsonl-file-sink.js';
export { createMemoryOutbox, type MemoryOutboxOptions } from './memory-outbox.js';
export type { Outbox, OutboxPosition, OutboxRead } from './outbox.js';
export type { SendOptions, Sink } from './sink.js';
export {
  createSinkForwarder,
  type SinkForwarder,
  type SinkForwarderOptions,
  type SinkStats,
} from './sink-forwarder.js';
export {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhookBody,
  verifyWebhookSignature,
} from './webhook-signature.js';
export { type WebhookSinkOptions, webhookSink } from './webhook-sink.js';
export { type StoreWithSinks, withSinks } from './with-sinks.js';
