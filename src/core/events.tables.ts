import { index, integer, jsonb, pgTable, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamptz } from './columns.js';

/**
 * The events log is a platform concept: every module records into it (core/events.ts) and the events module
 * serves it at `/api/v1/events/`, so core owns its table (under its first name, so no data moved).
 *
 * The append-only log of everything that changed (`/api/v1/events/`). Named `events_events` by the habit
 * `<module>_<resource>` applied literally (module `events`, resource `events`): every table of the module then
 * shares the `events_` prefix, beside the coming `events_subscriptions` and `events_deliveries`.
 *
 * Rows are never updated, so there is no `updated_at`. The feed is read newest first by id within an account
 * (cursor = last id), so every index ends in `id`: a page costs the same at the millionth event as at the first.
 */
export const events_events = pgTable(
  'events_events',
  {
    id: idColumn(),
    account_id: integer().notNull(),
    /**
     * The site of site-scoped work, null for account-wide changes. No foreign key: the log outlives what it
     * records (a deleted site's events stay, like a deleted object's).
     */
    site_id: integer(),
    type: varchar({ length: 100 }).notNull(),
    source_agent: varchar({ length: 100 }).notNull(),
    actor_id: integer(),
    object_type: varchar({ length: 60 }),
    object_id: integer(),
    payload: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    created_at: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index().on(t.account_id, t.id),
    // A site-limited caller's feed walks its sites' events by id.
    index().on(t.account_id, t.site_id, t.id),
    index().on(t.account_id, t.type, t.id),
    index().on(t.account_id, t.object_type, t.object_id, t.id),
  ],
);
