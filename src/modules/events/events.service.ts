import type { Db } from '../../core/db.js';
import type { ListQuery } from '../../core/lists.js';
import type { RequestContext } from '../../core/tenancy.js';
import { listEvents } from './events.repository.js';

// `page_size` alone keeps the cursor style: it sets the size, not the style.
const PAGING = ['page', 'limit', 'offset', 'cursor'];

export function createEventsService(deps: { db: Db }) {
  return {
    /**
     * The feed grows without end, so with no pagination asked for it answers the first cursor page: a page
     * costs the same at any length (no count over the whole log). Page and offset styles still work.
     */
    list(ctx: RequestContext & { accountId: number }, query: ListQuery) {
      const paged = PAGING.some((k) => query[k] !== undefined);
      return listEvents(deps.db, ctx.accountId, ctx.siteIds, paged ? query : { ...query, cursor: '' });
    },
  };
}
export type EventsService = ReturnType<typeof createEventsService>;
