import type { SQL } from 'drizzle-orm';
import type { Changes } from '../../core/changes.js';
import type { Db } from '../../core/db.js';
import { events_events } from '../../core/events.tables.js';
import { type ListQuery, listConditions } from '../../core/lists.js';
import type { RequestContext } from '../../core/tenancy.js';
import { EVENT_LIST, newestEventId, streamBatch, type WireEvent } from './events.repository.js';

type Ctx = RequestContext & { accountId: number };

const BATCH = 500;
/** While rows wait for an older transaction to end, how often the stream looks again. */
const SETTLE_POLL_MS = 50;

/**
 * The account's events as they commit, for `events/stream/`, resumable by event id.
 *
 * Ids are taken when a row is inserted, not when it commits, so a transaction still open may yet commit an id
 * below one already visible; a stream that moved its cursor past it would never send it. So every read also takes
 * its snapshot's bounds and the highest id visible: once every transaction open at that snapshot has ended (a
 * later snapshot's xmin reaches its xmax), no lower id can appear any more, and rows up to that highest id are
 * final. Only final rows are sent. On PGlite (one connection, transactions one after another) every read is final
 * at once; on Postgres, rows wait at most as long as the transactions that were open beside them.
 *
 * New events are heard through the change notifications (core/changes.ts: the events table's trigger notifies per
 * account when a write commits, in whichever process), so a stream follows writes made by any process.
 */
export function createEventsStream(deps: { db: Db; changes: Pick<Changes, 'on'>; heartbeatMs: number }) {
  const { db } = deps;

  return {
    heartbeatMs: deps.heartbeatMs,

    /** The conditions of the feed's filters (`type`, `type__in`, `source_agent`, ...); field errors for bad values. */
    filters(query: ListQuery): SQL[] {
      return listConditions(EVENT_LIST, query, events_events);
    },

    /** Where a stream with no Last-Event-ID starts: after the account's newest event now. */
    latestId(ctx: Ctx): Promise<number> {
      return newestEventId(db, ctx.accountId, ctx.siteIds);
    },

    /**
     * The events after `from`, in id order, then each one as it commits; `null` when a heartbeat is due. Ends when
     * `signal` aborts (the client left).
     */
    async *follow(ctx: Ctx, filters: SQL[], from: number, signal: AbortSignal): AsyncGenerator<WireEvent | null> {
      let cursor = from;
      // Rows up to `final` can no longer be joined by a lower id; checkpoints wait for their snapshot's
      // transactions to end.
      let final = 0;
      const checkpoints: { xmax: bigint; top: number }[] = [];
      let heard = false;
      const off = deps.changes.on('events_events', (accounts) => {
        if (accounts === null || accounts.includes(ctx.accountId)) wakeUp();
      });
      let wakeUp: () => void = () => {
        heard = true;
      };
      let lastBeat = Date.now();
      try {
        while (!signal.aborted) {
          heard = false;
          const { rows, xmin, xmax, top } = await streamBatch(db, ctx.accountId, ctx.siteIds, filters, cursor, BATCH);
          if (xmin === xmax) final = Math.max(final, top);
          else if (checkpoints.at(-1)?.xmax === xmax) (checkpoints.at(-1) as { top: number }).top = top;
          else checkpoints.push({ xmax, top });
          for (let i = checkpoints.length - 1; i >= 0; i--) {
            const checkpoint = checkpoints[i] as { xmax: bigint; top: number };
            if (xmin >= checkpoint.xmax) {
              final = Math.max(final, checkpoint.top);
              checkpoints.splice(i, 1);
            }
          }
          let held = false;
          for (const row of rows) {
            if (row.id > final) {
              held = true;
              break;
            }
            cursor = row.id;
            yield row;
            if (signal.aborted) return;
          }
          if (!held && rows.length === BATCH) continue;
          const wait = held ? SETTLE_POLL_MS : Math.max(0, deps.heartbeatMs - (Date.now() - lastBeat));
          if (!heard) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(done, wait);
              signal.addEventListener('abort', done, { once: true });
              wakeUp = done;
              function done() {
                clearTimeout(timer);
                signal.removeEventListener('abort', done);
                wakeUp = () => {
                  heard = true;
                };
                resolve();
              }
            });
          }
          if (Date.now() - lastBeat >= deps.heartbeatMs) {
            lastBeat = Date.now();
            yield null;
          }
        }
      } finally {
        off();
      }
    },
  };
}
export type EventsStream = ReturnType<typeof createEventsStream>;
