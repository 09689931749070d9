import { sql } from 'drizzle-orm';
import { doublePrecision, index, integer, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps, timestamptz } from '../../core/columns.js';
import { auth_users, siteScopeColumns } from '../auth/auth.tables.js';
import { writer_content } from '../writer/writer.tables.js';

export const LINK_STATUSES = ['suggested', 'applied', 'rejected'] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];

/**
 * An internal link from one article to another of its site: suggested by `linker/process/`, then applied
 * (spliced into the source's html) or rejected. `anchor_offset` and `anchor` are where the anchor text was in
 * the source when it was found: applying checks it is still there (else 409), and moves the offsets of the
 * source's other suggestions past the inserted tags. Site and sector are the source's.
 */
export const linker_links = pgTable(
  'linker_links',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    source_id: integer()
      .notNull()
      .references(() => writer_content.id, { onDelete: 'cascade' }),
    target_id: integer()
      .notNull()
      .references(() => writer_content.id, { onDelete: 'cascade' }),
    /** The anchor text exactly as it is in the source's html at `anchor_offset`. */
    anchor: varchar({ length: 500 }).notNull(),
    anchor_offset: integer().notNull(),
    /** The sentence around the anchor, for a person to judge it. */
    context: text().notNull().default(''),
    score: doublePrecision().notNull(),
    /** Where the link points (the target's published URL, else the site's URL + its slug), when it was found. */
    target_url: text().notNull(),
    status: varchar({ length: 20 }).$type<LinkStatus>().notNull().default('suggested'),
    /** The source's version the suggestion was found in, and the version applying it made. */
    source_version: integer().notNull(),
    applied_version: integer(),
    /** The task (linker/process/) that found it. */
    task_id: integer(),
    applied_at: timestamptz(),
    decided_by_id: integer().references(() => auth_users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [
    // One link per target in an article, whatever its status: a rejected one is not suggested again.
    uniqueIndex().on(t.source_id, t.target_id),
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.target_id),
    index().on(t.account_id, t.status, t.id).where(sql`${t.status} = 'suggested'`),
  ],
);
