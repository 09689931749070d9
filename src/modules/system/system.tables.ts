import { index, integer, pgTable, real, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts } from '../auth/auth.tables.js';
import type { ImageSize } from './system.ai.schemas.js';

// ---------------------------------------------------------------------------------------------------------
// AI: the account's prompt overrides, settings and author profiles (core/ai.ts reads them through
// system.ai.service.ts). A missing row means "the defaults", so a new account needs no setup.

/** One row per overridden AI function; resetting a prompt deletes its row. */
export const system_prompts = pgTable(
  'system_prompts',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    function: varchar({ length: 40 }).notNull(),
    system_template: text().notNull(),
    user_template: text().notNull(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.account_id, t.function)],
);

/** The account's AI settings; null model fields mean the installation's AI_MODEL / AI_IMAGE_MODEL. */
export const system_ai_settings = pgTable('system_ai_settings', {
  id: idColumn(),
  account_id: integer()
    .notNull()
    .unique()
    .references(() => auth_accounts.id, { onDelete: 'cascade' }),
  model: varchar({ length: 200 }),
  temperature: real(),
  language: varchar({ length: 60 }).notNull().default('English'),
  tone: varchar({ length: 120 }).notNull().default('professional'),
  default_word_count: integer().notNull().default(1500),
  image_model: varchar({ length: 200 }),
  image_size: varchar({ length: 20 }).$type<ImageSize>().notNull().default('1024x1024'),
  image_style: varchar({ length: 200 }).notNull().default(''),
  brand_guidelines: text().notNull().default(''),
  ...timestamps(),
});

export const system_author_profiles = pgTable(
  'system_author_profiles',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    name: varchar({ length: 200 }).notNull(),
    tone: varchar({ length: 120 }).notNull().default(''),
    persona: text().notNull().default(''),
    guidelines: text().notNull().default(''),
    ...timestamps(),
  },
  (t) => [index().on(t.account_id, t.created_at, t.id)],
);

// ---------------------------------------------------------------------------------------------------------
// Stored files no row names any more (a generated image's, a pruned or failed deployment's), waiting for
// `system.purge_released_files` to delete them from storage. Rows arrive from triggers on the tables that name
// files (`writer_images`, `publisher_deployment_files`: migration 0014), so every way a row goes (a route, a
// cascade from a deleted article, site or account, a replaced file) releases its file, including the ways no code
// of ours runs; a build that fails for good releases what it wrote through the system files service.

export const system_released_files = pgTable('system_released_files', {
  storage_key: varchar({ length: 300 }).primaryKey(),
  released_at: timestamptz().notNull().defaultNow(),
});
