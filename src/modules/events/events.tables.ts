import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts } from '../auth/auth.tables.js';

/**
 * Outgoing webhooks. A subscription names a receiver and the event types it wants; every matching event of the
 * account becomes one delivery row, made by a trigger on `events_events` inside the event's own transaction
 * (migration 0008): a rolled-back event delivers nothing, a committed one always has its deliveries, whatever
 * process dies afterwards. Each attempt of a delivery is kept in `events_delivery_attempts`.
 */
export const events_subscriptions = pgTable(
  'events_subscriptions',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    url: varchar({ length: 2000 }).notNull(),
    description: varchar({ length: 500 }).notNull().default(''),
    /** Exact types or patterns with `*` segments (`content.*`, `*`); matched by the fan-out trigger. */
    event_types: varchar({ length: 100 }).array().notNull(),
    is_active: boolean().notNull().default(true),
    /**
     * `whsec_<base64>`, encrypted at rest (core/secrets.ts, bound to the account): every delivery is signed with it,
     * so it must be read back, but a copy of the database does not give it away. Never returned after creation.
     */
    secret: text().notNull(),
    /** The secret before the last rotation (encrypted the same way), signing beside the new one until it expires (24 h). */
    previous_secret: text(),
    previous_secret_expires_at: timestamptz(),
    /** Why it was switched off by the server (a 410, five days of failures); null when a person did it or it is on. */
    disabled_reason: varchar({ length: 300 }),
    /** The first failure since the last success: five days of it disables the subscription. */
    failing_since: timestamptz(),
    /**
     * The delivery being attempted and until when (one at a time per subscription, in event order): the token is
     * carried by that attempt's job, so a stale or repeated job finds it no longer matches and does nothing.
     */
    lease_token: varchar({ length: 40 }),
    lease_delivery_id: integer(),
    lease_until: timestamptz(),
    ...timestamps(),
  },
  (t) => [index().on(t.account_id, t.id), index('events_subscriptions_active_idx').on(t.account_id).where(sql`${t.is_active}`)],
);

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const events_deliveries = pgTable(
  'events_deliveries',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    subscription_id: integer()
      .notNull()
      .references(() => events_subscriptions.id, { onDelete: 'cascade' }),
    /** No foreign key, as elsewhere on the log: the events table is append-only and large. */
    event_id: integer().notNull(),
    event_type: varchar({ length: 100 }).notNull(),
    /** `pending` (first attempt or a retry to come), `succeeded` (a 2xx), `failed` (retries used up, 410, disabled). */
    status: varchar({ length: 20 }).$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    /** Attempts made before the last redelivery: the retry schedule starts over from there. */
    redelivered_after: integer().notNull().default(0),
    /** When a pending delivery may next be attempted. */
    next_attempt_at: timestamptz().defaultNow(),
    last_response_code: integer(),
    last_error: varchar({ length: 500 }),
    delivered_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex().on(t.subscription_id, t.event_id),
    index().on(t.account_id, t.id),
    index().on(t.account_id, t.subscription_id, t.id),
    // The sweep's scan: the pending deliveries, by when they are due.
    index('events_deliveries_pending_idx').on(t.next_attempt_at).where(sql`${t.status} = 'pending'`),
    // A subscription's next delivery in event order, among its pending ones only (not its whole history).
    index('events_deliveries_pending_order_idx').on(t.subscription_id, t.event_id).where(sql`${t.status} = 'pending'`),
  ],
);

export const events_delivery_attempts = pgTable(
  'events_delivery_attempts',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    delivery_id: integer()
      .notNull()
      .references(() => events_deliveries.id, { onDelete: 'cascade' }),
    /** 1, 2, ... per delivery (a redelivery goes on counting); unique, so a job run twice records one attempt. */
    attempt: integer().notNull(),
    succeeded: boolean().notNull(),
    response_code: integer(),
    /** The first 2 KiB of the receiver's answer. */
    response_body: text(),
    latency_ms: integer().notNull(),
    error: varchar({ length: 500 }),
    created_at: timestamptz().notNull().defaultNow(),
  },
  (t) => [uniqueIndex().on(t.delivery_id, t.attempt)],
);
