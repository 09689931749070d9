import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import type { ScopedContext } from '../../core/resource.js';
import type { Storage } from '../../core/storage.js';
import { hasImage, removeImage, updateFigure } from './writer.images.html.js';
import * as images from './writer.images.repository.js';
import type { GenerateImagePrompts, GenerateImages, ImagePatch } from './writer.images.schemas.js';
import { contentById, reviseContent } from './writer.repository.js';

/**
 * The rules of an article's images: prompts are written by AI for an article (`generate_image_prompts/`, 1
 * credit), images are drawn from their prompts (`generate/`, 5 credits each), both in the background. An image
 * is generated once (`pending` → `generating` → `generated` | `failed`; a failed one may be tried again); editing
 * a placed image's alt text or caption edits its figure in the article, and deleting an image deletes its file
 * and takes it out of the article.
 */

export interface ImageServiceDeps {
  db: Db;
  jobs: Jobs;
  ai: Ai;
  storage: Storage;
  /** Where a file that could not be deleted is reported (the app's logger). */
  log: { warn(details: object, message: string): void };
}

/** The task's owner, with the site it works on (site-limited callers see only their sites' tasks). */
const owner = (ctx: ScopedContext, siteId: number | null) => ({
  accountId: ctx.accountId,
  actorId: ctx.user?.id ?? null,
  siteId,
});

