import type { Db } from '../../core/db.js';
import { AppError, conflict, type FieldErrors, notFound, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { ListQuery } from '../../core/lists.js';
import { assertIfMatch, type ScopedContext } from '../../core/resource.js';
import type { WriterDeps } from './writer.deps.js';
import * as repo from './writer.repository.js';
import { type BulkIds, skippedIds, type TaskCreate, type TaskUpdate } from './writer.schemas.js';
import type { WriterTaskStatus } from './writer.tables.js';

/**
 * The rules of writer tasks. Statuses: `queued` → `in_progress` → `completed` | `failed` (set by the
 * generation job), `queued` → `cancelled` (`cancel/`), `failed` → `queued` (`retry/`, error cleared). A task is
 * edited only while nothing is writing it: `queued`, or `failed` (to fix it before a retry); a task being
 * written (`in_progress`) cannot be deleted. Its idea and cluster must be of its own site and sector.
 */

const EDITABLE: readonly WriterTaskStatus[] = ['queued', 'failed'];

type Owned = { site_id: number; sector_id: number };

export function createTasksService(deps: WriterDeps) {
  const { db } = deps;

  /** Field errors for the ideas, clusters and author profile a task names (none: all are the caller's and fit). */
  async function checkLinks(
    tx: Db,
    ctx: ScopedContext,
    target: Owned,
    links: { idea_id?: number | null; cluster_id?: number | null; author_profile_id?: number | null },
    authorKnown: boolean,
  ): Promise<FieldErrors> {
    const errors: FieldErrors = {};
    const fits = (row: Owned | null) => row !== null && row.site_id === target.site_id && row.sector_id === target.sector_id;
    if (links.idea_id != null) {
      const idea = await deps.planner.idea(tx, ctx.accountId, links.idea_id);
      if (!idea) errors.idea_id = ['Unknown content idea.'];
      else if (!fits(idea)) errors.idea_id = ["The idea belongs to another site or sector than the task's."];
    }
    if (links.cluster_id != null) {
      const cluster = await deps.planner.cluster(tx, ctx.accountId, links.cluster_id);
      if (!cluster) errors.cluster_id = ['Unknown cluster.'];
      else if (!fits(cluster)) errors.cluster_id = ["The cluster belongs to another site or sector than the task's."];
    }
    if (links.author_profile_id != null && !authorKnown) errors.author_profile_id = ['Unknown author profile.'];
    return errors;
  }

  /** Read before any transaction: the settings come through another module's connection (one on PGlite). */
  const authorKnown = (ctx: ScopedContext, id: number | null | undefined) =>
    id == null ? Promise.resolve(true) : deps.settings.hasAuthorProfile(ctx.accountId, id);

  async function own(tx: Db, ctx: ScopedContext, id: number, lock = false): Promise<repo.WriterTaskRow> {
    const row = await repo.writerTaskById(tx, ctx.accountId, id, ctx.siteIds, lock);
    if (!row) throw notFound('Writer task');
    return row;
  }

  const event = (ctx: ScopedContext, verb: string, row: repo.WriterTaskRow, payload: Record<string, unknown> = {}) =>
    byCaller(ctx, {
      type: `writer_task.${verb}`,
      object_type: 'writer_task',
      object_id: row.id,
      site_id: row.site_id,
      payload: { title: row.title, status: row.status, ...payload },
    });

  /** A move by an action: from the one status it allows, else 409 naming the current one. */
  async function move(
    ctx: ScopedContext,
    id: number,
    from: WriterTaskStatus,
    to: WriterTaskStatus,
    verb: string,
    extra: { error?: null } = {},
  ): Promise<repo.WriterTaskRow> {
    return db.transaction(async (tx) => {
      const current = await own(tx, ctx, id, true);
      if (current.status !== from) {
        throw conflict(`A task in status "${current.status}" cannot be ${verb}; only a ${from} task can.`, current.status);
      }
      const row = (await repo.moveTask(tx, ctx.accountId, id, [from], to, extra)) as repo.WriterTaskRow;
      await record(tx, event(ctx, verb, row, { previous_status: from }));
      return row;
    });
  }

  return {
    list: (ctx: ScopedContext, query: ListQuery) => repo.listTasks(db, ctx.accountId, ctx.siteIds, query),

    get: (ctx: ScopedContext, id: number) => own(db, ctx, id),

    /** A task made by hand: `queued`, its length the account's default unless given. */
    async create(ctx: ScopedContext, body: TaskCreate): Promise<repo.WriterTaskRow> {
      const [wordCount, author] = await Promise.all([
        body.word_count_target ?? deps.settings.defaultWordCount(ctx.accountId),
        authorKnown(ctx, body.author_profile_id),
      ]);
      return db.transaction(async (tx) => {
        const siteErrors = await deps.siteAccess.check(tx, ctx, body.site_id, body.sector_id);
        if (siteErrors) throw validationError(siteErrors);
        const errors = await checkLinks(tx, ctx, body, body, author);
        if (Object.keys(errors).length > 0) throw validationError(errors);
        // An idea names its cluster: a task made from one inherits it unless told otherwise.
        const idea = body.idea_id == null ? null : await deps.planner.idea(tx, ctx.accountId, body.idea_id);
        const [row] = await repo.insertTasks(tx, ctx.accountId, [
          {
            site_id: body.site_id,
            sector_id: body.sector_id,
            title: body.title.trim(),
            description: body.description ?? '',
            idea_id: body.idea_id ?? null,
            cluster_id: body.cluster_id !== undefined ? body.cluster_id : (idea?.cluster_id ?? null),
            keywords: body.keywords ?? [],
            content_type: body.content_type ?? 'post',
            content_structure: body.content_structure ?? 'article',
            word_count_target: wordCount,
            author_profile_id: body.author_profile_id ?? null,
            status: 'queued',
          },
        ]);
        if (!row) throw new Error('Inserting a writer task returned no row');
        await record(tx, event(ctx, 'created', row));
        return row;
      });
    },

    /** Edits a task that nothing is writing (`queued` or `failed`); `If-Match` guards against a lost update. */
    async update(ctx: ScopedContext, id: number, body: TaskUpdate, ifMatch?: string): Promise<repo.WriterTaskRow> {
      const author = await authorKnown(ctx, body.author_profile_id);
      return db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        assertIfMatch(ifMatch, current);
        if (!EDITABLE.includes(current.status)) {
          throw conflict(
            `A task in status "${current.status}" cannot be edited; only queued or failed tasks can.`,
            current.status,
          );
        }
        const errors = await checkLinks(tx, ctx, current, body, author);
        if (Object.keys(errors).length > 0) throw validationError(errors);
        const changes: repo.TaskChanges = {};
        for (const [key, value] of Object.entries(body) as [keyof TaskUpdate, unknown][]) {
          const next = key === 'title' && typeof value === 'string' ? value.trim() : value;
          if (next !== undefined && JSON.stringify(next) !== JSON.stringify(current[key])) {
            (changes as Record<string, unknown>)[key] = next;
          }
        }
        if (Object.keys(changes).length === 0) return current;
        const row = await repo.updateTask(tx, ctx.accountId, id, changes);
        await record(tx, event(ctx, 'updated', row, { fields: Object.keys(changes).sort() }));
        return row;
      });
    },

    async remove(ctx: ScopedContext, id: number): Promise<void> {
      await db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        if (current.status === 'in_progress') {
          throw conflict('A task being written cannot be deleted; wait until it completes or fails.', current.status);
        }
        await repo.deleteTasks(tx, ctx.accountId, [id]);
        await record(tx, event(ctx, 'deleted', current));
      });
    },

    /** Deletes the caller's tasks among `ids`, all or none: tasks being written make it a 409 naming them. */
    async bulkDelete(ctx: ScopedContext, body: BulkIds): Promise<{ deleted: number; skipped: number[] }> {
      return db.transaction(async (tx) => {
        const rows = await repo.writerTasksByIds(tx, ctx.accountId, body.ids, ctx.siteIds, true);
        const busy = rows.filter((row) => row.status === 'in_progress').map((row) => row.id);
        if (busy.length > 0) {
          throw new AppError(
            'conflict',
            `${busy.length} of these tasks are being written and cannot be deleted; nothing was deleted.`,
            { details: { ids: busy, current_status: 'in_progress' } },
          );
        }
        const deleted = await repo.deleteTasks(
          tx,
          ctx.accountId,
          rows.map((row) => row.id),
        );
        if (deleted.length > 0) {
          await record(
            tx,
            byCaller(ctx, {
              type: 'writer_tasks.deleted',
              object_type: 'writer_task',
              site_id: repo.soleSite(deleted),
              payload: { count: deleted.length, ids: deleted.map((row) => row.id) },
            }),
          );
        }
        return { deleted: deleted.length, skipped: skippedIds(body.ids, rows) };
      });
    },

    cancel: (ctx: ScopedContext, id: number) => move(ctx, id, 'queued', 'cancelled', 'cancelled'),

    retry: (ctx: ScopedContext, id: number) => move(ctx, id, 'failed', 'queued', 'retried', { error: null }),
  };
}
export type TasksService = ReturnType<typeof createTasksService>;
