import type { Changes } from '../../core/changes.js';
import type { Db } from '../../core/db.js';
import { conflict, notFound } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import * as repo from '../../core/tasks.js';
import { FINISHED_STATUSES, system_tasks, TASK_STATUSES } from '../../core/tasks.tables.js';
import type { RequestContext } from '../../core/tenancy.js';

type Ctx = RequestContext & { accountId: number };

export const TASK_LIST: ListSpec = {
  cursor: true,
  // Page and offset styles too: newest first, by id (the order of the cursor pages).
  defaultOrdering: '-id',
  filters: {
    status: { column: system_tasks.status, kind: 'string', values: TASK_STATUSES, in: true },
    type: { column: system_tasks.type, kind: 'string', in: true },
  },
};

/**
 * The wire columns: everything but the payload, the queue's id and the owner. A caller limited to some sites
 * (membership `site_ids`, a site-bound API key) reaches only the tasks of those sites: others are 404 and
 * missing from the list, account-wide ones (site_id null) included.
 */
const WIRE = {
  id: system_tasks.id,
  site_id: system_tasks.site_id,
  type: system_tasks.type,
  status: system_tasks.status,
  progress: system_tasks.progress,
  result: system_tasks.result,
  error: system_tasks.error,
  cancel_requested: system_tasks.cancel_requested,
  attempts: system_tasks.attempts,
  started_at: system_tasks.started_at,
  finished_at: system_tasks.finished_at,
  created_at: system_tasks.created_at,
  updated_at: system_tasks.updated_at,
};

export { taskPath } from '../../core/envelope.js';

export function createTasksService(deps: {
  db: Db;
  jobs: Jobs;
  watchIntervalMs?: number;
  /** Committed task changes, from any process (core/changes.ts): a watcher reads again as soon as one is heard. */
  changes?: Pick<Changes, 'on'>;
}) {
  const { db, jobs } = deps;
  const watchIntervalMs = deps.watchIntervalMs ?? 500;

  async function get(ctx: Ctx, id: number) {
    const row = await repo.findTask(db, ctx.accountId, id, { siteIds: ctx.siteIds });
    if (!row) throw notFound('Task');
    return row;
  }

  return {
    /** Tasks are a feed: with no pagination asked for, the first cursor page (no count over the whole history). */
    list(ctx: Ctx, query: ListQuery) {
      const paged = ['page', 'limit', 'offset', 'cursor'].some((k) => query[k] !== undefined);
      return runList<Pick<typeof system_tasks.$inferSelect, keyof typeof WIRE>>({
        db,
        table: system_tasks,
        idColumn: system_tasks.id,
        select: WIRE,
        where: [repo.ownedBy(ctx.accountId, ctx.siteIds)],
        spec: TASK_LIST,
        query: paged ? query : { ...query, cursor: '' },
        accountId: ctx.accountId,
      });
    },

    get,

    /**
     * Queued: cancelled at once (its job never starts). Running: flagged; the handler stops at its next unit
     * and the task then reads cancelled (`pending` true). Finished: 409 naming the state.
     */
    async cancel(ctx: Ctx, id: number): Promise<{ task: repo.TaskRow; pending: boolean }> {
      return db.transaction(async (tx) => {
        const task = await repo.findTask(tx, ctx.accountId, id, { lock: true, siteIds: ctx.siteIds });
        if (!task) throw notFound('Task');
        if (FINISHED_STATUSES.includes(task.status)) {
          throw conflict(`The task is already ${task.status}; only a queued or running task can be cancelled.`, task.status);
        }
        if (task.status === 'running') {
          if (task.cancel_requested) return { task, pending: true };
          const flagged = await repo.requestCancel(tx, ctx.accountId, id);
          return { task: flagged ?? task, pending: true };
        }
        const cancelled = await repo.settleTask(tx, ctx.accountId, id, { status: 'cancelled' });
        if (task.job_id) await jobs.cancelQueued(tx, task.type, task.job_id);
        await record(
          tx,
          byCaller(ctx, {
            site_id: task.site_id,
            type: 'task.cancelled',
            object_type: 'task',
            object_id: id,
            payload: { task_type: task.type },
          }),
        );
        return { task: cancelled ?? task, pending: false };
      });
    },

    /**
     * The task each time it changes, until it is finished (or `signal` aborts: the client left). Read from the
     * database, so it follows a job run by any worker process.
     */
    async *watch(ctx: Ctx, id: number, signal: AbortSignal): AsyncGenerator<repo.TaskRow> {
      let last = '';
      while (!signal.aborted) {
        const task = await repo.findTask(db, ctx.accountId, id, { siteIds: ctx.siteIds });
        if (!task) return;
        const version = `${task.updated_at.getTime()}:${task.status}:${JSON.stringify(task.progress)}`;
        if (version !== last) {
          last = version;
          yield task;
        }
        if (FINISHED_STATUSES.includes(task.status)) return;
        // Until the account's tasks change (heard from whichever process moved it), or the interval at the latest.
        await new Promise<void>((resolve) => {
          const off = deps.changes?.on('system_tasks', (accounts) => {
            if (accounts === null || accounts.includes(ctx.accountId)) done();
          });
          const timer = setTimeout(() => done(), watchIntervalMs);
          function done() {
            clearTimeout(timer);
            off?.();
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
  };
}
export type TasksService = ReturnType<typeof createTasksService>;
