import { type Static, Type } from 'typebox';
import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import {
  type AnyJobDefinition,
  defineJob,
  describeError,
  type InlineUnit,
  isTransient,
  JobCancelled,
  type JobContext,
} from '../../core/jobs.js';
import type { Actor, AutomationCredits, AutomationStages } from './automation.deps.js';
import * as repo from './automation.repository.js';
import { nextRun } from './automation.schedule.js';
import type { AutomationService } from './automation.service.js';
import { checkBudget, HEARTBEAT_SECONDS, settingsOf } from './automation.service.js';
import { type RunSettings, STAGES, type Stage, type StageResult } from './automation.tables.js';

/**
 * `automation.run`: one run of a site's pipeline, stage by stage, unit by unit. Each unit is done by its
 * module's own job handler run inline under a key made of the run, the stage and the unit
 * (`automation:<run>:<stage>:<unit>`): the module's exactly-once units and charge refs hang on that key, so
 * when this job dies mid-unit (kill -9) and the queue runs it again after its expiry, the unit in hand is done
 * again under the same key and stored and charged once, and finished units are skipped, because each one is
 * written to `automation_run_units` with its results when it ends. A paused or cancelled run stops after the
 * unit in hand; a resumed one carries on from the next. The units of a stage are chosen when it begins and kept
 * in the run's `plan`, so a resumed run finishes the same batch.
 *
 * `automation.schedule`: every minute (pg-boss cron: one job per tick across every process), each enabled
 * config whose due time passed gets one scheduled run, unique per site and due time; its next due time is
 * then the first one after now, so times missed while everything was down give one run, not one per slot.
 */

export const RunPayload = Type.Object({ account_id: Type.Integer({ minimum: 1 }), run_id: Type.Integer({ minimum: 1 }) });
export const SchedulePayload = Type.Object({});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'automation.run': Static<typeof RunPayload>;
    'automation.schedule': Static<typeof SchedulePayload>;
  }
}

export interface AutomationJobDeps {
  ai: () => Ai;
  credits: AutomationCredits;
  /** Lazy: the modules' services are made after the job types. */
  stages: () => AutomationStages;
  service: () => AutomationService;
}

type Ctx = JobContext<Static<typeof RunPayload>>;

interface PlannedUnit {
  id: number;
  /** Credits the unit may take (the module's own price for it). */
  cost: number;
  /** Clustering: the keywords of this sector. */
  ids?: number[];
}

interface UnitOutcome {
  created: number;
  skipped: boolean;
  error?: { code: string; message: string };
}

class OutOfCredits extends Error {}

const unitKey = (runId: number, stage: string, id: number) => `automation:${runId}:${stage.replace('_', '-')}:${id}`;

/** The units a stage takes, chosen from what waits on the site when the stage begins. */
async function chooseUnits(deps: AutomationJobDeps, run: repo.RunRow, stage: Stage | 'publish'): Promise<PlannedUnit[]> {
  const { planner, writer } = deps.stages();
  const ai = deps.ai();
  const { account_id: accountId, site_id: siteId } = run;
  const settings = run.settings;
  const batch = stage === 'publish' ? 0 : settings.stages[stage].batch_size;
  switch (stage) {
    case 'clusters': {
      const keywords = await planner.newKeywords(accountId, siteId, batch);
      const bySector = new Map<number, number[]>();
      for (const k of keywords) bySector.set(k.sector_id, [...(bySector.get(k.sector_id) ?? []), k.id]);
      return [...bySector].map(([sector, ids]) => ({ id: sector, cost: 0, ids }));
    }
    case 'ideas': {
      const cost = await ai.estimate('ideas', 1);
      return (await planner.clustersWithoutIdeas(accountId, siteId, batch)).map((id) => ({ id, cost }));
    }
    case 'tasks':
      return (await planner.newIdeas(accountId, siteId, batch)).map((id) => ({ id, cost: 0 }));
    case 'articles': {
      const tasks = await writer.queuedTasks(accountId, siteId, batch);
      return Promise.all(tasks.map(async (t) => ({ id: t.id, cost: await ai.estimate('content', t.word_count_target) })));
    }
    case 'image_prompts': {
      const cost = await ai.estimate('image_prompts', 1);
      const drafts = await writer.drafts(accountId, siteId, batch * 4);
      return drafts
        .filter((d) => !d.has_images)
        .slice(0, batch)
        .map((d) => ({ id: d.id, cost }));
    }
    case 'images': {
      const cost = await ai.estimate('image_generation', 1);
      return (await writer.pendingImages(accountId, siteId, batch)).map((id) => ({ id, cost }));
    }
    case 'optimize': {
      const drafts = await writer.drafts(accountId, siteId, batch);
      return Promise.all(
        drafts.map(async (d) => ({ id: d.id, cost: await ai.estimate('optimization', Math.max(1, d.word_count)) })),
      );
    }
    case 'link':
    case 'review':
      return (await writer.drafts(accountId, siteId, batch)).map((d) => ({ id: d.id, cost: 0 }));
    case 'publish':
      return [];
  }
}

