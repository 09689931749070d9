import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { siteOwnedColumns } from '../auth/auth.tables.js';

/**
 * Automation: one config per site (how the pipeline runs there, and when), runs of the pipeline with their
 * per-stage results, a log line per step, and the units each run finished (so a run resumed or retried after a
 * crash never does one twice).
 */

export const STAGES = [
  'clusters',
  'ideas',
  'tasks',
  'articles',
  'image_prompts',
  'images',
  'optimize',
  'link',
  'review',
] as const;
export type Stage = (typeof STAGES)[number];

export interface StageConfig {
  enabled: boolean;
  batch_size: number;
}
export type StageConfigs = Record<Stage, StageConfig>;
export interface Schedule {
  cron: string;
  timezone: string;
}

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** A run in one of these holds its site: no second run starts there until it finishes. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running', 'paused'];
export const RUN_TRIGGERS = ['manual', 'scheduled'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export interface StageResult {
  status: 'pending' | 'running' | 'completed' | 'skipped' | 'failed';
  processed: number;
  created: number;
  skipped: number;
  credits: number;
  errors: { unit: string; code: string; message: string }[];
}
export type StageResults = Partial<Record<Stage | 'publish', StageResult>>;

/** The settings a run was started with (the config may change while it runs). */
export interface RunSettings {
  stages: StageConfigs;
  ideas_per_cluster: number;
  in_article_images: number;
  require_approval: boolean;
  auto_publish: boolean;
  publish_status: 'publish' | 'draft';
  max_credits_per_run: number | null;
}

export const automation_configs = pgTable(
  'automation_configs',
  {
    id: idColumn(),
    ...siteOwnedColumns(),
    is_enabled: boolean().notNull().default(false),
    schedule: jsonb().$type<Schedule>().notNull(),
    stages: jsonb().$type<StageConfigs>().notNull(),
    ideas_per_cluster: integer().notNull().default(3),
    in_article_images: integer().notNull().default(2),
    require_approval: boolean().notNull().default(true),
    auto_publish: boolean().notNull().default(false),
    publish_status: varchar({ length: 10 }).$type<'publish' | 'draft'>().notNull().default('publish'),
    max_credits_per_run: integer(),
    /** The schedule's next due time (null while disabled): the schedule check starts a run once it passes. */
    next_run_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.site_id), index().on(t.next_run_at)],
);

export const automation_runs = pgTable(
  'automation_runs',
  {
    id: idColumn(),
    ...siteOwnedColumns(),
    trigger: varchar({ length: 20 }).$type<RunTrigger>().notNull(),
    status: varchar({ length: 20 }).$type<RunStatus>().notNull().default('queued'),
    current_stage: varchar({ length: 30 }).$type<Stage | 'publish'>(),
    stages: jsonb().$type<StageResults>().notNull().default({}),
    settings: jsonb().$type<RunSettings>().notNull(),
    /** The units chosen for each stage when it began: a resumed run carries on with the same ones. */
    plan: jsonb().$type<Partial<Record<Stage | 'publish', number[]>>>().notNull().default({}),
    credits_used: integer().notNull().default(0),
    estimated_credits: integer().notNull().default(0),
    /** The system task running it now (a resumed run gets a new one). */
    task_id: integer(),
    actor_id: integer(),
    /** A scheduled run's due time, unique per site: however many processes check the schedule, one run. */
    scheduled_for: timestamptz(),
    started_at: timestamptz(),
    finished_at: timestamptz(),
    error: jsonb().$type<{ code: string; message: string }>(),
    ...timestamps(),
  },
  (t) => [
    // One active run per site, enforced by the database: two run_now calls at once cannot both insert.
    uniqueIndex('automation_runs_one_active_per_site').on(t.site_id).where(sql`${t.status} in ('queued', 'running', 'paused')`),
    uniqueIndex('automation_runs_once_per_due_time').on(t.site_id, t.scheduled_for),
    index().on(t.account_id, t.created_at.desc(), t.id.desc()),
  ],
);

export const automation_run_logs = pgTable(
  'automation_run_logs',
  {
    id: idColumn(),
    account_id: integer().notNull(),
    run_id: integer()
      .notNull()
      .references(() => automation_runs.id, { onDelete: 'cascade' }),
    stage: varchar({ length: 30 }),
    level: varchar({ length: 10 }).$type<'info' | 'warning' | 'error'>().notNull().default('info'),
    message: varchar({ length: 1000 }).notNull(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps(),
  },
  (t) => [index().on(t.run_id, t.id)],
);

/** A unit a run finished, written with its results: a second attempt at the same unit finds it here. */
export const automation_run_units = pgTable(
  'automation_run_units',
  {
    account_id: integer().notNull(),
    run_id: integer()
      .notNull()
      .references(() => automation_runs.id, { onDelete: 'cascade' }),
    stage: varchar({ length: 30 }).notNull(),
    unit: integer().notNull(),
    outcome: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    created_at: timestamptz().notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.run_id, t.stage, t.unit] })],
);
