import type { Db } from '../../core/db.js';
import { conflict, type FieldErrors, notFound, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { ListQuery } from '../../core/lists.js';
import { assertIfMatch, type ScopedContext } from '../../core/resource.js';
import type { WriterDeps } from './writer.deps.js';
import * as repo from './writer.repository.js';
import type { ContentCreate, ContentUpdate } from './writer.schemas.js';
import type { ContentStatus } from './writer.tables.js';

/**
 * The rules of content. Statuses (DOMAIN.md): `draft` → `review` (`submit_for_review/`) → `approved` |
 * `rejected` (the review queue); `rejected` → `draft` (`reopen/`); `approved` → `published` (the publisher's);
 * `published` → `archived` (`archive/`). The status moves only through these actions, never by PATCH. Text
 * stays editable in every status but `archived` (a published article stays published when edited); a published
 * article is archived, not deleted. Every text change goes through the repository's `reviseContent`, which
 * sanitises, recounts and keeps the previous text as a version.
 */

type Ctx = ScopedContext;

export const contentEvent = (
  ctx: Ctx,
  verb: string,
  row: repo.ContentRow,
  payload: Record<string, unknown> = {},
): ReturnType<typeof byCaller> =>
  byCaller(ctx, {
    type: `content.${verb}`,
    object_type: 'content',
    object_id: row.id,
    site_id: row.site_id,
    payload: { title: row.title, status: row.status, version: row.version, ...payload },
  });

/** The fields whose values differ between two rows of one article (what an event's `fields` lists). */
export function changedFields(before: repo.ContentRow, after: repo.ContentRow): string[] {
  const ignored = new Set(['updated_at', 'version', 'word_count']);
  return Object.keys(after)
    .filter((key) => !ignored.has(key))
    .filter((key) => JSON.stringify(before[key as keyof repo.ContentRow]) !== JSON.stringify(after[key as keyof repo.ContentRow]))
    .sort();
}

export function createContentService(deps: WriterDeps) {
  const { db } = deps;

  async function own(tx: Db, ctx: Ctx, id: number, lock = false): Promise<repo.ContentRow> {
    const row = await repo.contentById(tx, ctx.accountId, id, ctx.siteIds, lock);
    if (!row) throw notFound('Content');
    return row;
  }

  async function checkCluster(
    tx: Db,
    ctx: Ctx,
    target: { site_id: number; sector_id: number },
    id: number | null | undefined,
  ): Promise<FieldErrors> {
    if (id == null) return {};
    const cluster = await deps.planner.cluster(tx, ctx.accountId, id);
    if (!cluster) return { cluster_id: ['Unknown cluster.'] };
    if (cluster.site_id !== target.site_id || cluster.sector_id !== target.sector_id) {
      return { cluster_id: ["The cluster belongs to another site or sector than the article's."] };
    }
    return {};
  }

  /**
   * A move by an action, from the statuses it allows, else 409 naming the current one. `set` adds the fields
   * the move sets with it (review stamps).
   */
  async function move(
    ctx: Ctx,
    id: number,
    from: readonly ContentStatus[],
    to: ContentStatus,
    verb: string,
    set: repo.ContentChanges = {},
  ): Promise<repo.ContentRow> {
    return db.transaction(async (tx) => {
      const current = await own(tx, ctx, id, true);
      if (!from.includes(current.status)) {
        throw conflict(
          `Content in status "${current.status}" cannot be ${verb}; it must be ${from.join(' or ')}.`,
          current.status,
        );
      }
      const row = await repo.reviseContent(
        tx,
        ctx.accountId,
        id,
        { ...set, status: to },
        { userId: ctx.user?.id ?? null, reason: 'edit' },
      );
      await record(tx, contentEvent(ctx, verb, row, { previous_status: current.status }));
      return row;
    });
  }

  return {
    own,

    list: (ctx: Ctx, query: ListQuery) => repo.listContent(db, ctx.accountId, ctx.siteIds, query),

    get: (ctx: Ctx, id: number) => own(db, ctx, id),

    /** An article written by hand: `manual`, `draft`; a slug asked for and already taken is a 400 on `slug`. */
    async create(ctx: Ctx, body: ContentCreate): Promise<repo.ContentRow> {
      return db.transaction(async (tx) => {
        const siteErrors = await deps.siteAccess.check(tx, ctx, body.site_id, body.sector_id);
        if (siteErrors) throw validationError(siteErrors);
        const errors = await checkCluster(tx, ctx, body, body.cluster_id);
        if (Object.keys(errors).length > 0) throw validationError(errors);
        const row = await repo.insertContent(
          tx,
          ctx.accountId,
          { ...body, title: body.title.trim(), source: 'manual', status: 'draft' },
          { slugTaken: body.slug === undefined ? 'suffix' : 'error' },
        );
        await record(tx, contentEvent(ctx, 'created', row, { source: row.source, slug: row.slug }));
        return row;
      });
    },

    /**
     * Edits an article (not while `archived`): a change of its text keeps the previous text as a version. With
     * `If-Match`, an article changed since the caller read it is a 412 and nothing changes.
     */
    async update(ctx: Ctx, id: number, body: ContentUpdate, ifMatch?: string): Promise<repo.ContentRow> {
      return db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        assertIfMatch(ifMatch, current);
        if (current.status === 'archived') {
          throw conflict('An archived article cannot be edited.', current.status);
        }
        const errors: FieldErrors = await checkCluster(tx, ctx, current, body.cluster_id);
        if (body.featured_image_id != null && !(await repo.isImageOf(tx, ctx.accountId, id, body.featured_image_id))) {
          errors.featured_image_id = ['Not an image of this article.'];
        }
        if (Object.keys(errors).length > 0) throw validationError(errors);
        const changes: repo.ContentChanges = { ...body, ...(body.title === undefined ? {} : { title: body.title.trim() }) };
        const row = await repo.reviseContent(tx, ctx.accountId, id, changes, {
          userId: ctx.user?.id ?? null,
          reason: 'edit',
          expectedVersion: current.version,
          slugTaken: 'error',
        });
        const fields = changedFields(current, row);
        if (fields.length > 0) await record(tx, contentEvent(ctx, 'updated', row, { fields }));
        return row;
      });
    },

    async remove(ctx: Ctx, id: number): Promise<void> {
      await db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        if (current.status === 'published') {
          throw conflict('A published article is archived (archive/), not deleted.', current.status);
        }
        await repo.deleteContent(tx, ctx.accountId, id);
        await record(tx, contentEvent(ctx, 'deleted', current));
      });
    },

    async versions(ctx: Ctx, id: number, query: ListQuery) {
      await own(db, ctx, id);
      return repo.listVersions(db, ctx.accountId, id, query);
    },

    async version(ctx: Ctx, id: number, number: number): Promise<repo.ContentVersionRow> {
      await own(db, ctx, id);
      const version = await repo.contentVersion(db, ctx.accountId, id, number);
      if (!version) throw notFound('Version');
      return version;
    },

    /**
     * Makes a kept version's text the current one again: the text it replaces is kept as a new version, so a
     * restore can itself be undone. Its slug comes back too, unless another article has taken it meanwhile
     * (then it is made unique, `-2`…).
     */
    async restore(ctx: Ctx, id: number, number: number): Promise<repo.ContentRow> {
      return db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        const version = await repo.contentVersion(tx, ctx.accountId, id, number);
        if (!version) throw notFound('Version');
        if (current.status === 'archived') throw conflict('An archived article cannot be edited.', current.status);
        const text: repo.ContentText = {
          title: version.title,
          html: version.html,
          meta_title: version.meta_title,
          meta_description: version.meta_description,
          slug: version.slug,
          primary_keyword: version.primary_keyword,
          secondary_keywords: version.secondary_keywords,
        };
        const row = await repo.reviseContent(tx, ctx.accountId, id, text, {
          userId: ctx.user?.id ?? null,
          reason: 'restore',
          slugTaken: 'suffix',
        });
        if (row.version !== current.version) {
          await record(tx, contentEvent(ctx, 'restored', row, { restored_version: number, fields: changedFields(current, row) }));
        }
        return row;
      });
    },

    /** `draft` → `review`: into the review queue, stamped with when (the queue is oldest first). */
    submit: (ctx: Ctx, id: number) =>
      move(ctx, id, ['draft'], 'review', 'submitted', {
        submitted_at: new Date(),
        reviewed_by_id: null,
        reviewed_at: null,
        review_note: null,
      }),

    /** `rejected` → `draft`, to rework it; the reviewer's note stays readable until it is submitted again. */
    reopen: (ctx: Ctx, id: number) => move(ctx, id, ['rejected'], 'draft', 'reopened'),

    /** `published` → `archived`. */
    archive: (ctx: Ctx, id: number) => move(ctx, id, ['published'], 'archived', 'archived'),
  };
}
export type ContentService = ReturnType<typeof createContentService>;
