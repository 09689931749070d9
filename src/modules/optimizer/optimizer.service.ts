import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { notFound, validationError } from '../../core/errors.js';
import type { InlineUnit, Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import type { ScopedContext } from '../../core/resource.js';
import { type Analysis, analyze } from './optimizer.analysis.js';
import type { AccountLanguage, OptimizerArticle, OptimizerArticles, OptimizerSites } from './optimizer.deps.js';
import * as repo from './optimizer.repository.js';
import type { AnalyzeRequest, OptimizeRequest } from './optimizer.schemas.js';

/**
 * The optimizer's rules. `analyze`: at once, free, no AI, for a stored article (its meta fields, slug and
 * site URL) or raw HTML + keyword. `startOptimize`: the caller's articles among `content_ids` (others
 * `skipped`; none at all 404), then 503 without an AI provider and 402 when the balance is short of
 * ceil(words / 500) per article, then one task (`optimizer.optimize`) rewrites them one after the other.
 */

export interface OptimizerServiceDeps {
  db: Db;
  jobs: Jobs;
  ai: Ai;
  articles: OptimizerArticles;
  sites: OptimizerSites;
  language: AccountLanguage;
}

/** The origin of an article's published URL, when there is one. */
const originOf = (url: string | null) => {
  try {
    return url ? new URL(url).origin : '';
  } catch {
    return '';
  }
};

/** Analyses a stored article with its own fields; `keyword` overrides its primary keyword. */
export async function analyzeArticle(
  deps: Pick<OptimizerServiceDeps, 'sites' | 'language'>,
  db: Db,
  accountId: number,
  article: OptimizerArticle,
  overrides: Partial<Pick<OptimizerArticle, 'html' | 'meta_title' | 'meta_description'>> & {
    keyword?: string;
    site_url?: string;
  } = {},
): Promise<Analysis> {
  const [siteUrl, language] = await Promise.all([
    overrides.site_url ?? deps.sites.url(db, accountId, article.site_id).then((url) => url ?? ''),
    deps.language(accountId),
  ]);
  return analyze({
    html: overrides.html ?? article.html,
    keyword: overrides.keyword ?? article.primary_keyword,
    title: article.title,
    meta_title: overrides.meta_title ?? article.meta_title,
    meta_description: overrides.meta_description ?? article.meta_description,
    slug: article.slug,
    site_url: siteUrl || originOf(article.external_url),
    language,
  });
}

export function createOptimizerService(deps: OptimizerServiceDeps) {
  const { db, jobs, ai, articles } = deps;
  return {
    async analyze(ctx: ScopedContext, body: AnalyzeRequest): Promise<Analysis & { content_id: number | null }> {
      if (body.content_id !== undefined) {
        if (body.html !== undefined) {
          throw validationError({ html: ['Give either content_id (a stored article) or html, not both.'] });
        }
        const article = await articles.article(db, ctx.accountId, body.content_id, ctx.siteIds);
        if (!article) throw notFound('Content');
        const analysis = await analyzeArticle(deps, db, ctx.accountId, article, {
          keyword: body.keyword,
          site_url: body.site_url,
        });
        return { ...analysis, content_id: article.id };
      }
      const errors: Record<string, string[]> = {};
      if (body.html === undefined) errors.html = ['This field is required (or give content_id).'];
      if (body.keyword === undefined) errors.keyword = ['This field is required with html (an empty string: no keyphrase).'];
      if (body.html === undefined || body.keyword === undefined) throw validationError(errors);
      const analysis = analyze({
        html: body.html,
        keyword: body.keyword,
        title: body.title,
        meta_title: body.meta_title,
        meta_description: body.meta_description,
        slug: body.slug,
        site_url: body.site_url,
        content_type: body.content_type,
        language: await deps.language(ctx.accountId),
      });
      return { ...analysis, content_id: null };
    },

    async startOptimize(ctx: ScopedContext, body: OptimizeRequest) {
      const ids = [...new Set(body.content_ids)];
      const found = (await Promise.all(ids.map((id) => articles.article(db, ctx.accountId, id, ctx.siteIds)))).filter(
        (a): a is OptimizerArticle => a !== null,
      );
      if (found.length === 0) throw notFound('Content');
      // Each article is charged on its own, rounded up per article: the estimate adds them up the same way.
      const credits = await ai.ensure(
        ctx,
        found.map((a) => ({ fn: 'optimization' as const, units: Math.max(1, a.word_count) })),
      );
      const sites = new Set(found.map((a) => a.site_id));
      const owner = {
        accountId: ctx.accountId,
        actorId: ctx.user?.id ?? null,
        siteId: sites.size === 1 ? ([...sites][0] ?? null) : null,
      };
      const task = await db.transaction((tx) =>
        jobs.startTask(tx, owner, 'optimizer.optimize', {
          account_id: ctx.accountId,
          actor_id: owner.actorId,
          content_ids: found.map((a) => a.id),
        }),
      );
      const have = new Set(found.map((a) => a.id));
      return { task, credits, skipped: ids.filter((id) => !have.has(id)) };
    },

    /**
     * One article, for a pipeline that drives the optimizer unit by unit (automation): `optimizer.optimize`'s own
     * handler run here under the caller's key, so the same key run again stores and charges nothing twice.
     */
    async optimizeOne(unit: InlineUnit, contentId: number): Promise<{ applied: boolean }> {
      const result = (await jobs.runInline(
        'optimizer.optimize',
        { account_id: unit.accountId, actor_id: unit.actorId, content_ids: [contentId] },
        unit,
      )) as { applied: number };
      return { applied: result.applied > 0 };
    },

    listRuns: (ctx: ScopedContext, query: ListQuery) => repo.listRuns(db, ctx.accountId, ctx.siteIds, query),

    async run(ctx: ScopedContext, id: number) {
      const row = await repo.runById(db, ctx.accountId, id, ctx.siteIds);
      if (!row) throw notFound('Optimizer run');
      return row;
    },
  };
}
export type OptimizerService = ReturnType<typeof createOptimizerService>;
