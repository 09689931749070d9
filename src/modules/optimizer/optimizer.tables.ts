import { boolean, index, integer, jsonb, pgTable, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps } from '../../core/columns.js';
import { siteScopeColumns } from '../auth/auth.tables.js';
import { writer_content } from '../writer/writer.tables.js';
import type { Check } from './optimizer.analysis.js';

/**
 * One AI optimization of one article (`optimizer/optimize/`): its scores and checks before and after the
 * rewrite, whether the rewrite became the article's text (`applied`, only when it scored higher), the credits
 * and the model. Recorded either way.
 */
export const optimizer_runs = pgTable(
  'optimizer_runs',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    content_id: integer()
      .notNull()
      .references(() => writer_content.id, { onDelete: 'cascade' }),
    /** The system task that ran it. */
    task_id: integer(),
    rules_version: varchar({ length: 10 }).notNull(),
    score_before: integer().notNull(),
    score_after: integer().notNull(),
    seo_score_before: integer(),
    seo_score_after: integer(),
    readability_score_before: integer().notNull(),
    readability_score_after: integer().notNull(),
    checks_before: jsonb().$type<Check[]>().notNull(),
    checks_after: jsonb().$type<Check[]>().notNull(),
    applied: boolean().notNull(),
    /** The article's version the rewrite made (applied), else null. */
    version: integer(),
    changes: jsonb().$type<string[]>().notNull().default([]),
    credits: integer().notNull(),
    model: varchar({ length: 200 }).notNull(),
    ...timestamps(),
  },
  (t) => [index().on(t.account_id, t.created_at.desc(), t.id.desc()), index().on(t.content_id)],
);
