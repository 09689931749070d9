import { randomBytes } from 'node:crypto';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import {
  PUBLISH_DESTINATIONS,
  PUBLISHING_STATUSES,
  type PublishDestination,
  type PublishingStatus,
  publisher_records,
  type RemotePostStatus,
} from './publisher.tables.js';

/** The publisher's queries on its publishing records. Every function takes the account id first. */

export type RecordRow = typeof publisher_records.$inferSelect;
export type SiteLimit = number[] | null | undefined;

export const RECORD_LIST: ListSpec = {
  filters: {
    content_id: { column: publisher_records.content_id, kind: 'integer', in: true },
    site_id: { column: publisher_records.site_id, kind: 'integer' },
    status: { column: publisher_records.status, kind: 'string', values: PUBLISHING_STATUSES, in: true },
    destination: { column: publisher_records.destination, kind: 'string', values: PUBLISH_DESTINATIONS },
  },
  ordering: {
    created_at: publisher_records.created_at,
    updated_at: publisher_records.updated_at,
    published_at: publisher_records.published_at,
    status: publisher_records.status,
  },
};

function reachable(siteIds: SiteLimit): SQL | undefined {
  if (siteIds === null || siteIds === undefined) return undefined;
  return siteIds.length > 0 ? inArray(publisher_records.site_id, siteIds) : sql`false`;
}

const own = (accountId: number, siteIds?: SiteLimit) =>
  and(eq(publisher_records.account_id, accountId), reachable(siteIds)) as SQL;

export function listRecords(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery) {
  return runList<RecordRow>({
    db,
    table: publisher_records,
    idColumn: publisher_records.id,
    where: [own(accountId, siteIds)],
    spec: RECORD_LIST,
    query,
    // Only this table's columns decide the page: its count may be remembered until its rows change.
    accountId,
  });
}

export async function recordById(db: Db, accountId: number, id: number, siteIds?: SiteLimit, lock = false) {
  const query = db
    .select()
    .from(publisher_records)
    .where(and(own(accountId, siteIds), eq(publisher_records.id, id)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** The records of these articles for one destination, locked for the caller's transaction. */
export async function recordsOfContent(tx: Db, accountId: number, contentIds: number[], destination: PublishDestination) {
  if (contentIds.length === 0) return [];
  return tx
    .select()
    .from(publisher_records)
    .where(and(own(accountId), inArray(publisher_records.content_id, contentIds), eq(publisher_records.destination, destination)))
    .for('update');
}

export interface QueuedPublication {
  site_id: number;
  content_id: number;
  destination: PublishDestination;
  remote_status: RemotePostStatus;
  scheduled_for: Date | null;
}

/**
 * One record per article and destination: a new one, or the existing one (its remote post id and media kept)
 * back to `pending` for the task that will publish it.
 */
export async function queueRecords(
  tx: Db,
  accountId: number,
  items: QueuedPublication[],
  taskId: number | null,
): Promise<RecordRow[]> {
  if (items.length === 0) return [];
  return tx
    .insert(publisher_records)
    .values(
      items.map((item) => ({
        ...item,
        account_id: accountId,
        status: 'pending' as const,
        task_id: taskId,
        remote_token: randomBytes(8).toString('hex'),
      })),
    )
    .onConflictDoUpdate({
      target: [publisher_records.content_id, publisher_records.destination],
      set: {
        status: 'pending',
        remote_status: sql`excluded.remote_status`,
        scheduled_for: sql`excluded.scheduled_for`,
        task_id: taskId,
        error: null,
        remote_token: sql`coalesce(${publisher_records.remote_token}, excluded.remote_token)`,
        updated_at: sql`now()`,
      },
    })
    .returning();
}

/** The task that publishes these records (made after them: its payload names them). */
export async function setTask(tx: Db, accountId: number, ids: number[], taskId: number): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(publisher_records)
    .set({ task_id: taskId })
    .where(and(own(accountId), inArray(publisher_records.id, ids)));
}

/** Takes a record for a job run: `publishing`, one more attempt; null when it is not waiting to be published. */
export async function claimRecord(db: Db, accountId: number, id: number, taskId: number | null): Promise<RecordRow | null> {
  const [row] = await db
    .update(publisher_records)
    .set({ status: 'publishing', attempts: sql`${publisher_records.attempts} + 1`, updated_at: sql`now()` })
    .where(
      and(
        own(accountId),
        eq(publisher_records.id, id),
        inArray(publisher_records.status, ['pending', 'publishing']),
        // A task works only on the records it was given: a later publish of the same article has its own task.
        taskId === null ? undefined : eq(publisher_records.task_id, taskId),
      ),
    )
    .returning();
  return row ?? null;
}

export type RecordChanges = Partial<
  Pick<
    RecordRow,
    'status' | 'external_id' | 'external_url' | 'error' | 'published_at' | 'task_id' | 'remote_status' | 'scheduled_for'
  >
>;

export async function updateRecord(db: Db, accountId: number, id: number, changes: RecordChanges): Promise<RecordRow> {
  const [row] = await db
    .update(publisher_records)
    .set({ ...changes, updated_at: sql`now()` })
    .where(and(own(accountId), eq(publisher_records.id, id)))
    .returning();
  if (!row) throw new Error(`publishing record ${id} vanished`);
  return row;
}

/** Remembers (or, with null, forgets) the media item WordPress holds for one of our images, at once. */
export async function setRemoteMedia(
  db: Db,
  accountId: number,
  id: number,
  imageId: number,
  media: { id: number; url: string } | null,
): Promise<void> {
  const key = String(imageId);
  await db
    .update(publisher_records)
    .set({
      remote_media:
        media === null
          ? sql`${publisher_records.remote_media} - ${key}::text`
          : sql`${publisher_records.remote_media} || jsonb_build_object(${key}::text, ${JSON.stringify(media)}::jsonb)`,
      updated_at: sql`now()`,
    })
    .where(and(own(accountId), eq(publisher_records.id, id)));
}

export const IN_FLIGHT: readonly PublishingStatus[] = ['pending', 'publishing'];
