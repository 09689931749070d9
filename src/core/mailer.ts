import type { FastifyBaseLogger } from 'fastify';
import type { Transporter } from 'nodemailer';
import { system_outbox } from './core.tables.js';
import type { Db } from './db.js';

/**
 * Sends mail through SMTP when SMTP_URL is set; otherwise keeps it in the outbox table (staff read it at
 * /api/v1/admin/outbox/) and logs it, so a local install works without a mail server. Every message is
 * recorded in the outbox either way, with what happened to it.
 */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export function createMailer(deps: { db: Db; smtpUrl: string | null; from: string; log: FastifyBaseLogger }) {
  const smtpUrl = deps.smtpUrl;
  // nodemailer is loaded with the first mail: a server that never mails (or has no SMTP_URL) never holds it.
  let transport: Promise<Transporter> | null = null;
  return {
    async send(mail: Mail): Promise<void> {
      if (!smtpUrl) {
        await deps.db.insert(system_outbox).values({ ...mail, status: 'stored' });
        deps.log.info({ mail: { to: mail.to, subject: mail.subject } }, 'mail stored in the outbox (no SMTP_URL)');
        return;
      }
      try {
        transport ??= import('nodemailer').then((m) => m.default.createTransport(smtpUrl));
        await (await transport).sendMail({ from: deps.from, ...mail });
        await deps.db.insert(system_outbox).values({ ...mail, status: 'sent' });
      } catch (error) {
        // A mail server outage must not fail the request that sent the mail; the outbox keeps the message.
        deps.log.error({ err: error, to: mail.to }, 'mail could not be sent');
        await deps.db.insert(system_outbox).values({ ...mail, status: 'failed', error: (error as Error).message });
      }
    },
  };
}
export type Mailer = ReturnType<typeof createMailer>;
