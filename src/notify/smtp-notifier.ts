import { AuditkitError } from '../core/errors.js';
import type { Notice, Notifier } from './notifier.js';

/** The one method of a nodemailer transporter this notifier uses, so nodemailer stays an optional peer. */
export interface MailTransportLike {
  sendMail(message: { from: string; to: string | string[]; subject: string; text: string }): Promise<unknown>;
  close?(): void;
}

export interface SmtpNotifierOptions {
  /** Sender address. */
  from: string;
  /** Recipients. */
  to: string | string[];
  /**
   * Where to send: an SMTP URL (`smtp://user:pass@mail.example.com:587`) or nodemailer SMTP options,
   * used to create a transporter with nodemailer on the first notice.
   */
  smtp?: string | Record<string, unknown>;
  /** Or a ready transporter (`nodemailer.createTransport(...)`), e.g. one the app already has. */
  transport?: MailTransportLike;
}

/**
 * A notifier that mails each notice through SMTP with nodemailer (an optional peer dependency, loaded on
 * the first notice when `smtp` is given).
 *
 * @example
 * smtpNotifier({ smtp: 'smtp://mail.internal:25', from: 'audit@example.com', to: 'oncall@example.com' })
 */
export function smtpNotifier({ from, to, smtp, transport }: SmtpNotifierOptions): Notifier {
  if ((smtp === undefined) === (transport === undefined)) {
    throw new AuditkitError('invalid_config', 'smtpNotifier needs exactly one of `smtp` or `transport`.');
  }
  let ready: Promise<MailTransportLike> | undefined = transport ? Promise.resolve(transport) : undefined;
  const open = (): Promise<MailTransportLike> => {
    ready ??= import('nodemailer').then(
      (nodemailer) => nodemailer.createTransport(smtp as never) as unknown as MailTransportLike,
      (error: unknown) => {
        ready = undefined;
        throw new AuditkitError(
          'invalid_config',
          'smtpNotifier needs the nodemailer package: npm install nodemailer.',
          { cause: error },
        );
      },
    );
    return ready;
  };
  return {
    name: 'smtp',
    async notify(notice: Notice) {
      const mailer = await open();
      await mailer.sendMail({ from, to, subject: notice.subject, text: notice.text });
    },
  };
}
