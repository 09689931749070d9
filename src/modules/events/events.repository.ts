import { and, asc, desc, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../core/db.js';
import { events_events } from '../../core/events.tables.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';

export const EVENT_LIST: ListSpec = {
  cursor: true,
  // Page and offset styles too: newest first, by id (the order of the cursor pages).
  defaultOrdering: '-id',
  filters: {
    type: { column: events_events.type, kind: 'string', in: true },
    source_agent: { column: events_events.source_agent, kind: 'string' },
    object_type: { column: events_events.object_type, kind: 'string' },
    object_id: { column: events_events.object_id, kind: 'integer' },
  },
};

/** An event as the feed, the stream and a webhook's `data` show it. */
export const EVENT_WIRE = {
  id: events_events.id,
  site_id: events_events.site_id,
  type: events_events.type,
  source_agent: events_events.source_agent,
  actor_id: events_events.actor_id,
  object_type: events_events.object_type,
  object_id: events_events.object_id,
  payload: events_events.payload,
  created_at: events_events.created_at,
};
export type WireEvent = { [K in keyof typeof EVENT_WIRE]: (typeof events_events.$inferSelect)[K] };

/**
 * The events a caller limited to some sites (`siteIds`; null means every site) may see: those of their sites
 * only. Account-wide events (site_id null: members, keys, billing) are hidden from them too, the safe choice.
 */
function reachable(siteIds: number[] | null): SQL[] {
  if (siteIds === null) return [];
  return [siteIds.length > 0 ? inArray(events_events.site_id, siteIds) : sql`false`];
}

/**
 * One page of the account's events, newest first by id (index `(account_id, id)`, or `(account_id, site_id,
 * id)` for a site-limited caller; the cursor is the last id).
 */
export function listEvents(db: Db, accountId: number, siteIds: number[] | null, query: ListQuery) {
  return runList<WireEvent>({
    db,
    table: events_events,
    idColumn: events_events.id,
    select: EVENT_WIRE,
    where: [eq(events_events.account_id, accountId), ...reachable(siteIds)],
    spec: EVENT_LIST,
    query,
    accountId,
  });
}

/**
 * The account's events after `after`, oldest first, with the bounds of the snapshot they were read in (its xmin
 * and xmax, and the highest event id it sees), which the stream needs to tell which rows are final
 * (events.stream.service.ts).
 */
export function streamBatch(db: Db, accountId: number, siteIds: number[] | null, filters: SQL[], after: number, limit: number) {
  return db.transaction(
    async (tx) => {
      const [bounds] = await queryRows<{ xmin: string; xmax: string; top: number | null }>(
        tx,
        sql`
        SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax,
               (SELECT max(id) FROM events_events) AS top
          FROM pg_current_snapshot() AS s`,
      );
      const rows: WireEvent[] = await tx
        .select(EVENT_WIRE)
        .from(events_events)
        .where(and(eq(events_events.account_id, accountId), gt(events_events.id, after), ...reachable(siteIds), ...filters))
        .orderBy(asc(events_events.id))
        .limit(limit);
      return { rows, xmin: BigInt(bounds?.xmin ?? 0), xmax: BigInt(bounds?.xmax ?? 0), top: Number(bounds?.top ?? 0) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** The id of the account's newest event the caller may see, 0 when there is none. */
export async function newestEventId(db: Db, accountId: number, siteIds: number[] | null): Promise<number> {
  const [row] = await db
    .select({ id: events_events.id })
    .from(events_events)
    .where(and(eq(events_events.account_id, accountId), ...reachable(siteIds)))
    .orderBy(desc(events_events.id))
    .limit(1);
  return row?.id ?? 0;
}
