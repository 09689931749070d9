import type { Db } from '../../core/db.js';
import { notFound } from '../../core/errors.js';
import { createApprovalsService } from './writer.approvals.service.js';
import { createContentService } from './writer.content.service.js';
import type { WriterDeps } from './writer.deps.js';
import { sanitizeArticleHtml, slugify } from './writer.html.js';
import { imagesOfContent } from './writer.images.repository.js';
import { publishedArticles } from './writer.published.repository.js';
import {
  articleSites,
  contentByExternalId,
  contentById,
  insertContent,
  insertTasks,
  LINKABLE_COLUMNS,
  type LinkableArticle,
  reviseContent,
  siteArticles,
} from './writer.repository.js';
import type { writer_tasks } from './writer.tables.js';
import { createTasksService } from './writer.tasks.service.js';

/**
 * The writer's entry point: its services (tasks, content with its versions, the review queue), and what other
 * modules call. Tasks are created here (the planner queues content ideas), so no other module writes the
 * writer's tables.
 */

export { articleText, countWords } from './writer.html.js';
export type { PublishedArticle, PublishedImage } from './writer.published.repository.js';
export type { LinkableArticle } from './writer.repository.js';

/** A post or page of the site's own CMS, as the integration's sync hands it over. */
export interface ImportedArticle {
  site_id: number;
  sector_id: number;
  external_id: string;
  external_url: string;
  title: string;
  html: string;
  slug: string;
  meta_description: string;
  categories: string[];
  tags: string[];
}
export type ImportOutcome = 'created' | 'updated' | 'unchanged' | 'skipped';

export type NewWriterTask = Omit<typeof writer_tasks.$inferInsert, 'id' | 'account_id' | 'status' | 'created_at' | 'updated_at'>;

