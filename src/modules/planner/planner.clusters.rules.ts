import type { Db } from '../../core/db.js';
import { fieldError } from '../../core/errors.js';
import type { ScopedContext } from '../../core/resource.js';
import * as repo from './planner.repository.js';

/**
 * A cluster named by a keyword or an idea (`cluster_id`) must be one the caller reaches, of the same site and
 * sector as the object; null or absent names none. One rule for both, so they cannot drift apart.
 */
export async function checkClusterOf(
  tx: Db,
  ctx: ScopedContext,
  object: 'keyword' | 'idea',
  clusterId: number | null | undefined,
  /** The object's site and sector (undefined only where its body left them out, which its schema refuses). */
  target: { siteId: number | undefined; sectorId: number | undefined },
): Promise<void> {
  if (clusterId === null || clusterId === undefined) return;
  const cluster = await repo.clusterById(tx, ctx.accountId, ctx.siteIds, clusterId);
  if (!cluster) throw fieldError('cluster_id', 'Unknown cluster.');
  if (cluster.site_id !== target.siteId || cluster.sector_id !== target.sectorId) {
    throw fieldError('cluster_id', `The cluster belongs to another site or sector than the ${object}'s.`);
  }
}
