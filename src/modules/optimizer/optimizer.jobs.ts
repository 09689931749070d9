import { type Static, Type } from 'typebox';
import type { Ai, AiUsage } from '../../core/ai.js';
import { AppError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import { type AnyJobDefinition, defineJob, describeError, isTransient, type JobContext } from '../../core/jobs.js';
import type { TaskError } from '../../core/tasks.tables.js';
import { failingMessages } from './optimizer.analysis.js';
import type { AccountLanguage, OptimizerArticles, OptimizerSites } from './optimizer.deps.js';
import * as repo from './optimizer.repository.js';
import { MAX_OPTIMIZE } from './optimizer.schemas.js';
import { analyzeArticle } from './optimizer.service.js';

/**
 * `optimizer.optimize`: for each article of its payload, in order: analysed, rewritten by the `optimization`
 * function (the article and its failing checks' messages in), the rewrite sanitised like every article's
 * HTML and analysed again; in one `ctx.once` transaction the rewrite becomes the current text (a new version,
 * reason `optimized`) only when its score is higher and the article did not change meanwhile, the run is
 * recorded either way, the unit is charged (`optimization`, ceil(words / 500)) under a ref a retried job
 * recognises, and `content.optimized` is recorded. A retry skips articles whose run its task already holds.
 */

export const OptimizePayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  content_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_OPTIMIZE }),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'optimizer.optimize': Static<typeof OptimizePayload>;
  }
}

export interface OptimizerJobDeps {
  ai: () => Ai;
  /** Lazy: the writer's service is made after the job types. */
  articles: () => OptimizerArticles;
  sites: OptimizerSites;
  language: AccountLanguage;
}

type Ctx = JobContext<Static<typeof OptimizePayload>>;
interface Optimized {
  content_id: number;
  run_id: number;
  applied: boolean;
  score_before: number;
  score_after: number;
  credits: number;
}
type Outcome =
  | { kind: 'done'; run: Optimized }
  | { kind: 'skipped' }
  | { kind: 'failed'; failure: TaskError & { content_id: number }; error: unknown };

const summary = (run: repo.RunRow): Optimized => ({
  content_id: run.content_id,
  run_id: run.id,
  applied: run.applied,
  score_before: run.score_before,
  score_after: run.score_after,
  credits: run.credits,
});

