import type { Db } from '../../core/db.js';
import { AppError, conflict, type FieldErrors, notFound, validationError } from '../../core/errors.js';
import { byCaller, record as recordEvent } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import type { ScopedContext } from '../../core/resource.js';
import { findTask } from '../../core/tasks.js';
import { ConnectionUnavailable, type SiteConnections, WordPressError } from '../integration/integration.service.js';
import type { PublishableArticle, PublisherArticles } from './publisher.deps.js';
import * as repo from './publisher.repository.js';
import { MAX_PUBLISH, type PublishRequest } from './publisher.schemas.js';
import { describeWordPressError } from './publisher.send.js';
import { wordpressCalls } from './publisher.wordpress.js';

/**
 * The publisher's rules. `publish`: the caller's approved (or published, to update) articles, each into its one
 * record per destination (a second publish reuses it, and so the remote post), all sent by one task; an article
 * in another status, not the caller's, or whose featured image has no file is a field error naming it, and
 * nothing is queued; one whose record is being published is a 409. Records: `pending` → `publishing` →
 * `published` | `failed`; `failed` → `pending` (`retry/`); `published` (or `failed` after a post was made) →
 * `unpublished` (`unpublish/`: the remote post to WordPress's trash, at once).
 */

export interface PublisherServiceDeps {
  db: Db;
  jobs: Jobs;
  articles: PublisherArticles;
  connections: SiteConnections;
}

const PUBLISHABLE = ['approved', 'published'];
const DESTINATION = 'wordpress' as const;

export interface Queued {
  task: { id: number; status: string };
  record_ids: number[];
}

