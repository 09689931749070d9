import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts } from '../auth/auth.tables.js';
import type { ImageSize } from './system.ai.schemas.js';

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINISHED_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface TaskProgress {
  current: number;
  total: number | null;
  message: string;
}
export interface TaskError {
  code: string;
  message: string;
}

/**
 * A background job a user started and can watch (`/api/v1/system/tasks/`). The queue itself lives in pg-boss's
 * own schema; this row is the account-scoped, user-facing record of it, written by core/jobs.ts as the job
 * moves. `job_id` links the two; `cancel_requested` is the flag a running handler checks between units.
 */
export const system_tasks = pgTable(
  'system_tasks',
  {
    id: idColumn(),
    account_id: integer().notNull(),
    /** The site of site-scoped work (a keyword import, a clustering run); null for account-wide tasks. */
    site_id: integer(),
    actor_id: integer(),
    type: varchar({ length: 100 }).notNull(),
    status: varchar({ length: 20 }).$type<TaskStatus>().notNull().default('queued'),
    payload: jsonb().$type<unknown>().notNull().default({}),
    progress: jsonb().$type<TaskProgress>().notNull().default({ current: 0, total: null, message: '' }),
    result: jsonb().$type<unknown>(),
    error: jsonb().$type<TaskError>(),
    job_id: uuid(),
    attempts: smallint().notNull().default(0),
    cancel_requested: boolean().notNull().default(false),
    started_at: timestamptz(),
    finished_at: timestamptz(),
    ...timestamps(),
  },
  // The feed pages by id within an account (cost flat with depth); the status filter narrows the same walk.
  // A site-limited caller's feed walks its sites' tasks the same way.
  (t) => [index().on(t.account_id, t.id), index().on(t.account_id, t.status, t.id), index().on(t.account_id, t.site_id, t.id)],
);

/**
 * Units of work a job has finished, keyed by the job (its task, or its queue id) and a name the handler gives
 * each unit. Written in the same transaction as the unit's effect, so a job that runs twice (its process died
 * after the effect, before the queue heard of it) finds the unit done and skips it.
 */
export const system_job_units = pgTable(
  'system_job_units',
  {
    job_key: varchar({ length: 100 }).notNull(),
    unit: varchar({ length: 200 }).notNull(),
    result: jsonb().$type<unknown>(),
    created_at: timestamptz().notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.job_key, t.unit] }), index().on(t.created_at)],
);

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
