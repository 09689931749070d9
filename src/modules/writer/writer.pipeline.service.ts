import type { Db } from '../../core/db.js';
import type { InlineUnit, Jobs } from '../../core/jobs.js';
import type { ScopedContext } from '../../core/resource.js';
import type { ApprovalsService } from './writer.approvals.service.js';
import type { ContentService } from './writer.content.service.js';
import * as images from './writer.images.repository.js';
import { siteDrafts, sitePendingImages, siteQueuedTasks } from './writer.repository.js';

/**
 * The writer's work one unit at a time, for a pipeline that drives it (automation): what is waiting on a site,
 * and each unit (an article, an article's image prompts, an image) done by the writer's own job handler
 * (`jobs.runInline`) under the caller's key. A unit run again under the same key (its driver retried after a
 * crash) finds its article, prompts or file stored and charged, and does neither twice.
 */

export function createWriterPipeline(deps: { db: Db; jobs: Jobs; content: ContentService; approvals: ApprovalsService }) {
  const { db, jobs } = deps;
  return {
    queuedTasks: (accountId: number, siteId: number, limit: number) => siteQueuedTasks(db, accountId, siteId, limit),
    drafts: (accountId: number, siteId: number, limit: number) => siteDrafts(db, accountId, siteId, limit),
    pendingImages: (accountId: number, siteId: number, limit: number) => sitePendingImages(db, accountId, siteId, limit),

    /** One article from one queued task; a failure (the task then `failed`) throws the article's own error. */
    async generateArticle(unit: InlineUnit, taskId: number) {
      const result = (await jobs.runInline(
        'writer.generate_content',
        { account_id: unit.accountId, actor_id: unit.actorId, task_ids: [taskId] },
        unit,
      )) as { content_ids: number[]; credits: number };
      return { content_id: result.content_ids[0] ?? null, credits: result.credits };
    },

    async writeImagePrompts(unit: InlineUnit, contentId: number, inArticle: number) {
      const result = (await jobs.runInline(
        'writer.image_prompts',
        { account_id: unit.accountId, actor_id: unit.actorId, content_id: contentId, in_article_count: inArticle },
        unit,
      )) as { image_ids: number[] };
      return { image_ids: result.image_ids };
    },

    /**
     * Draws one image. It is marked `generating` first, as `generate/` does, so a person's request cannot draw
     * it at the same time; one already `generating` is this unit's own earlier attempt or another's run, and
     * the handler stores and charges whichever finishes first, once.
     */
    async generateImage(unit: InlineUnit, imageId: number) {
      const ready = await db.transaction(async (tx) => {
        const [row] = await images.imagesByIds(tx, unit.accountId, [imageId], null, true);
        if (!row || row.status === 'generated') return false;
        if (row.status !== 'generating') await images.markGenerating(tx, unit.accountId, [imageId]);
        return true;
      });
      if (!ready) return { generated: false };
      const result = (await jobs.runInline(
        'writer.generate_images',
        { account_id: unit.accountId, actor_id: unit.actorId, image_ids: [imageId] },
        unit,
      )) as { image_ids: number[] };
      return { generated: result.image_ids.includes(imageId) };
    },

    /** `submit_for_review/`, with its rules and event; false when the article is no longer a draft. */
    async submitForReview(ctx: ScopedContext, contentId: number) {
      const current = await deps.content.own(db, ctx, contentId);
      if (current.status !== 'draft') return false;
      await deps.content.submit(ctx, contentId);
      return true;
    },

    /** The review queue's `approve/`; false when the article is no longer in review. */
    async approve(ctx: ScopedContext, contentId: number) {
      const current = await deps.content.own(db, ctx, contentId);
      if (current.status !== 'review') return false;
      await deps.approvals.approve(ctx, contentId, {});
      return true;
    },
  };
}
export type WriterPipeline = ReturnType<typeof createWriterPipeline>;
