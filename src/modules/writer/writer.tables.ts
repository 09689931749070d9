import { index, integer, jsonb, pgTable, text, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps } from '../../core/columns.js';
import { siteScopeColumns } from '../auth/auth.tables.js';
import { planner_clusters, planner_content_ideas } from '../planner/planner.tables.js';

export const WRITER_TASK_STATUSES = ['queued', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type WriterTaskStatus = (typeof WRITER_TASK_STATUSES)[number];

/**
 * What the writer is asked to write: one per queued content idea (planner's `bulk_queue_to_writer/`), or made
 * by hand. `content_id` points at the article once one is generated (the writer's content table).
 */
export const writer_tasks = pgTable(
  'writer_tasks',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    title: varchar({ length: 300 }).notNull(),
    description: text().notNull().default(''),
    idea_id: integer().references(() => planner_content_ideas.id, { onDelete: 'set null' }),
    cluster_id: integer().references(() => planner_clusters.id, { onDelete: 'set null' }),
    keywords: jsonb().$type<string[]>().notNull().default([]),
    content_type: varchar({ length: 20 }).notNull().default('post'),
    content_structure: varchar({ length: 20 }).notNull().default('article'),
    word_count_target: integer().notNull(),
    author_profile_id: integer(),
    status: varchar({ length: 20 }).$type<WriterTaskStatus>().notNull().default('queued'),
    error: text(),
    content_id: integer(),
    ...timestamps(),
  },
  (t) => [
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.status, t.id),
    index().on(t.idea_id),
  ],
);
