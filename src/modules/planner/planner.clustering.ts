import type { Db } from '../../core/db.js';
import { record } from '../../core/events.js';
import { type ClusterKeyword, createClusters, lockStillNew, type NewCluster } from './planner.repository.js';

/**
 * What both clustering methods share once they have proposed groups: in one transaction, keep only keywords
 * still `new` (a person may have moved some meanwhile), drop groups left with fewer than two, name each after
 * its highest-volume keyword, store the clusters with their totals, map the keywords, and record the event.
 */

export interface ClusterOutcome {
  clusters_created: number;
  keywords_clustered: number;
  keywords_considered: number;
  cluster_ids: number[];
}

export async function storeClusters(
  tx: Db,
  owner: { accountId: number; actorId: number | null },
  target: { site_id: number; sector_id: number },
  method: 'lexical' | 'ai',
  considered: number,
  groups: { keywords: ClusterKeyword[]; name?: string; description?: string }[],
): Promise<ClusterOutcome> {
  const still = await lockStillNew(
    tx,
    owner.accountId,
    groups.flatMap((g) => g.keywords.map((k) => k.id)),
  );
  const usedNames = new Set<string>();
  const clusters: NewCluster[] = [];
  for (const group of groups) {
    const members = group.keywords.filter((k) => still.has(k.id)).sort((a, b) => b.volume - a.volume || a.id - b.id);
    if (members.length < 2) continue;
    let name = (group.name ?? (members[0] as ClusterKeyword).keyword).slice(0, 300);
    // Names match inserted rows back to their groups, so they must differ within one run.
    for (let n = 2; usedNames.has(name); n++)
      name = `${(group.name ?? (members[0] as ClusterKeyword).keyword).slice(0, 290)} (${n})`;
    usedNames.add(name);
    clusters.push({
      name,
      description: group.description ?? '',
      keyword_ids: members.map((k) => k.id),
      volume: members.reduce((sum, k) => sum + k.volume, 0),
      difficulty: Math.round(members.reduce((sum, k) => sum + k.difficulty, 0) / members.length),
    });
  }
  const ids = await createClusters(tx, owner.accountId, target, clusters);
  const clustered = clusters.reduce((sum, c) => sum + c.keyword_ids.length, 0);
  const outcome = {
    clusters_created: ids.length,
    keywords_clustered: clustered,
    keywords_considered: considered,
    cluster_ids: ids,
  };
  await record(tx, {
    account_id: owner.accountId,
    site_id: target.site_id,
    type: 'keywords.clustered',
    source_agent: 'worker',
    actor_id: owner.actorId,
    object_type: 'sector',
    object_id: target.sector_id,
    payload: { method, site_id: target.site_id, sector_id: target.sector_id, ...outcome, cluster_ids: ids.slice(0, 1000) },
  });
  return outcome;
}
