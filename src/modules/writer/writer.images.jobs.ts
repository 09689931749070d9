import { type Static, Type } from 'typebox';
import type { Ai, AiSettings } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import { record } from '../../core/events.js';
import { type AnyJobDefinition, defineJob, describeError, JobCancelled, type JobContext } from '../../core/jobs.js';
import { newMediaKey, type Storage } from '../../core/storage.js';
import { articleText } from './writer.html.js';
import { MAX_IMAGE_BYTES, readImage } from './writer.images.files.js';
import { chooseSections, defaultInArticleCount, IN_ARTICLE_MAX, placeImage, sectionHeadings } from './writer.images.html.js';
import * as images from './writer.images.repository.js';
import { type ContentRow, contentById, reviseContent } from './writer.repository.js';
import type { Provenance } from './writer.tables.js';

/**
 * The writer's image work, on the AI engine (core/ai.ts):
 *  - `writer.image_prompts`: one call per article (`image_prompts`, 1 credit) writes a featured prompt and one
 *    per chosen section; the rows are stored and the call charged in one transaction (`ctx.once`).
 *  - `writer.generate_images`: per image, the model's file is checked (an image, at most 20 MiB), stored
 *    (core/storage.ts), and then — in one transaction — the image row gets its file and the call is charged
 *    (`image_generation`, 5 credits); a refused file is not charged. Then the featured image becomes the
 *    article's, and in-article images are placed after their section's heading (a new version, `images`).
 * Each unit is charged once under a ref tied to the task and the unit, so a retried task never pays twice.
 */

export const ImagePromptsPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  content_id: Type.Integer({ minimum: 1 }),
  in_article_count: Type.Optional(Type.Integer({ minimum: 0, maximum: IN_ARTICLE_MAX })),
});

export const GenerateImagesPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  image_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }),
  /**
   * The origin the request came in on, for images' absolute URLs when PUBLIC_URL is unset (a job has no request
   * of its own; an article's `<img src>` must work wherever the article is read).
   */
  origin: Type.Optional(Type.String({ maxLength: 300 })),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'writer.image_prompts': Static<typeof ImagePromptsPayload>;
    'writer.generate_images': Static<typeof GenerateImagesPayload>;
  }
}

export interface WriterImageJobDeps {
  ai: () => Ai;
  storage: Storage;
  /** The account's AI settings (system/settings/): the image style. */
  settings: (accountId: number) => Promise<AiSettings>;
  /** The largest file stored (default 20 MiB). */
  maxImageBytes?: number;
}

/** Characters of the article's text given to the model as its summary. */
const SUMMARY_CHARS = 1500;

interface UnitFailure {
  image_id: number;
  code: string;
  message: string;
}

function failureOf(ctx: JobContext<unknown>, imageId: number, error: unknown): UnitFailure {
  if (!(error instanceof AppError)) ctx.log.error({ err: error, image_id: imageId }, 'image unit failed');
  return { image_id: imageId, ...describeError(error, ctx.taskId) };
}

