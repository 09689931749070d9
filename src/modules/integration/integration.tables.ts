import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts, siteOwnedColumns } from '../auth/auth.tables.js';

export const INTEGRATION_PLATFORMS = ['wordpress', 'webhook'] as const;
export type IntegrationPlatform = (typeof INTEGRATION_PLATFORMS)[number];
export const INTEGRATION_STATUSES = ['active', 'error', 'disabled'] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];
export const WEBHOOK_EVENT_STATUSES = ['received', 'processed', 'failed'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/**
 * A site's connection to where it publishes. `credentials` and `webhook_secret` are ciphertexts
 * (integration.secrets.ts: AES-256-GCM, the key's id inside each), never returned and never logged;
 * `rest_root` is the WordPress REST root found by discovery (`…/wp-json/` or `…/?rest_route=/`).
 */
export const integration_integrations = pgTable(
  'integration_integrations',
  {
    id: idColumn(),
    ...siteOwnedColumns(),
    platform: varchar({ length: 20 }).$type<IntegrationPlatform>().notNull(),
    base_url: varchar({ length: 500 }).notNull(),
    rest_root: varchar({ length: 600 }),
    username: varchar({ length: 200 }).notNull().default(''),
    credentials: text(),
    webhook_secret: text(),
    status: varchar({ length: 20 }).$type<IntegrationStatus>().notNull().default('active'),
    last_checked_at: timestamptz(),
    last_error: text(),
    /** What the last test_connection/ found: WordPress version, capabilities, authentication methods. */
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    last_synced_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [
    // One connection per site and platform: the publisher looks a site's destination up by it.
    uniqueIndex().on(t.site_id, t.platform),
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);

/**
 * An incoming webhook delivery, stored once per provider event id (a provider retrying gets the same row) and
 * handled by a job.
 */
export const integration_webhook_events = pgTable(
  'integration_webhook_events',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    integration_id: integer()
      .notNull()
      .references(() => integration_integrations.id, { onDelete: 'cascade' }),
    provider: varchar({ length: 50 }).notNull(),
    event_id: varchar({ length: 200 }).notNull(),
    event_type: varchar({ length: 100 }).notNull().default(''),
    payload: jsonb().$type<unknown>().notNull(),
    status: varchar({ length: 20 }).$type<WebhookEventStatus>().notNull().default('received'),
    error: text(),
    deliveries: integer().notNull().default(1),
    received_at: timestamptz().notNull().defaultNow(),
    processed_at: timestamptz(),
  },
  (t) => [
    uniqueIndex().on(t.integration_id, t.event_id),
    index().on(t.account_id, t.received_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.status).where(sql`${t.status} = 'received'`),
  ],
);
