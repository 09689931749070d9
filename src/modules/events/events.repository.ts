import { eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
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

const WIRE = {
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
  return runList<Pick<typeof events_events.$inferSelect, keyof typeof WIRE>>({
    db,
    table: events_events,
    idColumn: events_events.id,
    select: WIRE,
    where: [eq(events_events.account_id, accountId), ...reachable(siteIds)],
    spec: EVENT_LIST,
    query,
    accountId,
  });
}
