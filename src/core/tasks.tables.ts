import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, smallint, uuid, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from './columns.js';

/**
 * Tasks are a platform concept: core/jobs.ts writes them as jobs move, and the system module serves them at
 * `/api/v1/system/tasks/`. Core owns their tables (under their first names, so no data moved) so that core
 * imports no module.
 */

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
  (t) => [
    index().on(t.account_id, t.id),
    index().on(t.account_id, t.status, t.id),
    index().on(t.account_id, t.site_id, t.id),
    // The unfinished tasks of every account, for the sweep that settles those whose process died (tasks.lostTasks).
    index('system_tasks_unfinished_idx').on(t.id).where(sql`${t.status} in ('queued', 'running')`),
  ],
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
