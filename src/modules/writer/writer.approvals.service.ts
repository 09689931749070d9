import { AppError, conflict, validationError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import type { ListQuery } from '../../core/lists.js';
import type { ScopedContext } from '../../core/resource.js';
import { type ContentService, contentEvent } from './writer.content.service.js';
import type { WriterDeps } from './writer.deps.js';
import * as repo from './writer.repository.js';
import type { Approve, Override, Reject } from './writer.schemas.js';

/**
 * The review queue: content in `review`, oldest submission first. A reviewer approves (with an optional
 * note), rejects (a note is required: the writer must know why) or overrides (edits the text, kept as a
 * version with reason `override`, and approves, in one transaction). Each records who reviewed, when and
 * the note, and an event: `content.approved` (`override: true` for an override) or `content.rejected`.
 */

type Ctx = ScopedContext;
type Publishing = Awaited<ReturnType<ReturnType<WriterDeps['publishing']>['queue']>>;

export function createApprovalsService(deps: WriterDeps & { content: ContentService }) {
  const { db, content } = deps;

  const stamps = (ctx: Ctx, note: string | undefined) => ({
    reviewed_by_id: ctx.user?.id ?? null,
    reviewed_at: new Date(),
    review_note: note ?? null,
  });

  async function inReview(tx: typeof db, ctx: Ctx, id: number, action: string): Promise<repo.ContentRow> {
    const current = await content.own(tx, ctx, id, true);
    if (current.status !== 'review') {
      throw conflict(`Content in status "${current.status}" cannot be ${action}; it must be in review.`, current.status);
    }
    return current;
  }

  /** The publisher's refusal of this one article is about the `publish` asked for here. */
  async function queuePublication(tx: typeof db, ctx: Ctx, id: number): Promise<Publishing> {
    try {
      return await deps.publishing().queue(tx, ctx, { content_ids: [id] });
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation_error') {
        const messages = Object.values(error.options.errors ?? {}).flat();
        throw validationError({ publish: messages.length > 0 ? messages : [error.message] });
      }
      throw error;
    }
  }

  return {
    list: (ctx: Ctx, query: ListQuery) => repo.listReviewQueue(db, ctx.accountId, ctx.siteIds, query),

    /**
     * `review` → `approved`; with `publish: true`, its publication is queued through the publisher in the same
     * transaction (the task and record returned), so an article the publisher refuses is not approved either.
     */
    async approve(ctx: Ctx, id: number, body: Approve): Promise<{ row: repo.ContentRow; publishing: Publishing | null }> {
      return db.transaction(async (tx) => {
        await inReview(tx, ctx, id, 'approved');
        const row = await repo.reviseContent(
          tx,
          ctx.accountId,
          id,
          { status: 'approved', ...stamps(ctx, body.note) },
          { userId: ctx.user?.id ?? null, reason: 'edit' },
        );
        await record(
          tx,
          contentEvent(ctx, 'approved', row, {
            note: row.review_note,
            reviewer_id: row.reviewed_by_id,
            publish: body.publish === true,
          }),
        );
        const publishing = body.publish ? await queuePublication(tx, ctx, row.id) : null;
        return { row, publishing };
      });
    },

    async reject(ctx: Ctx, id: number, body: Reject): Promise<repo.ContentRow> {
      return db.transaction(async (tx) => {
        await inReview(tx, ctx, id, 'rejected');
        const row = await repo.reviseContent(
          tx,
          ctx.accountId,
          id,
          { status: 'rejected', ...stamps(ctx, body.note.trim()) },
          { userId: ctx.user?.id ?? null, reason: 'edit' },
        );
        await record(tx, contentEvent(ctx, 'rejected', row, { note: row.review_note, reviewer_id: row.reviewed_by_id }));
        return row;
      });
    },

    /** Saves the reviewer's edit (a version with reason `override`) and approves, all or nothing. */
    async override(ctx: Ctx, id: number, body: Override): Promise<repo.ContentRow> {
      return db.transaction(async (tx) => {
        const current = await inReview(tx, ctx, id, 'overridden');
        const { note, ...text } = body;
        const row = await repo.reviseContent(
          tx,
          ctx.accountId,
          id,
          {
            ...text,
            ...(text.title === undefined ? {} : { title: text.title.trim() }),
            status: 'approved',
            ...stamps(ctx, note),
          },
          { userId: ctx.user?.id ?? null, reason: 'override', expectedVersion: current.version, slugTaken: 'error' },
        );
        const fields = Object.keys(text).filter(
          (key) => JSON.stringify(current[key as keyof repo.ContentRow]) !== JSON.stringify(row[key as keyof repo.ContentRow]),
        );
        await record(
          tx,
          contentEvent(ctx, 'approved', row, {
            note: row.review_note,
            reviewer_id: row.reviewed_by_id,
            override: true,
            fields: fields.sort(),
            previous_version: current.version,
          }),
        );
        return row;
      });
    },
  };
}
export type ApprovalsService = ReturnType<typeof createApprovalsService>;