/** Does one unit through its module; what it made. A failure throws the module's own error. */
async function doUnit(
  deps: AutomationJobDeps,
  run: repo.RunRow,
  stage: Stage,
  unit: PlannedUnit,
  context: InlineUnit,
): Promise<UnitOutcome> {
  const { planner, writer, optimizer, linker } = deps.stages();
  const settings = run.settings;
  const actor: Actor = { accountId: run.account_id, actorId: run.actor_id };
  switch (stage) {
    case 'clusters': {
      const r = await planner.clusterKeywords(context, { site_id: run.site_id, sector_id: unit.id }, unit.ids ?? []);
      return { created: r.clusters_created, skipped: r.clusters_created === 0 };
    }
    case 'ideas': {
      const r = await planner.generateIdeas(context, unit.id, settings.ideas_per_cluster);
      return { created: r.ideas_created, skipped: false };
    }
    case 'tasks': {
      const r = await planner.queueIdeas(actor, [unit.id]);
      return { created: r.queued, skipped: r.queued === 0 };
    }
    case 'articles': {
      const r = await writer.generateArticle(context, unit.id);
      return { created: r.content_id === null ? 0 : 1, skipped: r.content_id === null };
    }
    case 'image_prompts': {
      const r = await writer.writeImagePrompts(context, unit.id, settings.in_article_images);
      return { created: r.image_ids.length, skipped: r.image_ids.length === 0 };
    }
    case 'images': {
      const r = await writer.generateImage(context, unit.id);
      return { created: r.generated ? 1 : 0, skipped: !r.generated };
    }
    case 'optimize': {
      const r = await optimizer.optimize(context, unit.id);
      return { created: r.applied ? 1 : 0, skipped: false };
    }
    case 'link': {
      const r = await linker.link(context, unit.id);
      return { created: r.applied, skipped: false };
    }
    case 'review': {
      // Approval off: the article is approved on the run's behalf (and published below when auto-publish is on).
      const submitted = await writer.submitForReview(actor, unit.id);
      const approved = !settings.require_approval && (await writer.approve(actor, unit.id));
      return { created: submitted || approved ? 1 : 0, skipped: !submitted && !approved };
    }
  }
}

function stageEvent(run: repo.RunRow, stage: string, result: StageResult) {
  const { errors, ...counts } = result;
  return {
    account_id: run.account_id,
    site_id: run.site_id,
    type: 'automation.stage.completed',
    source_agent: 'automation' as const,
    actor_id: run.actor_id,
    object_type: 'automation_run',
    object_id: run.id,
    payload: { stage, ...counts, errors: errors.length },
  };
}

function runEvent(
  run: repo.RunRow,
  verb: 'started' | 'completed' | 'failed' | 'cancelled',
  payload: Record<string, unknown> = {},
) {
  return {
    account_id: run.account_id,
    site_id: run.site_id,
    type: `automation.run.${verb}`,
    source_agent: 'automation' as const,
    actor_id: run.actor_id,
    object_type: 'automation_run',
    object_id: run.id,
    payload: { trigger: run.trigger, credits_used: run.credits_used, ...payload },
  };
}

/** The run as it is now; the job stops here when someone paused or cancelled it. */
async function stillRunning(db: Db, run: repo.RunRow, taskId: number | null): Promise<repo.RunRow | null> {
  const now = await repo.runById(db, run.account_id, run.id);
  return now && now.status === 'running' && ownedBy(now, taskId) ? now : null;
}

/**
 * Whether this task runs the run: a resumed run belongs to its new task, so a retry of an older one (its attempt
 * failed before the pause) finds another owner and stops, and one run never has two runners.
 */
const ownedBy = (run: repo.RunRow, taskId: number | null) => taskId === null || run.task_id === null || run.task_id === taskId;

type StageOutcome = 'done' | 'stopped' | { failed: { code: string; message: string } };

