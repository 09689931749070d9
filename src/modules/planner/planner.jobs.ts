import { type Static, Type } from 'typebox';
import type { Ai } from '../../core/ai.js';
import { type AnyJobDefinition, defineJob } from '../../core/jobs.js';
import { plannerAiJobs } from './planner.ai.jobs.js';
import { storeClusters } from './planner.clustering.js';
import type { PlannerSites } from './planner.deps.js';
import { lexicalClusters } from './planner.lexical.js';
import { newKeywords } from './planner.repository.js';

/** The planner's background work: auto-clustering a sector's new keywords (lexical here; AI beside it). */

export const AutoClusterPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  site_id: Type.Integer({ minimum: 1 }),
  sector_id: Type.Integer({ minimum: 1 }),
  ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
  threshold: Type.Optional(Type.Number()),
  max_cluster_size: Type.Optional(Type.Integer()),
});
export type AutoClusterJob = Static<typeof AutoClusterPayload>;

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'planner.cluster_lexical': Static<typeof AutoClusterPayload>;
  }
}

export const lexicalClusterJob = defineJob({
  name: 'planner.cluster_lexical',
  payload: AutoClusterPayload,
  // 100,000 keywords take well under a minute; the timeout leaves room on a busy machine.
  timeoutSeconds: 600,
  retryLimit: 2,
  concurrency: 1,
  async handler(ctx) {
    const { payload } = ctx;
    const target = { site_id: payload.site_id, sector_id: payload.sector_id };
    await ctx.progress(0, 3, 'Loading keywords');
    const keywords = await newKeywords(ctx.db, payload.account_id, { ...target, ids: payload.ids });
    await ctx.progress(1, 3, `Clustering ${keywords.length} keywords`);
    const groups = lexicalClusters(keywords, { threshold: payload.threshold, maxSize: payload.max_cluster_size });
    await ctx.progress(2, 3, `Storing ${groups.length} clusters`);
    const outcome = await ctx.once('store', (tx) =>
      storeClusters(
        tx,
        { accountId: payload.account_id, actorId: payload.actor_id },
        target,
        'lexical',
        keywords.length,
        groups.map((members) => ({ keywords: members.map((i) => keywords[i] as (typeof keywords)[number]) })),
      ),
    );
    await ctx.progress(3, 3, `${outcome.clusters_created} clusters`);
    return { method: 'lexical', ...outcome, cluster_ids: outcome.cluster_ids.slice(0, 1000) };
  },
});

export function plannerJobs(deps: { ai: () => Ai; sites: PlannerSites }): AnyJobDefinition[] {
  return [lexicalClusterJob, ...plannerAiJobs(deps)];
}
