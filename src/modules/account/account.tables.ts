import { index, integer, pgTable, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts, auth_sites, auth_users } from '../auth/auth.tables.js';

/** API keys: only the SHA-256 of the key is kept, with a visible prefix to recognise it by. */
export const account_api_keys = pgTable(
  'account_api_keys',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    name: varchar({ length: 120 }).notNull(),
    prefix: varchar({ length: 20 }).notNull(),
    key_hash: varchar({ length: 64 }).notNull(),
    scopes: varchar({ length: 10 }).array().$type<Array<'read' | 'write' | 'admin'>>().notNull(),
    /** A key bound to one site (the WordPress bridge) sees only that site. */
    site_id: integer().references(() => auth_sites.id, { onDelete: 'cascade' }),
    created_by: integer().references(() => auth_users.id, { onDelete: 'set null' }),
    expires_at: timestamptz(),
    last_used_at: timestamptz(),
    revoked_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.key_hash), index().on(t.account_id, t.created_at)],
);

export const account_invitations = pgTable(
  'account_invitations',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    email: varchar({ length: 254 }).notNull(),
    role: varchar({ length: 20 }).$type<'owner' | 'admin' | 'editor' | 'viewer'>().notNull(),
    site_ids: integer().array().notNull().default([]),
    token_hash: varchar({ length: 64 }).notNull(),
    invited_by: integer().references(() => auth_users.id, { onDelete: 'set null' }),
    expires_at: timestamptz().notNull(),
    accepted_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.token_hash), index().on(t.account_id)],
);
