import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { AppError, conflict } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { ResourceHooks, ScopedContext } from '../../core/resource.js';
import type { WriterService } from '../writer/writer.service.js';
import { checkClusterOf } from './planner.clusters.rules.js';
import * as repo from './planner.repository.js';
import { type BulkIds, skippedIds } from './planner.schemas.js';
import { type IdeaStatus, planner_content_ideas } from './planner.tables.js';

/**
 * The rules of content ideas: `new` → `queued` (only by queueing to the writer, which creates the task) →
 * `completed` (when the writer is done); `archived` from any status. A cluster named by an idea must be of
 * the same site and sector.
 */

const BY_UPDATE: Record<IdeaStatus, IdeaStatus[]> = {
  new: ['archived'],
  queued: ['completed', 'archived'],
  completed: ['archived'],
  archived: [],
};

export const ideaHooks: ResourceHooks<typeof planner_content_ideas> = {
  async beforeCreate(tx, ctx, values) {
    await checkClusterOf(tx, ctx, 'idea', values.cluster_id, { siteId: values.site_id, sectorId: values.sector_id });
    return { ...values, title: (values.title ?? '').trim(), status: 'new' };
  },
  async beforeUpdate(tx, ctx, current, changes) {
    const values = { ...changes };
    if (typeof values.title === 'string') values.title = values.title.trim();
    const from = current.status;
    const to = values.status;
    if (to !== undefined && to !== from && !BY_UPDATE[from].includes(to)) {
      const how = to === 'queued' ? ' Queue ideas with bulk_queue_to_writer/.' : '';
      throw conflict(`An idea in status "${from}" cannot move to "${to}".${how}`, from);
    }
    if (values.cluster_id !== undefined && values.cluster_id !== current.cluster_id) {
      await checkClusterOf(tx, ctx, 'idea', values.cluster_id, { siteId: current.site_id, sectorId: current.sector_id });
    }
    return values;
  },
};

export function createIdeasService(deps: {
  db: Db;
  writer: WriterService;
  defaultWordCount: (accountId: number) => Promise<number>;
}) {
  const { db, writer } = deps;
  return {
    /** One writer task per idea, all or none: ideas not `new` make it a 409 naming them. */
    async queueToWriter(
      ctx: ScopedContext,
      body: BulkIds,
    ): Promise<{ queued: number; writer_task_ids: number[]; skipped: number[] }> {
      // Read before the transaction: the settings come through another module's connection (one on PGlite).
      const wordCount = await deps.defaultWordCount(ctx.accountId);
      return db.transaction(async (tx) => {
        const ideas = await repo.lockIdeas(tx, ctx.accountId, ctx.siteIds, body.ids);
        const refused = ideas.filter((idea) => idea.status !== 'new').map((idea) => idea.id);
        if (refused.length > 0) {
          throw new AppError(
            'conflict',
            `${refused.length} of these ideas are not new (already queued, completed or archived); nothing was queued.`,
            {
              details: { ids: refused },
            },
          );
        }
        const taskIds = await writer.queueTasks(
          tx,
          ctx.accountId,
          ideas.map((idea) => ({
            site_id: idea.site_id,
            sector_id: idea.sector_id,
            title: idea.title,
            description: idea.description,
            idea_id: idea.id,
            cluster_id: idea.cluster_id,
            keywords: idea.target_keywords,
            content_type: idea.content_type,
            content_structure: idea.content_structure,
            word_count_target: idea.estimated_word_count ?? wordCount,
          })),
        );
        if (ideas.length > 0) {
          await tx
            .update(planner_content_ideas)
            .set({ status: 'queued', updated_at: new Date() })
            .where(
              and(
                eq(planner_content_ideas.account_id, ctx.accountId),
                inArray(
                  planner_content_ideas.id,
                  ideas.map((i) => i.id),
                ),
              ),
            );
          await record(
            tx,
            byCaller(ctx, {
              site_id: repo.soleSite(ideas),
              type: 'ideas.queued',
              object_type: 'content_idea',
              payload: { count: ideas.length, idea_ids: ideas.map((i) => i.id), writer_task_ids: taskIds },
            }),
          );
        }
        return { queued: ideas.length, writer_task_ids: taskIds, skipped: skippedIds(body.ids, ideas) };
      });
    },
  };
}
export type IdeasService = ReturnType<typeof createIdeasService>;
