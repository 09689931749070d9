import { type Static, Type } from 'typebox';
import type { Ai, AiUsage } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import { type AnyJobDefinition, defineJob, describeError, isTransient, JobCancelled, type JobContext } from '../../core/jobs.js';
import type { TaskError } from '../../core/tasks.tables.js';
import { type ArticleBrief, type WrittenArticle, writeArticle } from './writer.article.js';
import type { AuthorProfiles, ContentBriefs, WriterSites } from './writer.generate.deps.js';
import * as generation from './writer.generate.repository.js';
import { insertContent, type WriterTaskRow, writerTaskById } from './writer.repository.js';
import type { Provenance } from './writer.tables.js';

/**
 * The writer's background work: `writer.generate_content` writes one article per writer task of its payload
 * (writer.article.ts), in order, with the task's progress (`3/10`, `Writing "<title>": section 2 of 8`).
 *
 * Each article is one unit: its AI calls run deferred, and the article is stored in one `ctx.once`
 * transaction that inserts it (sanitised, words counted, slug unique), charges its credits
 * (`content_generation`, ceil(target words / 100)) under a ref the retried job recognises, records the calls'
 * usage, completes the writer task and the idea, and records `content.generated` (billing records
 * `credits.debited`). A job killed or handed back mid-article writes that article again on its retry and
 * stores and charges it once; an article already stored is skipped.
 *
 * A final failure (a malformed answer twice, no credits left, a refused request) fails that writer task with
 * the error and the job goes on with the next; a transient one (an AI timeout or 5xx, a lost connection)
 * retries the job, the writer task staying `in_progress` until then, unless no retry is left: then it is final.
 */

/** Tasks one request may ask for: the job writes them one after the other within its timeout. */
export const MAX_GENERATE_TASKS = 100;
/** Keywords of the task's cluster given to the prompts (highest volume first). */
const CLUSTER_KEYWORDS = 30;
/** Secondary keywords stored on an article. */
const SECONDARY_MAX = 20;

export const GenerateContentPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  task_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_GENERATE_TASKS }),
});
export type GenerateContentJob = Static<typeof GenerateContentPayload>;

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'writer.generate_content': Static<typeof GenerateContentPayload>;
  }
}

export interface WriterJobDeps {
  ai: () => Ai;
  briefs: ContentBriefs;
  authors: () => AuthorProfiles;
  sites: WriterSites;
}

type Ctx = JobContext<GenerateContentJob>;
interface Generated {
  task_id: number;
  content_id: number;
  word_count: number;
  credits: number;
}
type Outcome =
  | { kind: 'generated'; generated: Generated }
  | { kind: 'skipped' }
  | { kind: 'failed'; failure: TaskError & { task_id: number }; error: unknown };

const normalise = (keyword: string) => keyword.trim().replace(/\s+/g, ' ').toLowerCase();
const uniqueWords = (words: readonly string[], max: number) =>
  [...new Set(words.map(normalise).filter((w) => w.length > 0 && w.length <= 200))].slice(0, max);

/** What the article is written from: the task, its idea, its cluster's keywords, the author, the site. */
async function gatherBrief(deps: WriterJobDeps, db: Db, task: WriterTaskRow): Promise<ArticleBrief> {
  const accountId = task.account_id;
  const [idea, clusterKeywords, author, names] = await Promise.all([
    task.idea_id ? deps.briefs.ideaBrief(accountId, task.idea_id) : null,
    task.cluster_id ? deps.briefs.clusterKeywords(accountId, task.cluster_id, CLUSTER_KEYWORDS) : [],
    task.author_profile_id ? deps.authors().profile(accountId, task.author_profile_id) : null,
    deps.sites.names(db, accountId, task.site_id, task.sector_id),
  ]);
  const keywords = uniqueWords([...task.keywords, ...(idea?.target_keywords ?? []), ...clusterKeywords], 50);
  const primary = keywords[0] ?? normalise(task.title);
  return {
    title: task.title,
    description: task.description || idea?.description || '',
    content_type: task.content_type,
    content_structure: task.content_structure,
    word_count: task.word_count_target,
    primary_keyword: primary,
    keywords: keywords.filter((k) => k !== primary).slice(0, 25),
    outline: idea && idea.outline.sections.length > 0 ? idea.outline.sections : null,
    author,
    site_name: names.site,
    sector: names.sector,
  };
}

