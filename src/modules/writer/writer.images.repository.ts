import { and, eq, inArray, ne, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import type { SiteLimit } from './writer.repository.js';
import { IMAGE_STATUSES, IMAGE_TYPES, type ImageStatus, type Provenance, writer_images } from './writer.tables.js';

/**
 * The writer's image queries. Every function takes the account id first; callers limited to some sites pass
 * them (`siteIds`; null or absent means every site of the account).
 */

export type ImageRow = typeof writer_images.$inferSelect;
export type NewImage = Omit<typeof writer_images.$inferInsert, 'id' | 'account_id' | 'created_at' | 'updated_at'>;

/** How long an image may stay `generating` before it counts as abandoned (its task died without a retry). */
export const GENERATING_STALE_MINUTES = 30;

export const IMAGE_LIST: ListSpec = {
  filters: {
    content_id: { column: writer_images.content_id, kind: 'integer', in: true },
    status: { column: writer_images.status, kind: 'string', values: IMAGE_STATUSES, in: true },
    image_type: { column: writer_images.image_type, kind: 'string', values: IMAGE_TYPES, in: true },
  },
  search: [writer_images.prompt, writer_images.alt_text],
  ordering: {
    content_id: writer_images.content_id,
    position: writer_images.position,
    status: writer_images.status,
    created_at: writer_images.created_at,
  },
  // An article's images read in their order in it: the featured one, then in section order.
  defaultOrdering: 'content_id,position',
};

function reachable(column: PgColumn, siteIds: SiteLimit | undefined): SQL | undefined {
  if (siteIds === null || siteIds === undefined) return undefined;
  return siteIds.length > 0 ? inArray(column, siteIds) : sql`false`;
}

const own = (accountId: number, siteIds?: SiteLimit) =>
  and(eq(writer_images.account_id, accountId), reachable(writer_images.site_id, siteIds));

export function listImages(
  db: Db,
  accountId: number,
  siteIds: SiteLimit,
  query: ListQuery & { site_id?: number; sector_id?: number },
) {
  const { site_id: siteId, sector_id: sectorId, ...rest } = query;
  const where = [own(accountId, siteIds) as SQL];
  if (siteId !== undefined) where.push(eq(writer_images.site_id, siteId));
  if (sectorId !== undefined) where.push(eq(writer_images.sector_id, sectorId));
  return runList<ImageRow>({
    db,
    table: writer_images,
    idColumn: writer_images.id,
    where,
    spec: IMAGE_LIST,
    query: rest,
    map: (row) => row as ImageRow,
    accountId,
  });
}

export async function imageById(db: Db, accountId: number, id: number, siteIds?: SiteLimit, lock = false) {
  const query = db
    .select()
    .from(writer_images)
    .where(and(own(accountId, siteIds), eq(writer_images.id, id)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** The caller's images among `ids`, by id (locked for the transaction when `lock`). */
export async function imagesByIds(db: Db, accountId: number, ids: number[], siteIds?: SiteLimit, lock = false) {
  if (ids.length === 0) return [];
  const query = db
    .select()
    .from(writer_images)
    .where(and(own(accountId, siteIds), inArray(writer_images.id, ids)))
    .orderBy(writer_images.content_id, writer_images.position, writer_images.id);
  return lock ? query.for('update') : query;
}

export function imagesOfContent(db: Db, accountId: number, contentId: number): Promise<ImageRow[]> {
  return db
    .select()
    .from(writer_images)
    .where(and(own(accountId), eq(writer_images.content_id, contentId)))
    .orderBy(writer_images.position, writer_images.id);
}

/**
 * An article's new prompts replace its `pending` ones (never generated, so nothing of them is lost); generated,
 * generating and failed images stay. Returns the new rows in position order.
 */
export async function replacePendingImages(tx: Db, accountId: number, contentId: number, images: NewImage[]) {
  const removed = await tx
    .delete(writer_images)
    .where(and(own(accountId), eq(writer_images.content_id, contentId), eq(writer_images.status, 'pending')))
    .returning({ id: writer_images.id });
  const rows =
    images.length === 0
      ? []
      : await tx
          .insert(writer_images)
          .values(images.map((image) => ({ ...image, account_id: accountId })))
          .returning();
  return { removed: removed.map((r) => r.id), rows };
}

export async function updateImage(tx: Db, accountId: number, id: number, changes: Partial<NewImage>) {
  const [row] = await tx
    .update(writer_images)
    .set({ ...changes, updated_at: new Date() })
    .where(and(own(accountId), eq(writer_images.id, id)))
    .returning();
  return row ?? null;
}

export async function deleteImage(tx: Db, accountId: number, id: number): Promise<void> {
  await tx.delete(writer_images).where(and(own(accountId), eq(writer_images.id, id)));
}

/**
 * Files no image names any more (the trigger of migration 0004 records them), oldest first. Not per account on
 * purpose: the purge is the platform's housekeeping, and a key names nothing of a tenant's but random bytes.
 */
/** Whether an image may be (re)generated now: never generated, failed, or `generating` long abandoned. */
export function canGenerate(row: Pick<ImageRow, 'status' | 'updated_at'>, now = new Date()): boolean {
  if (row.status === 'pending' || row.status === 'failed') return true;
  return row.status === 'generating' && now.getTime() - row.updated_at.getTime() > GENERATING_STALE_MINUTES * 60_000;
}

/** Marks images `generating` for a task, clearing an earlier failure. */
export async function markGenerating(tx: Db, accountId: number, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(writer_images)
    .set({ status: 'generating', error: null, updated_at: new Date() })
    .where(and(own(accountId), inArray(writer_images.id, ids)));
}

/**
 * Gives images a task left `generating` back to a state a person can act on (cancelled: `pending`; failed:
 * `failed` with the reason), so none is stuck.
 */
export async function releaseGenerating(
  db: Db,
  accountId: number,
  ids: number[],
  to: Extract<ImageStatus, 'pending' | 'failed'>,
  error: string | null,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(writer_images)
    .set({ status: to, error, updated_at: new Date() })
    .where(and(own(accountId), inArray(writer_images.id, ids), eq(writer_images.status, 'generating')));
}

export interface StoredImageFields {
  storage_key: string;
  url: string;
  mime_type: string;
  bytes: number;
  width: number;
  height: number;
  provenance: Provenance;
}

/** The stored file, on the image that asked for it, unless it was generated (or deleted) meanwhile. */
export async function markGenerated(tx: Db, accountId: number, id: number, fields: StoredImageFields) {
  const [row] = await tx
    .update(writer_images)
    .set({ ...fields, status: 'generated', error: null, updated_at: new Date() })
    .where(and(own(accountId), eq(writer_images.id, id), ne(writer_images.status, 'generated')))
    .returning();
  return row ?? null;
}
