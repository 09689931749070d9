import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_accounts, siteOwnedColumns } from '../auth/auth.tables.js';
import { writer_content } from '../writer/writer.tables.js';

export const PUBLISH_DESTINATIONS = ['wordpress', 'webhook'] as const;
export type PublishDestination = (typeof PUBLISH_DESTINATIONS)[number];
export const PUBLISHING_STATUSES = ['pending', 'publishing', 'published', 'failed', 'unpublished'] as const;
export type PublishingStatus = (typeof PUBLISHING_STATUSES)[number];
export const REMOTE_POST_STATUSES = ['publish', 'draft', 'future'] as const;
export type RemotePostStatus = (typeof REMOTE_POST_STATUSES)[number];
export const DEPLOYMENT_STATUSES = ['pending', 'deploying', 'deployed', 'failed', 'rolled_back'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/**
 * One article's publication to one destination: kept across publishes, so a second publish after an edit
 * updates the same remote post (`external_id`) instead of making another. `remote_media` maps our image ids to
 * the media the destination holds for them, so a rerun uploads nothing twice.
 */
export const publisher_records = pgTable(
  'publisher_records',
  {
    id: idColumn(),
    ...siteOwnedColumns(),
    content_id: integer()
      .notNull()
      .references(() => writer_content.id, { onDelete: 'cascade' }),
    destination: varchar({ length: 20 }).$type<PublishDestination>().notNull(),
    status: varchar({ length: 20 }).$type<PublishingStatus>().notNull().default('pending'),
    /** What the remote post is asked to be: `publish`, `draft` or `future` (with `scheduled_for`). */
    remote_status: varchar({ length: 20 }).$type<RemotePostStatus>().notNull().default('publish'),
    scheduled_for: timestamptz(),
    external_id: varchar({ length: 100 }),
    external_url: text(),
    remote_media: jsonb().$type<Record<string, { id: number; url: string }>>().notNull().default({}),
    /**
     * Random, made with the record: the remote post is first created as a draft under the slug `cf-<token>-<id>`
     * and media are uploaded under file names carrying it, so a rerun that lost a remote id (the job died between
     * WordPress's answer and our commit) finds what it made by that exact slug instead of making it twice.
     */
    remote_token: varchar({ length: 24 }),
    error: text(),
    attempts: integer().notNull().default(0),
    task_id: integer(),
    published_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex().on(t.content_id, t.destination),
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.status, t.id),
  ],
);

/**
 * A static export of a site's published content, numbered per site. `storage_prefix` is its versioned folder
 * in the storage layer. Every successful export stays `deployed`; the one served is the row with `is_current`
 * (at most one per site, a partial unique index), so making another current is one transaction; a rollback
 * marks the current one `rolled_back` and makes the previous deployed one current.
 */
export const publisher_deployments = pgTable(
  'publisher_deployments',
  {
    id: idColumn(),
    ...siteOwnedColumns(),
    version: integer().notNull(),
    status: varchar({ length: 20 }).$type<DeploymentStatus>().notNull().default('pending'),
    url: text(),
    storage_prefix: varchar({ length: 300 }),
    is_current: boolean().notNull().default(false),
    metadata: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    error: text(),
    task_id: integer(),
    deployed_at: timestamptz(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex().on(t.site_id, t.version),
    uniqueIndex('publisher_deployments_current_per_site').on(t.site_id).where(sql`${t.is_current}`),
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);

/**
 * The manifest of a deployment's export: every file by its path inside it (`index.html`, `<slug>/index.html`,
 * `images/…`), with its storage key, type, size and SHA-256 (the ETag). Only these paths are served, each found
 * by one primary-key lookup, so serving never lists the store and a site of any size costs the same per file.
 * Written with the row's `deployed` status, in that transaction.
 */
export const publisher_deployment_files = pgTable(
  'publisher_deployment_files',
  {
    deployment_id: integer()
      .notNull()
      .references(() => publisher_deployments.id, { onDelete: 'cascade' }),
    account_id: integer()
      .notNull()
      .references(() => auth_accounts.id, { onDelete: 'cascade' }),
    path: varchar({ length: 1000 }).notNull(),
    key: varchar({ length: 300 }).notNull(),
    content_type: varchar({ length: 100 }).notNull(),
    bytes: integer().notNull(),
    sha256: varchar({ length: 64 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.deployment_id, t.path] })],
);
export type DeployedFile = Pick<typeof publisher_deployment_files.$inferSelect, 'key' | 'content_type' | 'bytes' | 'sha256'>;
