/** `auditkit/notify`: notices for error events (interface, rate-limited dispatcher, webhook and SMTP). */
export {
  createNotificationDispatcher,
  type NotificationDispatcher,
  type NotificationDispatcherOptions,
} from './dispatcher.js';
export type { Notice, NoticeEvent, NotificationResult, Notifier } from './notifier.js';
export { type MailTransportLike, type SmtpNotifierOptions, smtpNotifier } from './smtp-notifier.js';
export { type WebhookNotifierOptions, webhookNotifier } from './webhook-notifier.js';
