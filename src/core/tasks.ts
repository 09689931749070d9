import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from './db.js';
import {
  FINISHED_STATUSES,
  system_job_units,
  system_tasks,
  type TaskError,
  type TaskProgress,
  type TaskStatus,
} from './tasks.tables.js';

/**
 * The task store: queries on tasks and job units, for core/jobs.ts (which moves tasks as jobs run) and the system
 * module (which lists, reads and cancels them). Every task query takes the account id: another account's task
 * is absent.
 */

export type TaskRow = typeof system_tasks.$inferSelect;

const own = (accountId: number, id: number) => and(eq(system_tasks.account_id, accountId), eq(system_tasks.id, id));

/** Sites a caller may reach (`RequestContext.siteIds`); null means every site of the account. */
export type SiteLimit = number[] | null;

/**
 * The tasks a caller limited to some sites may see: those of their sites only. Account-wide tasks (site_id
 * null) are hidden from them too, the safe choice: such a task may touch every site (billing, the account).
 */
export function reachable(siteIds: SiteLimit) {
  if (siteIds === null) return undefined;
  return siteIds.length > 0 ? inArray(system_tasks.site_id, siteIds) : sql`false`;
}

export async function insertTask(
  db: Db,
  accountId: number,
  values: { type: string; payload: unknown; actor_id: number | null; site_id: number | null },
): Promise<TaskRow> {
  const [row] = await db
    .insert(system_tasks)
    .values({
      account_id: accountId,
      site_id: values.site_id,
      type: values.type,
      payload: values.payload,
      actor_id: values.actor_id,
    })
    .returning();
  return row as TaskRow;
}

export async function setTaskJob(db: Db, accountId: number, id: number, jobId: string): Promise<void> {
  await db.update(system_tasks).set({ job_id: jobId }).where(own(accountId, id));
}

/** The task, when the caller reaches its site (`siteIds`, default every site); null otherwise. */
export async function findTask(
  db: Db,
  accountId: number,
  id: number,
  options: { lock?: boolean; siteIds?: SiteLimit } = {},
): Promise<TaskRow | null> {
  const lock = options.lock ?? false;
  const query = db
    .select()
    .from(system_tasks)
    .where(and(own(accountId, id), reachable(options.siteIds ?? null)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** Queued (or waiting for a retry) → running; a finished task is left alone and returned as it is. */
export async function startTask(db: Db, accountId: number, id: number): Promise<TaskRow | null> {
  const [row] = await db
    .update(system_tasks)
    .set({
      status: 'running',
      attempts: sql`${system_tasks.attempts} + 1`,
      started_at: sql`coalesce(${system_tasks.started_at}, now())`,
      updated_at: sql`now()`,
    })
    .where(and(own(accountId, id), inArray(system_tasks.status, ['queued', 'running'])))
    .returning();
  return row ?? findTask(db, accountId, id);
}

/** Writes progress; answers whether cancellation was asked for (one round trip for both). */
export async function writeProgress(db: Db, accountId: number, id: number, progress: TaskProgress): Promise<boolean> {
  const [row] = await db
    .update(system_tasks)
    .set({ progress, updated_at: sql`now()` })
    .where(and(own(accountId, id), eq(system_tasks.status, 'running')))
    .returning({ cancel_requested: system_tasks.cancel_requested });
  // No running row: cancelled (or finished) under the handler's feet; either way it should stop.
  return row ? row.cancel_requested : true;
}

/** Moves a task that is not finished yet to a final (or back to queued, for a retry) status. */
export async function settleTask(
  db: Db,
  accountId: number,
  id: number,
  outcome: { status: TaskStatus; result?: unknown; error?: TaskError | null },
): Promise<TaskRow | null> {
  const finished = FINISHED_STATUSES.includes(outcome.status);
  const [row] = await db
    .update(system_tasks)
    .set({
      status: outcome.status,
      ...(outcome.result !== undefined ? { result: outcome.result } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(finished ? { finished_at: sql`now()` } : {}),
      updated_at: sql`now()`,
    })
    .where(and(own(accountId, id), inArray(system_tasks.status, ['queued', 'running'])))
    .returning();
  return row ?? null;
}

/**
 * Unfinished tasks whose job the queue has given up on: pg-boss marks a job `failed` without our handler when its
 * process died on the last attempt (the job expired while active). The one query across accounts, for the sweep
 * that settles them (core/jobs.ts `settleLost`); `queueSchema` is pg-boss's schema.
 */
export async function lostTasks(
  db: Db,
  queueSchema: string,
  limit: number,
): Promise<Pick<TaskRow, 'id' | 'account_id' | 'type'>[]> {
  return queryRows<Pick<TaskRow, 'id' | 'account_id' | 'type'>>(
    db,
    sql`
    SELECT t.id, t.account_id, t.type FROM ${system_tasks} t
      JOIN ${sql.raw(queueSchema)}.job j ON j.name = t.type AND j.id = t.job_id
     WHERE t.status IN ('queued', 'running') AND j.state = 'failed'
     ORDER BY t.id LIMIT ${limit}`,
  );
}

export async function requestCancel(db: Db, accountId: number, id: number): Promise<TaskRow | null> {
  const [row] = await db
    .update(system_tasks)
    .set({ cancel_requested: true, updated_at: sql`now()` })
    .where(and(own(accountId, id), eq(system_tasks.status, 'running')))
    .returning();
  return row ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// Units of work (not account data: keyed by the job, which already belongs to one account or none)

/** Claims a unit in the caller's transaction; false when an earlier run already did it. */
export async function claimUnit(tx: Db, jobKey: string, unit: string): Promise<boolean> {
  const rows = await tx
    .insert(system_job_units)
    .values({ job_key: jobKey, unit })
    .onConflictDoNothing()
    .returning({ unit: system_job_units.unit });
  return rows.length === 1;
}

export async function unitResult(db: Db, jobKey: string, unit: string): Promise<unknown> {
  const [row] = await db
    .select({ result: system_job_units.result })
    .from(system_job_units)
    .where(and(eq(system_job_units.job_key, jobKey), eq(system_job_units.unit, unit)));
  return row?.result ?? null;
}

export async function storeUnitResult(tx: Db, jobKey: string, unit: string, result: unknown): Promise<void> {
  await tx
    .update(system_job_units)
    .set({ result: result === undefined ? null : result })
    .where(and(eq(system_job_units.job_key, jobKey), eq(system_job_units.unit, unit)));
}

/** The tenant condition for list queries built elsewhere (core/lists.ts): the account's, of the caller's sites. */
export const ownedBy = (accountId: number, siteIds: SiteLimit = null) =>
  and(eq(system_tasks.account_id, accountId), reachable(siteIds)) as SQL;
