import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError, conflict, notFound, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import { assertIfMatch, type ScopedContext } from '../../core/resource.js';
import { findTask, settleTask } from '../../core/tasks.js';
import type { AutomationCredits, AutomationSites, AutomationStages } from './automation.deps.js';
import { estimateRun } from './automation.estimate.js';
import * as repo from './automation.repository.js';
import { nextRun, nextRuns, scheduleProblems } from './automation.schedule.js';
import { type ConfigPatch, DEFAULT_SCHEDULE, DEFAULT_STAGES, type Estimate, type RunNow } from './automation.schemas.js';
import { ACTIVE_STATUSES, type RunSettings, type RunTrigger, STAGES, type StageConfigs } from './automation.tables.js';

/**
 * The rules of automation: a site's config (defaults until a PATCH stores it; the schedule checked by croner),
 * the estimate of the next run, and runs moving `queued` → `running` ⇄ `paused` → `completed` | `failed` |
 * `cancelled`. One active run per site is the database's rule (a partial unique index), so two `run_now` at once
 * cannot both start. A run is a task (`automation.run`, automation.jobs.ts); resuming a paused run starts a new
 * task that carries on from the unit where it stopped.
 */

/** How often a running run's task shows it is alive, and how long without it before another task takes over. */
export const HEARTBEAT_SECONDS = 20;
export const STALE_SECONDS = 120;

export interface AutomationServiceDeps {
  db: Db;
  jobs: Jobs;
  ai: Ai;
  credits: AutomationCredits;
  sites: AutomationSites;
  stages: AutomationStages;
  defaultWordCount: (accountId: number) => Promise<number>;
}

type ConfigView = ReturnType<typeof viewOf>;

function viewOf(accountId: number, siteId: number, row: repo.ConfigRow | null) {
  const stored = row ?? {
    id: null,
    is_enabled: false,
    schedule: DEFAULT_SCHEDULE,
    stages: DEFAULT_STAGES,
    ideas_per_cluster: 3,
    in_article_images: 2,
    require_approval: true,
    auto_publish: false,
    publish_status: 'publish' as const,
    max_credits_per_run: null,
    next_run_at: null,
    created_at: null,
    updated_at: null,
  };
  return {
    id: stored.id,
    account_id: accountId,
    site_id: siteId,
    is_enabled: stored.is_enabled,
    schedule: stored.schedule,
    stages: { ...DEFAULT_STAGES, ...stored.stages },
    ideas_per_cluster: stored.ideas_per_cluster,
    in_article_images: stored.in_article_images,
    require_approval: stored.require_approval,
    auto_publish: stored.auto_publish,
    publish_status: stored.publish_status,
    max_credits_per_run: stored.max_credits_per_run,
    next_run_at: stored.next_run_at,
    next_runs: nextRuns(stored.schedule, 5),
    created_at: stored.created_at,
    updated_at: stored.updated_at,
  };
}

export const settingsOf = (config: ConfigView): RunSettings => ({
  stages: config.stages,
  ideas_per_cluster: config.ideas_per_cluster,
  in_article_images: config.in_article_images,
  require_approval: config.require_approval,
  auto_publish: config.auto_publish,
  publish_status: config.publish_status,
  max_credits_per_run: config.max_credits_per_run,
});

const runEvent = (run: repo.RunRow, verb: string, actorId: number | null, payload: Record<string, unknown> = {}) => ({
  account_id: run.account_id,
  site_id: run.site_id,
  type: `automation.run.${verb}`,
  source_agent: 'automation' as const,
  actor_id: actorId,
  object_type: 'automation_run',
  object_id: run.id,
  payload: { trigger: run.trigger, status: run.status, ...payload },
});