export function createPublisherService(deps: PublisherServiceDeps) {
  const { db, jobs, articles } = deps;

  async function own(tx: Db, ctx: ScopedContext, id: number, lock = false): Promise<repo.RecordRow> {
    const row = await repo.recordById(tx, ctx.accountId, id, ctx.siteIds, lock);
    if (!row) throw notFound('Publishing record');
    return row;
  }

  /** Waiting for, or in the hands of, a task that is still queued or running (else its task died or ended). */
  async function inFlight(tx: Db, row: repo.RecordRow): Promise<boolean> {
    if (!repo.IN_FLIGHT.includes(row.status) || row.task_id === null) return false;
    const task = await findTask(tx, row.account_id, row.task_id);
    return task?.status === 'queued' || task?.status === 'running';
  }

  function checkSchedule(body: Pick<PublishRequest, 'status' | 'date'>): { scheduledFor: Date | null } {
    const status = body.status ?? 'publish';
    if (status === 'future') {
      if (body.date === undefined) throw validationError({ date: ['Required with status "future": when to publish.'] });
      const when = new Date(body.date);
      if (!(when.getTime() > Date.now())) throw validationError({ date: ['Must be in the future.'] });
      return { scheduledFor: when };
    }
    if (body.date !== undefined) throw validationError({ date: ['Only with status "future".'] });
    return { scheduledFor: null };
  }

  async function publishable(tx: Db, ctx: ScopedContext, ids: number[]): Promise<PublishableArticle[]> {
    const errors: FieldErrors = {};
    const found: PublishableArticle[] = [];
    for (const [index, id] of ids.entries()) {
      const article = await articles.article(tx, ctx.accountId, id, ctx.siteIds);
      const say = (message: string) => {
        errors[`content_ids.${index}`] = [message];
      };
      if (!article) say(`Content ${id} not found.`);
      else if (!PUBLISHABLE.includes(article.status)) {
        say(`Content ${id} is "${article.status}": only approved content (or published, to update its post) is published.`);
      } else if (article.featured_image_id !== null) {
        const featured = (await articles.images(tx, ctx.accountId, id)).find((i) => i.id === article.featured_image_id);
        if (!featured?.storage_key) {
          say(
            `Content ${id}: its featured image ${article.featured_image_id} has no file yet; generate it or clear featured_image_id.`,
          );
        } else found.push(article);
      } else found.push(article);
    }
    if (Object.keys(errors).length > 0) throw validationError(errors);
    return found;
  }

  /**
   * Queues the publication of articles in the caller's transaction (the publish action, and the writer's
   * approve with `publish: true`); the task and the records it works on.
   */
  async function queue(tx: Db, ctx: ScopedContext, body: PublishRequest): Promise<Queued> {
    const { scheduledFor } = checkSchedule(body);
    const ids = [...new Set(body.content_ids)];
    const found = await publishable(tx, ctx, ids);
    const existing = await repo.recordsOfContent(tx, ctx.accountId, ids, DESTINATION);
    const busy: repo.RecordRow[] = [];
    for (const row of existing) if (await inFlight(tx, row)) busy.push(row);
    if (busy.length > 0) {
      throw new AppError(
        'conflict',
        `${busy.length} of these articles are being published already (record ${busy.map((r) => r.id).join(', ')}); nothing was queued.`,
        {
          details: {
            content_ids: busy.map((r) => r.content_id),
            record_ids: busy.map((r) => r.id),
            current_status: Object.fromEntries(busy.map((r) => [r.id, r.status])),
          },
        },
      );
    }
    const remoteStatus = body.status ?? 'publish';
    const sites = new Set(found.map((a) => a.site_id));
    const owner = { accountId: ctx.accountId, actorId: ctx.user?.id ?? null, siteId: sites.size === 1 ? [...sites][0] : null };
    const rows = await repo.queueRecords(
      tx,
      ctx.accountId,
      found.map((a) => ({
        site_id: a.site_id,
        content_id: a.id,
        destination: DESTINATION,
        remote_status: remoteStatus,
        scheduled_for: scheduledFor,
      })),
      null,
    );
    const byContent = new Map(rows.map((r) => [r.content_id, r]));
    const recordIds = found.map((a) => byContent.get(a.id)?.id ?? 0);
    const task = await jobs.startTask(tx, owner, 'publisher.publish', {
      account_id: ctx.accountId,
      actor_id: owner.actorId,
      record_ids: recordIds,
    });
    await repo.setTask(tx, ctx.accountId, recordIds, task.id);
    await recordEvent(
      tx,
      ...rows.map((row) =>
        byCaller(ctx, {
          site_id: row.site_id,
          type: 'publishing_record.queued',
          object_type: 'publishing_record',
          object_id: row.id,
          payload: {
            content_id: row.content_id,
            destination: row.destination,
            remote_status: row.remote_status,
            external_id: row.external_id,
            system_task_id: task.id,
          },
        }),
      ),
    );
    return { task, record_ids: recordIds };
  }

  return {
    queue,

    publish: (ctx: ScopedContext, body: PublishRequest) => db.transaction((tx) => queue(tx, ctx, body)),

    /**
     * Any number of articles, in batches of the action's limit (automation's publish stage). An article already
     * being published is left to the job that has it — a run carried on after a crash finds the ones it queued
     * before — and the rest are queued; what was queued now is answered.
     */
    async publishAll(ctx: ScopedContext, contentIds: number[], status: PublishRequest['status']) {
      const recordIds: number[] = [];
      for (let start = 0; start < contentIds.length; start += MAX_PUBLISH) {
        let batch = contentIds.slice(start, start + MAX_PUBLISH);
        for (let tries = 0; batch.length > 0; tries++) {
          try {
            const queued = await db.transaction((tx) => queue(tx, ctx, { content_ids: batch, status }));
            recordIds.push(...queued.record_ids);
            break;
          } catch (error) {
            const busy = error instanceof AppError && error.code === 'conflict' ? error.options.details?.content_ids : null;
            if (!Array.isArray(busy) || tries > 0) throw error;
            batch = batch.filter((id) => !busy.includes(id));
          }
        }
      }
      return { records: recordIds.length, record_ids: recordIds };
    },

    list: (ctx: ScopedContext, query: ListQuery) => repo.listRecords(db, ctx.accountId, ctx.siteIds, query),

    get: (ctx: ScopedContext, id: number) => own(db, ctx, id),

    /** `failed` (or abandoned by a task that died) → `pending`, with a new task. */
    async retry(ctx: ScopedContext, id: number): Promise<Queued> {
      return db.transaction(async (tx) => {
        const row = await own(tx, ctx, id, true);
        const abandoned = repo.IN_FLIGHT.includes(row.status) && !(await inFlight(tx, row));
        if (row.status !== 'failed' && !abandoned) {
          throw conflict(`A publishing record in status "${row.status}" cannot be retried; it must be failed.`, row.status);
        }
        const owner = { accountId: ctx.accountId, actorId: ctx.user?.id ?? null, siteId: row.site_id };
        const task = await jobs.startTask(tx, owner, 'publisher.publish', {
          account_id: ctx.accountId,
          actor_id: owner.actorId,
          record_ids: [row.id],
        });
        await repo.updateRecord(tx, ctx.accountId, row.id, { status: 'pending', error: null, task_id: task.id });
        await recordEvent(
          tx,
          byCaller(ctx, {
            site_id: row.site_id,
            type: 'publishing_record.retried',
            object_type: 'publishing_record',
            object_id: row.id,
            payload: {
              content_id: row.content_id,
              previous_status: row.status,
              previous_error: row.error,
              system_task_id: task.id,
            },
          }),
        );
        return { task, record_ids: [row.id] };
      });
    },

    /**
     * Moves the remote post to WordPress's trash (restorable there; a later publish brings it back) and marks the
     * record `unpublished` and the article `approved` again. WordPress unreachable or refusing is a 503 with its
     * own words, and nothing changes here.
     */
    async unpublish(ctx: ScopedContext, id: number): Promise<repo.RecordRow> {
      const row = await own(db, ctx, id);
      const postId = row.external_id === null ? null : Number(row.external_id);
      if (postId === null || !['published', 'failed'].includes(row.status) || (await inFlight(db, row))) {
        throw conflict(
          `A publishing record in status "${row.status}"${postId === null ? ' without a remote post' : ''} cannot be unpublished; it must be published.`,
          row.status,
        );
      }
      let trashed: boolean;
      try {
        const connection = await deps.connections.wordpress(ctx.accountId, row.site_id);
        trashed = await wordpressCalls(connection.client).trashPost(postId);
      } catch (error) {
        if (error instanceof ConnectionUnavailable) {
          throw new AppError('service_unavailable', `Cannot reach the site's WordPress: ${error.message}.`);
        }
        if (error instanceof WordPressError) {
          throw new AppError('service_unavailable', `WordPress did not trash post ${postId}: ${describeWordPressError(error)}`, {
            details: { wordpress_status: error.status, wordpress_code: error.code },
          });
        }
        throw error;
      }
      return db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        if (current.external_id !== row.external_id || (await inFlight(tx, current))) {
          throw conflict('The record changed while its post was being trashed; read it again.', current.status);
        }
        const updated = await repo.updateRecord(tx, ctx.accountId, id, { status: 'unpublished', error: null });
        await articles.markUnpublished(tx, ctx.accountId, row.content_id);
        await recordEvent(
          tx,
          byCaller(ctx, {
            site_id: row.site_id,
            type: 'content.unpublished',
            object_type: 'content',
            object_id: row.content_id,
            payload: { record_id: id, external_id: row.external_id, already_trashed: !trashed },
          }),
        );
        return updated;
      });
    },
  };
}
export type PublisherService = ReturnType<typeof createPublisherService>;