function provenanceOf(
  ctx: JobContext<unknown>,
  used: { model: string; tokens_in: number; tokens_out: number },
  prompt: { function: string; hash: string; temperature: number | null },
  credits: number,
): Provenance {
  return {
    model: used.model,
    prompt: { function: prompt.function, hash: prompt.hash },
    temperature: prompt.temperature,
    tokens_in: used.tokens_in,
    tokens_out: used.tokens_out,
    credits,
    task_id: ctx.taskId,
    job_id: ctx.jobId,
    generated_at: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Prompts

/**
 * What a new set of prompts is for. Pending and failed images (no file yet) are replaced; generated and
 * generating ones stay, and nothing new is asked for what they already illustrate: the featured slot, or a
 * section that has an in-article image.
 */
function promptPlan(content: ContentRow, kept: images.ImageRow[], wanted: number | undefined) {
  const sections = sectionHeadings(content.html);
  const count = wanted ?? defaultInArticleCount(sections.length);
  const covered = new Set(kept.filter((i) => i.image_type === 'in_article').map((i) => i.section_heading?.toLowerCase()));
  const chosen = chooseSections(sections, count)
    .map((section) => ({ ...section, position: sections.indexOf(section) + 1 }))
    .filter((section) => !covered.has(section.text.toLowerCase()));
  const featured = !kept.some((i) => i.image_type === 'featured');
  return { sections, chosen, featured };
}

async function storePrompts(
  tx: Db,
  ctx: JobContext<Static<typeof ImagePromptsPayload>>,
  content: ContentRow,
  rows: images.NewImage[],
) {
  const { payload } = ctx;
  const { removed, rows: created } = await images.replacePendingImages(tx, payload.account_id, content.id, rows);
  await record(tx, {
    account_id: payload.account_id,
    site_id: content.site_id,
    type: 'images.prompted',
    source_agent: 'worker',
    actor_id: payload.actor_id,
    object_type: 'content',
    object_id: content.id,
    payload: { image_ids: created.map((r) => r.id), count: created.length, replaced_image_ids: removed },
  });
  return { image_ids: created.map((r) => r.id), replaced_image_ids: removed };
}

function imagePromptsJob(deps: WriterImageJobDeps) {
  return defineJob({
    name: 'writer.image_prompts',
    payload: ImagePromptsPayload,
    timeoutSeconds: 600,
    retryLimit: 2,
    concurrency: 2,
    async handler(ctx) {
      const ai = deps.ai();
      const { payload } = ctx;
      const unit = `prompts:${payload.content_id}`;
      await ctx.progress(0, 2, 'Reading the article');
      const content = await contentById(ctx.db, payload.account_id, payload.content_id);
      if (!content) throw notFound('Content');
      const existing = await images.imagesOfContent(ctx.db, payload.account_id, content.id);
      // A retry of a run that stored its prompts: they are there, under this job's name.
      const mine = existing.filter((i) => i.provenance?.job_id === ctx.jobId && i.status === 'pending');
      if (mine.length > 0) return { content_id: content.id, image_ids: mine.map((i) => i.id), credits: 0, already_done: true };
      const kept = existing.filter((i) => i.status === 'generated' || i.status === 'generating');
      const plan = promptPlan(content, kept, payload.in_article_count);
      if (!plan.featured && plan.chosen.length === 0) {
        await ctx.progress(2, 2, 'Every image slot already has an image');
        return { content_id: content.id, image_ids: [], credits: 0, note: 'Every image slot already has an image.' };
      }
      await ctx.progress(
        1,
        2,
        `Writing prompts: ${plan.featured ? 'a featured image and ' : ''}${plan.chosen.length} in-article`,
      );
      const settings = await deps.settings(payload.account_id);
      const account = { accountId: payload.account_id };
      const charge = { ref: ai.refFor(ctx, unit), units: 1, object_type: 'content', object_id: content.id };
      // Asked now, charged with the rows: `defer` leaves the charge to `ai.settle` inside the transaction below.
      const answer = await ai.run(
        account,
        'image_prompts',
        {
          title: content.title,
          summary: articleText(content.html).slice(0, SUMMARY_CHARS),
          in_article_count: plan.chosen.length,
          sections: plan.chosen.map((s) => s.text),
          image_style: settings.image_style,
        },
        { ...charge, signal: ctx.signal, defer: true },
      );
      // Nothing inside the transaction may wait for another connection (PGlite has one): the cost table is read now.
      await ai.estimate('image_prompts', 1);
      const outcome = await ctx.once(unit, async (tx) => {
        const { credits } = await ai.settle(account, 'image_prompts', [answer.usage], { ...charge, tx });
        const prompt = { function: 'image_prompts', hash: answer.prompt_hash, temperature: answer.temperature };
        const provenance = provenanceOf(ctx, answer.usage, prompt, credits);
        const base = { site_id: content.site_id, sector_id: content.sector_id, content_id: content.id, provenance };
        const rows: images.NewImage[] = [];
        if (plan.featured) {
          const f = answer.output.featured;
          rows.push({
            ...base,
            image_type: 'featured',
            position: 0,
            prompt: f.prompt,
            alt_text: f.alt_text,
            caption: f.caption ?? '',
          });
        }
        // The model may write fewer prompts than sections asked for (then fewer images) or more (the rest unused).
        for (const [i, section] of plan.chosen.entries()) {
          const p = answer.output.in_article[i];
          if (!p) break;
          rows.push({
            ...base,
            image_type: 'in_article',
            position: section.position,
            section_heading: section.text.slice(0, 300),
            prompt: p.prompt,
            alt_text: p.alt_text,
            caption: p.caption ?? '',
          });
        }
        return { ...(await storePrompts(tx, ctx, content, rows)), credits };
      });
      await ctx.progress(2, 2, `${outcome.image_ids.length} image prompts written`);
      return { content_id: content.id, ...outcome };
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Images

/** One image: asked for, checked, stored, then recorded and charged in one transaction (once). */
async function generateOne(
  deps: WriterImageJobDeps,
  ctx: JobContext<Static<typeof GenerateImagesPayload>>,
  image: images.ImageRow,
): Promise<{ credits: number } | null> {
  const ai = deps.ai();
  const { payload } = ctx;
  const unit = `image:${image.id}`;
  const account = { accountId: payload.account_id };
  const charge = { ref: ai.refFor(ctx, unit), object_type: 'image', object_id: image.id };
  const asked = await ai.image(account, { prompt: image.prompt }, { ...charge, signal: ctx.signal, defer: true });
  let file: Awaited<ReturnType<typeof readImage>>;
  try {
    file = await readImage(asked, { maxBytes: deps.maxImageBytes ?? MAX_IMAGE_BYTES, signal: ctx.signal });
  } catch (error) {
    // The provider was paid for it; the account is not.
    await ai.refuseImage(account, asked.usage, { object_type: 'image', object_id: image.id });
    throw error;
  }
  const key = newMediaKey(file.extension);
  const address = deps.storage.urlFor(key);
  const url = address.startsWith('/') && payload.origin ? `${payload.origin}${address}` : address;
  await deps.storage.put(key, file.bytes, file.mime);
  // Nothing inside the transaction may wait for another connection (PGlite has one): the cost table is read now.
  await ai.estimate('image_generation', 1);
  const stored = await ctx.once(unit, async (tx) => {
    const current = await images.imageById(tx, payload.account_id, image.id, null, true);
    // Deleted while it was drawn (with its article, or by hand), or generated by another run: nothing to pay.
    if (!current || current.status === 'generated') return { key: null, credits: 0 };
    const { credits } = await ai.settleImage(account, asked.usage, { ...charge, tx });
    const prompt = { function: 'image_generation', hash: asked.prompt_hash, temperature: null };
    const row = await images.markGenerated(tx, payload.account_id, image.id, {
      storage_key: key,
      url,
      mime_type: file.mime,
      bytes: file.bytes.length,
      width: file.width,
      height: file.height,
      provenance: provenanceOf(ctx, asked.usage, prompt, credits),
    });
    if (image.image_type === 'featured') {
      await reviseContent(
        tx,
        payload.account_id,
        image.content_id,
        { featured_image_id: image.id },
        {
          userId: payload.actor_id,
          reason: 'images',
        },
      );
    }
    await record(tx, {
      account_id: payload.account_id,
      site_id: image.site_id,
      type: 'images.generated',
      source_agent: 'worker',
      actor_id: payload.actor_id,
      object_type: 'image',
      object_id: image.id,
      payload: {
        content_id: image.content_id,
        image_type: image.image_type,
        url: row?.url ?? null,
        width: file.width,
        height: file.height,
        credits,
      },
    });
    return { key, credits };
  });
  // Another run stored its own file for this image first: this one is nobody's.
  if (stored.key !== key) await deps.storage.delete(key).catch(() => {});
  return stored.key === null ? null : { credits: stored.credits };
}

/** The article's generated in-article images, each after its section's heading; a new version when it changed. */
async function placeInArticle(ctx: JobContext<Static<typeof GenerateImagesPayload>>, contentId: number) {
  const { payload } = ctx;
  return ctx.once(`place:${contentId}`, async (tx) => {
    const content = await contentById(tx, payload.account_id, contentId, null, true);
    if (!content) return { content_id: contentId, placed: [], heading_not_found: [] };
    const all = await images.imagesOfContent(tx, payload.account_id, contentId);
    let html = content.html;
    const placed: number[] = [];
    const missing: number[] = [];
    for (const image of all) {
      if (image.image_type !== 'in_article' || image.status !== 'generated' || !image.url || !image.section_heading) continue;
      const result = placeImage(html, {
        src: image.url,
        alt: image.alt_text,
        width: image.width,
        height: image.height,
        caption: image.caption,
        heading: image.section_heading,
      });
      html = result.html;
      if (result.placement === 'placed') placed.push(image.id);
      if (result.placement === 'heading_not_found') missing.push(image.id);
    }
    if (html !== content.html) {
      await reviseContent(tx, payload.account_id, contentId, { html }, { userId: payload.actor_id, reason: 'images' });
    }
    return { content_id: contentId, placed, heading_not_found: missing };
  });
}

function generateImagesJob(deps: WriterImageJobDeps) {
  return defineJob({
    name: 'writer.generate_images',
    payload: GenerateImagesPayload,
    timeoutSeconds: 1800,
    retryLimit: 2,
    concurrency: 2,
    async handler(ctx) {
      const { payload } = ctx;
      const rows = await images.imagesByIds(ctx.db, payload.account_id, payload.image_ids);
      const toDraw = rows.filter((r) => r.status !== 'generated');
      const failures: { failure: UnitFailure; error: unknown }[] = [];
      const generated: number[] = [];
      let credits = 0;
      let index = 0;
      await ctx.progress(0, toDraw.length, `Generating ${toDraw.length} images`);
      try {
        for (const image of toDraw) {
          await ctx.progress(
            index,
            toDraw.length,
            `${index + 1}/${toDraw.length}: ${image.alt_text || image.prompt}`.slice(0, 200),
          );
          try {
            const outcome = await generateOne(deps, ctx, image);
            if (outcome) {
              generated.push(image.id);
              credits += outcome.credits;
            }
          } catch (error) {
            if (ctx.signal.aborted) throw error;
            const failure = failureOf(ctx, image.id, error);
            failures.push({ failure, error });
            await images.updateImage(ctx.db, payload.account_id, image.id, { status: 'failed', error: failure.message });
          }
          index++;
        }
      } catch (error) {
        // Out of time or lost: the images not reached are failed, to be tried again. (Cancelled: onAbandoned.)
        if (!(error instanceof JobCancelled)) {
          const notReached = toDraw.slice(index).map((i) => i.id);
          const reason = describeError(error, ctx.taskId).message;
          await images.releaseGenerating(ctx.db, payload.account_id, notReached, 'failed', reason);
        }
        throw error;
      }
      await ctx.progress(toDraw.length, toDraw.length, `${generated.length} of ${toDraw.length} images generated`);
      const contents = [...new Set(rows.filter((r) => r.image_type === 'in_article').map((r) => r.content_id))];
      const placements = [];
      for (const contentId of contents) placements.push(await placeInArticle(ctx, contentId));
      // Nothing worked: the task fails with the first image's own error (a transient one lets the queue retry).
      const first = failures[0];
      if (generated.length === 0 && first && toDraw.length > 0) throw first.error;
      return {
        generated: generated.length,
        image_ids: generated,
        already_generated: rows.filter((r) => r.status === 'generated').map((r) => r.id),
        skipped: payload.image_ids.filter((id) => !rows.some((r) => r.id === id)),
        credits,
        placements,
        failed: failures.map((f) => f.failure),
      };
    },
    // What it did not draw: cancelled (before it started or between images), back to pending, uncharged, as if
    // never asked for; lost with its process, failed, to be drawn again.
    onAbandoned: (tx, task, ending) =>
      ending.status === 'cancelled'
        ? images.releaseGenerating(tx, task.accountId, task.payload.image_ids, 'pending', null)
        : images.releaseGenerating(tx, task.accountId, task.payload.image_ids, 'failed', ending.error.message),
  });
}

export function writerImageJobs(deps: WriterImageJobDeps): AnyJobDefinition[] {
  return [imagePromptsJob(deps), generateImagesJob(deps)];
}
