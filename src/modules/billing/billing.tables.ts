import { boolean, integer, jsonb, pgTable, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps } from '../../core/columns.js';

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
