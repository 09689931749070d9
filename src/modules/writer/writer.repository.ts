import { and, eq, getTableColumns, inArray, ne, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../core/db.js';
import { AppError, fieldError } from '../../core/errors.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { countWords, SLUG_MAX, sanitizeArticleHtml, slugify } from './writer.html.js';
import {
  CONTENT_SOURCES,
  CONTENT_STATUSES,
  WRITER_TASK_STATUSES,
  type WriterTaskStatus,
  writer_content,
  writer_content_versions,
  writer_images,
  writer_tasks,
} from './writer.tables.js';

/**
 * Writer queries. Every function takes the account id first; callers limited to some sites pass them
 * (`siteIds`; null or absent means every site of the account), as the planner's repository does.
 *
 * `insertContent` and `reviseContent` are the only ways an article's text is written: they sanitise `html`,
 * count `word_count` from it, keep `slug` unique per site and keep every previous text as a version, so no
 * path (a person's edit, the model's answer, an import, a restore) can store unsanitised HTML or lose a text.
 */

export type ContentRow = typeof writer_content.$inferSelect;
export type WriterTaskRow = typeof writer_tasks.$inferSelect;
export type ContentVersionRow = typeof writer_content_versions.$inferSelect;
/** The text fields a version keeps. */
export type ContentText = Pick<
  ContentRow,
  'title' | 'html' | 'meta_title' | 'meta_description' | 'slug' | 'primary_keyword' | 'secondary_keywords'
>;
export type VersionReason = 'edit' | 'restore' | 'override' | 'generated' | 'images' | 'links' | 'optimized' | 'imported';

/** `null` (or absent) means every site of the account. */
export type SiteLimit = number[] | null;

/** What a new article is made of; `slug` defaults to the title's, `word_count` and `version` are derived. */
export type NewContentInput = Omit<
  typeof writer_content.$inferInsert,
  'id' | 'account_id' | 'word_count' | 'version' | 'slug' | 'created_at' | 'updated_at'
> & { slug?: string | null };

/**
 * What `reviseContent` may change: the text fields (each change of one makes a version) and the article's
 * other fields (which do not).
 */
export type ContentChanges = Partial<ContentText> &
  Partial<
    Pick<
      ContentRow,
      | 'featured_image_id'
      | 'categories'
      | 'tags'
      | 'status'
      | 'cluster_id'
      | 'submitted_at'
      | 'reviewed_by_id'
      | 'reviewed_at'
      | 'review_note'
      | 'external_id'
      | 'external_url'
      | 'provenance'
    >
  >;

export interface RevisionBy {
  /** The person making the change (null for the system's own work); kept on the version it retires. */
  userId: number | null;
  reason: VersionReason;
  /** The version the caller read: another one is current → 412 precondition_failed, nothing changes. */
  expectedVersion?: number;
  /**
   * A slug already used on the site: `suffix` makes it unique (`-2`, `-3`…, the default, for slugs made from
   * titles or restored), `error` answers a 400 on `slug` (a person asked for exactly that slug).
   */
  slugTaken?: 'suffix' | 'error';
}

export const TEXT_FIELDS = [
  'title',
  'html',
  'meta_title',
  'meta_description',
  'slug',
  'primary_keyword',
  'secondary_keywords',
] as const satisfies readonly (keyof ContentText)[];

function reachable(column: PgColumn, siteIds: SiteLimit | undefined): SQL | undefined {
  if (siteIds === null || siteIds === undefined) return undefined;
  return siteIds.length > 0 ? inArray(column, siteIds) : sql`false`;
}
const optional = (condition: SQL | undefined): SQL[] => (condition ? [condition] : []);

/**
 * The site of an event about these rows: theirs when they share one, else null (account-wide, seen only by
 * callers who reach every site).
 */
export function soleSite(rows: { site_id: number }[]): number | null {
  const first = rows[0]?.site_id ?? null;
  return rows.every((r) => r.site_id === first) ? first : null;
}

// ---------------------------------------------------------------------------------------------------------
// Tasks

export const TASK_LIST: ListSpec = {
  filters: {
    status: { column: writer_tasks.status, kind: 'string', values: WRITER_TASK_STATUSES, in: true },
    cluster_id: { column: writer_tasks.cluster_id, kind: 'integer', in: true, nullable: true },
    idea_id: { column: writer_tasks.idea_id, kind: 'integer', in: true, nullable: true },
    site_id: { column: writer_tasks.site_id, kind: 'integer' },
    sector_id: { column: writer_tasks.sector_id, kind: 'integer' },
  },
  search: [writer_tasks.title],
  ordering: {
    created_at: writer_tasks.created_at,
    updated_at: writer_tasks.updated_at,
    title: writer_tasks.title,
    status: writer_tasks.status,
    word_count_target: writer_tasks.word_count_target,
  },
};

export function listTasks(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery) {
  return runList<WriterTaskRow>({
    db,
    table: writer_tasks,
    idColumn: writer_tasks.id,
    where: [eq(writer_tasks.account_id, accountId), ...optional(reachable(writer_tasks.site_id, siteIds))],
    spec: TASK_LIST,
    query,
    accountId,
  });
}

export type NewTask = Omit<typeof writer_tasks.$inferInsert, 'id' | 'account_id' | 'created_at' | 'updated_at'>;

export async function insertTasks(tx: Db, accountId: number, tasks: NewTask[]): Promise<WriterTaskRow[]> {
  if (tasks.length === 0) return [];
  return tx
    .insert(writer_tasks)
    .values(tasks.map((task) => ({ ...task, account_id: accountId })))
    .returning();
}

export type TaskChanges = Partial<Omit<NewTask, 'site_id' | 'sector_id'>>;

export async function updateTask(tx: Db, accountId: number, id: number, changes: TaskChanges): Promise<WriterTaskRow> {
  const [row] = await tx
    .update(writer_tasks)
    .set({ ...changes, updated_at: new Date() })
    .where(and(eq(writer_tasks.account_id, accountId), eq(writer_tasks.id, id)))
    .returning();
  if (!row) throw new AppError('not_found', 'Writer task not found.');
  return row;
}

/**
 * Moves a task from one of `from` to `to` (with the error or article that goes with it), in one UPDATE that
 * checks the status it moves from: the row it returns is null when the task was not in one of them (a job
 * and a person racing, or a retried job finding its work done).
 */
export async function moveTask(
  tx: Db,
  accountId: number,
  id: number,
  from: readonly WriterTaskStatus[],
  to: WriterTaskStatus,
  extra: { error?: string | null; content_id?: number | null } = {},
): Promise<WriterTaskRow | null> {
  const [row] = await tx
    .update(writer_tasks)
    .set({ ...extra, status: to, updated_at: new Date() })
    .where(and(eq(writer_tasks.account_id, accountId), eq(writer_tasks.id, id), inArray(writer_tasks.status, [...from])))
    .returning();
  return row ?? null;
}

export async function deleteTasks(tx: Db, accountId: number, ids: number[]): Promise<WriterTaskRow[]> {
  if (ids.length === 0) return [];
  return tx
    .delete(writer_tasks)
    .where(and(eq(writer_tasks.account_id, accountId), inArray(writer_tasks.id, ids)))
    .returning();
}

export async function writerTaskById(
  db: Db,
  accountId: number,
  id: number,
  siteIds?: SiteLimit,
  lock = false,
): Promise<WriterTaskRow | null> {
  const query = db
    .select()
    .from(writer_tasks)
    .where(and(eq(writer_tasks.account_id, accountId), eq(writer_tasks.id, id), reachable(writer_tasks.site_id, siteIds)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** The caller's tasks among `ids`, by id (locked for the transaction when `lock`). */
export async function writerTasksByIds(
  db: Db,
  accountId: number,
  ids: number[],
  siteIds?: SiteLimit,
  lock = false,
): Promise<WriterTaskRow[]> {
  if (ids.length === 0) return [];
  const query = db
    .select()
    .from(writer_tasks)
    .where(and(eq(writer_tasks.account_id, accountId), inArray(writer_tasks.id, ids), reachable(writer_tasks.site_id, siteIds)))
    .orderBy(writer_tasks.id);
  return lock ? query.for('update') : query;
}

// ---------------------------------------------------------------------------------------------------------
// Content

const { html: _html, provenance: _provenance, ...LIST_COLUMNS } = getTableColumns(writer_content);
/** A list row of content: every column but the large bodies (`html`, `provenance`). */
export type ContentListRow = Omit<ContentRow, 'html' | 'provenance'>;

export const CONTENT_LIST: ListSpec = {
  filters: {
    status: { column: writer_content.status, kind: 'string', values: CONTENT_STATUSES, in: true },
    source: { column: writer_content.source, kind: 'string', values: CONTENT_SOURCES, in: true },
    cluster_id: { column: writer_content.cluster_id, kind: 'integer', in: true, nullable: true },
    task_id: { column: writer_content.task_id, kind: 'integer', in: true, nullable: true },
    site_id: { column: writer_content.site_id, kind: 'integer' },
    sector_id: { column: writer_content.sector_id, kind: 'integer' },
    word_count: { column: writer_content.word_count, kind: 'integer', range: true },
  },
  search: [writer_content.title],
  ordering: {
    created_at: writer_content.created_at,
    updated_at: writer_content.updated_at,
    title: writer_content.title,
    word_count: writer_content.word_count,
    submitted_at: writer_content.submitted_at,
  },
};

export function listContent(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery, where: SQL[] = []) {
  return runList<ContentListRow>({
    db,
    table: writer_content,
    idColumn: writer_content.id,
    select: LIST_COLUMNS,
    where: [eq(writer_content.account_id, accountId), ...optional(reachable(writer_content.site_id, siteIds)), ...where],
    spec: CONTENT_LIST,
    query,
    accountId,
  });
}

/** The review queue: content in `review`, oldest submission first. */
export const REVIEW_LIST: ListSpec = {
  filters: {
    site_id: { column: writer_content.site_id, kind: 'integer' },
    sector_id: { column: writer_content.sector_id, kind: 'integer' },
    source: { column: writer_content.source, kind: 'string', values: CONTENT_SOURCES, in: true },
    cluster_id: { column: writer_content.cluster_id, kind: 'integer', in: true, nullable: true },
  },
  search: [writer_content.title],
  ordering: { submitted_at: writer_content.submitted_at, created_at: writer_content.created_at, title: writer_content.title },
  defaultOrdering: 'submitted_at',
};

export function listReviewQueue(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery) {
  return runList<ContentListRow>({
    db,
    table: writer_content,
    idColumn: writer_content.id,
    select: LIST_COLUMNS,
    where: [
      eq(writer_content.account_id, accountId),
      eq(writer_content.status, 'review'),
      ...optional(reachable(writer_content.site_id, siteIds)),
    ],
    spec: REVIEW_LIST,
    query,
    accountId,
  });
}

export async function deleteContent(tx: Db, accountId: number, id: number): Promise<void> {
  await tx.delete(writer_content).where(and(eq(writer_content.account_id, accountId), eq(writer_content.id, id)));
}

/** Whether `imageId` is one of this article's images (what `featured_image_id` may name). */
export async function isImageOf(db: Db, accountId: number, contentId: number, imageId: number): Promise<boolean> {
  const [row] = await db
    .select({ id: writer_images.id })
    .from(writer_images)
    .where(and(eq(writer_images.account_id, accountId), eq(writer_images.content_id, contentId), eq(writer_images.id, imageId)));
  return row !== undefined;
}

export async function contentById(
  db: Db,
  accountId: number,
  id: number,
  siteIds?: SiteLimit,
  lock = false,
): Promise<ContentRow | null> {
  const query = db
    .select()
    .from(writer_content)
    .where(and(eq(writer_content.account_id, accountId), eq(writer_content.id, id), reachable(writer_content.site_id, siteIds)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** The site's article copied from (or published to) the remote post `externalId`, locked for the transaction. */
export async function contentByExternalId(
  tx: Db,
  accountId: number,
  siteId: number,
  externalId: string,
): Promise<ContentRow | null> {
  const [row] = await tx
    .select()
    .from(writer_content)
    .where(
      and(
        eq(writer_content.account_id, accountId),
        eq(writer_content.site_id, siteId),
        eq(writer_content.external_id, externalId),
      ),
    )
    .orderBy(writer_content.id)
    .limit(1)
    .for('update');
  return row ?? null;
}

const SLUG_INDEX = 'writer_content_site_id_slug_index';

function isSlugClash(error: unknown): boolean {
  let current = error as { code?: string; constraint?: string; detail?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current.code === '23505') {
      return current.constraint === SLUG_INDEX || /\(site_id, slug\)/.test(current.detail ?? '');
    }
    current = current.cause as typeof current;
  }
  return false;
}

/**
 * The first free slug of the site from `base`: `base`, else `base-2`, `base-3`… (the article `exceptId`
 * itself does not count as taken). Only a hint: the insert or update that uses it is what the unique index
 * checks, and a clash there (a concurrent writer took it) makes the caller ask again.
 */
async function freeSlug(db: Db, siteId: number, base: string, exceptId?: number): Promise<string> {
  // Slugs hold only letters, digits and hyphens (slugify), so the LIKE pattern needs no escaping.
  const rows = await db
    .select({ slug: writer_content.slug })
    .from(writer_content)
    .where(
      and(
        eq(writer_content.site_id, siteId),
        or(eq(writer_content.slug, base), sql`${writer_content.slug} like ${`${base}-%`}`),
        exceptId === undefined ? undefined : ne(writer_content.id, exceptId),
      ),
    );
  const taken = new Set(rows.map((r) => r.slug));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** A slug as given (or the title's), in the slug alphabet and within the column's length. */
function baseSlug(given: string | null | undefined, title: string): string {
  const base = slugify(given?.trim() ? given : title);
  return base.slice(0, SLUG_MAX);
}

/**
 * Runs `write` with a free slug inside a savepoint, asking again when a concurrent writer took the slug first
 * (the unique index refused it): a clash never aborts the caller's transaction.
 */
async function withFreeSlug<T>(
  tx: Db,
  siteId: number,
  base: string,
  mode: 'suffix' | 'error',
  exceptId: number | undefined,
  write: (sp: Db, slug: string) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const slug = await freeSlug(tx, siteId, base, exceptId);
    if (mode === 'error' && slug !== base) throw fieldError('slug', 'Another article of this site has this slug.');
    try {
      return await tx.transaction((sp) => write(sp, slug));
    } catch (error) {
      if (!isSlugClash(error)) throw error;
      if (mode === 'error') throw fieldError('slug', 'Another article of this site has this slug.');
      if (attempt >= 10) throw new Error(`No free slug for "${base}" on site ${siteId} after ${attempt + 1} attempts`);
    }
  }
}

/**
 * Inserts an article: sanitises `html` (sanitizeArticleHtml), counts `word_count`, makes `slug` unique per
 * site (slugify(title) when none is given; `-2`, `-3`… on a clash, safe against a concurrent insert).
 */
export async function insertContent(
  tx: Db,
  accountId: number,
  input: NewContentInput,
  options: { slugTaken?: 'suffix' | 'error' } = {},
): Promise<ContentRow> {
  const html = sanitizeArticleHtml(input.html ?? '');
  const base = baseSlug(input.slug, input.title);
  return withFreeSlug(tx, input.site_id, base, options.slugTaken ?? 'suffix', undefined, async (sp, slug) => {
    const [row] = await sp
      .insert(writer_content)
      .values({ ...input, account_id: accountId, html, slug, word_count: countWords(html), version: 1 })
      .returning();
    if (!row) throw new Error('Inserting an article returned no row');
    return row;
  });
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : false;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/**
 * Changes an article's fields. When a text field changes, the previous text is kept as version number
 * `row.version` and `version` is bumped; html is sanitised and words recounted; the slug kept unique;
 * `expectedVersion` given and not current → AppError 412 (precondition_failed). Locks the row (FOR UPDATE).
 * A change that changes nothing writes nothing and returns the row as it is.
 */
export async function reviseContent(
  tx: Db,
  accountId: number,
  contentId: number,
  changes: ContentChanges,
  by: RevisionBy,
): Promise<ContentRow> {
  const current = await contentById(tx, accountId, contentId, null, true);
  if (!current) throw new AppError('not_found', 'Content not found.');
  if (by.expectedVersion !== undefined && by.expectedVersion !== current.version) {
    throw new AppError('precondition_failed', 'The article changed since you read it; fetch it again and reapply your change.', {
      details: { current_version: current.version },
    });
  }
  const next: ContentChanges = { ...changes };
  if (next.html !== undefined) next.html = sanitizeArticleHtml(next.html);
  if (next.slug !== undefined) next.slug = baseSlug(next.slug, next.title ?? current.title);
  // Only what differs is written: an unchanged field makes no version and no event.
  const changed: ContentChanges = {};
  for (const [key, value] of Object.entries(next) as [keyof ContentChanges, unknown][]) {
    if (value !== undefined && !sameValue(value, current[key])) (changed as Record<string, unknown>)[key] = value;
  }
  if (Object.keys(changed).length === 0) return current;
  const textChanged = TEXT_FIELDS.some((field) => field in changed);

  const write = async (sp: Db, slug?: string): Promise<ContentRow> => {
    if (textChanged) {
      await sp.insert(writer_content_versions).values({
        account_id: accountId,
        content_id: current.id,
        number: current.version,
        title: current.title,
        html: current.html,
        meta_title: current.meta_title,
        meta_description: current.meta_description,
        slug: current.slug,
        primary_keyword: current.primary_keyword,
        secondary_keywords: current.secondary_keywords,
        word_count: current.word_count,
        created_by_id: by.userId,
        reason: by.reason,
      });
    }
    const [row] = await sp
      .update(writer_content)
      .set({
        ...changed,
        ...(slug === undefined ? {} : { slug }),
        ...(changed.html === undefined ? {} : { word_count: countWords(changed.html) }),
        ...(textChanged ? { version: current.version + 1 } : {}),
        updated_at: new Date(),
      })
      .where(and(eq(writer_content.account_id, accountId), eq(writer_content.id, current.id)))
      .returning();
    if (!row) throw new Error(`Updating article ${current.id} returned no row`);
    return row;
  };

  if (changed.slug === undefined) return write(tx);
  return withFreeSlug(tx, current.site_id, changed.slug, by.slugTaken ?? 'suffix', current.id, write);
}

const { html: _versionHtml, account_id: _versionAccount, ...VERSION_LIST_COLUMNS } = getTableColumns(writer_content_versions);
export type VersionListRow = Omit<ContentVersionRow, 'html' | 'account_id'>;

export const VERSION_LIST: ListSpec = {
  ordering: { number: writer_content_versions.number, created_at: writer_content_versions.created_at },
  defaultOrdering: '-number',
};

/** A page of an article's kept versions, newest first, without their html. */
export function listVersions(db: Db, accountId: number, contentId: number, query: ListQuery) {
  return runList<VersionListRow>({
    db,
    table: writer_content_versions,
    idColumn: writer_content_versions.id,
    select: VERSION_LIST_COLUMNS,
    where: [eq(writer_content_versions.account_id, accountId), eq(writer_content_versions.content_id, contentId)],
    spec: VERSION_LIST,
    query,
    accountId,
  });
}

/** An article's kept versions, newest first. */
export function contentVersions(db: Db, accountId: number, contentId: number): Promise<ContentVersionRow[]> {
  return db
    .select()
    .from(writer_content_versions)
    .where(and(eq(writer_content_versions.account_id, accountId), eq(writer_content_versions.content_id, contentId)))
    .orderBy(sql`${writer_content_versions.number} desc`);
}

export async function contentVersion(
  db: Db,
  accountId: number,
  contentId: number,
  number: number,
): Promise<ContentVersionRow | null> {
  const [row] = await db
    .select()
    .from(writer_content_versions)
    .where(
      and(
        eq(writer_content_versions.account_id, accountId),
        eq(writer_content_versions.content_id, contentId),
        eq(writer_content_versions.number, number),
      ),
    );
  return row ?? null;
}

/** What the linker reads of an article: its text, keywords, cluster and addresses. */
export const LINKABLE_COLUMNS = {
  id: writer_content.id,
  site_id: writer_content.site_id,
  sector_id: writer_content.sector_id,
  title: writer_content.title,
  slug: writer_content.slug,
  html: writer_content.html,
  primary_keyword: writer_content.primary_keyword,
  secondary_keywords: writer_content.secondary_keywords,
  cluster_id: writer_content.cluster_id,
  status: writer_content.status,
  source: writer_content.source,
  external_url: writer_content.external_url,
  word_count: writer_content.word_count,
  version: writer_content.version,
};
export type LinkableArticle = Pick<ContentRow, keyof typeof LINKABLE_COLUMNS>;

/** A site's articles, archived ones left out, by id. */
export function siteArticles(db: Db, accountId: number, siteId: number): Promise<LinkableArticle[]> {
  return db
    .select(LINKABLE_COLUMNS)
    .from(writer_content)
    .where(
      and(eq(writer_content.account_id, accountId), eq(writer_content.site_id, siteId), ne(writer_content.status, 'archived')),
    )
    .orderBy(writer_content.id);
}

/** Which of these ids are the account's articles (within the caller's sites), with their site. */
export function articleSites(
  db: Db,
  accountId: number,
  ids: number[],
  siteIds?: SiteLimit,
): Promise<{ id: number; site_id: number }[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select({ id: writer_content.id, site_id: writer_content.site_id })
    .from(writer_content)
    .where(
      and(eq(writer_content.account_id, accountId), inArray(writer_content.id, ids), reachable(writer_content.site_id, siteIds)),
    )
    .orderBy(writer_content.id);
}

// ---------------------------------------------------------------------------------------------------------
// What a site's automation run picks up next (writer.pipeline.service.ts)

/** The site's `queued` writer tasks, oldest first. */
export function siteQueuedTasks(db: Db, accountId: number, siteId: number, limit: number) {
  return db
    .select({ id: writer_tasks.id, word_count_target: writer_tasks.word_count_target })
    .from(writer_tasks)
    .where(and(eq(writer_tasks.account_id, accountId), eq(writer_tasks.site_id, siteId), eq(writer_tasks.status, 'queued')))
    .orderBy(writer_tasks.id)
    .limit(limit);
}

/** The site's generated `draft` articles, oldest first, and whether each has any image row yet. */
export function siteDrafts(db: Db, accountId: number, siteId: number, limit: number) {
  return db
    .select({
      id: writer_content.id,
      word_count: writer_content.word_count,
      has_images: sql<boolean>`exists (select 1 from ${writer_images} where ${writer_images.content_id} = ${writer_content.id})`,
    })
    .from(writer_content)
    .where(
      and(
        eq(writer_content.account_id, accountId),
        eq(writer_content.site_id, siteId),
        eq(writer_content.status, 'draft'),
        eq(writer_content.source, 'generated'),
      ),
    )
    .orderBy(writer_content.id)
    .limit(limit);
}

/** The site's images waiting to be drawn, oldest first. */
export async function sitePendingImages(db: Db, accountId: number, siteId: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: writer_images.id })
    .from(writer_images)
    .where(and(eq(writer_images.account_id, accountId), eq(writer_images.site_id, siteId), eq(writer_images.status, 'pending')))
    .orderBy(writer_images.id)
    .limit(limit);
  return rows.map((r) => r.id);
}
