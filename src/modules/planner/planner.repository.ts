import { and, asc, count, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../core/db.js';
import { type KeywordStatus, planner_clusters, planner_content_ideas, planner_keywords } from './planner.tables.js';

/** Planner queries. Every function takes the account id, and callers limited to some sites pass them too. */

export type KeywordRow = typeof planner_keywords.$inferSelect;
export type ClusterRow = typeof planner_clusters.$inferSelect;
export type IdeaRow = typeof planner_content_ideas.$inferSelect;
export type NewKeyword = typeof planner_keywords.$inferInsert;

/** `null` means every site of the account. */
export type SiteLimit = number[] | null;

function reachable(
  column: typeof planner_keywords.site_id | typeof planner_clusters.site_id,
  siteIds: SiteLimit,
): SQL | undefined {
  if (siteIds === null) return undefined;
  return siteIds.length > 0 ? inArray(column, siteIds) : sql`false`;
}

/**
 * The site of an event about these rows: theirs when they share one, else null (account-wide, seen only by
 * callers who reach every site).
 */
export function soleSite(rows: { site_id: number }[]): number | null {
  const first = rows[0]?.site_id ?? null;
  return rows.every((r) => r.site_id === first) ? first : null;
}

export async function keywordsByIds(
  db: Db,
  accountId: number,
  siteIds: SiteLimit,
  ids: number[],
  lock = false,
): Promise<KeywordRow[]> {
  const query = db
    .select()
    .from(planner_keywords)
    .where(
      and(
        eq(planner_keywords.account_id, accountId),
        inArray(planner_keywords.id, ids),
        reachable(planner_keywords.site_id, siteIds),
      ),
    )
    .orderBy(planner_keywords.id);
  return lock ? query.for('update') : query;
}

export async function clusterById(
  db: Db,
  accountId: number,
  siteIds: SiteLimit,
  id: number,
  lock = false,
): Promise<ClusterRow | undefined> {
  const query = db
    .select()
    .from(planner_clusters)
    .where(
      and(eq(planner_clusters.account_id, accountId), eq(planner_clusters.id, id), reachable(planner_clusters.site_id, siteIds)),
    );
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

export async function ideaById(db: Db, accountId: number, id: number): Promise<IdeaRow | undefined> {
  const [row] = await db
    .select()
    .from(planner_content_ideas)
    .where(and(eq(planner_content_ideas.account_id, accountId), eq(planner_content_ideas.id, id)));
  return row;
}

export async function clustersByIds(db: Db, accountId: number, siteIds: SiteLimit, ids: number[]): Promise<ClusterRow[]> {
  return db
    .select()
    .from(planner_clusters)
    .where(
      and(
        eq(planner_clusters.account_id, accountId),
        inArray(planner_clusters.id, ids),
        reachable(planner_clusters.site_id, siteIds),
      ),
    )
    .orderBy(planner_clusters.id);
}

/**
 * Rewrites the derived totals of these clusters from their keywords: called in the transaction of every change
 * that moves a keyword into or out of a cluster, or changes a clustered keyword's volume or difficulty.
 */
export async function refreshClusterStats(
  db: Db,
  accountId: number,
  clusterIds: Iterable<number | null | undefined>,
): Promise<void> {
  const ids = [...new Set([...clusterIds].filter((id): id is number => typeof id === 'number'))];
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE planner_clusters AS c
       SET keywords_count = s.n, volume = s.v, difficulty = s.d, updated_at = now()
      FROM (SELECT c2.id, count(k.id)::int AS n,
                   least(coalesce(sum(k.volume), 0), 2147483647)::int AS v,
                   coalesce(round(avg(k.difficulty)), 0)::int AS d
              FROM planner_clusters c2
              LEFT JOIN planner_keywords k ON k.cluster_id = c2.id
             WHERE c2.account_id = ${accountId} AND c2.id IN (${sql.join(
               ids.map((id) => sql`${id}`),
               sql`, `,
             )})
             GROUP BY c2.id) AS s
     WHERE c.id = s.id`);
}

/** Moves keywords to a state: one UPDATE per call; returns how many rows changed. */
export async function setKeywordState(
  db: Db,
  accountId: number,
  ids: number[],
  state: { status: KeywordStatus; cluster_id: number | null },
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db
    .update(planner_keywords)
    .set({ ...state, updated_at: new Date() })
    .where(and(eq(planner_keywords.account_id, accountId), inArray(planner_keywords.id, ids)))
    .returning({ id: planner_keywords.id });
  return rows.length;
}

export async function deleteKeywords(db: Db, accountId: number, ids: number[]): Promise<KeywordRow[]> {
  if (ids.length === 0) return [];
  return db
    .delete(planner_keywords)
    .where(and(eq(planner_keywords.account_id, accountId), inArray(planner_keywords.id, ids)))
    .returning();
}

/** Keywords of a cluster go back to `new` (the cluster is being deleted). */
export async function releaseClusterKeywords(db: Db, accountId: number, clusterId: number): Promise<number> {
  const rows = await db
    .update(planner_keywords)
    .set({ cluster_id: null, status: 'new', updated_at: new Date() })
    .where(and(eq(planner_keywords.account_id, accountId), eq(planner_keywords.cluster_id, clusterId)))
    .returning({ id: planner_keywords.id });
  return rows.length;
}

/** How many keywords the account has. */
export async function countKeywords(db: Db, accountId: number): Promise<number> {
  const [{ current }] = (await db
    .select({ current: count() })
    .from(planner_keywords)
    .where(eq(planner_keywords.account_id, accountId))) as [{ current: number }];
  return Number(current);
}

/** Inserts keywords, skipping ones already there (same site, sector and keyword); returns how many were new. */
export async function insertKeywords(db: Db, rows: NewKeyword[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db.insert(planner_keywords).values(rows).onConflictDoNothing().returning({ id: planner_keywords.id });
  return inserted.length;
}

export interface ClusterKeyword {
  id: number;
  keyword: string;
  volume: number;
  difficulty: number;
}

/** The `new` keywords of one site and sector (optionally only these ids): what auto-clustering works on. */
export async function newKeywords(
  db: Db,
  accountId: number,
  target: { site_id: number; sector_id: number; ids?: number[] },
): Promise<ClusterKeyword[]> {
  return db
    .select({
      id: planner_keywords.id,
      keyword: planner_keywords.keyword,
      volume: planner_keywords.volume,
      difficulty: planner_keywords.difficulty,
    })
    .from(planner_keywords)
    .where(
      and(
        eq(planner_keywords.account_id, accountId),
        eq(planner_keywords.site_id, target.site_id),
        eq(planner_keywords.sector_id, target.sector_id),
        eq(planner_keywords.status, 'new'),
        target.ids ? inArray(planner_keywords.id, target.ids) : undefined,
      ),
    )
    .orderBy(planner_keywords.id);
}

/** Of these ids, the ones still `new` and outside any cluster, locked until the transaction ends. */
export async function lockStillNew(db: Db, accountId: number, ids: number[]): Promise<Set<number>> {
  const still = new Set<number>();
  for (let i = 0; i < ids.length; i += 10_000) {
    const chunk = ids.slice(i, i + 10_000);
    const rows = await queryRows<{ id: number }>(
      db,
      sql`
      SELECT id FROM planner_keywords
       WHERE account_id = ${accountId} AND status = 'new' AND cluster_id IS NULL
         AND id = ANY(${`{${chunk.join(',')}}`}::int[])
       ORDER BY id FOR UPDATE`,
    );
    for (const row of rows) still.add(Number(row.id));
  }
  return still;
}

export interface NewCluster {
  name: string;
  description: string;
  keyword_ids: number[];
  volume: number;
  difficulty: number;
}

/**
 * Creates clusters and maps their keywords (`mapped`), in batches: clusters by multi-row INSERT, keywords by
 * one UPDATE per batch over unnested arrays. Cluster names are unique within one call (each is its seed
 * keyword), which is how the returned ids are matched back.
 */
export async function createClusters(
  db: Db,
  accountId: number,
  target: { site_id: number; sector_id: number },
  clusters: NewCluster[],
): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < clusters.length; i += 1000) {
    const batch = clusters.slice(i, i + 1000);
    const inserted = await db
      .insert(planner_clusters)
      .values(
        batch.map((c) => ({
          account_id: accountId,
          site_id: target.site_id,
          sector_id: target.sector_id,
          name: c.name,
          description: c.description,
          keywords_count: c.keyword_ids.length,
          volume: Math.min(c.volume, 2147483647),
          difficulty: c.difficulty,
        })),
      )
      .returning({ id: planner_clusters.id, name: planner_clusters.name });
    const byName = new Map(inserted.map((row) => [row.name, row.id]));
    const keywordIds: number[] = [];
    const clusterIds: number[] = [];
    for (const cluster of batch) {
      const id = byName.get(cluster.name) as number;
      ids.push(id);
      for (const keywordId of cluster.keyword_ids) {
        keywordIds.push(keywordId);
        clusterIds.push(id);
      }
    }
    await db.execute(sql`
      UPDATE planner_keywords AS k
         SET cluster_id = m.cluster_id, status = 'mapped', updated_at = now()
        FROM unnest(${`{${keywordIds.join(',')}}`}::int[], ${`{${clusterIds.join(',')}}`}::int[]) AS m(id, cluster_id)
       WHERE k.id = m.id AND k.account_id = ${accountId}`);
  }
  return ids;
}

/** A cluster's keywords, highest volume first (what idea generation shows the AI). */
export async function topClusterKeywords(db: Db, accountId: number, clusterId: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ keyword: planner_keywords.keyword })
    .from(planner_keywords)
    .where(and(eq(planner_keywords.account_id, accountId), eq(planner_keywords.cluster_id, clusterId)))
    .orderBy(sql`${planner_keywords.volume} desc`, planner_keywords.id)
    .limit(limit);
  return rows.map((r) => r.keyword);
}

export async function countNewKeywords(
  db: Db,
  accountId: number,
  target: { site_id: number; sector_id: number; ids?: number[] },
): Promise<number> {
  const [{ total }] = (await db
    .select({ total: count() })
    .from(planner_keywords)
    .where(
      and(
        eq(planner_keywords.account_id, accountId),
        eq(planner_keywords.site_id, target.site_id),
        eq(planner_keywords.sector_id, target.sector_id),
        eq(planner_keywords.status, 'new'),
        target.ids ? inArray(planner_keywords.id, target.ids) : undefined,
      ),
    )) as [{ total: number }];
  return Number(total);
}

/** Re-samples the keywords table's statistics (table-wide maintenance, so it takes no account). */
export async function analyzeKeywords(db: Db): Promise<void> {
  await db.execute(sql`analyze planner_keywords`);
}

/** The caller's ideas among `ids` (only their sites' for a site-limited caller), locked for the queueing. */
export function lockIdeas(tx: Db, accountId: number, siteIds: number[] | null, ids: number[]): Promise<IdeaRow[]> {
  const scope = [eq(planner_content_ideas.account_id, accountId), inArray(planner_content_ideas.id, ids)];
  if (siteIds !== null) scope.push(inArray(planner_content_ideas.site_id, siteIds.length > 0 ? siteIds : [-1]));
  return tx
    .select()
    .from(planner_content_ideas)
    .where(and(...scope))
    .orderBy(planner_content_ideas.id)
    .for('update');
}

export type NewIdea = Omit<typeof planner_content_ideas.$inferInsert, 'id' | 'account_id'>;

/** Stores a cluster's ideas; returns their ids. */
export async function insertIdeas(tx: Db, accountId: number, ideas: NewIdea[]): Promise<number[]> {
  const rows = await tx
    .insert(planner_content_ideas)
    .values(ideas.map((idea) => ({ ...idea, account_id: accountId })))
    .returning({ id: planner_content_ideas.id });
  return rows.map((r) => r.id);
}

/** Moves a cluster to `ideas_generated`. */
export async function markIdeasGenerated(tx: Db, accountId: number, clusterId: number): Promise<void> {
  await tx
    .update(planner_clusters)
    .set({ status: 'ideas_generated', updated_at: new Date() })
    .where(and(eq(planner_clusters.id, clusterId), eq(planner_clusters.account_id, accountId)));
}

/**
 * One keyset batch of the account's keywords for the export, by id after `after`: the caller's sites only
 * (`siteIds`; null for every site), then an optional site and sector and the list's filters.
 */
export function keywordsAfter(
  db: Db,
  accountId: number,
  scope: { siteIds: number[] | null; siteId?: number; sectorId?: number; filters: SQL[] },
  after: number,
  limit: number,
) {
  const where = [eq(planner_keywords.account_id, accountId), ...scope.filters];
  if (scope.siteIds !== null) {
    where.push(scope.siteIds.length > 0 ? inArray(planner_keywords.site_id, scope.siteIds) : eq(planner_keywords.id, -1));
  }
  if (scope.siteId !== undefined) where.push(eq(planner_keywords.site_id, scope.siteId));
  if (scope.sectorId !== undefined) where.push(eq(planner_keywords.sector_id, scope.sectorId));
  return db
    .select()
    .from(planner_keywords)
    .where(and(...where, gt(planner_keywords.id, after)))
    .orderBy(asc(planner_keywords.id))
    .limit(limit);
}

/** `queued` → `completed`, once the writer stored its article; an idea moved elsewhere meanwhile stays. */
export async function completeQueuedIdea(tx: Db, accountId: number, id: number): Promise<boolean> {
  const rows = await tx
    .update(planner_content_ideas)
    .set({ status: 'completed', updated_at: new Date() })
    .where(
      and(
        eq(planner_content_ideas.account_id, accountId),
        eq(planner_content_ideas.id, id),
        eq(planner_content_ideas.status, 'queued'),
      ),
    )
    .returning({ id: planner_content_ideas.id });
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------------------
// What a site's automation run picks up next (planner.pipeline.service.ts)

/** The site's `new` keywords, highest volume first. */
export function siteNewKeywords(db: Db, accountId: number, siteId: number, limit: number) {
  return db
    .select({ id: planner_keywords.id, sector_id: planner_keywords.sector_id })
    .from(planner_keywords)
    .where(
      and(eq(planner_keywords.account_id, accountId), eq(planner_keywords.site_id, siteId), eq(planner_keywords.status, 'new')),
    )
    .orderBy(sql`${planner_keywords.volume} desc`, planner_keywords.id)
    .limit(limit);
}

/** The site's clusters still `new` (no ideas generated), oldest first. */
export async function siteNewClusters(db: Db, accountId: number, siteId: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: planner_clusters.id })
    .from(planner_clusters)
    .where(
      and(eq(planner_clusters.account_id, accountId), eq(planner_clusters.site_id, siteId), eq(planner_clusters.status, 'new')),
    )
    .orderBy(planner_clusters.id)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** The site's `new` content ideas, oldest first. */
export async function siteNewIdeas(db: Db, accountId: number, siteId: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: planner_content_ideas.id })
    .from(planner_content_ideas)
    .where(
      and(
        eq(planner_content_ideas.account_id, accountId),
        eq(planner_content_ideas.site_id, siteId),
        eq(planner_content_ideas.status, 'new'),
      ),
    )
    .orderBy(planner_content_ideas.id)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Of these ideas, the ones still `new`. */
export async function siteNewIdeasAmong(db: Db, accountId: number, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: planner_content_ideas.id })
    .from(planner_content_ideas)
    .where(
      and(
        eq(planner_content_ideas.account_id, accountId),
        inArray(planner_content_ideas.id, ids),
        eq(planner_content_ideas.status, 'new'),
      ),
    );
  return rows.map((r) => r.id);
}