/** One stage: its units chosen (once), then each not yet finished done and recorded. */
async function runStage(ctx: Ctx, deps: AutomationJobDeps, start: repo.RunRow, stage: Stage): Promise<StageOutcome> {
  const { db } = ctx;
  const { account_id: accountId, id: runId } = start;
  let run = await repo.updateRun(db, accountId, runId, {
    current_stage: stage,
    stages: { ...start.stages, [stage]: { ...(start.stages[stage] ?? repo.emptyResult('running')), status: 'running' } },
  });
  let units = run.plan[stage] as PlannedUnit[] | undefined;
  if (!units) {
    units = await chooseUnits(deps, run, stage);
    run = await repo.updateRun(db, accountId, runId, { plan: { ...run.plan, [stage]: units } });
    await repo.appendLog(db, accountId, runId, { stage, message: `Stage ${stage}: ${units.length} units to do.` });
  }
  const done = await repo.finishedUnits(db, runId, stage);
  const total = units.length;
  let outOfCredits: { code: string; message: string } | null = null;
  for (const [index, unit] of units.entries()) {
    if (done.has(unit.id)) continue;
    const current = await stillRunning(db, run, ctx.taskId);
    if (!current) return 'stopped';
    run = current;
    await ctx.progress(STAGES.indexOf(stage), STAGES.length, `${stage}: ${index + 1} of ${total}`);
    let outcome: UnitOutcome;
    let credits = 0;
    const key = unitKey(runId, stage, unit.id);
    try {
      if (outOfCredits) throw new OutOfCredits();
      await checkCredits(deps, run, unit);
      outcome = await doUnit(deps, run, stage, unit, {
        key,
        accountId,
        actorId: run.actor_id,
        signal: ctx.signal,
        lastAttempt: ctx.lastAttempt,
      });
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      if (isTransient(error) && !ctx.lastAttempt) throw error;
      const described: { code: string; message: string } =
        error instanceof OutOfCredits && outOfCredits ? outOfCredits : describeError(error, ctx.taskId);
      if (described.code === 'insufficient_credits') outOfCredits = described;
      outcome = { created: 0, skipped: false, error: described };
    }
    // Free units (lexical clustering, queueing, linking, review) charge nothing: no ledger to read.
    credits = unit.cost === 0 ? 0 : await deps.credits.chargedUnder(accountId, `job:${key}:`);
    const recorded = await db.transaction((tx) => repo.recordUnit(tx, accountId, runId, stage, unit.id, { ...outcome, credits }));
    if (recorded) run = recorded;
    await repo.appendLog(db, accountId, runId, {
      stage,
      level: outcome.error ? 'error' : 'info',
      message: outcome.error
        ? `${stage} ${unit.id}: ${outcome.error.message}`
        : `${stage} ${unit.id}: ${outcome.created} made${credits > 0 ? `, ${credits} credits` : ''}.`,
      details: { unit: unit.id, created: outcome.created, credits, ...(outcome.error ? { error: outcome.error } : {}) },
    });
  }
  const finished = (await repo.runById(db, accountId, runId)) ?? run;
  const result: StageResult = {
    ...(finished.stages[stage] ?? repo.emptyResult('running')),
    status: outOfCredits ? 'failed' : 'completed',
  };
  await db.transaction(async (tx) => {
    const row = await repo.updateRun(tx, accountId, runId, { stages: { ...finished.stages, [stage]: result } });
    await record(tx, stageEvent(row, stage, result));
  });
  return outOfCredits ? { failed: outOfCredits } : 'done';
}

/** Before a unit: the balance covers it, and so does what is left of the run's budget; else 402's error. */
async function checkCredits(deps: AutomationJobDeps, run: repo.RunRow, unit: PlannedUnit): Promise<void> {
  if (unit.cost === 0) return;
  const budget = run.settings.max_credits_per_run;
  if (budget !== null && run.credits_used + unit.cost > budget) {
    throw new AppError(
      'insufficient_credits',
      `The run's budget of ${budget} credits (max_credits_per_run) is spent: ${run.credits_used} used, this unit needs ${unit.cost}.`,
      { details: { required: unit.cost, balance: budget - run.credits_used } },
    );
  }
  const balance = await deps.credits.balance(run.account_id);
  if (balance < unit.cost) {
    throw new AppError(
      'insufficient_credits',
      `Not enough credits: this unit needs ${unit.cost} and the balance is ${balance}.`,
      {
        details: { required: unit.cost, balance },
      },
    );
  }
}