export function createWriterService(deps: WriterDeps) {
  const content = createContentService(deps);
  return {
    tasks: createTasksService(deps),
    content,
    approvals: createApprovalsService({ ...deps, content }),

    /**
     * What the optimizer reads and writes of an article: the row, and a rewrite saved as the current text
     * (reason `optimized`; the previous text kept as a version, the html sanitised, words recounted).
     */
    articles: {
      /** The one sanitiser of article HTML, for a rewrite judged before it is saved. */
      sanitize: sanitizeArticleHtml,
      article: (db: Db, accountId: number, id: number, siteIds?: number[] | null) => contentById(db, accountId, id, siteIds),
      revise: (
        tx: Db,
        accountId: number,
        id: number,
        changes: { html: string; meta_title: string; meta_description: string },
        by: { userId: number | null; expectedVersion: number },
      ) => reviseContent(tx, accountId, id, changes, { ...by, reason: 'optimized' }),
    },

    /**
     * Imported content (`source` imported, `published`: it is live on the site), matched by `external_id` within
     * the site, so a second sync updates the same article. It goes through the same insert and revision as every
     * text (sanitised, recounted, versioned); a slug another article holds gets `-2`… instead of failing. An
     * article of ours published there (not imported) is left alone: `skipped`.
     */
    imports: {
      async upsert(tx: Db, accountId: number, article: ImportedArticle): Promise<{ id: number; outcome: ImportOutcome }> {
        const existing = await contentByExternalId(tx, accountId, article.site_id, article.external_id);
        const fields = {
          title: article.title.slice(0, 300),
          html: article.html,
          meta_description: article.meta_description.slice(0, 500),
          categories: article.categories,
          tags: article.tags,
          external_url: article.external_url,
        };
        if (existing === null) {
          const row = await insertContent(
            tx,
            accountId,
            {
              ...fields,
              site_id: article.site_id,
              sector_id: article.sector_id,
              slug: article.slug,
              external_id: article.external_id,
              source: 'imported',
              status: 'published',
            },
            { slugTaken: 'suffix' },
          );
          return { id: row.id, outcome: 'created' };
        }
        if (existing.source !== 'imported') return { id: existing.id, outcome: 'skipped' };
        // A slug made unique here (`-2`) stays as it is: asking for the remote one again would only re-suffix it.
        const wanted = slugify(article.slug || article.title);
        const sameSlug = existing.slug === wanted || new RegExp(`^${wanted}-\\d+$`).test(existing.slug);
        const row = await reviseContent(
          tx,
          accountId,
          existing.id,
          { ...fields, ...(sameSlug ? {} : { slug: wanted }) },
          { userId: null, reason: 'imported', slugTaken: 'suffix' },
        );
        const unchanged = row.updated_at.getTime() === existing.updated_at.getTime();
        return { id: row.id, outcome: unchanged ? 'unchanged' : 'updated' };
      },
    },
    /** A site's published articles with their generated images, by id in batches (the publisher's static export). */
    publishedArticles,
    /**
     * What the publisher reads and writes of an article: the row and its images, and the remote post's id and
     * link once it is sent (`approved` → `published` when it went live), and `approved` again once it is trashed.
     */
    publishing: {
      article: (db: Db, accountId: number, id: number, siteIds?: number[] | null) => contentById(db, accountId, id, siteIds),
      images: (db: Db, accountId: number, contentId: number) => imagesOfContent(db, accountId, contentId),
      async markPublished(
        tx: Db,
        accountId: number,
        id: number,
        remote: { external_id: string; external_url: string; live: boolean },
      ) {
        const current = await contentById(tx, accountId, id, null, true);
        if (!current) throw notFound('Content');
        const status = remote.live && current.status === 'approved' ? { status: 'published' as const } : {};
        return reviseContent(
          tx,
          accountId,
          id,
          { external_id: remote.external_id, external_url: remote.external_url, ...status },
          { userId: null, reason: 'edit' },
        );
      },
      async markUnpublished(tx: Db, accountId: number, id: number) {
        const current = await contentById(tx, accountId, id, null, true);
        if (!current) throw notFound('Content');
        const status = current.status === 'published' ? { status: 'approved' as const } : {};
        return reviseContent(tx, accountId, id, { external_url: null, ...status }, { userId: null, reason: 'edit' });
      },
    },

    /** Queues tasks in the caller's transaction; returns their ids in the order given. */
    async queueTasks(tx: Db, accountId: number, tasks: NewWriterTask[]): Promise<number[]> {
      const rows = await insertTasks(
        tx,
        accountId,
        tasks.map((task) => ({ ...task, status: 'queued' as const })),
      );
      return rows.map((row) => row.id);
    },
  };
}
export type WriterService = ReturnType<typeof createWriterService>;

/**
 * What the linker reads and writes of articles (handed to it in src/modules.ts, so it never reads the writer's
 * tables): a site's articles, which ids are the caller's, and a new text with reason `links` (a new version,
 * sanitised and recounted like every text change).
 */
export function createContentLinks() {
  const pick = (row: LinkableArticle): LinkableArticle =>
    Object.fromEntries(Object.keys(LINKABLE_COLUMNS).map((k) => [k, row[k as keyof LinkableArticle]])) as LinkableArticle;
  return {
    siteArticles: (db: Db, accountId: number, siteId: number) => siteArticles(db, accountId, siteId),
    articleSites: (db: Db, accountId: number, ids: number[], siteIds: number[] | null) =>
      articleSites(db, accountId, ids, siteIds),
    /** One article (locked for the caller's transaction when `lock`); null when it is not the account's. */
    async article(db: Db, accountId: number, id: number, lock = false): Promise<LinkableArticle | null> {
      const row = await contentById(db, accountId, id, null, lock);
      return row ? pick(row) : null;
    },
    /** The article's html replaced in the caller's transaction (its previous text kept as a `links` version). */
    async reviseHtml(tx: Db, accountId: number, id: number, html: string, userId: number | null): Promise<LinkableArticle> {
      return pick(await reviseContent(tx, accountId, id, { html }, { userId, reason: 'links' }));
    },
  };
}
export type ContentLinks = ReturnType<typeof createContentLinks>;