export function createWriterImagesService(deps: ImageServiceDeps) {
  const { db, jobs, ai, storage } = deps;

  async function own(tx: Db, ctx: ScopedContext, id: number, lock = false) {
    const row = await images.imageById(tx, ctx.accountId, id, ctx.siteIds, lock);
    if (!row) throw notFound('Image');
    return row;
  }

  /** A placed image's figure follows its alt text and caption (a new version of the article, `images`). */
  async function followInArticle(tx: Db, ctx: ScopedContext, row: images.ImageRow) {
    if (row.image_type !== 'in_article' || !row.url) return;
    const content = await contentById(tx, ctx.accountId, row.content_id, null, true);
    if (!content || !hasImage(content.html, row.url)) return;
    const html = updateFigure(content.html, {
      src: row.url,
      alt: row.alt_text,
      caption: row.caption,
      width: row.width,
      height: row.height,
    });
    await reviseContent(tx, ctx.accountId, content.id, { html }, { userId: ctx.user?.id ?? null, reason: 'images' });
  }

  return {
    list(ctx: ScopedContext, query: ListQuery & { site_id?: number; sector_id?: number }) {
      return images.listImages(db, ctx.accountId, ctx.siteIds, query);
    },

    get(ctx: ScopedContext, id: number) {
      return own(db, ctx, id);
    },

    /**
     * Edits the prompt, alt text, caption or position; `precondition` sees the current row first (If-Match).
     * A new prompt on a generated image does not redraw it: that is `generate/` on a new prompt's image.
     */
    async update(ctx: ScopedContext, id: number, body: ImagePatch, precondition: (row: images.ImageRow) => void = () => {}) {
      return db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        precondition(current);
        const changes = Object.fromEntries(
          Object.entries(body).filter(([key, value]) => value !== undefined && current[key as keyof typeof current] !== value),
        ) as ImagePatch;
        if (Object.keys(changes).length === 0) return current;
        const row = (await images.updateImage(tx, ctx.accountId, id, changes)) ?? current;
        if (changes.alt_text !== undefined || changes.caption !== undefined) await followInArticle(tx, ctx, row);
        await record(
          tx,
          byCaller(ctx, {
            site_id: row.site_id,
            type: 'image.updated',
            object_type: 'image',
            object_id: id,
            payload: { content_id: row.content_id, fields: Object.keys(changes).sort() },
          }),
        );
        return row;
      });
    },

    /** Deletes the image, takes it out of its article, then deletes its file (after the commit: never a dangling row). */
    async remove(ctx: ScopedContext, id: number): Promise<void> {
      const deleted = await db.transaction(async (tx) => {
        const row = await own(tx, ctx, id, true);
        const content = await contentById(tx, ctx.accountId, row.content_id, null, true);
        if (content && row.url && hasImage(content.html, row.url)) {
          const html = removeImage(content.html, row.url);
          await reviseContent(tx, ctx.accountId, content.id, { html }, { userId: ctx.user?.id ?? null, reason: 'images' });
        }
        // The article's featured_image_id is cleared by its foreign key (ON DELETE SET NULL).
        await images.deleteImage(tx, ctx.accountId, id);
        await record(
          tx,
          byCaller(ctx, {
            site_id: row.site_id,
            type: 'image.deleted',
            object_type: 'image',
            object_id: id,
            payload: { content_id: row.content_id, image_type: row.image_type },
          }),
        );
        return row;
      });
      if (deleted.storage_key) {
        await storage.delete(deleted.storage_key).catch((error) => {
          deps.log.warn({ err: error, image_id: id, key: deleted.storage_key }, 'could not delete a deleted image’s file');
        });
      }
    },

    /**
     * Prompts for an article's images, in the background: 404 for another's article, then 503 without a
     * provider and 402 short of the call's credit.
     */
    async startPrompts(ctx: ScopedContext, contentId: number, body: GenerateImagePrompts) {
      const content = await contentById(db, ctx.accountId, contentId, ctx.siteIds);
      if (!content) throw notFound('Content');
      // Outside any transaction: billing reads the balance on its own connection (one connection on PGlite).
      await ai.ensure(ctx, [{ fn: 'image_prompts', units: 1 }]);
      const payload = {
        account_id: ctx.accountId,
        actor_id: ctx.user?.id ?? null,
        content_id: content.id,
        ...(body.in_article_count !== undefined ? { in_article_count: body.in_article_count } : {}),
      };
      return db.transaction((tx) => jobs.startTask(tx, owner(ctx, content.site_id), 'writer.image_prompts', payload));
    },

    /**
     * Draws the caller's images among `ids` (others are reported as skipped): one that is generated, or being
     * generated, makes it a 409 naming them and nothing starts; then 503 without a provider and 402 short of
     * 5 credits an image. The images are `generating` from here, so a second request cannot draw them twice.
     * `origin` is where the API is reached (PUBLIC_URL, else the request's), for the images' absolute URLs.
     */
    async startGenerate(ctx: ScopedContext, body: GenerateImages, origin: string) {
      const found = await images.imagesByIds(db, ctx.accountId, body.ids, ctx.siteIds);
      if (found.length === 0) throw notFound('Image');
      const refuse = (rows: images.ImageRow[]) => {
        const busy = rows.filter((row) => !images.canGenerate(row));
        if (busy.length === 0) return;
        throw new AppError(
          'conflict',
          `${busy.length} of these images are already generated or being generated; nothing was started.`,
          { details: { ids: busy.map((r) => r.id), current_status: Object.fromEntries(busy.map((r) => [r.id, r.status])) } },
        );
      };
      refuse(found);
      await ai.ensure(ctx, [{ fn: 'image_generation', units: found.length }]);
      const sites = new Set(found.map((r) => r.site_id));
      const siteId = sites.size === 1 ? ([...sites][0] ?? null) : null;
      const task = await db.transaction(async (tx) => {
        // Checked again under lock: another request may have taken some of them since.
        const locked = await images.imagesByIds(
          tx,
          ctx.accountId,
          found.map((r) => r.id),
          ctx.siteIds,
          true,
        );
        refuse(locked);
        await images.markGenerating(
          tx,
          ctx.accountId,
          locked.map((r) => r.id),
        );
        return jobs.startTask(tx, owner(ctx, siteId), 'writer.generate_images', {
          account_id: ctx.accountId,
          actor_id: ctx.user?.id ?? null,
          image_ids: locked.map((r) => r.id),
          origin,
        });
      });
      const own = new Set(found.map((r) => r.id));
      return { task, skipped: [...new Set(body.ids)].filter((id) => !own.has(id)) };
    },
  };
}
export type WriterImagesService = ReturnType<typeof createWriterImagesService>;
