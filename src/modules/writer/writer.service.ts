import type { Db } from '../../core/db.js';
import { createApprovalsService } from './writer.approvals.service.js';
import { createContentService } from './writer.content.service.js';
import type { WriterDeps } from './writer.deps.js';
import { sanitizeArticleHtml } from './writer.html.js';
import {
  articleSites,
  contentById,
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
export type { LinkableArticle } from './writer.repository.js';

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