/**
 * The article's unit of work, in the job's `ctx.once` transaction: stored, charged, its task and idea
 * completed, its event recorded. Null (nothing written) when the task was completed by another run meanwhile.
 */
async function storeArticle(
  tx: Db,
  ctx: Ctx,
  deps: WriterJobDeps,
  written: { task: WriterTaskRow; brief: ArticleBrief; article: WrittenArticle; calls: AiUsage[]; credits: number },
): Promise<Generated | null> {
  const ai = deps.ai();
  const { task, brief, article, calls, credits } = written;
  const accountId = task.account_id;
  const current = await writerTaskById(tx, accountId, task.id, null, true);
  if (current?.status !== 'in_progress' || current.content_id !== null) return null;
  const provenance: Provenance = {
    model: article.model,
    prompt: { function: article.fn, hash: article.prompt_hash },
    temperature: article.temperature,
    tokens_in: calls.reduce((sum, c) => sum + c.tokens_in, 0),
    tokens_out: calls.reduce((sum, c) => sum + c.tokens_out, 0),
    credits,
    task_id: task.id,
    job_id: ctx.jobId,
    generated_at: new Date().toISOString(),
  };
  const primary = brief.primary_keyword;
  const secondary = uniqueWords(
    article.secondary_keywords.length > 0 ? article.secondary_keywords : brief.keywords,
    SECONDARY_MAX + 1,
  ).filter((k) => k !== primary);
  const content = await insertContent(tx, accountId, {
    site_id: task.site_id,
    sector_id: task.sector_id,
    title: task.title,
    html: article.html,
    meta_title: article.meta_title.trim().slice(0, 300),
    meta_description: article.meta_description.trim().slice(0, 500),
    slug: article.slug,
    primary_keyword: primary.slice(0, 300),
    secondary_keywords: secondary.slice(0, SECONDARY_MAX),
    categories: uniqueWords(article.categories, 10),
    tags: uniqueWords(article.tags, 20),
    source: 'generated',
    task_id: task.id,
    cluster_id: task.cluster_id,
    status: 'draft',
    provenance,
  });
  const charge = await ai.settle({ accountId }, 'content', calls, {
    ref: ai.refFor(ctx, `article:${task.id}`),
    units: task.word_count_target,
    tx,
    object_type: 'content',
    object_id: content.id,
    description: `content_generation: "${task.title.slice(0, 200)}" (${task.word_count_target} target words)`,
  });
  await generation.completeWriting(tx, accountId, task.id, content.id);
  if (task.idea_id) await deps.briefs.completeIdea(tx, accountId, task.idea_id);
  await record(tx, {
    account_id: accountId,
    site_id: task.site_id,
    type: 'content.generated',
    source_agent: 'worker',
    actor_id: ctx.payload.actor_id,
    object_type: 'content',
    object_id: content.id,
    payload: {
      task_id: task.id,
      idea_id: task.idea_id,
      word_count: content.word_count,
      word_count_target: task.word_count_target,
      credits: charge.credits,
      model: provenance.model,
      sections: article.sections,
      system_task_id: ctx.taskId,
    },
  });
  return { task_id: task.id, content_id: content.id, word_count: content.word_count, credits: charge.credits };
}

/** A stop of the whole job that no retry follows (cancelled by the user, or past its timeout). */
function finalStop(ctx: Ctx): TaskError | null {
  const described = describeError(ctx.signal.reason, ctx.taskId);
  if (ctx.signal.reason instanceof JobCancelled) {
    return { code: 'cancelled', message: 'The generation task was cancelled before this article was stored.' };
  }
  return described.code === 'timeout' ? described : null;
}

