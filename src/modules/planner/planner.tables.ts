import { sql } from 'drizzle-orm';
import { index, integer, jsonb, numeric, pgTable, smallint, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps } from '../../core/columns.js';
import { siteScopeColumns } from '../auth/auth.tables.js';

export const KEYWORD_STATUSES = ['new', 'mapped', 'archived'] as const;
export type KeywordStatus = (typeof KEYWORD_STATUSES)[number];
export const INTENTS = ['informational', 'commercial', 'transactional', 'navigational'] as const;
export type Intent = (typeof INTENTS)[number];
export const KEYWORD_SOURCES = ['manual', 'import', 'ai'] as const;
export type KeywordSource = (typeof KEYWORD_SOURCES)[number];
export const CLUSTER_STATUSES = ['new', 'ideas_generated', 'archived'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];
export const IDEA_STATUSES = ['new', 'queued', 'completed', 'archived'] as const;
export type IdeaStatus = (typeof IDEA_STATUSES)[number];
export const CONTENT_TYPES = ['post', 'page', 'product', 'service', 'category'] as const;
export const CONTENT_STRUCTURES = ['article', 'guide', 'how_to', 'listicle', 'comparison', 'review', 'faq'] as const;

export interface Outline {
  sections: { heading: string; level: number; points: string[] }[];
}

/**
 * A group of keywords one article (or a few) can target. `keywords_count`, `volume` (sum) and `difficulty`
 * (rounded mean) are derived from its keywords and rewritten by the planner whenever one joins or leaves.
 */
export const planner_clusters = pgTable(
  'planner_clusters',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    name: varchar({ length: 300 }).notNull(),
    description: text().notNull().default(''),
    status: varchar({ length: 20 }).$type<ClusterStatus>().notNull().default('new'),
    keywords_count: integer().notNull().default(0),
    volume: integer().notNull().default(0),
    difficulty: smallint().notNull().default(0),
    ...timestamps(),
  },
  (t) => [
    index().on(t.account_id, t.site_id, t.sector_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.volume.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);

export const planner_keywords = pgTable(
  'planner_keywords',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    /** Normalised: trimmed, inner spaces collapsed, lower-cased; unique per site and sector. */
    keyword: varchar({ length: 300 }).notNull(),
    volume: integer().notNull().default(0),
    difficulty: smallint().notNull().default(0),
    cpc: numeric({ precision: 10, scale: 2 }).notNull().default('0.00'),
    intent: varchar({ length: 20 }).$type<Intent>(),
    status: varchar({ length: 20 }).$type<KeywordStatus>().notNull().default('new'),
    cluster_id: integer().references(() => planner_clusters.id, { onDelete: 'set null' }),
    source: varchar({ length: 20 }).$type<KeywordSource>().notNull().default('manual'),
    ...timestamps(),
  },
  // Descending index columns are NULLS FIRST, as `ORDER BY x DESC` is: otherwise Postgres cannot walk them for it.
  (t) => [
    uniqueIndex().on(t.site_id, t.sector_id, t.keyword),
    // The list's usual orders within an account (the default, and by volume): a top-N walk instead of a sort.
    index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.volume.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index().on(t.account_id, t.site_id, t.sector_id, t.status, t.volume.desc().nullsFirst()),
    index().on(t.cluster_id).where(sql`${t.cluster_id} IS NOT NULL`),
    // `?search=` is a substring match (`LIKE '%shoe%'`): trigrams find its rows without reading every keyword.
    index('planner_keywords_keyword_trgm_idx').using('gin', t.keyword.op('gin_trgm_ops')),
  ],
);

export const planner_content_ideas = pgTable(
  'planner_content_ideas',
  {
    id: idColumn(),
    ...siteScopeColumns(),
    cluster_id: integer().references(() => planner_clusters.id, { onDelete: 'set null' }),
    title: varchar({ length: 300 }).notNull(),
    description: text().notNull().default(''),
    outline: jsonb().$type<Outline>().notNull().default({ sections: [] }),
    content_type: varchar({ length: 20 }).$type<(typeof CONTENT_TYPES)[number]>().notNull().default('post'),
    content_structure: varchar({ length: 20 }).$type<(typeof CONTENT_STRUCTURES)[number]>().notNull().default('article'),
    target_keywords: jsonb().$type<string[]>().notNull().default([]),
    estimated_word_count: integer(),
    status: varchar({ length: 20 }).$type<IdeaStatus>().notNull().default('new'),
    ...timestamps(),
  },
  (t) => [index().on(t.account_id, t.created_at.desc().nullsFirst(), t.id.desc().nullsFirst()), index().on(t.cluster_id)],
);