/** After review with approval off and auto-publish on: the approved articles go to the publisher, once. */
async function publishStage(ctx: Ctx, deps: AutomationJobDeps, run: repo.RunRow): Promise<StageOutcome> {
  const { db } = ctx;
  const settings: RunSettings = run.settings;
  if (settings.require_approval || !settings.auto_publish) return 'done';
  if ((await repo.finishedUnits(db, run.id, 'publish')).size > 0) return 'done';
  const ids = await repo.madeUnits(db, run.id, 'review');
  await repo.updateRun(db, run.account_id, run.id, { current_stage: 'publish' });
  const result = repo.emptyResult('completed');
  try {
    if (ids.length > 0)
      await deps.stages().publish({ accountId: run.account_id, actorId: run.actor_id }, ids, settings.publish_status);
  } catch (error) {
    if (isTransient(error) && !ctx.lastAttempt) throw error;
    const described = describeError(error, ctx.taskId);
    const failed = { ...result, status: 'failed' as const, errors: [{ unit: 'publish', ...described }] };
    const row = await repo.updateRun(db, run.account_id, run.id, { stages: { ...run.stages, publish: failed } });
    await record(db, stageEvent(row, 'publish', failed));
    await repo.appendLog(db, run.account_id, run.id, {
      stage: 'publish',
      level: 'error',
      message: `Publishing failed: ${described.message}`,
    });
    return { failed: described };
  }
  await db.transaction(async (tx) => {
    await repo.recordUnit(tx, run.account_id, run.id, 'publish', 0, { created: ids.length, skipped: false, credits: 0 });
    const now = (await repo.runById(tx, run.account_id, run.id)) ?? run;
    const stageResult = { ...(now.stages.publish ?? result), status: 'completed' as const, processed: ids.length };
    const row = await repo.updateRun(tx, run.account_id, run.id, { stages: { ...now.stages, publish: stageResult } });
    await record(tx, stageEvent(row, 'publish', stageResult));
  });
  await repo.appendLog(db, run.account_id, run.id, {
    stage: 'publish',
    message: `${ids.length} articles sent to the publisher.`,
  });
  return 'done';
}

async function finish(db: Db, run: repo.RunRow, outcome: 'completed' | { failed: { code: string; message: string } }) {
  return db.transaction(async (tx) => {
    const failed = outcome !== 'completed' ? outcome.failed : null;
    const row = await repo.moveRun(tx, run.account_id, run.id, ['running'], failed ? 'failed' : 'completed', {
      finished_at: new Date(),
      current_stage: null,
      error: failed,
    });
    if (!row) return null;
    await record(tx, runEvent(row, failed ? 'failed' : 'completed', failed ? { error: failed } : {}));
    await repo.appendLog(tx, run.account_id, run.id, {
      stage: null,
      level: failed ? 'error' : 'info',
      message: failed ? `The run failed: ${failed.message}` : `The run completed: ${row.credits_used} credits used.`,
    });
    return row;
  });
}

async function runHandler(ctx: Ctx, deps: AutomationJobDeps) {
  const { db } = ctx;
  const { account_id: accountId, run_id: runId } = ctx.payload;
  const started = await db.transaction(async (tx) => {
    const before = await repo.runById(tx, accountId, runId, { lock: true });
    if (!before || (before.status !== 'queued' && before.status !== 'running') || !ownedBy(before, ctx.taskId)) {
      return { run: before, moved: false };
    }
    const row = await repo.updateRun(tx, accountId, runId, {
      status: 'running',
      task_id: ctx.taskId ?? before.task_id,
      started_at: before.started_at ?? new Date(),
    });
    if (!before.started_at) await record(tx, runEvent(row, 'started'));
    return { run: row, moved: true };
  });
  if (!started.run || !started.moved) return { run_id: runId, status: started.run?.status ?? 'deleted' };
  let run = started.run;
  const beat = setInterval(() => {
    repo.heartbeat(db, accountId, runId, ctx.taskId).catch((error) => ctx.log.warn({ err: error }, 'run heartbeat failed'));
  }, HEARTBEAT_SECONDS * 1000);
  try {
    for (const stage of STAGES) {
      const result = run.stages[stage];
      if (!run.settings.stages[stage].enabled || result?.status === 'completed' || result?.status === 'skipped') continue;
      const outcome = await runStage(ctx, deps, run, stage);
      if (outcome === 'stopped') return stoppedResult(db, run);
      const now = await repo.runById(db, accountId, runId);
      if (!now) return { run_id: runId, status: 'deleted' };
      run = now;
      if (outcome !== 'done') {
        const row = await finish(db, run, outcome);
        return { run_id: runId, status: row?.status ?? run.status, error: outcome.failed };
      }
    }
    const published = await publishStage(ctx, deps, run);
    run = (await repo.runById(db, accountId, runId)) ?? run;
    const row = await finish(db, run, published === 'done' ? 'completed' : published === 'stopped' ? 'completed' : published);
    return { run_id: runId, status: row?.status ?? run.status, credits_used: row?.credits_used ?? run.credits_used };
  } catch (error) {
    // Cancelled: onAbandoned. To be tried again (or stopped by shutdown): the next attempt goes on.
    if (!(error instanceof JobCancelled) && !(isTransient(error) && !ctx.lastAttempt) && !ctx.signal.aborted) {
      await finish(db, run, { failed: describeError(error, ctx.taskId) });
    }
    throw error;
  } finally {
    clearInterval(beat);
  }
}

