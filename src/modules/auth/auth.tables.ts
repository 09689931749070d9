import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { billing_plans } from '../billing/billing.tables.js';

/** Reference data: industries and their suggested sectors, seeded by a migration. */
export const auth_industries = pgTable(
  'auth_industries',
  {
    id: idColumn(),
    name: varchar({ length: 120 }).notNull(),
    slug: varchar({ length: 120 }).notNull(),
    description: text().notNull().default(''),
    suggested_sectors: jsonb().$type<string[]>().notNull().default([]),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.slug)],
);

export const auth_accounts = pgTable(
  'auth_accounts',
  {
    id: idColumn(),
    name: varchar({ length: 200 }).notNull(),
    slug: varchar({ length: 220 }).notNull(),
    status: varchar({ length: 20 }).$type<'active' | 'suspended'>().notNull().default('active'),
    plan_id: integer()
      .notNull()
      .references(() => billing_plans.id),
    /** The balance; only billing's ledger changes it. */
    credits: integer().notNull().default(0),
    owner_id: integer(),
    timezone: varchar({ length: 64 }).notNull().default('UTC'),
    billing_email: varchar({ length: 254 }),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.slug)],
);

export const auth_users = pgTable(
  'auth_users',
  {
    id: idColumn(),
    email: varchar({ length: 254 }).notNull(),
    password_hash: text().notNull(),
    first_name: varchar({ length: 150 }).notNull().default(''),
    last_name: varchar({ length: 150 }).notNull().default(''),
    is_active: boolean().notNull().default(true),
    is_staff: boolean().notNull().default(false),
    is_superuser: boolean().notNull().default(false),
    /** The account a login picks when none is named. */
    last_account_id: integer(),
    last_login_at: timestamptz(),
    ...timestamps(),
  },
  // Emails are unique case-insensitively.
  (t) => [uniqueIndex('auth_users_email_unique').on(sql`lower(${t.email})`)],
);

export const auth_memberships = pgTable(
  'auth_memberships',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    user_id: integer()
      .notNull()
      .references(() => auth_users.id, { onDelete: 'cascade' }),
    role: varchar({ length: 20 }).$type<'owner' | 'admin' | 'editor' | 'viewer'>().notNull(),
    /** Editors and viewers limited to these sites; empty means every site. */
    site_ids: integer().array().notNull().default([]),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.account_id, t.user_id), index().on(t.user_id)],
);

/** A login: access tokens name it, refresh tokens belong to it (one refresh family per session). */
export const auth_sessions = pgTable(
  'auth_sessions',
  {
    id: idColumn(),
    user_id: integer()
      .notNull()
      .references(() => auth_users.id, { onDelete: 'cascade' }),
    account_id: integer().references(() => auth_accounts.id, { onDelete: 'cascade' }),
    /** SHA-256 of the `sessionid` cookie, for logins that asked for one. */
    cookie_hash: varchar({ length: 64 }),
    user_agent: varchar({ length: 400 }).notNull().default(''),
    ip: varchar({ length: 64 }).notNull().default(''),
    expires_at: timestamptz().notNull(),
    revoked_at: timestamptz(),
    revoked_reason: varchar({ length: 40 }),
    last_used_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [index().on(t.user_id), uniqueIndex().on(t.cookie_hash)],
);

export const auth_refresh_tokens = pgTable(
  'auth_refresh_tokens',
  {
    id: idColumn(),
    session_id: integer()
      .notNull()
      .references(() => auth_sessions.id, { onDelete: 'cascade' }),
    token_hash: varchar({ length: 64 }).notNull(),
    /** Set when rotated; presenting a used token again revokes the whole session (reuse detection). */
    used_at: timestamptz(),
    expires_at: timestamptz().notNull(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.token_hash), index().on(t.session_id)],
);

export const auth_password_resets = pgTable(
  'auth_password_resets',
  {
    id: idColumn(),
    user_id: integer()
      .notNull()
      .references(() => auth_users.id, { onDelete: 'cascade' }),
    token_hash: varchar({ length: 64 }).notNull(),
    expires_at: timestamptz().notNull(),
    used_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.token_hash), index().on(t.user_id)],
);

export const auth_sites = pgTable(
  'auth_sites',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    name: varchar({ length: 200 }).notNull(),
    slug: varchar({ length: 220 }).notNull(),
    url: varchar({ length: 500 }).notNull().default(''),
    industry: varchar({ length: 120 }),
    description: text().notNull().default(''),
    is_active: boolean().notNull().default(true),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.account_id, t.slug), index().on(t.account_id, t.created_at)],
);

export const auth_sectors = pgTable(
  'auth_sectors',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    site_id: integer()
      .notNull()
      .references(() => auth_sites.id, { onDelete: 'cascade' }),
    name: varchar({ length: 200 }).notNull(),
    slug: varchar({ length: 220 }).notNull(),
    description: text().notNull().default(''),
    is_active: boolean().notNull().default(true),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.site_id, t.slug), index().on(t.account_id, t.created_at)],
);

/**
 * The columns of a resource that belongs to a site as a whole (integrations, publishing, deployments,
 * automation): deleting the account or the site deletes the row with it.
 */
export const siteOwnedColumns = () => ({
  account_id: integer()
    .notNull()
    .references(() => auth_accounts.id, { onDelete: 'cascade' }),
  site_id: integer()
    .notNull()
    .references(() => auth_sites.id, { onDelete: 'cascade' }),
});

/**
 * The scope columns of every site-scoped resource (keywords, clusters, ideas, tasks, content …): deleting the
 * account, site or sector deletes the row with it.
 */
export const siteScopeColumns = () => ({
  ...siteOwnedColumns(),
  sector_id: integer()
    .notNull()
    .references(() => auth_sectors.id, { onDelete: 'cascade' }),
});
