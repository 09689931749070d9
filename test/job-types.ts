import { setTimeout as sleep } from 'node:timers/promises';
import { type Static, Type } from 'typebox';
import { AppError } from '../src/core/errors.js';
import { record } from '../src/core/events.js';
import { defineJob, type JobContext } from '../src/core/jobs.js';
import { findTask } from '../src/core/tasks.js';

/**
 * Job types made for the tests (and the SIGKILL worker in test/fixtures): a job of `steps` units, each unit
 * recording one `test.stepped` event through `ctx.once`, so "its effect happened once" is a count of events.
 */

export const StepsPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  steps: Type.Integer({ minimum: 1, maximum: 1000 }),
  delay_ms: Type.Integer({ minimum: 0 }),
  /**
   * Only the first runs wait `delay_ms` after each step (default: every run), so a later one runs at once. Counted
   * as the task's `attempts`, which, unlike the queue's, include the runs handed back at a shutdown.
   */
  delay_attempts: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Attempts that fail on purpose before one succeeds (a lost database connection: transient, retried). */
  fail_attempts: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Fail as a bug would, with a driver error carrying its SQL and parameters (final, and never shown). */
  bug: Type.Optional(Type.Boolean()),
  /** Fail with a 4xx AppError (a permanent failure, not retried). */
  refuse: Type.Optional(Type.Boolean()),
});

declare module '../src/core/jobs.js' {
  interface JobPayloads {
    'test.steps': Static<typeof StepsPayload>;
  }
}

/** The task's runs so far, this one included (its `attempts`); the queue's attempt when it has no task. */
async function runsSoFar(ctx: JobContext<unknown>): Promise<number> {
  if (ctx.taskId === null || ctx.accountId === null) return ctx.attempt;
  return (await findTask(ctx.db, ctx.accountId, ctx.taskId))?.attempts ?? ctx.attempt;
}

export const stepsJob = defineJob({
  name: 'test.steps',
  payload: StepsPayload,
  // Short, so a job whose worker was killed is presumed dead (timeout + 5 s) and retried quickly.
  timeoutSeconds: 6,
  expireSeconds: 3,
  retryLimit: 3,
  retryDelaySeconds: 0,
  retryBackoff: false,
  concurrency: 2,
  async handler(ctx) {
    const { steps, delay_ms: delay, account_id: accountId } = ctx.payload;
    if (ctx.payload.refuse) throw new AppError('insufficient_credits', 'Not enough credits for this test.');
    if (ctx.attempt <= (ctx.payload.fail_attempts ?? 0)) {
      throw Object.assign(new Error(`Connection terminated unexpectedly (attempt ${ctx.attempt}, on purpose)`), {
        code: 'ECONNRESET',
      });
    }
    if (ctx.payload.bug) {
      throw Object.assign(
        new Error('Failed query: select * from auth_users where password_hash = $1\nparams: $argon2id$v=19$x'),
        {
          query: 'select * from auth_users where password_hash = $1',
          params: ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'],
        },
      );
    }
    const waits = delay > 0 && (await runsSoFar(ctx)) <= (ctx.payload.delay_attempts ?? Number.POSITIVE_INFINITY);
    for (let step = 1; step <= steps; step++) {
      await ctx.once(`step:${step}`, (tx) =>
        record(tx, {
          account_id: accountId,
          type: 'test.stepped',
          source_agent: 'worker',
          object_type: 'job',
          object_id: ctx.taskId,
          payload: { step, job_id: ctx.jobId },
        }),
      );
      await ctx.progress(step, steps, `step ${step} of ${steps}`);
      if (waits) await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {});
    }
    return { steps };
  },
  // One `test.released` event per abandoned task, whichever way it was cancelled or lost (the hook runs once).
  async onAbandoned(tx, task, ending) {
    await record(tx, {
      account_id: task.accountId,
      type: 'test.released',
      source_agent: 'worker',
      object_type: 'job',
      object_id: task.taskId,
      payload: { steps: task.payload.steps, ending: ending.status },
    });
  },
});

/**
 * `writer.generate_content` with a short timeout (and so a short expiry: timeout + 5 s), for the test that kills
 * a worker mid-article (src/modules/writer/writer.kill.test.ts): the test app and the worker it spawns
 * (test/fixtures/writer-worker.ts) both register it, as every process sharing a queue must agree on its limits.
 */
export const WRITER_KILL_LIMITS = {
  'writer.generate_content': { timeoutSeconds: 6, expireSeconds: 1, retryLimit: 3, retryDelaySeconds: 0, retryBackoff: false },
};

/**
 * The automation kill test's limits (src/modules/automation/automation.kill.test.ts): its run retried at once
 * when handed back, and the writer's short ones, given to the test app and the workers it spawns
 * (test/fixtures/automation-worker.ts) alike.
 */
export const AUTOMATION_KILL_LIMITS = {
  ...WRITER_KILL_LIMITS,
  'automation.run': { retryDelaySeconds: 0, retryBackoff: false },
};
