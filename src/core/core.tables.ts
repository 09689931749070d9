import { index, integer, pgTable, primaryKey, smallint, text, timestamp, varchar } from 'drizzle-orm/pg-core';

/** Tables owned by core machinery rather than a module. */

/** Stored answers to POSTs sent with an Idempotency-Key, kept 24 hours per account. */
export const system_idempotency_keys = pgTable(
  'system_idempotency_keys',
  {
    account_id: integer().notNull(),
    key: varchar({ length: 255 }).notNull(),
    method: varchar({ length: 10 }).notNull(),
    path: text().notNull(),
    body_sha256: varchar({ length: 64 }).notNull(),
    /** Null while the first request is still running. */
    response_status: smallint(),
    response_body: text(),
    response_content_type: varchar({ length: 200 }),
    created_at: timestamp({ precision: 3, withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.account_id, t.key] }), index().on(t.created_at)],
);

/** Mail the mailer stored instead of sending (no SMTP_URL), or sent and kept for the record. */
export const system_outbox = pgTable(
  'system_outbox',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    to: varchar({ length: 254 }).notNull(),
    subject: varchar({ length: 300 }).notNull(),
    text: text().notNull(),
    /** `stored` (no SMTP), `sent`, or `failed`. */
    status: varchar({ length: 10 }).notNull(),
    error: text(),
    created_at: timestamp({ precision: 3, withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.created_at)],
);