/** The run's task was cancelled (system/tasks/<id>/cancel/), queued or running: the run is too, keeping what it made. */
async function cancelRun(tx: Db, accountId: number, runId: number, taskId: number | null) {
  const run = await repo.runById(tx, accountId, runId, { lock: true });
  if (!run || !ownedBy(run, taskId)) return;
  const row = await repo.moveRun(tx, accountId, runId, ['running', 'queued'], 'cancelled', { finished_at: new Date() });
  if (row) await record(tx, runEvent(row, 'cancelled'));
}

async function stoppedResult(db: Db, run: repo.RunRow) {
  const now = await repo.runById(db, run.account_id, run.id);
  await repo.appendLog(db, run.account_id, run.id, {
    stage: now?.current_stage ?? null,
    message: `Stopped after the unit in hand: the run is ${now?.status ?? 'gone'}.`,
  });
  return { run_id: run.id, status: now?.status ?? 'deleted' };
}

/** Every due config gets one scheduled run; its next due time moves past now (missed slots give one run). */
async function scheduleCheck(ctx: JobContext<unknown>, deps: AutomationJobDeps) {
  const now = new Date();
  const recovered = await deps.service().recoverStalled();
  const due = await repo.dueConfigs(ctx.db, now, 100);
  let started = 0;
  let refused = 0;
  for (const config of due) {
    const service = deps.service();
    const dueAt = config.next_run_at;
    if (!dueAt) continue;
    // The due time moves on in the transaction that starts the run, from the value this process read: another
    // process checking at the same time waits on the row, then finds it moved and starts nothing (and the run's
    // unique site + due time would refuse a second one anyway). The next time is the first after now.
    const claim = (tx: Db) => repo.advanceSchedule(tx, config, nextRun(config.schedule, now));
    const view = await service.configOf(config.account_id, config.site_id);
    const settings = settingsOf(view);
    const owner = { accountId: config.account_id, actorId: null };
    const estimated = await service.estimateFor(config.account_id, config.site_id, settings);
    try {
      if (estimated.stages.some((s) => s.credits > 0)) deps.ai().requireConfigured();
      checkBudget(estimated);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (
        await service.refuseRun(owner, config.site_id, settings, {
          estimated_credits: estimated.credits,
          scheduled_for: dueAt,
          error: { code: error.code, message: error.message },
          claim,
        })
      )
        refused++;
      continue;
    }
    const run = await service.startRun(owner, config.site_id, 'scheduled', settings, {
      estimated_credits: estimated.credits,
      scheduled_for: dueAt,
      claim,
    });
    if (run) started++;
  }
  return { due: due.length, started, refused, recovered };
}

export function automationJobs(deps: AutomationJobDeps): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'automation.run',
      payload: RunPayload,
      // A run of many articles one after the other; a dead worker's run is picked up after the expiry.
      timeoutSeconds: 6 * 3600,
      retryLimit: 5,
      retryDelaySeconds: 10,
      concurrency: 2,
      handler: (ctx) => runHandler(ctx, deps),
      // A lost run (its process died on the last attempt) is left to the schedule check's recovery (recoverStalled),
      // which carries it on under a new task once its heartbeat is stale.
      onAbandoned: async (tx, task, ending) => {
        if (ending.status === 'cancelled') await cancelRun(tx, task.accountId, task.payload.run_id, task.taskId);
      },
    }),
    defineJob({
      name: 'automation.schedule',
      payload: SchedulePayload,
      cron: '* * * * *',
      timeoutSeconds: 120,
      retryLimit: 1,
      concurrency: 1,
      handler: (ctx) => scheduleCheck(ctx, deps),
    }),
  ];
}