export function createAutomationService(deps: AutomationServiceDeps) {
  const { db, jobs } = deps;

  async function reachSite(ctx: ScopedContext, siteId: number, asField: boolean): Promise<void> {
    const problems = await deps.sites.check(db, ctx, siteId);
    if (!problems) return;
    if (asField) throw validationError({ site_id: problems.site_id ?? ['Unknown site.'] });
    throw notFound('Site');
  }

  async function config(accountId: number, siteId: number) {
    return viewOf(accountId, siteId, await repo.configBySite(db, accountId, siteId));
  }

  async function ownRun(ctx: ScopedContext, id: number, lock = false, tx: Db = db) {
    const run = await repo.runById(tx, ctx.accountId, id, { siteIds: ctx.siteIds, lock });
    if (!run) throw notFound('Automation run');
    return run;
  }

  async function estimate(accountId: number, siteId: number, settings: RunSettings): Promise<Estimate> {
    const [stages, balance] = await Promise.all([
      estimateRun(
        { ai: deps.ai, stages: deps.stages, defaultWordCount: () => deps.defaultWordCount(accountId) },
        accountId,
        siteId,
        settings,
      ),
      deps.credits.balance(accountId),
    ]);
    return {
      site_id: siteId,
      credits: stages.reduce((sum, s) => sum + s.credits, 0),
      balance,
      max_credits_per_run: settings.max_credits_per_run,
      stages,
    };
  }

  /** A new run and its task, in one transaction; null when the site already has an active run. */
  async function startRun(
    owner: { accountId: number; actorId: number | null },
    siteId: number,
    trigger: RunTrigger,
    settings: RunSettings,
    extra: { estimated_credits: number; scheduled_for?: Date; claim?: (tx: Db) => Promise<boolean> },
  ) {
    return db.transaction(async (tx) => {
      if (extra.claim && !(await extra.claim(tx))) return null;
      const run = await repo.insertRun(tx, {
        account_id: owner.accountId,
        site_id: siteId,
        trigger,
        status: 'queued',
        settings,
        actor_id: owner.actorId,
        estimated_credits: extra.estimated_credits,
        scheduled_for: extra.scheduled_for ?? null,
        stages: Object.fromEntries(STAGES.map((s) => [s, repo.emptyResult(settings.stages[s].enabled ? 'pending' : 'skipped')])),
      });
      if (!run) return null;
      const task = await jobs.startTask(tx, { ...owner, siteId }, 'automation.run', {
        account_id: owner.accountId,
        run_id: run.id,
      });
      const row = await repo.updateRun(tx, owner.accountId, run.id, { task_id: task.id });
      const event = runEvent(row, 'queued', owner.actorId, { task_id: task.id });
      // A person's run_now is the API's doing; a scheduled run, automation's.
      await record(tx, trigger === 'manual' ? { ...event, source_agent: 'api' } : event);
      return { run: row, task };
    });
  }

  /**
   * A scheduled run refused before it started (its estimate passes the balance or the budget, or it needs AI and
   * none is configured): recorded as failed with that error, so the site's runs show why nothing happened.
   */
  async function refuseRun(
    owner: { accountId: number; actorId: number | null },
    siteId: number,
    settings: RunSettings,
    extra: {
      estimated_credits: number;
      scheduled_for: Date;
      error: { code: string; message: string };
      claim: (tx: Db) => Promise<boolean>;
    },
  ) {
    return db.transaction(async (tx) => {
      if (!(await extra.claim(tx))) return null;
      const now = new Date();
      const run = await repo.insertRun(tx, {
        account_id: owner.accountId,
        site_id: siteId,
        trigger: 'scheduled',
        status: 'failed',
        settings,
        actor_id: owner.actorId,
        estimated_credits: extra.estimated_credits,
        scheduled_for: extra.scheduled_for,
        started_at: now,
        finished_at: now,
        error: extra.error,
      });
      if (!run) return null;
      await record(tx, runEvent(run, 'failed', owner.actorId, { error: extra.error }));
      await repo.appendLog(tx, owner.accountId, run.id, {
        stage: null,
        level: 'error',
        message: `Not started: ${extra.error.message}`,
      });
      return run;
    });
  }

  /**
   * Runs whose worker died (kill -9, a lost machine) are carried on by a new task, as a resume would: pg-boss
   * notices a dead job only after its expiry (hours, for a run), while a run's task writes a heartbeat every
   * HEARTBEAT_SECONDS. One whose heartbeat is older than `staleSeconds` is taken over under lock, its old task
   * failed (so the dead job's own retry finds it finished and does nothing), and the new task goes on from
   * the unit in hand. The schedule check does this every minute, from whichever process runs the queue.
   */
  async function recoverStalled(staleSeconds = STALE_SECONDS): Promise<number> {
    let recovered = 0;
    for (const stalled of await repo.stalledRuns(db, staleSeconds, 50)) {
      const taken = await db.transaction(async (tx) => {
        // Checked again under lock: its worker may have shown life, or another process taken it over.
        const run = await repo.lockStalled(tx, stalled.account_id, stalled.id, staleSeconds);
        if (!run) return false;
        const owner = { accountId: run.account_id, actorId: run.actor_id, siteId: run.site_id };
        const task = await jobs.startTask(tx, owner, 'automation.run', { account_id: run.account_id, run_id: run.id });
        if (run.task_id !== null) {
          await settleTask(tx, run.account_id, run.task_id, {
            status: 'failed',
            error: { code: 'worker_lost', message: `The worker running this run stopped; task ${task.id} carries it on.` },
          });
        }
        await repo.updateRun(tx, run.account_id, run.id, { status: 'queued', task_id: task.id });
        await repo.appendLog(tx, run.account_id, run.id, {
          stage: run.current_stage,
          level: 'warning',
          message: `No sign of life from its worker for ${staleSeconds} s: carried on by task ${task.id} from the unit in hand.`,
          details: { previous_task_id: run.task_id, task_id: task.id },
        });
        return true;
      });
      if (taken) recovered++;
    }
    return recovered;
  }

  return {
    recoverStalled,
    estimateFor: estimate,
    startRun,
    refuseRun,
    configOf: config,

    async getConfig(ctx: ScopedContext, siteId: number) {
      await reachSite(ctx, siteId, false);
      return config(ctx.accountId, siteId);
    },

    /** `ifMatch`: the ETag the caller read (GET); a config changed since is 412, so no edit is lost. */
    async updateConfig(ctx: ScopedContext, siteId: number, body: ConfigPatch, ifMatch?: string) {
      await reachSite(ctx, siteId, false);
      return db.transaction(async (tx) => {
        const current = viewOf(ctx.accountId, siteId, await repo.configBySite(tx, ctx.accountId, siteId, true));
        assertIfMatch(ifMatch, current);
        const schedule = { ...current.schedule, ...body.schedule };
        const problems = scheduleProblems(schedule);
        if (problems) throw validationError(problems);
        const stages = Object.fromEntries(
          STAGES.map((stage) => [stage, { ...current.stages[stage], ...body.stages?.[stage] }]),
        ) as StageConfigs;
        const isEnabled = body.is_enabled ?? current.is_enabled;
        const scheduleChanged = schedule.cron !== current.schedule.cron || schedule.timezone !== current.schedule.timezone;
        // The next due time is kept while the schedule stays the same, so saving other fields never skips a run.
        const nextRunAt = !isEnabled ? null : current.next_run_at && !scheduleChanged ? current.next_run_at : nextRun(schedule);
        const row = await repo.upsertConfig(tx, ctx.accountId, siteId, {
          is_enabled: isEnabled,
          schedule,
          stages,
          ideas_per_cluster: body.ideas_per_cluster ?? current.ideas_per_cluster,
          in_article_images: body.in_article_images ?? current.in_article_images,
          require_approval: body.require_approval ?? current.require_approval,
          auto_publish: body.auto_publish ?? current.auto_publish,
          publish_status: body.publish_status ?? current.publish_status,
          max_credits_per_run: body.max_credits_per_run === undefined ? current.max_credits_per_run : body.max_credits_per_run,
          next_run_at: nextRunAt,
        });
        await record(
          tx,
          byCaller(ctx, {
            site_id: siteId,
            type: 'automation_config.updated',
            object_type: 'automation_config',
            object_id: row.id,
            payload: { fields: Object.keys(body).sort(), is_enabled: row.is_enabled },
          }),
        );
        return viewOf(ctx.accountId, siteId, row);
      });
    },

    /** 404 for a site the caller does not reach, as for the linker's report of a site. */
    async estimate(ctx: ScopedContext, siteId: number): Promise<Estimate> {
      await reachSite(ctx, siteId, false);
      return estimate(ctx.accountId, siteId, settingsOf(await config(ctx.accountId, siteId)));
    },

    /**
     * 400 for a site the caller does not reach, 409 while the site has an active run, 503 when the run needs AI
     * and none is configured, 402 when its estimate passes the balance or the run's budget; else the run starts.
     */
    async runNow(ctx: ScopedContext, body: RunNow) {
      await reachSite(ctx, body.site_id, true);
      const active = await repo.activeRunOfSite(db, ctx.accountId, body.site_id);
      if (active) throw activeConflict(active);
      const settings = settingsOf(await config(ctx.accountId, body.site_id));
      const estimated = await estimate(ctx.accountId, body.site_id, settings);
      const needsAi = estimated.stages.some((s) => s.credits > 0);
      if (needsAi) deps.ai.requireConfigured();
      checkBudget(estimated);
      const started = await startRun(
        { accountId: ctx.accountId, actorId: ctx.user?.id ?? null },
        body.site_id,
        'manual',
        settings,
        { estimated_credits: estimated.credits },
      );
      if (!started) {
        const now = await repo.activeRunOfSite(db, ctx.accountId, body.site_id);
        throw activeConflict(now);
      }
      return started;
    },

    listRuns: (ctx: ScopedContext, query: ListQuery) => repo.listRuns(db, ctx.accountId, ctx.siteIds, query),

    getRun: (ctx: ScopedContext, id: number) => ownRun(ctx, id),

    async logs(ctx: ScopedContext, id: number, query: ListQuery) {
      await ownRun(ctx, id);
      return repo.listLogs(db, ctx.accountId, id, query);
    },

    /** `queued` | `running` → `paused`: the run stops after the unit in hand. */
    pause: (ctx: ScopedContext, id: number) => move(ctx, id, ['queued', 'running'], 'paused', 'paused'),

    /** `paused` → `queued`, with a new task that carries on from where the run stopped. */
    async resume(ctx: ScopedContext, id: number) {
      return db.transaction(async (tx) => {
        const run = await ownRun(ctx, id, true, tx);
        if (run.status !== 'paused')
          throw conflict(`A run in status "${run.status}" cannot be resumed; it must be paused.`, run.status);
        // Its task may still be finishing the unit in hand: a second task now would do that unit at the same time.
        // A task silent for STALE_SECONDS died with its worker, and does not hold the run back.
        const previous = run.task_id === null ? null : await findTask(tx, ctx.accountId, run.task_id);
        if (previous?.status === 'running' && (await repo.aliveWithin(tx, ctx.accountId, id, STALE_SECONDS))) {
          throw new AppError('conflict', 'This run is still finishing the unit in hand; resume it once it has stopped.', {
            details: { current_status: run.status, task_id: run.task_id },
          });
        }
        const task = await jobs.startTask(
          tx,
          { accountId: ctx.accountId, actorId: ctx.user?.id ?? null, siteId: run.site_id },
          'automation.run',
          { account_id: ctx.accountId, run_id: run.id },
        );
        const row = await repo.updateRun(tx, ctx.accountId, id, { status: 'queued', task_id: task.id });
        await record(tx, { ...runEvent(row, 'resumed', ctx.user?.id ?? null, { task_id: task.id }), source_agent: 'api' });
        await repo.appendLog(tx, ctx.accountId, id, { stage: row.current_stage, message: 'Resumed.' });
        return row;
      });
    },

    /** Any active status → `cancelled`: what the run made stays; it stops after the unit in hand. */
    cancel: (ctx: ScopedContext, id: number) => move(ctx, id, ACTIVE_STATUSES, 'cancelled', 'cancelled'),
  };

  async function move(
    ctx: ScopedContext,
    id: number,
    from: readonly (typeof ACTIVE_STATUSES)[number][],
    to: 'paused' | 'cancelled',
    verb: string,
  ) {
    return db.transaction(async (tx) => {
      const run = await ownRun(ctx, id, true, tx);
      if (!from.includes(run.status as (typeof from)[number])) {
        throw conflict(`A run in status "${run.status}" cannot be ${verb}; it must be ${from.join(' or ')}.`, run.status);
      }
      const row = await repo.updateRun(tx, ctx.accountId, id, {
        status: to,
        ...(to === 'cancelled' ? { finished_at: new Date() } : {}),
      });
      await record(tx, { ...runEvent(row, verb, ctx.user?.id ?? null, { previous_status: run.status }), source_agent: 'api' });
      await repo.appendLog(tx, ctx.accountId, id, {
        stage: row.current_stage,
        message: to === 'paused' ? 'Pause asked for: the run stops after the unit in hand.' : 'Cancelled: what was made stays.',
      });
      return row;
    });
  }
}
export type AutomationService = ReturnType<typeof createAutomationService>;

function activeConflict(active: repo.RunRow | null) {
  const status = active?.status ?? 'running';
  return new AppError('conflict', `This site already has an active run (${active ? `run ${active.id}, ` : ''}${status}).`, {
    details: { current_status: status, run_id: active?.id ?? null },
  });
}

/** 402 when the estimate passes the balance, or the run's own budget. */
export function checkBudget(estimated: Estimate): void {
  const { credits, balance, max_credits_per_run: budget } = estimated;
  if (credits > balance) {
    throw new AppError('insufficient_credits', `This run may need ${credits} credits and the balance is ${balance}.`, {
      details: { required: credits, balance },
    });
  }
  if (budget !== null && credits > budget) {
    throw new AppError(
      'insufficient_credits',
      `This run may need ${credits} credits, more than its budget of ${budget} (max_credits_per_run).`,
      { details: { required: credits, balance, budget } },
    );
  }
}
