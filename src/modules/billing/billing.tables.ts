import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';

/** Plans: what an account may have and the credits it gets each month. The `free` plan is seeded at install. */
export const billing_plans = pgTable(
  'billing_plans',
  {
    id: idColumn(),
    name: varchar({ length: 120 }).notNull(),
    slug: varchar({ length: 120 }).notNull(),
    price_cents: integer().notNull().default(0),
    currency: varchar({ length: 3 }).notNull().default('usd'),
    interval: varchar({ length: 10 }).$type<'month' | 'year'>().notNull().default('month'),
    monthly_credits: integer().notNull().default(0),
    max_sites: integer().notNull(),
    max_users: integer().notNull(),
    max_keywords: integer().notNull(),
    features: jsonb().$type<string[]>().notNull().default([]),
    is_active: boolean().notNull().default(true),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.slug)],
);

/** One-off credit purchases. */
export const billing_credit_packs = pgTable(
  'billing_credit_packs',
  {
    id: idColumn(),
    name: varchar({ length: 120 }).notNull(),
    slug: varchar({ length: 120 }).notNull(),
    credits: integer().notNull(),
    price_cents: integer().notNull(),
    currency: varchar({ length: 3 }).notNull().default('usd'),
    is_active: boolean().notNull().default(true),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.slug), check('billing_credit_packs_positive', sql`${t.credits} > 0 and ${t.price_cents} >= 0`)],
);

export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled';

/**
 * One subscription per account. `provider` null means the plan is renewed here (the free plan, or an account
 * back on it after a paid subscription ended); `stripe` means Stripe bills it and its invoices grant credits.
 * `provider_event_at` is the creation time of the newest provider event applied, so an older event that
 * arrives late never overwrites a newer state.
 */
export const billing_subscriptions = pgTable(
  'billing_subscriptions',
  {
    id: idColumn(),
    account_id: integer().notNull(),
    plan_id: integer()
      .notNull()
      .references(() => billing_plans.id),
    status: varchar({ length: 20 }).$type<SubscriptionStatus>().notNull().default('active'),
    provider: varchar({ length: 20 }).$type<'stripe'>(),
    provider_customer_id: varchar({ length: 120 }),
    provider_subscription_id: varchar({ length: 120 }),
    provider_event_at: timestamptz(),
    cancel_at_period_end: boolean().notNull().default(false),
    current_period_start: timestamptz().notNull().defaultNow(),
    current_period_end: timestamptz().notNull(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex().on(t.account_id),
    uniqueIndex().on(t.provider_subscription_id),
    index().on(t.provider_customer_id),
    index().on(t.current_period_end),
  ],
);

export const LEDGER_TYPES = ['grant', 'purchase', 'usage', 'refund', 'adjustment'] as const;
export type LedgerType = (typeof LEDGER_TYPES)[number];

/**
 * The credit ledger: every change of an account's balance is one row, append-only. The sum of an account's
 * `amount`s equals `auth_accounts.credits`, and `ref` (unique) makes each change happen once however often
 * its caller retries.
 */
export const billing_credit_transactions = pgTable(
  'billing_credit_transactions',
  {
    id: idColumn(),
    account_id: integer().notNull(),
    amount: integer().notNull(),
    type: varchar({ length: 20 }).$type<LedgerType>().notNull(),
    balance_after: integer().notNull(),
    operation: varchar({ length: 60 }),
    object_type: varchar({ length: 60 }),
    object_id: integer(),
    description: varchar({ length: 500 }).notNull().default(''),
    ref: varchar({ length: 255 }).notNull(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex().on(t.ref),
    index().on(t.account_id, t.id),
    check('billing_credit_transactions_balance', sql`${t.balance_after} >= 0`),
  ],
);

/** One row per AI call: what it used and what it cost (credits to the account, `cost_micros` to us). */
export const billing_usage = pgTable(
  'billing_usage',
  {
    id: idColumn(),
    account_id: integer().notNull(),
    operation: varchar({ length: 60 }).notNull(),
    model: varchar({ length: 120 }).notNull(),
    tokens_in: integer().notNull().default(0),
    tokens_out: integer().notNull().default(0),
    credits: integer().notNull().default(0),
    cost_micros: integer().notNull().default(0),
    latency_ms: integer().notNull().default(0),
    ref: varchar({ length: 255 }),
    object_type: varchar({ length: 60 }),
    object_id: integer(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.ref), index().on(t.account_id, t.id), index().on(t.created_at)],
);

/**
 * Credits per operation, edited by staff: a request of `units` costs `ceil(units / per_units) * credits`
 * (e.g. content_generation: 1 credit per 100 target words). Seeded by a custom migration.
 */
export const billing_credit_costs = pgTable(
  'billing_credit_costs',
  {
    id: idColumn(),
    operation: varchar({ length: 60 }).notNull(),
    credits: integer().notNull(),
    per_units: integer().notNull().default(1),
    unit: varchar({ length: 40 }).notNull(),
    description: varchar({ length: 500 }).notNull().default(''),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.operation), check('billing_credit_costs_positive', sql`${t.credits} >= 0 and ${t.per_units} >= 1`)],
);

/** Incoming provider events, each stored once by the provider's event id and applied by a job. */
export const billing_webhook_events = pgTable(
  'billing_webhook_events',
  {
    id: idColumn(),
    provider: varchar({ length: 20 }).notNull(),
    event_id: varchar({ length: 255 }).notNull(),
    type: varchar({ length: 120 }).notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    status: varchar({ length: 20 }).$type<'received' | 'processed' | 'ignored' | 'failed'>().notNull().default('received'),
    account_id: integer(),
    error: varchar({ length: 1000 }),
    processed_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.provider, t.event_id)],
);
