import type { Db } from '../../core/db.js';
import type { InlineUnit, Jobs } from '../../core/jobs.js';
import type { ScopedContext } from '../../core/resource.js';
import type { IdeasService } from './planner.ideas.service.js';
import * as repo from './planner.repository.js';

/**
 * The planner's work one unit at a time, for a pipeline that drives it (automation): what is waiting on a site,
 * and each unit done by the planner's own job handler (`jobs.runInline`) under the caller's key, so a unit run
 * again under the same key (its driver retried after a crash) finds it stored and charged and does neither twice.
 */

export function createPlannerPipeline(deps: { db: Db; jobs: Jobs; ideas: IdeasService }) {
  const { db, jobs } = deps;
  return {
    newKeywords: (accountId: number, siteId: number, limit: number) => repo.siteNewKeywords(db, accountId, siteId, limit),
    clustersWithoutIdeas: (accountId: number, siteId: number, limit: number) =>
      repo.siteNewClusters(db, accountId, siteId, limit),
    newIdeas: (accountId: number, siteId: number, limit: number) => repo.siteNewIdeas(db, accountId, siteId, limit),

    /** Lexical clustering (no AI, free) of these keywords of one sector: those still `new` when it runs. */
    async clusterKeywords(unit: InlineUnit, target: { site_id: number; sector_id: number }, ids: number[]) {
      const result = (await jobs.runInline(
        'planner.cluster_lexical',
        { account_id: unit.accountId, actor_id: unit.actorId, ...target, ids },
        unit,
      )) as { clusters_created: number; keywords_clustered: number };
      return { clusters_created: result.clusters_created, keywords_clustered: result.keywords_clustered };
    },

    /** Ideas for one cluster (AI, `idea_generation`); a failure throws the unit's own error. */
    async generateIdeas(unit: InlineUnit, clusterId: number, perCluster: number) {
      const result = (await jobs.runInline(
        'planner.generate_ideas',
        { account_id: unit.accountId, actor_id: unit.actorId, cluster_ids: [clusterId], ideas_per_cluster: perCluster },
        unit,
      )) as { ideas_created: number };
      return { ideas_created: result.ideas_created };
    },

    /** `bulk_queue_to_writer/` for these ideas, skipping any no longer `new` (queued by an earlier attempt). */
    async queueIdeas(ctx: ScopedContext, ids: number[]) {
      const still = new Set(await repo.siteNewIdeasAmong(db, ctx.accountId, ids));
      const waiting = ids.filter((id) => still.has(id));
      if (waiting.length === 0) return { queued: 0, writer_task_ids: [] };
      const result = await deps.ideas.queueToWriter(ctx, { ids: waiting });
      return { queued: result.queued, writer_task_ids: result.writer_task_ids };
    },
  };
}
export type PlannerPipeline = ReturnType<typeof createPlannerPipeline>;