async function optimizeOne(ctx: Ctx, deps: OptimizerJobDeps, contentId: number): Promise<Outcome> {
  const ai = deps.ai();
  const accountId = ctx.payload.account_id;
  const owner = { accountId };
  if (ctx.taskId !== null) {
    const earlier = await repo.runOfTask(ctx.db, accountId, contentId, ctx.taskId);
    if (earlier) return { kind: 'done', run: summary(earlier) };
  }
  const article = await deps.articles().article(ctx.db, accountId, contentId);
  if (!article) return { kind: 'skipped' };
  const unit = `optimize:${contentId}`;
  const ref = ai.refFor(ctx, unit);
  const words = Math.max(1, article.word_count);
  const calls: AiUsage[] = [];
  let settled = false;
  try {
    const before = await analyzeArticle(deps, ctx.db, accountId, article);
    await ai.ensure(owner, [{ fn: 'optimization', units: words }]);
    const answer = await ai.run(
      owner,
      'optimization',
      {
        title: article.title,
        html: article.html,
        primary_keyword: article.primary_keyword,
        keywords: article.secondary_keywords.join(', '),
        word_count: String(article.word_count),
        issues: failingMessages(before).join('\n'),
      },
      { ref, units: words, defer: true, signal: ctx.signal, object_type: 'content', object_id: contentId },
    );
    calls.push(answer.usage);
    const rewrite = {
      html: deps.articles().sanitize(answer.output.html),
      meta_title: answer.output.meta_title.trim().slice(0, 300),
      meta_description: answer.output.meta_description.trim().slice(0, 500),
    };
    const after = await analyzeArticle(deps, ctx.db, accountId, article, rewrite);
    // Loads the cost table into billing's cache: inside the transaction nothing may wait for another connection.
    await ai.estimate('optimization', words);
    const run = await ctx.once(unit, async (tx) => {
      const current = await deps.articles().article(tx, accountId, contentId);
      if (!current) return null;
      const applied = after.score > before.score && current.version === article.version;
      const revised = applied
        ? await deps
            .articles()
            .revise(tx, accountId, contentId, rewrite, { userId: ctx.payload.actor_id, expectedVersion: article.version })
        : null;
      const charge = await ai.settle(owner, 'optimization', calls, {
        ref,
        units: words,
        tx,
        object_type: 'content',
        object_id: contentId,
        description: `optimization: "${article.title.slice(0, 200)}" (${article.word_count} words)`,
      });
      const row = await repo.insertRun(tx, accountId, {
        site_id: article.site_id,
        sector_id: article.sector_id,
        content_id: contentId,
        task_id: ctx.taskId,
        rules_version: after.rules_version,
        score_before: before.score,
        score_after: after.score,
        seo_score_before: before.seo_score,
        seo_score_after: after.seo_score,
        readability_score_before: before.readability_score,
        readability_score_after: after.readability_score,
        checks_before: before.checks,
        checks_after: after.checks,
        applied,
        version: revised?.version ?? null,
        changes: answer.output.changes.slice(0, 100),
        credits: charge.credits,
        model: answer.usage.model.slice(0, 200),
      });
      await record(tx, {
        account_id: accountId,
        site_id: article.site_id,
        type: 'content.optimized',
        source_agent: 'worker',
        actor_id: ctx.payload.actor_id,
        object_type: 'content',
        object_id: contentId,
        payload: {
          run_id: row.id,
          applied,
          score_before: before.score,
          score_after: after.score,
          version: row.version,
          credits: charge.credits,
          model: row.model,
          system_task_id: ctx.taskId,
        },
      });
      return summary(row);
    });
    settled = true;
    return run ? { kind: 'done', run } : { kind: 'skipped' };
  } catch (error) {
    if (!settled && calls.length > 0) {
      await ai
        .recordFailedCalls(owner, 'optimization', calls, { object_type: 'content', object_id: contentId })
        .catch((e) => ctx.log.warn({ err: e }, 'could not record the usage of a failed optimization'));
    }
    if (ctx.signal.aborted || (isTransient(error) && !ctx.lastAttempt)) throw error;
    if (!(error instanceof AppError)) ctx.log.error({ err: error, content_id: contentId }, 'optimization failed');
    return { kind: 'failed', failure: { content_id: contentId, ...describeError(error, ctx.taskId) }, error };
  }
}

export function optimizerJobs(deps: OptimizerJobDeps): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'optimizer.optimize',
      payload: OptimizePayload,
      timeoutSeconds: 3600,
      retryLimit: 2,
      retryDelaySeconds: 10,
      async handler(ctx) {
        const ids = ctx.payload.content_ids;
        const done: Optimized[] = [];
        const failed: (TaskError & { content_id: number })[] = [];
        const skipped: number[] = [];
        const errors: unknown[] = [];
        for (const [index, id] of ids.entries()) {
          await ctx.progress(index, ids.length, `Optimizing article ${id}`);
          const outcome = await optimizeOne(ctx, deps, id);
          if (outcome.kind === 'done') done.push(outcome.run);
          else if (outcome.kind === 'failed') {
            failed.push(outcome.failure);
            errors.push(outcome.error);
          } else skipped.push(id);
        }
        await ctx.progress(ids.length, ids.length, `${done.length} of ${ids.length} articles optimized`);
        // Nothing optimized and something failed: the task fails with the first article's own error.
        if (done.length === 0 && errors.length > 0) throw errors[0];
        return {
          optimized: done.length,
          applied: done.filter((d) => d.applied).length,
          credits: done.reduce((sum, d) => sum + d.credits, 0),
          runs: done,
          failed,
          skipped,
        };
      },
    }),
  ];
}
