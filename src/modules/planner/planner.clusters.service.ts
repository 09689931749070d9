import { eq } from 'drizzle-orm';
import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError, conflict, notFound, validationError } from '../../core/errors.js';
import type { Jobs } from '../../core/jobs.js';
import { type ListQuery, runList } from '../../core/lists.js';
import type { ResourceHooks, ScopedContext } from '../../core/resource.js';
import type { SiteAccess } from '../../core/tenancy.js';
import { KEYWORD_LIST } from './planner.keywords.service.js';
import * as repo from './planner.repository.js';
import { type AutoCluster, type GenerateIdeas, skippedIds } from './planner.schemas.js';
import { type ClusterStatus, type planner_clusters, planner_keywords } from './planner.tables.js';

/**
 * The rules of clusters: statuses move `new` → `ideas_generated` → `archived`; deleting one returns its
 * keywords to `new`; its keywords are listed with the keyword list's filters; and auto-clustering starts as a
 * task after checking the site and sector.
 */

const NEXT_STATUS: Record<ClusterStatus, ClusterStatus[]> = {
  new: ['ideas_generated'],
  ideas_generated: ['archived'],
  archived: [],
};

export const clusterHooks: ResourceHooks<typeof planner_clusters> = {
  beforeCreate(_tx, _ctx, values) {
    return { ...values, name: (values.name ?? '').trim() };
  },
  beforeUpdate(_tx, _ctx, current, changes) {
    const values = { ...changes };
    if (typeof values.name === 'string') values.name = values.name.trim();
    const from = current.status;
    const to = values.status;
    if (to !== undefined && to !== from && !NEXT_STATUS[from].includes(to)) {
      throw conflict(`A cluster in status "${from}" cannot move to "${to}".`, from);
    }
    return values;
  },
  async beforeDelete(tx, ctx, row) {
    await repo.releaseClusterKeywords(tx, ctx.accountId, row.id);
  },
};

export function createPlannerClusteringService(deps: { db: Db; jobs: Jobs; siteAccess: SiteAccess; ai: Ai }) {
  const { db, jobs, ai } = deps;
  /** The task's owner, with the site it works on (site-limited callers see only their sites' tasks). */
  const owner = (ctx: ScopedContext, siteId: number | null) => ({
    accountId: ctx.accountId,
    actorId: ctx.user?.id ?? null,
    siteId,
  });
  return {
    async clusterKeywords(ctx: ScopedContext, clusterId: number, query: ListQuery) {
      const cluster = await repo.clusterById(db, ctx.accountId, ctx.siteIds, clusterId);
      if (!cluster) throw notFound('Cluster');
      return runList<typeof planner_keywords.$inferSelect>({
        db,
        table: planner_keywords,
        idColumn: planner_keywords.id,
        where: [eq(planner_keywords.account_id, ctx.accountId), eq(planner_keywords.cluster_id, clusterId)],
        spec: { ...KEYWORD_LIST, defaultOrdering: '-volume' },
        query,
        accountId: ctx.accountId,
      });
    },

    /**
     * Checks the target, then starts the clustering task in the same transaction (it runs only if this
     * commits). AI clustering is estimated first for all the keywords it would send: 503 without a provider,
     * then 402 when the balance is short.
     */
    async startAutoCluster(ctx: ScopedContext, body: AutoCluster) {
      const method = body.method ?? 'lexical';
      const problems = await deps.siteAccess.check(db, ctx, body.site_id, body.sector_id);
      if (problems) throw validationError(problems);
      const payload = {
        account_id: ctx.accountId,
        actor_id: ctx.user?.id ?? null,
        site_id: body.site_id,
        sector_id: body.sector_id,
        ...(body.ids ? { ids: body.ids } : {}),
        ...(body.threshold !== undefined ? { threshold: body.threshold } : {}),
        ...(body.max_cluster_size !== undefined ? { max_cluster_size: body.max_cluster_size } : {}),
      };
      if (method === 'ai') {
        const count = await repo.countNewKeywords(db, ctx.accountId, body);
        if (count === 0) throw validationError({ non_field_errors: ['There are no new keywords to cluster here.'] });
        // Outside any transaction: billing reads the balance on its own connection (one connection on PGlite).
        await ai.ensure(ctx, [{ fn: 'clustering', units: count }]);
      }
      // Given ids outside the caller's keywords of this site and sector are reported, not silently dropped.
      const found = body.ids
        ? (await repo.keywordsByIds(db, ctx.accountId, ctx.siteIds, body.ids)).filter(
            (k) => k.site_id === body.site_id && k.sector_id === body.sector_id,
          )
        : [];
      const type = method === 'ai' ? 'planner.cluster_ai' : 'planner.cluster_lexical';
      const task = await db.transaction((tx) => jobs.startTask(tx, owner(ctx, body.site_id), type, payload));
      return { task, skipped: body.ids ? skippedIds(body.ids, found) : [] };
    },

    /**
     * Ideas for the caller's clusters among `ids` (others ignored): archived ones make it a 409 naming them;
     * then 503 without a provider, 402 when the balance is short of every cluster's cost.
     */
    async startIdeas(ctx: ScopedContext, body: GenerateIdeas) {
      const clusters = await repo.clustersByIds(db, ctx.accountId, ctx.siteIds, body.ids);
      if (clusters.length === 0) throw notFound('Cluster');
      const archived = clusters.filter((c) => c.status === 'archived').map((c) => c.id);
      if (archived.length > 0) {
        throw new AppError(
          'conflict',
          `${archived.length} of these clusters are archived; ideas are generated for active clusters only.`,
          {
            details: { ids: archived, current_status: 'archived' },
          },
        );
      }
      await ai.ensure(ctx, [{ fn: 'ideas', units: clusters.length }]);
      const payload = {
        account_id: ctx.accountId,
        actor_id: ctx.user?.id ?? null,
        cluster_ids: clusters.map((c) => c.id),
        ideas_per_cluster: body.ideas_per_cluster ?? 3,
      };
      // Clusters of one site make a task of that site; of several, an account-wide one (seen by callers who
      // reach every site).
      const sites = new Set(clusters.map((c) => c.site_id));
      const siteId = sites.size === 1 ? ([...sites][0] ?? null) : null;
      const task = await db.transaction((tx) => jobs.startTask(tx, owner(ctx, siteId), 'planner.generate_ideas', payload));
      return { task, skipped: skippedIds(body.ids, clusters) };
    },
  };
}
export type PlannerClusteringService = ReturnType<typeof createPlannerClusteringService>;
