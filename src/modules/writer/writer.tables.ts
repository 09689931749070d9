import { sql } from 'drizzle-orm';
import { type AnyPgColumn, index, integer, jsonb, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts, auth_users, siteScopeColumns } from '../auth/auth.tables.js';
import { planner_clusters, planner_content_ideas } from '../planner/planner.tables.js';

export const WRITER_TASK_STATUSES = ['queued', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type WriterTaskStatus = (typeof WRITER_TASK_STATUSES)[number];
export const CONTENT_STATUSES = ['draft', 'review', 'approved', 'rejected', 'published', 'archived'] as const;
export type ContentStatus = (typeof CONTENT_STATUSES)[number];
export const CONTENT_SOURCES = ['generated', 'manual', 'imported'] as const;
export type ContentSource = (typeof CONTENT_SOURCES)[number];
export const IMAGE_TYPES = ['featured', 'in_article'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
export const IMAGE_STATUSES = ['pending', 'generating', 'generated', 'failed'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/**
 * Where a generated text or image came from, kept on the row so a reviewer (or an auditor) can tell which
 * model, prompt and settings made it and what it cost.
 */
export interface Provenance {
  model: string;
  /** The AI function's name and a hash of the rendered template (the account's override, if any, included). */
  prompt: { function: string; hash: string };
  temperature: number | null;
  tokens_in: number;
  tokens_out: number;
  credits: number;
  task_id: number | null;
  job_id: string | null;
  generated_at: string;
}

/**
 * What the writer is asked to write: one per queued content idea (planner's `bulk_queue_to_writer/`), or made
 * by hand. `content_id` points at the article once one is generated.
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
    content_id: integer().references((): AnyPgColumn => writer_content.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.status, t.id),
    index().on(t.idea_id),
    index().on(t.cluster_id).where(sql`${t.cluster_id} IS NOT NULL`),
  ],
);

/**
 * An article. `html` is always sanitised on the way in, whoever wrote it; `word_count` is counted from it.
 * `version` is the number of the current text: the ETag of the detail, bumped by every change of `html` or a
 * meta field, whose previous text goes to `writer_content_versions`.
 */
export const writer_content = pgTable(
  'writer_content',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    title: varchar({ length: 300 }).notNull(),
    html: text().notNull().default(''),
    meta_title: varchar({ length: 300 }).notNull().default(''),
    meta_description: varchar({ length: 500 }).notNull().default(''),
    /** Unique per site. */
    slug: varchar({ length: 200 }).notNull(),
    primary_keyword: varchar({ length: 300 }).notNull().default(''),
    secondary_keywords: jsonb().$type<string[]>().notNull().default([]),
    word_count: integer().notNull().default(0),
    categories: jsonb().$type<string[]>().notNull().default([]),
    tags: jsonb().$type<string[]>().notNull().default([]),
    featured_image_id: integer().references((): AnyPgColumn => writer_images.id, { onDelete: 'set null' }),
    source: varchar({ length: 20 }).$type<ContentSource>().notNull().default('manual'),
    task_id: integer().references((): AnyPgColumn => writer_tasks.id, { onDelete: 'set null' }),
    cluster_id: integer().references(() => planner_clusters.id, { onDelete: 'set null' }),
    status: varchar({ length: 20 }).$type<ContentStatus>().notNull().default('draft'),
    external_id: varchar({ length: 100 }),
    external_url: text(),
    provenance: jsonb().$type<Provenance>(),
    version: integer().notNull().default(1),
    /** When it last entered `review`: the review queue is oldest first by this. */
    submitted_at: timestamptz(),
    reviewed_by_id: integer().references(() => auth_users.id, { onDelete: 'set null' }),
    reviewed_at: timestamptz(),
    review_note: text(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex().on(t.site_id, t.slug),
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.status, t.submitted_at, t.id),
    index().on(t.task_id).where(sql`${t.task_id} IS NOT NULL`),
    index().on(t.cluster_id).where(sql`${t.cluster_id} IS NOT NULL`),
  ],
);

/**
 * A previous text of an article: written before each change of `html` or a meta field, numbered per article
 * (`number` is the `version` the article had). Restoring one makes a new version; versions are never edited.
 */
export const writer_content_versions = pgTable(
  'writer_content_versions',
  {
    id: idColumn(),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    content_id: integer()
      .notNull()
      .references(() => writer_content.id, { onDelete: 'cascade' }),
    number: integer().notNull(),
    title: varchar({ length: 300 }).notNull(),
    html: text().notNull(),
    meta_title: varchar({ length: 300 }).notNull(),
    meta_description: varchar({ length: 500 }).notNull(),
    slug: varchar({ length: 200 }).notNull(),
    primary_keyword: varchar({ length: 300 }).notNull(),
    secondary_keywords: jsonb().$type<string[]>().notNull(),
    word_count: integer().notNull(),
    /** Who made the change that retired this text (null for the system's own work). */
    created_by_id: integer().references(() => auth_users.id, { onDelete: 'set null' }),
    /** What retired it: `edit`, `restore`, `override`, `generated`, `images`, `links`, `optimized`. */
    reason: varchar({ length: 20 }).notNull(),
    created_at: timestamptz().notNull().defaultNow(),
  },
  (t) => [uniqueIndex().on(t.content_id, t.number)],
);

/** An image of an article: its prompt first (`pending`), then the stored file (`generated`). */
export const writer_images = pgTable(
  'writer_images',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    content_id: integer()
      .notNull()
      .references((): AnyPgColumn => writer_content.id, { onDelete: 'cascade' }),
    image_type: varchar({ length: 20 }).$type<ImageType>().notNull(),
    /** 0 for the featured image; 1… for in-article images, in the order of the sections they follow. */
    position: integer().notNull().default(0),
    /** The heading of the section an in-article image follows. */
    section_heading: varchar({ length: 300 }),
    prompt: text().notNull(),
    alt_text: varchar({ length: 500 }).notNull().default(''),
    caption: text().notNull().default(''),
    status: varchar({ length: 20 }).$type<ImageStatus>().notNull().default('pending'),
    error: text(),
    /** The storage layer's key: unguessable, served at `/media/<key>`. */
    storage_key: varchar({ length: 200 }),
    url: text(),
    mime_type: varchar({ length: 50 }),
    bytes: integer(),
    width: integer(),
    height: integer(),
    provenance: jsonb().$type<Provenance>(),
    ...timestamps(),
  },
  (t) => [
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.content_id, t.position),
    uniqueIndex().on(t.storage_key),
  ],
);
