import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { events_events } from './events.tables.js';

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
  type: events_events.type,
  source_agent: events_events.source_agent,
  actor_id: events_events.actor_id,
  object_type: events_events.object_type,
  object_id: events_events.object_id,
  payload: events_events.payload,
  created_at: events_events.created_at,
};

/** One page of the account's events, newest first by id (index `(account_id, id)`; the cursor is the last id). */
export function listEvents(db: Db, accountId: number, query: ListQuery, link: { request: FastifyRequest; baseUrl: string }) {
  return runList({
    db,
    table: events_events,
    idColumn: events_events.id,
    select: WIRE,
    where: [eq(events_events.account_id, accountId)],
    spec: EVENT_LIST,
    query,
    request: link.request,
    baseUrl: link.baseUrl,
  });
}
