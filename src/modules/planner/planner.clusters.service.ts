import type { FastifyRequest } from 'fastify';
import { eq } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { AppError, conflict, notFound, validationError } from '../../core/errors.js';
import type { Jobs } from '../../core/jobs.js';
import { type ListQuery, runList } from '../../core/lists.js';
import type { ResourceHooks, ScopedContext } from '../../core/resource.js';
import type { SiteAccess } from '../../core/tenancy.js';
import { KEYWORD_LIST } from './planner.keywords.service.js';
import * as repo from './planner.repository.js';
import type { AutoCluster } from './planner.schemas.js';
import { type ClusterStatus, planner_keywords } from './planner.tables.js';

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

export const clusterHooks: ResourceHooks = {
  beforeCreate(_tx, _ctx, values) {
    return { ...values, name: String(values.name).trim() };
  },
  beforeUpdate(_tx, _ctx, current, changes) {
    const values = { ...changes };
    if (typeof values.name === 'string') values.name = values.name.trim();
    const from = current.status as ClusterStatus;
    const to = values.status as ClusterStatus | undefined;
    if (to !== undefined && to !== from && !NEXT_STATUS[from].includes(to)) {
      throw conflict(`A cluster in status "${from}" cannot move to "${to}".`, from);
    }
    return values;
  },
  async beforeDelete(tx, ctx, row) {
    await repo.releaseClusterKeywords(tx, ctx.accountId, row.id as number);
  },
};

export function createPlannerClusteringService(deps: { db: Db; jobs: Jobs; siteAccess: SiteAccess; baseUrl: string }) {
  const { db, jobs } = deps;
  return {
    async clusterKeywords(ctx: ScopedContext, clusterId: number, query: ListQuery, request: FastifyRequest) {
      const cluster = await repo.clusterById(db, ctx.accountId, ctx.siteIds, clusterId);
      if (!cluster) throw notFound('Cluster');
      return runList({
        db,
        table: planner_keywords,
        idColumn: planner_keywords.id,
        where: [eq(planner_keywords.account_id, ctx.accountId), eq(planner_keywords.cluster_id, clusterId)],
        spec: { ...KEYWORD_LIST, defaultOrdering: '-volume' },
        query,
        request,
        baseUrl: deps.baseUrl,
      });
    },

    /** Checks the target, then starts the clustering task in the same transaction (it runs only if this commits). */
    async startAutoCluster(ctx: ScopedContext, body: AutoCluster) {
      const method = body.method ?? 'lexical';
      if (method === 'ai') {
        throw new AppError('service_unavailable', 'AI clustering is not available on this installation; use method "lexical".');
      }
      return db.transaction(async (tx) => {
        const problems = await deps.siteAccess.check(tx, ctx, body.site_id, body.sector_id);
        if (problems) throw validationError(problems);
        return jobs.startTask(tx, { accountId: ctx.accountId, actorId: ctx.user?.id ?? null }, 'planner.cluster_lexical', {
          account_id: ctx.accountId,
          actor_id: ctx.user?.id ?? null,
          site_id: body.site_id,
          sector_id: body.sector_id,
          ...(body.ids ? { ids: body.ids } : {}),
          ...(body.threshold !== undefined ? { threshold: body.threshold } : {}),
          ...(body.max_cluster_size !== undefined ? { max_cluster_size: body.max_cluster_size } : {}),
        });
      });
    },
  };
}
export type PlannerClusteringService = ReturnType<typeof createPlannerClusteringService>;

