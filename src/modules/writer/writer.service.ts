import type { Db } from '../../core/db.js';
import { createApprovalsService } from './writer.approvals.service.js';
import { createContentService } from './writer.content.service.js';
import type { WriterDeps } from './writer.deps.js';
import { sanitizeArticleHtml } from './writer.html.js';
import { contentById, insertTasks, reviseContent } from './writer.repository.js';
import type { writer_tasks } from './writer.tables.js';
import { createTasksService } from './writer.tasks.service.js';

/**
 * The writer's entry point: its services (tasks, content with its versions, the review queue), and what other
 * modules call. Tasks are created here (the planner queues content ideas), so no other module writes the
 * writer's tables.
 */

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
