import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { optimizer_runs } from './optimizer.tables.js';

/** The optimizer's queries: its runs. */

export type RunRow = typeof optimizer_runs.$inferSelect;
export type NewRun = Omit<typeof optimizer_runs.$inferInsert, 'id' | 'account_id' | 'created_at' | 'updated_at'>;

export const RUN_LIST: ListSpec = {
  filters: {
    content_id: { column: optimizer_runs.content_id, kind: 'integer', in: true },
    applied: { column: optimizer_runs.applied, kind: 'boolean' },
    site_id: { column: optimizer_runs.site_id, kind: 'integer' },
    sector_id: { column: optimizer_runs.sector_id, kind: 'integer' },
    task_id: { column: optimizer_runs.task_id, kind: 'integer' },
  },
  ordering: {
    created_at: optimizer_runs.created_at,
    score_before: optimizer_runs.score_before,
    score_after: optimizer_runs.score_after,
  },
};

export function listRuns(db: Db, accountId: number, siteIds: number[] | null | undefined, query: ListQuery) {
  const where = [eq(optimizer_runs.account_id, accountId)];
  if (siteIds) where.push(siteIds.length > 0 ? inArray(optimizer_runs.site_id, siteIds) : sql`false`);
  return runList<RunRow>({ db, table: optimizer_runs, idColumn: optimizer_runs.id, where, spec: RUN_LIST, query, accountId });
}

export async function runById(db: Db, accountId: number, id: number, siteIds?: number[] | null): Promise<RunRow | null> {
  const where = [eq(optimizer_runs.account_id, accountId), eq(optimizer_runs.id, id)];
  if (siteIds) where.push(siteIds.length > 0 ? inArray(optimizer_runs.site_id, siteIds) : sql`false`);
  const [row] = await db
    .select()
    .from(optimizer_runs)
    .where(and(...where));
  return row ?? null;
}

export async function insertRun(tx: Db, accountId: number, run: NewRun): Promise<RunRow> {
  const [row] = await tx
    .insert(optimizer_runs)
    .values({ ...run, account_id: accountId })
    .returning();
  if (!row) throw new Error('optimizer run not inserted');
  return row;
}

/** The run a job's earlier attempt recorded for this article (its retry skips the article). */
export async function runOfTask(db: Db, accountId: number, contentId: number, taskId: number): Promise<RunRow | null> {
  const [row] = await db
    .select()
    .from(optimizer_runs)
    .where(
      and(eq(optimizer_runs.account_id, accountId), eq(optimizer_runs.content_id, contentId), eq(optimizer_runs.task_id, taskId)),
    );
  return row ?? null;
}
