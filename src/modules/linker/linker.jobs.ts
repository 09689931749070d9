import { type Static, Type } from 'typebox';
import { type AnyJobDefinition, defineJob } from '../../core/jobs.js';
import type { LinkerContent, LinkerSites } from './linker.deps.js';
import { DEFAULT_PER_THOUSAND } from './linker.plan.js';
import { linkSource, prepareSite, type SourceOutcome } from './linker.process.js';

/** The linker's background work: `linker/process/` over the articles asked for, site by site. */

export const ProcessPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  content_ids: Type.Array(Type.Integer({ minimum: 1 })),
  dry_run: Type.Boolean(),
  max_links_per_1000_words: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'linker.process': Static<typeof ProcessPayload>;
  }
}

export function linkerJobs(deps: { content: LinkerContent; sites: LinkerSites }): AnyJobDefinition[] {
  const processJob = defineJob({
    name: 'linker.process',
    payload: ProcessPayload,
    // 1,000 articles of a site take well under a minute; room for a busy machine.
    timeoutSeconds: 900,
    retryLimit: 2,
    concurrency: 1,
    async handler(ctx) {
      const { payload } = ctx;
      const accountId = payload.account_id;
      const run = {
        accountId,
        actorId: payload.actor_id,
        taskId: ctx.taskId,
        dryRun: payload.dry_run,
        perThousand: payload.max_links_per_1000_words ?? DEFAULT_PER_THOUSAND,
      };
      const sources = await deps.content.articleSites(ctx.db, accountId, payload.content_ids, null);
      const bySite = new Map<number, number[]>();
      for (const s of sources) bySite.set(s.site_id, [...(bySite.get(s.site_id) ?? []), s.id]);
      const total = sources.length;
      const outcomes: SourceOutcome[] = [];
      await ctx.progress(0, total, 'Reading the sites');
      for (const [siteId, ids] of bySite) {
        const siteUrl = (await deps.sites.url(ctx.db, accountId, siteId)) ?? '';
        const site = prepareSite(await deps.content.siteArticles(ctx.db, accountId, siteId), siteUrl);
        for (const id of ids) {
          // One unit per article: a retried job finds the articles it linked done and links the rest.
          outcomes.push(await ctx.once(`source:${id}`, (tx) => linkSource(tx, deps.content, site, run, id)));
          if (outcomes.length % 10 === 0 || outcomes.length === total) {
            await ctx.progress(outcomes.length, total, `${outcomes.length} of ${total} articles`);
          }
        }
      }
      return {
        dry_run: run.dryRun,
        articles: outcomes.length,
        suggested: outcomes.reduce((n, o) => n + o.suggested, 0),
        applied: outcomes.reduce((n, o) => n + o.applied, 0),
        per_article: outcomes
          .slice(0, 1000)
          .map((o) => ({ content_id: o.source_id, suggested: o.suggested, applied: o.applied })),
      };
    },
  });
  return [processJob];
}