/** Writes and stores one task's article; see the module comment for what a failure does. */
async function generateOne(ctx: Ctx, deps: WriterJobDeps, task: WriterTaskRow, step: (m: string) => Promise<void>) {
  const ai = deps.ai();
  const owner = { accountId: task.account_id };
  const unit = `article:${task.id}`;
  const calls: AiUsage[] = [];
  let settled = false;
  try {
    if (!(await generation.startWriting(ctx.db, owner.accountId, task.id))) return { kind: 'skipped' } as const;
    const brief = await gatherBrief(deps, ctx.db, task);
    // The balance may have run out since the request: this article is refused before any call is paid for.
    await ai.ensure(owner, [{ fn: 'content', units: task.word_count_target }]);
    const article = await writeArticle(ai, owner, brief, {
      ref: ai.refFor(ctx, unit),
      signal: ctx.signal,
      calls,
      step,
      object_id: task.id,
    });
    // Also loads the cost table into billing's cache: inside the transaction below it must not wait for
    // another connection (PGlite has one).
    const credits = await ai.estimate('content', task.word_count_target);
    const stored = await ctx.once(unit, (tx) => storeArticle(tx, ctx, deps, { task, brief, article, calls, credits }));
    settled = true;
    return stored ? ({ kind: 'generated', generated: stored } as const) : ({ kind: 'skipped' } as const);
  } catch (error) {
    if (!settled && calls.length > 0) {
      await ai
        .recordFailedCalls(owner, 'content', calls, { object_type: 'writer_task', object_id: task.id })
        .catch((e) => ctx.log.warn({ err: e }, 'could not record the usage of a failed article'));
    }
    if (ctx.signal.aborted) {
      const stop = finalStop(ctx);
      if (stop) await generation.failWriting(ctx.db, owner.accountId, task.id, stop.message);
      throw error;
    }
    if (isTransient(error) && !ctx.lastAttempt) throw error;
    if (!(error instanceof AppError)) ctx.log.error({ err: error, writer_task_id: task.id }, 'article failed');
    const failure = { task_id: task.id, ...describeError(error, ctx.taskId) };
    await generation.failWriting(ctx.db, owner.accountId, task.id, failure.message);
    return { kind: 'failed', failure, error } as const;
  }
}

export function writerJobs(deps: WriterJobDeps): AnyJobDefinition[] {
  const generateContentJob = defineJob({
    name: 'writer.generate_content',
    payload: GenerateContentPayload,
    // Up to MAX_GENERATE_TASKS articles of several calls each, one after the other. A worker that died is
    // noticed after the expiry (timeout + 60 s): the price of a long timeout, as pg-boss has no heartbeat.
    timeoutSeconds: 3 * 3600,
    retryLimit: 2,
    retryDelaySeconds: 10,
    concurrency: 2,
    async handler(ctx) {
      const { payload } = ctx;
      const total = payload.task_ids.length;
      const generated: Generated[] = [];
      const failed: (TaskError & { task_id: number })[] = [];
      const errors: unknown[] = [];
      const skipped: number[] = [];
      await ctx.progress(0, total, `Writing ${total} article${total === 1 ? '' : 's'}`);
      for (const [index, taskId] of payload.task_ids.entries()) {
        const outcome = await articleOf(ctx, deps, taskId, index, total);
        if (outcome.kind === 'generated') generated.push(outcome.generated);
        else if (outcome.kind === 'failed') {
          failed.push(outcome.failure);
          errors.push(outcome.error);
        } else skipped.push(taskId);
      }
      // Each article's start moved the progress on; the end says what was written.
      await ctx.progress(total, total, `${generated.length} of ${total} articles written`);
      // Nothing written and something failed: the task fails with the first article's own error.
      if (generated.length === 0 && errors.length > 0) throw errors[0];
      return {
        generated: generated.length,
        content_ids: generated.map((g) => g.content_id),
        credits: generated.reduce((sum, g) => sum + g.credits, 0),
        articles: generated,
        failed,
        skipped,
      };
    },
  });
  return [generateContentJob];
}

/** One task of the payload: written, or its earlier outcome when a previous run of the job stored it. */
async function articleOf(ctx: Ctx, deps: WriterJobDeps, taskId: number, index: number, total: number): Promise<Outcome> {
  const task = await writerTaskById(ctx.db, ctx.payload.account_id, taskId);
  if (!task) return { kind: 'skipped' };
  if (task.status === 'completed') {
    // Stored by an earlier run of this job: its unit answers what it stored (claimed with nothing otherwise).
    const earlier = await ctx.once(`article:${taskId}`, async () => null as Generated | null);
    return earlier ? { kind: 'generated', generated: earlier } : { kind: 'skipped' };
  }
  if (task.status !== 'queued' && task.status !== 'in_progress') return { kind: 'skipped' };
  const label = `Writing "${task.title}"`;
  await ctx.progress(index, total, label);
  return generateOne(ctx, deps, task, (step) => ctx.progress(index, total, `${label}: ${step}`));
}
