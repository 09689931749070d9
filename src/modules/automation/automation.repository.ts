import { and, eq, inArray, isNotNull, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import {
  automation_configs,
  automation_run_logs,
  automation_run_units,
  automation_runs,
  RUN_STATUSES,
  RUN_TRIGGERS,
  type RunStatus,
  type Stage,
  type StageResult,
} from './automation.tables.js';

/** Automation queries. Every function on tenant rows takes the account id; the schedule check reads every due config. */

export type ConfigRow = typeof automation_configs.$inferSelect;
export type RunRow = typeof automation_runs.$inferSelect;
export type LogRow = typeof automation_run_logs.$inferSelect;
export type RunStageName = Stage | 'publish';

const reachable = (siteIds: number[] | null): SQL | undefined =>
  siteIds === null ? undefined : siteIds.length > 0 ? inArray(automation_runs.site_id, siteIds) : sql`false`;

export async function configBySite(db: Db, accountId: number, siteId: number, lock = false): Promise<ConfigRow | null> {
  const query = db
    .select()
    .from(automation_configs)
    .where(and(eq(automation_configs.account_id, accountId), eq(automation_configs.site_id, siteId)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

export async function upsertConfig(
  tx: Db,
  accountId: number,
  siteId: number,
  values: Omit<typeof automation_configs.$inferInsert, 'id' | 'account_id' | 'site_id'>,
): Promise<ConfigRow> {
  const [row] = await tx
    .insert(automation_configs)
    .values({ ...values, account_id: accountId, site_id: siteId })
    .onConflictDoUpdate({ target: automation_configs.site_id, set: { ...values, updated_at: sql`now()` } })
    .returning();
  return row as ConfigRow;
}

/** Enabled configs whose next run is due, across accounts (the schedule check). */
export async function dueConfigs(db: Db, now: Date, limit: number): Promise<ConfigRow[]> {
  return db
    .select()
    .from(automation_configs)
    .where(
      and(
        eq(automation_configs.is_enabled, true),
        isNotNull(automation_configs.next_run_at),
        lte(automation_configs.next_run_at, now),
      ),
    )
    .orderBy(automation_configs.next_run_at)
    .limit(limit);
}

/** Moves the config's next run on, only from the due time this caller read (another process may have moved it). */
export async function advanceSchedule(tx: Db, config: ConfigRow, next: Date | null): Promise<boolean> {
  const rows = await tx
    .update(automation_configs)
    .set({ next_run_at: next, updated_at: sql`now()` })
    .where(
      and(
        eq(automation_configs.account_id, config.account_id),
        eq(automation_configs.id, config.id),
        config.next_run_at ? eq(automation_configs.next_run_at, config.next_run_at) : undefined,
      ),
    )
    .returning({ id: automation_configs.id });
  return rows.length === 1;
}

/**
 * A new run, or null when the database refuses it: the site already has an active run (the partial unique
 * index), or a scheduled run for this due time exists (the site + due time index).
 */
export async function insertRun(
  tx: Db,
  values: Omit<typeof automation_runs.$inferInsert, 'id' | 'created_at' | 'updated_at'>,
): Promise<RunRow | null> {
  const [row] = await tx.insert(automation_runs).values(values).onConflictDoNothing().returning();
  return row ?? null;
}

export async function activeRunOfSite(db: Db, accountId: number, siteId: number): Promise<RunRow | null> {
  const [row] = await db
    .select()
    .from(automation_runs)
    .where(
      and(
        eq(automation_runs.account_id, accountId),
        eq(automation_runs.site_id, siteId),
        inArray(automation_runs.status, ['queued', 'running', 'paused']),
      ),
    );
  return row ?? null;
}

export async function runById(
  db: Db,
  accountId: number,
  id: number,
  options: { siteIds?: number[] | null; lock?: boolean } = {},
): Promise<RunRow | null> {
  const query = db
    .select()
    .from(automation_runs)
    .where(and(eq(automation_runs.account_id, accountId), eq(automation_runs.id, id), reachable(options.siteIds ?? null)));
  const [row] = await (options.lock ? query.for('update') : query);
  return row ?? null;
}

export async function updateRun(
  tx: Db,
  accountId: number,
  id: number,
  changes: Partial<Omit<typeof automation_runs.$inferInsert, 'id' | 'account_id'>>,
): Promise<RunRow> {
  const [row] = await tx
    .update(automation_runs)
    .set({ ...changes, updated_at: sql`now()` })
    .where(and(eq(automation_runs.account_id, accountId), eq(automation_runs.id, id)))
    .returning();
  return row as RunRow;
}

/** Moves a run from one of `from` to `to` (with `changes`); null when it is in none of them any more. */
export async function moveRun(
  tx: Db,
  accountId: number,
  id: number,
  from: readonly RunStatus[],
  to: RunStatus,
  changes: Partial<Omit<typeof automation_runs.$inferInsert, 'id' | 'account_id' | 'status'>> = {},
): Promise<RunRow | null> {
  const [row] = await tx
    .update(automation_runs)
    .set({ ...changes, status: to, updated_at: sql`now()` })
    .where(and(eq(automation_runs.account_id, accountId), eq(automation_runs.id, id), inArray(automation_runs.status, [...from])))
    .returning();
  return row ?? null;
}

export const RUN_LIST: ListSpec = {
  filters: {
    status: { column: automation_runs.status, kind: 'string', values: RUN_STATUSES, in: true },
    trigger: { column: automation_runs.trigger, kind: 'string', values: RUN_TRIGGERS },
    site_id: { column: automation_runs.site_id, kind: 'integer' },
  },
  ordering: {
    created_at: automation_runs.created_at,
    started_at: automation_runs.started_at,
    credits_used: automation_runs.credits_used,
  },
};

export function listRuns(db: Db, accountId: number, siteIds: number[] | null, query: ListQuery) {
  const where = [eq(automation_runs.account_id, accountId)];
  const limit = reachable(siteIds);
  if (limit) where.push(limit);
  return runList<RunRow>({ db, table: automation_runs, idColumn: automation_runs.id, where, spec: RUN_LIST, query });
}

export const LOG_LIST: ListSpec = {
  filters: {
    stage: { column: automation_run_logs.stage, kind: 'string' },
    level: { column: automation_run_logs.level, kind: 'string', values: ['info', 'warning', 'error'], in: true },
  },
  ordering: { id: automation_run_logs.id, created_at: automation_run_logs.created_at },
  defaultOrdering: 'id',
};

export function listLogs(db: Db, accountId: number, runId: number, query: ListQuery) {
  return runList<LogRow>({
    db,
    table: automation_run_logs,
    idColumn: automation_run_logs.id,
    where: [eq(automation_run_logs.account_id, accountId), eq(automation_run_logs.run_id, runId)],
    spec: LOG_LIST,
    query,
  });
}

export async function appendLog(
  db: Db,
  accountId: number,
  runId: number,
  line: { stage: RunStageName | null; level?: 'info' | 'warning' | 'error'; message: string; details?: Record<string, unknown> },
): Promise<void> {
  await db.insert(automation_run_logs).values({
    account_id: accountId,
    run_id: runId,
    stage: line.stage,
    level: line.level ?? 'info',
    message: line.message.slice(0, 1000),
    details: line.details ?? {},
  });
}

/** The units of a stage the run has finished. */
export async function finishedUnits(db: Db, runId: number, stage: RunStageName): Promise<Set<number>> {
  const rows = await db
    .select({ unit: automation_run_units.unit })
    .from(automation_run_units)
    .where(and(eq(automation_run_units.run_id, runId), eq(automation_run_units.stage, stage)));
  return new Set(rows.map((r) => r.unit));
}

/** The units of a stage the run finished with something made and no error (the articles it approved, for review). */
export async function madeUnits(db: Db, runId: number, stage: RunStageName): Promise<number[]> {
  const rows = await db
    .select({ unit: automation_run_units.unit })
    .from(automation_run_units)
    .where(
      and(
        eq(automation_run_units.run_id, runId),
        eq(automation_run_units.stage, stage),
        sql`(${automation_run_units.outcome} ->> 'created')::int > 0`,
        sql`${automation_run_units.outcome} -> 'error' is null`,
      ),
    )
    .orderBy(automation_run_units.unit);
  return rows.map((r) => r.unit);
}

/**
 * Records a finished unit and adds its outcome to the stage's results and the run's credits, once: a unit
 * recorded already (an earlier attempt got this far) changes nothing. Returns the run as it now is.
 */
export async function recordUnit(
  tx: Db,
  accountId: number,
  runId: number,
  stage: RunStageName,
  unit: number,
  outcome: { created: number; skipped: boolean; credits: number; error?: { code: string; message: string } },
): Promise<RunRow | null> {
  const inserted = await tx
    .insert(automation_run_units)
    .values({ account_id: accountId, run_id: runId, stage, unit, outcome })
    .onConflictDoNothing()
    .returning({ unit: automation_run_units.unit });
  if (inserted.length === 0) return null;
  const run = await runById(tx, accountId, runId, { lock: true });
  if (!run) return null;
  const current: StageResult = run.stages[stage] ?? emptyResult('running');
  const next: StageResult = {
    ...current,
    processed: current.processed + 1,
    created: current.created + outcome.created,
    skipped: current.skipped + (outcome.skipped ? 1 : 0),
    credits: current.credits + outcome.credits,
    errors: outcome.error ? [...current.errors, { unit: String(unit), ...outcome.error }].slice(-100) : current.errors,
  };
  return updateRun(tx, accountId, runId, {
    stages: { ...run.stages, [stage]: next },
    credits_used: run.credits_used + outcome.credits,
  });
}

export const emptyResult = (status: StageResult['status']): StageResult => ({
  status,
  processed: 0,
  created: 0,
  skipped: 0,
  credits: 0,
  errors: [],
});

/** The run's sign of life, written by the task that owns it while its handler is alive (paused: finishing a unit). */
export async function heartbeat(db: Db, accountId: number, id: number, taskId: number | null): Promise<void> {
  await db
    .update(automation_runs)
    .set({ updated_at: sql`now()` })
    .where(
      and(
        eq(automation_runs.account_id, accountId),
        eq(automation_runs.id, id),
        inArray(automation_runs.status, ['running', 'paused']),
        taskId === null ? undefined : eq(automation_runs.task_id, taskId),
      ),
    );
}

/**
 * Running runs with no sign of life for `staleSeconds`, across accounts (their worker died), by the database's
 * clock: the processes checking may run on machines whose clocks differ.
 */
export async function stalledRuns(db: Db, staleSeconds: number, limit: number): Promise<RunRow[]> {
  return db.select().from(automation_runs).where(stale(staleSeconds)).orderBy(automation_runs.updated_at).limit(limit);
}

/** The run, locked, when it is still running and stalled; null when its worker showed life meanwhile. */
export async function lockStalled(tx: Db, accountId: number, id: number, staleSeconds: number): Promise<RunRow | null> {
  const [row] = await tx
    .select()
    .from(automation_runs)
    .where(and(eq(automation_runs.account_id, accountId), eq(automation_runs.id, id), stale(staleSeconds)))
    .for('update');
  return row ?? null;
}

const stale = (seconds: number) =>
  and(eq(automation_runs.status, 'running'), lt(automation_runs.updated_at, sql`now() - make_interval(secs => ${seconds})`));

/** Whether the run's task showed life within `seconds` (by the database's clock). */
export async function aliveWithin(db: Db, accountId: number, id: number, seconds: number): Promise<boolean> {
  const rows = await db
    .select({ id: automation_runs.id })
    .from(automation_runs)
    .where(
      and(
        eq(automation_runs.account_id, accountId),
        eq(automation_runs.id, id),
        sql`${automation_runs.updated_at} >= now() - make_interval(secs => ${seconds})`,
      ),
    );
  return rows.length === 1;
}
