import type { Changes } from '../../core/changes.js';
import type { Db } from '../../core/db.js';
import { conflict, notFound } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import * as repo from '../../core/tasks.js';
import { FINISHED_STATUSES } from '../../core/tasks.tables.js';
import type { RequestContext } from '../../core/tenancy.js';
import { listTasks } from './system.tasks.repository.js';

type Ctx = RequestContext & { accountId: number };

export { taskPath } from '../../core/envelope.js';
export { TASK_LIST } from './system.tasks.repository.js';

/**
 * The account's tasks: listed, read, cancelled, watched. A caller limited to some sites (membership `site_ids`, a
 * site-bound API key) reaches only the tasks of those sites: others are 404 and missing from the list,
 * account-wide ones (site_id null) included.
 */
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
      return listTasks(db, ctx.accountId, ctx.siteIds, paged ? query : { ...query, cursor: '' });
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
        await jobs.cancelQueued(tx, task);
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
