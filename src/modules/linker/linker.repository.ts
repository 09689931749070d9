import { and, eq, gt, inArray, ne, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { LINK_STATUSES, type LinkStatus, linker_links } from './linker.tables.js';

/** Linker queries: every function takes the account id first; callers limited to some sites pass them. */

export type LinkRow = typeof linker_links.$inferSelect;
export type NewLink = Omit<typeof linker_links.$inferInsert, 'id' | 'account_id' | 'created_at' | 'updated_at'>;
type SiteLimit = number[] | null | undefined;

const reachable = (siteIds: SiteLimit): SQL | undefined =>
  siteIds == null ? undefined : siteIds.length === 0 ? sql`false` : inArray(linker_links.site_id, siteIds);

export const LINK_LIST: ListSpec = {
  filters: {
    status: { column: linker_links.status, kind: 'string', values: LINK_STATUSES, in: true },
    source_id: { column: linker_links.source_id, kind: 'integer', in: true },
    target_id: { column: linker_links.target_id, kind: 'integer', in: true },
    site_id: { column: linker_links.site_id, kind: 'integer' },
    sector_id: { column: linker_links.sector_id, kind: 'integer' },
    task_id: { column: linker_links.task_id, kind: 'integer' },
  },
  search: [linker_links.anchor],
  ordering: {
    created_at: linker_links.created_at,
    updated_at: linker_links.updated_at,
    score: linker_links.score,
    anchor_offset: linker_links.anchor_offset,
  },
};

export function listLinks(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery) {
  const where = [eq(linker_links.account_id, accountId)];
  const limit = reachable(siteIds);
  return runList<LinkRow>({
    db,
    table: linker_links,
    idColumn: linker_links.id,
    where: limit ? [...where, limit] : where,
    spec: LINK_LIST,
    query,
    accountId,
  });
}

export async function linkById(db: Db, accountId: number, id: number, siteIds: SiteLimit, lock = false): Promise<LinkRow | null> {
  const query = db
    .select()
    .from(linker_links)
    .where(and(eq(linker_links.account_id, accountId), eq(linker_links.id, id), reachable(siteIds)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** Every link of these sources, whatever its status. */
export function linksOfSource(db: Db, accountId: number, sourceId: number): Promise<LinkRow[]> {
  return db
    .select()
    .from(linker_links)
    .where(and(eq(linker_links.account_id, accountId), eq(linker_links.source_id, sourceId)))
    .orderBy(linker_links.id);
}

/** Inserts links; one already there for a (source, target) is left as it is. Returns those inserted. */
export async function insertLinks(tx: Db, accountId: number, links: NewLink[]): Promise<LinkRow[]> {
  if (links.length === 0) return [];
  return tx
    .insert(linker_links)
    .values(links.map((l) => ({ ...l, account_id: accountId })))
    .onConflictDoNothing({ target: [linker_links.source_id, linker_links.target_id] })
    .returning();
}

export async function decideLink(
  tx: Db,
  accountId: number,
  id: number,
  status: LinkStatus,
  by: { userId: number | null; appliedVersion?: number },
): Promise<LinkRow> {
  const [row] = await tx
    .update(linker_links)
    .set({
      status,
      decided_by_id: by.userId,
      ...(status === 'applied' ? { applied_at: new Date(), applied_version: by.appliedVersion ?? null } : {}),
      updated_at: new Date(),
    })
    .where(and(eq(linker_links.account_id, accountId), eq(linker_links.id, id)))
    .returning();
  if (!row) throw new Error(`Link ${id} vanished while being decided`);
  return row;
}

/**
 * After `by` characters were inserted at `at` in a source's html, its other suggestions past that point move
 * by as much, so they still name where their anchor text is.
 */
export async function shiftSuggestions(tx: Db, accountId: number, sourceId: number, at: number, by: number, exceptId: number) {
  await tx
    .update(linker_links)
    .set({ anchor_offset: sql`${linker_links.anchor_offset} + ${by}` })
    .where(
      and(
        eq(linker_links.account_id, accountId),
        eq(linker_links.source_id, sourceId),
        eq(linker_links.status, 'suggested'),
        gt(linker_links.anchor_offset, at - 1),
        ne(linker_links.id, exceptId),
      ),
    );
}

/** Suggestions still waiting, per source article of a site. */
export async function suggestedCounts(db: Db, accountId: number, siteId: number): Promise<Map<number, number>> {
  const rows = await db
    .select({ source_id: linker_links.source_id, n: sql<number>`count(*)::int` })
    .from(linker_links)
    .where(and(eq(linker_links.account_id, accountId), eq(linker_links.site_id, siteId), eq(linker_links.status, 'suggested')))
    .groupBy(linker_links.source_id);
  return new Map(rows.map((r) => [r.source_id, Number(r.n)]));
}
