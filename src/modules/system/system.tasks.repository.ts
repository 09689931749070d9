import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { ownedBy, type SiteLimit } from '../../core/tasks.js';
import { system_tasks, TASK_STATUSES } from '../../core/tasks.tables.js';

/**
 * The task list as the API shows it. Tasks and their life are the core's (core/tasks.ts, the job queue); this
 * module only lists, reads and cancels them for the account.
 */

export const TASK_LIST: ListSpec = {
  cursor: true,
  // Page and offset styles too: newest first, by id (the order of the cursor pages).
  defaultOrdering: '-id',
  filters: {
    status: { column: system_tasks.status, kind: 'string', values: TASK_STATUSES, in: true },
    type: { column: system_tasks.type, kind: 'string', in: true },
  },
};

/** The wire columns: everything but the payload, the queue's id and the owner. */
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

export type TaskListRow = Pick<typeof system_tasks.$inferSelect, keyof typeof WIRE>;

/** The account's tasks that `siteIds` reaches (null: all of them). */
export function listTasks(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery) {
  return runList<TaskListRow>({
    db,
    table: system_tasks,
    idColumn: system_tasks.id,
    select: WIRE,
    where: [ownedBy(accountId, siteIds)],
    spec: TASK_LIST,
    query,
    accountId,
  });
}
