import { type SQL, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import PgBoss from 'pg-boss';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { CHANGES_CHANNEL, type Changes } from './changes.js';
import type { Config } from './config.js';
import { type Database, type Db, queryRows } from './db.js';
import { AppError } from './errors.js';
import { record } from './events.js';
import * as tasks from './tasks.js';
import type { TaskError, TaskStatus } from './tasks.tables.js';

/**
 * Durable background jobs on the app's own database through pg-boss: Postgres natively, PGlite through the
 * small adapter below. A module declares its job types in its `*.jobs.ts` with `defineJob` (name, TypeBox
 * payload, handler, limits) and lists them in modules.ts; it enqueues with `jobs.enqueue(tx, name, payload)`
 * in the transaction of the change that calls for the job, or starts a user-visible task with
 * `jobs.startTask(tx, ...)` (a `system_tasks` row the user can watch and cancel).
 *
 * Delivery is at least once: a job whose process died is retried after its expiry, so handlers are
 * idempotent; `ctx.once(unit, tx => ...)` makes one unit's effect happen exactly once.
 */

/** Job name → payload type. Each module's `*.jobs.ts` adds its own: `declare module '.../core/jobs.js'`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module's *.jobs.ts.
export interface JobPayloads {}
export type JobName = keyof JobPayloads & string;

export interface JobLimits {
  /** Handlers of this type run at once in one process (default 2; JOBS_CONCURRENCY overrides). */
  concurrency?: number;
  /**
   * A handler running longer is aborted and the attempt fails (default 300 s). This, the expiry and the retries
   * are the job type's alone, never the environment's: every process sharing the queue reads them the same.
   */
  timeoutSeconds?: number;
  /**
   * An attempt still active this long after it started is presumed dead (its process gone) and retried
   * (default: the timeout + 60 s).
   */
  expireSeconds?: number;
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** Exponential backoff between retries (on by default). */
  retryBackoff?: boolean;
  /**
   * Also runs on this cron schedule (UTC) with an empty payload, once per tick whichever processes run:
   * pg-boss keeps the schedule in the database and creates one job per tick.
   */
  cron?: string;
}

export interface JobContext<P> {
  payload: P;
  /** The queue's id for the job; stable across its retries. */
  jobId: string;
  name: string;
  /** 1 on the first run, 2 on the first retry, ... A run handed back at a shutdown is not counted. */
  attempt: number;
  /**
   * No retry follows this attempt (its type's retries are used up, or it runs outside the queue): a transient
   * error thrown now fails the task for good, so a handler may treat it as final for the unit at hand.
   */
  lastAttempt: boolean;
  accountId: number | null;
  taskId: number | null;
  db: Db;
  /** Aborted on cancellation, timeout or shutdown: pass it to fetches and long calls. */
  signal: AbortSignal;
  log: FastifyBaseLogger;
  /**
   * Reports progress on the task and checks for cancellation in the same round trip: call it between units
   * of work. Throws `JobCancelled` when the user cancelled (let it propagate; the task then reads cancelled).
   */
  progress(current: number, total?: number | null, message?: string): Promise<void>;
  /** Does a unit of work exactly once per job: `work` runs in a transaction that also marks the unit done. */
  once<T>(unit: string, work: (tx: Db) => Promise<T>): Promise<T>;
}

export interface JobDefinition<P extends TSchema = TSchema> extends JobLimits {
  name: string;
  payload: P;
  /**
   * Returns the task's `result` (JSON). A thrown error fails the attempt for good unless it is transient
   * (`isTransient`: a lost database connection, an AI timeout/429/5xx, a `TransientError`): only those retry.
   */
  handler: (ctx: JobContext<Static<P>>) => Promise<unknown>;
  /**
   * Puts back what the task held (images marked `generating`, records and deployments in flight, a run) when the
   * task ends without its handler having the last word: `cancelled` (while queued, found cancelled when its job
   * starts, or stopped between units), or `failed` as `worker_lost` (its process died on the last attempt and the
   * queue gave up on the job; see `settleLost`). It runs in the transaction that settles the task, so no one reads
   * the task ended and its rows still held, and it runs once. A handler leaves this clean-up to it. Run inline
   * (`runInline`, inside another task that was cancelled) it gets no task id.
   */
  onAbandoned?: (
    tx: Db,
    task: { payload: Static<P>; accountId: number; taskId: number | null },
    ending: TaskEnding,
  ) => Promise<void>;
}

/** How a task ended when its handler did not end it (`onAbandoned`). */
export type TaskEnding = { status: 'cancelled' } | { status: 'failed'; error: TaskError };

/** The sentence an abandoned task's rows keep: the module's own when cancelled, the task's error when lost. */
export const abandonedBecause = (ending: TaskEnding, whenCancelled: string): string =>
  ending.status === 'cancelled' ? whenCancelled : ending.error.message;

const CANCELLED: TaskEnding = { status: 'cancelled' };

/** A task whose process died on its last attempt: the queue expired its job and will not run it again. */
export const WORKER_LOST: TaskError = {
  code: 'worker_lost',
  message: 'The process running this task stopped before it finished, on its last attempt; start it again.',
};
// biome-ignore lint/suspicious/noExplicitAny: a list of job types of different payloads.
export type AnyJobDefinition = JobDefinition<any>;

/** Declares a job type with its payload type inferred from the schema. */
export const defineJob = <P extends TSchema>(definition: JobDefinition<P>): JobDefinition<P> => definition;

export class JobCancelled extends Error {
  constructor() {
    super('The task was cancelled.');
    this.name = 'JobCancelled';
  }
}
/** Thrown by a handler for a condition that a later attempt may not meet (a busy dependency): the job retries. */
export class TransientError extends Error {
  readonly transient = true;
  constructor(message: string) {
    super(message);
    this.name = 'TransientError';
  }
}
class JobTimedOut extends Error {
  constructor(seconds: number) {
    super(`The job ran longer than its ${seconds} s timeout.`);
    this.name = 'JobTimedOut';
  }
}
class JobHandedBack extends Error {
  constructor() {
    super('The worker shut down before the job finished; it will run again.');
    this.name = 'JobHandedBack';
  }
}

/** What travels in the queue: the payload plus the task it belongs to. */
interface JobData {
  payload: unknown;
  account_id: number | null;
  task_id: number | null;
}

const SCHEMA = 'pgboss';
const LOST_SWEEP_MS = 60_000;
const DEFAULTS = { concurrency: 2, timeoutSeconds: 300, retryLimit: 3, retryDelaySeconds: 5, retryBackoff: true };

// ---------------------------------------------------------------------------------------------------------
// pg-boss's database interface over our drivers

type Executor = { executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

/**
 * pg-boss on the app's connection: on Postgres the pool; on PGlite, parameterless text (its schema setup is
 * multi-statement SQL with transactions) through `exec`, the rest through `query`.
 */
function executorFor(database: Database): Executor {
  if (database.pool) {
    const pool = database.pool;
    return { executeSql: (text, values) => pool.query(text, values as unknown[]) };
  }
  const pglite = database.pglite;
  if (!pglite) throw new Error('The database has neither a pool nor PGlite');
  return {
    async executeSql(text, values) {
      if (!values || values.length === 0) {
        const results = await pglite.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      }
      return pglite.query(text, values);
    },
  };
}

/** pg-boss's SQL run through Drizzle, so it joins the caller's transaction (`$n` placeholders become params). */
function executorInTransaction(tx: Db): Executor {
  return {
    async executeSql(text, values = []) {
      const parts = text.split(/\$(\d+)/);
      const chunks: SQL[] = parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql`${sql.param(values[Number(part) - 1])}`));
      return { rows: await queryRows<Record<string, unknown>>(tx, sql.join(chunks, sql.raw(''))) };
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Connection-level failures of node-postgres, PGlite and the network: the same query may work a moment later.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
// Postgres SQLSTATEs that say "not now" rather than "never": connection exceptions (08), shutdown and
// cannot-connect-now (57P0x), too many connections, serialization failures and deadlocks.
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|40001|40P01)$/;
const CONNECTION_MESSAGE =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|PGlite is closed|pool.*ended/i;

/**
 * Whether a failed attempt may succeed if run again: a lost or refused database connection, an AI call that
 * timed out or got a 429/5xx (`AiError.transient`), or a `TransientError`. Everything else (bad input, not
 * found, no credits, a malformed AI answer, a bug) fails the same way every time, so it fails at once. Drizzle
 * wraps driver errors, so the cause chain is walked.
 */
export function isTransient(error: unknown): boolean {
  let current = error as { code?: unknown; message?: unknown; transient?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    if (current.transient === true) return true;
    if (current instanceof AppError) return false;
    const code = typeof current.code === 'string' ? current.code : '';
    if (CONNECTION_CODES.has(code) || TRANSIENT_SQLSTATE.test(code)) return true;
    if (typeof current.message === 'string' && CONNECTION_MESSAGE.test(current.message)) return true;
    current = current.cause as typeof current;
  }
  return false;
}

/**
 * What a task's `error` says. An AppError keeps its code and sentence (they were written for the user), an AI
 * failure says which way it failed (`malformed_output`, `timeout`, ...); anything else is `internal_error`
 * with a generic sentence and the task id, never the thrown message (a driver error carries the SQL and its
 * parameters): the detail is in the log, under the same task id.
 */
export function describeError(error: unknown, taskId: number | null = null): TaskError {
  if (error instanceof AppError) {
    if (error.status >= 500 && error.code === 'internal_error') return internalError(taskId);
    const reason = (error.options.details as { reason?: unknown } | undefined)?.reason;
    return { code: typeof reason === 'string' && error.name === 'AiError' ? reason : error.code, message: error.message };
  }
  if (error instanceof JobTimedOut) return { code: 'timeout', message: error.message };
  if (error instanceof TransientError) return { code: 'service_unavailable', message: error.message };
  if (isTransient(error)) {
    return {
      code: 'service_unavailable',
      message: 'The database was unavailable during the task (it is retried while attempts remain).',
    };
  }
  return internalError(taskId);
}

const internalError = (taskId: number | null): TaskError => ({
  code: 'internal_error',
  message: `Something went wrong on our side; the error has been logged${taskId === null ? '' : ` (task ${taskId})`}.`,
});

// ---------------------------------------------------------------------------------------------------------

export interface JobsDeps {
  config: Config;
  database: Database;
  log: FastifyBaseLogger;
  /** Committed changes (core/changes.ts): a job made ready in any process wakes this one's workers at once. */
  changes: Changes;
}

/** What the ready trigger notifies, on the changes channel (read as a change to the "table" `pgboss.job`). */
const JOB_READY = `${SCHEMA}.job`;
/** Any fixed number: the lock that serialises installing the trigger across processes starting together. */
const READY_TRIGGER_LOCK = 72_406_117;

/**
 * A job inserted ready, or put back to wait for a retry, notifies every process in the writing transaction
 * (`pg_notify`, sent when it commits, folded into one per transaction). The workers' probe runs at once on it
 * instead of at its next poll, so a poll every JOBS_POLL_MS is only the fallback, for jobs that become ready
 * later (a retry's delay, a `startAfter`) and for a lost listening connection. Installed after pg-boss made its
 * schema, on the partitioned job table (so every queue's partition, present and future, has it); idempotent.
 */
async function installReadyTrigger(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${READY_TRIGGER_LOCK})`);
    const found = await queryRows(
      tx,
      sql.raw(`select 1 from pg_trigger where tgname = 'cf_job_ready' and tgrelid = '${SCHEMA}.job'::regclass`),
    );
    if (found.length > 0) return;
    await tx.execute(
      sql.raw(`CREATE OR REPLACE FUNCTION ${SCHEMA}.cf_notify_job_ready() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('${CHANGES_CHANNEL}', '${JOB_READY}:*');
  RETURN NULL;
END
$fn$`),
    );
    await tx.execute(
      sql.raw(`CREATE TRIGGER cf_job_ready AFTER INSERT OR UPDATE OF state ON ${SCHEMA}.job
  FOR EACH ROW WHEN (NEW.state IN ('created', 'retry')) EXECUTE FUNCTION ${SCHEMA}.cf_notify_job_ready()`),
    );
  });
}

/**
 * pg-boss's own connection, closed when the queue stops. pg-boss fires some queries without awaiting them (its
 * cron worker completes the jobs it just handled), so one may start after `boss.stop()` has returned and, as the
 * app then ends its pool, reject where nobody can catch it. Closing waits for the queries in flight; any after
 * that resolve to nothing, which is what pg-boss's own connection does once closed (its `executeSql` checks
 * `opened`) and what its late callers expect: `complete` and `fail` count an absent result as nothing affected,
 * while an empty row list made `complete` read `rows[0].count` and reject, uncaught, all the same. While open, the
 * commands pg-boss does not await (see `byIdOnOwnQueue`) have their database errors logged, not rejected.
 */
class BossConnection {
  private readonly inFlight = new Set<Promise<unknown>>();
  private open = true;

  constructor(
    private readonly executor: Executor,
    private readonly log: FastifyBaseLogger,
  ) {}

  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] } | undefined> {
    if (!this.open) return Promise.resolve(undefined);
    const query = this.executor.executeSql(text, values);
    const settled = query.then(
      () => {},
      () => {},
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    if (byIdOnOwnQueue(values)) {
      // Not awaited by pg-boss: a database error here (an outage between its fetch and its complete) would be an
      // unhandled rejection, which ends a Node process. Logged instead; the job's expiry puts it back.
      return query.catch((error: unknown) => {
        this.log.warn({ err: error, queue: values?.[0] }, 'pg-boss could not settle a job of its own queue');
        return undefined;
      });
    }
    return query;
  }

  reopen(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.open = false;
    await Promise.all(this.inFlight);
  }
}

/**
 * A command on jobs of one of pg-boss's own queues by their ids (`[queue, ids, ...]`): only its worker for those
 * queues (its cron's `__pgboss__send-it`) sends these, completing or failing what it fetched without awaiting.
 * This app's queues are worked by QueueWorker, which awaits its own.
 */
function byIdOnOwnQueue(values: unknown[] | undefined): boolean {
  const queue = values?.[0];
  return typeof queue === 'string' && queue.startsWith('__pgboss__') && Array.isArray(values?.[1]);
}

/** pg-boss on the app's database, its errors logged. */
function createBoss(config: Config, connection: BossConnection, log: FastifyBaseLogger): PgBoss {
  const boss = new PgBoss({
    // Its type says every query answers rows; its code also takes the nothing its own closed connection answers.
    db: connection as PgBoss.Db,
    schema: SCHEMA,
    migrate: true,
    // The timekeeper turns `cron` job types into one job per tick, across every process sharing the database.
    schedule: true,
    supervise: true,
    maintenanceIntervalSeconds: config.jobs.maintenanceSeconds,
  });
  boss.on('error', (error) => log.warn({ err: error }, 'job queue error'));
  return boss;
}

type QueueLimits = ReturnType<typeof queueLimits>;

/**
 * Only the concurrency is this process's to choose (JOBS_CONCURRENCY). The rest is the job type's own, so the
 * queue's settings, written by every process that starts, are the same whoever writes them.
 */
function queueLimits(config: Config, definition: AnyJobDefinition) {
  const timeoutSeconds = definition.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
  const expire = definition.expireSeconds ?? timeoutSeconds + 60;
  const { concurrency } = config.jobs;
  return {
    concurrency: concurrency[definition.name] ?? definition.concurrency ?? concurrency.default ?? DEFAULTS.concurrency,
    timeoutSeconds,
    // Never presumed dead while its own timeout may still let it finish: that would run it twice at once.
    expireInSeconds: Math.max(expire, timeoutSeconds + 5),
    retryLimit: definition.retryLimit ?? DEFAULTS.retryLimit,
    retryDelay: definition.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds,
    retryBackoff: definition.retryBackoff ?? DEFAULTS.retryBackoff,
  };
}

function checkPayload(definition: AnyJobDefinition, payload: unknown): void {
  if (!Value.Check(definition.payload, payload)) {
    const first = [...Value.Errors(definition.payload, payload)][0];
    throw new Error(`Payload for job "${definition.name}" is invalid: ${first?.instancePath ?? ''} ${first?.message ?? ''}`);
  }
}

/** The job types of this process, by name. */
function createRegistry() {
  const definitions = new Map<string, AnyJobDefinition>();
  return {
    definitions,
    /** Adds job types; call before `start()`. */
    register(list: AnyJobDefinition[]): void {
      for (const definition of list) {
        if (definitions.has(definition.name)) throw new Error(`Job type "${definition.name}" is registered twice`);
        if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$/.test(definition.name)) {
          throw new Error(`Job type "${definition.name}" is not <module>.<name> in lowercase`);
        }
        definitions.set(definition.name, definition);
      }
    },
    definitionOf(name: string): AnyJobDefinition {
      const definition = definitions.get(name);
      if (!definition) throw new Error(`No job type "${name}" is registered (list it in modules.ts)`);
      return definition;
    },
  };
}
type Registry = ReturnType<typeof createRegistry>;

export interface EnqueueOptions {
  /** Not run before this time (a retry scheduled by the handler itself). */
  startAfter?: Date;
}

/** Putting work in the queue, always in the caller's transaction: it exists only if the transaction commits. */
function createEnqueuing(boss: PgBoss, registry: Registry, limits: (definition: AnyJobDefinition) => QueueLimits) {
  async function send(tx: Db, definition: AnyJobDefinition, data: JobData, later: EnqueueOptions = {}): Promise<string> {
    const { concurrency: _c, timeoutSeconds: _t, ...options } = limits(definition);
    const id = await boss.send(definition.name, data as object, {
      ...options,
      ...(later.startAfter ? { startAfter: later.startAfter } : {}),
      db: executorInTransaction(tx) as PgBoss.Db,
    });
    if (!id) throw new Error(`The queue refused job "${definition.name}"`);
    return id;
  }

  return {
    /** Enqueues a background job in the caller's transaction: it exists only if the transaction commits. */
    async enqueue<N extends JobName>(tx: Db, name: N, payload: JobPayloads[N], options: EnqueueOptions = {}): Promise<string> {
      const definition = registry.definitionOf(name);
      checkPayload(definition, payload);
      return send(tx, definition, { payload, account_id: null, task_id: null }, options);
    },

    /**
     * Starts a task (a job the user can watch and cancel) in the caller's transaction; answer it with 202.
     * `siteId` is the site the work is for: a caller limited to some sites sees only their sites' tasks (and
     * events), so site-scoped work must pass it; leave it out only for account-wide work.
     */
    async startTask<N extends JobName>(
      tx: Db,
      owner: { accountId: number; actorId: number | null; siteId?: number | null },
      name: N,
      payload: JobPayloads[N],
    ): Promise<tasks.TaskRow> {
      const definition = registry.definitionOf(name);
      checkPayload(definition, payload);
      const task = await tasks.insertTask(tx, owner.accountId, {
        type: name,
        payload,
        actor_id: owner.actorId,
        site_id: owner.siteId ?? null,
      });
      const jobId = await send(tx, definition, { payload, account_id: owner.accountId, task_id: task.id });
      await tasks.setTaskJob(tx, owner.accountId, task.id, jobId);
      return { ...task, job_id: jobId };
    },

    /**
     * Cancels a queued task's job in the caller's transaction (which has marked the task cancelled), so it
     * never starts, and puts back what the task held (its type's `onAbandoned`).
     */
    async cancelQueued(tx: Db, task: tasks.TaskRow): Promise<void> {
      if (task.job_id) await boss.cancel(task.type, task.job_id, { db: executorInTransaction(tx) as PgBoss.Db });
      const definition = registry.definitions.get(task.type);
      await definition?.onAbandoned?.(tx, { payload: task.payload, accountId: task.account_id, taskId: task.id }, CANCELLED);
    },
  };
}

/** The queue's life in this process: queues made at start, this process's workers, a graceful stop, health. */
function createLifecycle(deps: {
  boss: PgBoss;
  connection: BossConnection;
  database: Database;
  changes: Changes;
  registry: Registry;
  runtime: Runtime;
  limits: (definition: AnyJobDefinition) => QueueLimits;
}) {
  const { boss, registry, runtime, limits } = deps;
  let started = false;
  const workers: QueueWorker[] = [];
  let probe: ReadyProbe | null = null;
  let stopHearing: () => void = () => {};
  let lostSweep: NodeJS.Timeout | null = null;
  let sweeping: Promise<unknown> | null = null;

  /**
   * Settles the tasks whose process died on their last attempt as failed (`worker_lost`), with their type's
   * `onAbandoned`, instead of leaving them running for ever: pg-boss expires such a job and marks it failed without
   * our handler. Any process may sweep: a task is settled only while unfinished, so once. A type this process does
   * not run is left to one that does (its hook is there).
   */
  async function settleLost(): Promise<number> {
    let settled = 0;
    for (const task of await tasks.lostTasks(runtime.db, SCHEMA, 100)) {
      const definition = registry.definitions.get(task.type);
      if (!definition) continue;
      if (await settleTask(runtime.db, task.account_id, task.id, 'failed', { error: WORKER_LOST }, definition, true)) {
        settled++;
      }
    }
    if (settled > 0) runtime.log.warn({ tasks: settled }, 'settled tasks whose process died on their last attempt');
    return settled;
  }

  return {
    settleLost,

    /** Creates pg-boss's schema (first start) and one queue per job type. Enqueueing works from here on. */
    async start(): Promise<void> {
      if (started) return;
      deps.connection.reopen();
      await boss.start();
      await installReadyTrigger(deps.database.db);
      // Creating a queue that exists is a no-op, but a costly one (a locked function call each): only new ones.
      const existing = new Set((await boss.getQueues()).map((queue) => queue.name));
      for (const definition of registry.definitions.values()) {
        const { concurrency: _c, timeoutSeconds: _t, retryDelay, ...rest } = limits(definition);
        const options = { name: definition.name, ...rest, retryDelay, policy: 'standard' as const };
        if (!existing.has(definition.name)) await boss.createQueue(definition.name, options);
        await boss.updateQueue(definition.name, options);
        if (definition.cron) {
          const data: JobData = { payload: {}, account_id: null, task_id: null };
          await boss.schedule(definition.name, definition.cron, data, { tz: 'UTC' });
        }
      }
      started = true;
    },

    /** Starts this process's workers: `concurrency` handlers at once per job type. */
    startWorkers(): void {
      if (!started) throw new Error('jobs.start() must finish before workers start');
      if (workers.length > 0) return;
      for (const definition of registry.definitions.values()) {
        const worker = new QueueWorker(runtime, definition, limits(definition));
        workers.push(worker);
        worker.start();
      }
      const ready = new ReadyProbe(executorFor(deps.database), runtime, workers);
      probe = ready;
      stopHearing = deps.changes.on(JOB_READY, () => ready.nudge());
      ready.start();
      // pg-boss expires a dead process's jobs at its maintenance; a minute after is soon enough to tell the user.
      lostSweep = setInterval(() => {
        sweeping ??= settleLost()
          .catch((error) => runtime.log.warn({ err: error }, 'could not settle lost tasks'))
          .finally(() => {
            sweeping = null;
          });
      }, LOST_SWEEP_MS);
      lostSweep.unref();
    },

    workersRunning: () => workers.length > 0,

    /**
     * A job of this type was just committed here: this process's idle worker fetches now rather than at its next
     * poll (workers elsewhere find it at theirs).
     */
    nudge(name: string): void {
      for (const worker of workers) if (worker.name === name) worker.nudge();
    },

    /**
     * Stops taking jobs, lets running ones finish within `graceSeconds`, then hands the rest back to the
     * queue (they run again, here or on another worker) and stops pg-boss.
     */
    async stop(graceSeconds: number): Promise<void> {
      if (lostSweep) clearInterval(lostSweep);
      lostSweep = null;
      await sweeping;
      stopHearing();
      await probe?.stop();
      probe = null;
      const stopping = workers.splice(0);
      await Promise.all(stopping.map((worker) => worker.stop(graceSeconds)));
      if (started) await boss.stop({ graceful: false, close: false }).catch(() => {});
      await deps.connection.close();
      started = false;
    },

    /** `ok` when the queue answers and nothing ready waits more than five minutes; `degraded` otherwise. */
    async health(): Promise<'ok' | 'degraded' | 'down'> {
      if (!started) return 'down';
      const { rows } = await executorFor(deps.database).executeSql(
        `SELECT coalesce(extract(epoch FROM now() - min(created_on)), 0)::int AS waiting
           FROM ${SCHEMA}.job WHERE state IN ('created', 'retry') AND start_after < now()`,
        [],
      );
      return Number(rows[0]?.waiting ?? 0) > 300 ? 'degraded' : 'ok';
    },
  };
}

/** What a handler gets: its job, the database, a log labelled with the job, progress and exactly-once units. */
function jobContext(
  deps: { db: Db; log: FastifyBaseLogger },
  definition: AnyJobDefinition,
  controller: AbortController,
  job: JobRun,
): JobContext<unknown> {
  const { db } = deps;
  const { accountId, taskId } = job;
  const jobKey = taskId !== null ? `task:${taskId}` : `job:${job.jobId}`;
  return {
    payload: job.payload,
    jobId: job.jobId,
    name: definition.name,
    attempt: job.attempt,
    lastAttempt: job.lastAttempt,
    accountId,
    taskId,
    db,
    signal: controller.signal,
    log: deps.log.child({ job: definition.name, job_id: job.jobId, task_id: taskId }),
    async progress(current, total = null, message = '') {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (taskId === null || accountId === null) return;
      const cancel = await tasks.writeProgress(db, accountId, taskId, { current, total, message });
      if (cancel) {
        const reason = new JobCancelled();
        controller.abort(reason);
        throw reason;
      }
    },
    async once<T>(unit: string, work: (tx: Db) => Promise<T>): Promise<T> {
      if (controller.signal.aborted) throw controller.signal.reason;
      const outcome = await db.transaction(async (tx) => {
        if (!(await tasks.claimUnit(tx, jobKey, unit))) return { done: false as const };
        const value = await work(tx);
        await tasks.storeUnitResult(tx, jobKey, unit, value);
        return { done: true as const, value };
      });
      return outcome.done ? outcome.value : ((await tasks.unitResult(db, jobKey, unit)) as T);
    },
  };
}

/**
 * One unit of a driving job's work (automation's stages) done by a module's own job handler through `runInline`:
 * the key its effects and charges are recorded under, who it acts as, the driver's stop signal, and whether a
 * transient failure now is final for it (no retry of the driver follows).
 */
export interface InlineUnit {
  key: string;
  accountId: number;
  actorId: number | null;
  signal: AbortSignal;
  lastAttempt: boolean;
}

export function createJobs(deps: JobsDeps) {
  const { config, database, log } = deps;
  const connection = new BossConnection(executorFor(database), log);
  const boss = createBoss(config, connection, log);
  const registry = createRegistry();
  const limits = (definition: AnyJobDefinition) => queueLimits(config, definition);
  const runtime: Runtime = {
    boss,
    log,
    db: database.db,
    pollMs: config.jobs.pollMs,
    context: (definition, controller, job) => jobContext({ db: database.db, log }, definition, controller, job),
  };
  const lifecycle = createLifecycle({ boss, connection, database, changes: deps.changes, registry, runtime, limits });

  return {
    definitions: registry.definitions,
    boss,
    register: registry.register,
    start: lifecycle.start,
    startWorkers: lifecycle.startWorkers,
    get workersRunning(): boolean {
      return lifecycle.workersRunning();
    },
    stop: lifecycle.stop,
    health: lifecycle.health,
    settleLost: lifecycle.settleLost,
    nudge: lifecycle.nudge,
    ...createEnqueuing(boss, registry, limits),

    /**
     * Runs one job's handler right here, outside the queue, as a worker would (tests: every handler twice).
     * Returns what the handler returned.
     */
    async runHandler(
      name: string,
      payload: unknown,
      context: { jobId: string; accountId: number | null; taskId?: number | null },
    ) {
      const definition = registry.definitionOf(name);
      checkPayload(definition, payload);
      const job = {
        payload,
        jobId: context.jobId,
        attempt: 1,
        lastAttempt: true,
        accountId: context.accountId,
        taskId: context.taskId ?? null,
      };
      return definition.handler(runtime.context(definition, new AbortController(), job));
    },

    /**
     * Runs a job type's own handler here, from inside another job that drives a module's work one unit at a time
     * (automation): the same code its API action queues, never a copy. Its exactly-once units (`ctx.once`) and
     * charge refs are keyed by `key`, so the driving job, retried after a crash or a restart, runs the same key
     * again and finds done what was done: nothing is stored or charged twice. The driver's signal stops it, and
     * the driver's `lastAttempt` says whether a transient failure is final for the unit or retries the driver.
     */
    async runInline<N extends JobName>(name: N, payload: JobPayloads[N], options: InlineUnit): Promise<unknown> {
      const definition = registry.definitionOf(name);
      checkPayload(definition, payload);
      const controller = new AbortController();
      const stop = () => controller.abort(options.signal.reason);
      if (options.signal.aborted) stop();
      else options.signal.addEventListener('abort', stop, { once: true });
      const job = {
        payload,
        jobId: options.key,
        attempt: 1,
        lastAttempt: options.lastAttempt,
        accountId: options.accountId,
        taskId: null,
      };
      try {
        return await definition.handler(runtime.context(definition, controller, job));
      } catch (error) {
        if (error instanceof JobCancelled && definition.onAbandoned) {
          const onAbandoned = definition.onAbandoned;
          await database.db.transaction((tx) =>
            onAbandoned(tx, { payload, accountId: options.accountId, taskId: null }, CANCELLED),
          );
        }
        throw error;
      } finally {
        options.signal.removeEventListener('abort', stop);
      }
    },
  };
}
export type Jobs = ReturnType<typeof createJobs>;

// ---------------------------------------------------------------------------------------------------------
// The worker loop of one job type

/** One run of a job, as its handler's context describes it. */
interface JobRun {
  payload: unknown;
  jobId: string;
  attempt: number;
  lastAttempt: boolean;
  accountId: number | null;
  taskId: number | null;
}

interface Runtime {
  boss: PgBoss;
  log: FastifyBaseLogger;
  db: Db;
  pollMs: number;
  context(definition: AnyJobDefinition, controller: AbortController, job: JobRun): JobContext<unknown>;
}

type Limits = { concurrency: number; timeoutSeconds: number };

/**
 * Probes for the workers of this process: one query names the job types with a job ready, and only their
 * workers fetch. It runs when a job is made ready anywhere (the ready trigger's notification) and otherwise
 * every `pollMs`, as the fallback; an idle process costs one small query a poll (on pg-boss's partial index of
 * jobs not yet active), not one locking fetch per job type. A job type reported while its worker is busy is
 * reported again at the next probe while its job is still waiting.
 */
class ReadyProbe {
  private stopping = false;
  private again = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly executor: Executor,
    private readonly rt: Runtime,
    private readonly workers: QueueWorker[],
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const byName = new Map(this.workers.map((worker) => [worker.name, worker]));
    const names = [...byName.keys()];
    while (!this.stopping) {
      try {
        const { rows } = await this.executor.executeSql(
          // One bounded probe per type (EXISTS stops at the first ready job, whatever the backlog); written per
          // name, so each probe reaches only that type's partition.
          `SELECT n AS name FROM unnest($1::text[]) AS n
            WHERE EXISTS (SELECT 1 FROM ${SCHEMA}.job j WHERE j.name = n AND j.state < 'active' AND j.start_after < now())`,
          [names],
        );
        for (const row of rows) byName.get(String(row.name))?.nudge();
      } catch (error) {
        this.rt.log.warn({ err: error }, 'could not poll the job queue');
      }
      // A job made ready while that query ran may be past its snapshot: probe again at once.
      if (this.again) {
        this.again = false;
        continue;
      }
      // Asked to stop while the query ran: the wake-up came before there was anyone to wake.
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.rt.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      this.again = false;
    }
  }

  /** A job was made ready (heard from whichever process committed it): probe now, not at the next poll. */
  nudge(): void {
    if (this.wake) this.wake();
    else this.again = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }
}

/**
 * Fetches as many jobs as it has free slots (one query for the batch, rows locked with SKIP LOCKED so any
 * number of workers share a queue), runs them, and completes finished ones in batches. While its queue is
 * empty it waits for the probe above to report a job; a busy one is fetched again as soon as a slot frees.
 */
class QueueWorker {
  private readonly running = new Map<string, { done: Promise<void>; controller: AbortController }>();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pendingComplete: string[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly rt: Runtime,
    private readonly definition: AnyJobDefinition,
    private readonly limits: Limits,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { name } = this.definition;
    while (!this.stopping) {
      const free = this.limits.concurrency - this.running.size;
      if (free <= 0) {
        await Promise.race([...this.running.values()].map((r) => r.done));
        continue;
      }
      let jobs: PgBoss.JobWithMetadata<JobData>[] = [];
      try {
        jobs = await this.rt.boss.fetch<JobData>(name, { batchSize: free, includeMetadata: true });
      } catch (error) {
        this.rt.log.warn({ err: error, job: name }, 'could not fetch jobs');
      }
      for (const job of jobs) {
        const controller = new AbortController();
        const done = this.execute(job, controller).finally(() => this.running.delete(job.id));
        this.running.set(job.id, { done, controller });
      }
      if (jobs.length === 0) await this.idle();
    }
  }

  get name(): string {
    return this.definition.name;
  }

  /** A job of this type is ready: an idle worker fetches now (a busy one fetches when a slot frees anyway). */
  nudge(): void {
    this.wake?.();
  }

  private idle(): Promise<void> {
    // Asked to stop while it was fetching: the wake-up came before there was anyone to wake.
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
    });
  }

  /** Finished jobs are completed together: one query for all those that ended while the last one ran. */
  private complete(id: string): void {
    this.pendingComplete.push(id);
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.pendingComplete.length > 0) {
        const ids = this.pendingComplete.splice(0);
        await this.rt.boss.complete(this.definition.name, ids).catch((error) => {
          // Left active: the job expires and runs again, and finds its task finished or its units done.
          this.rt.log.warn({ err: error, job: this.definition.name }, 'could not complete jobs');
        });
      }
      this.flushing = null;
    })();
  }

  private async execute(job: PgBoss.JobWithMetadata<JobData>, controller: AbortController): Promise<void> {
    const { definition, rt } = this;
    const data = job.data ?? { payload: undefined, account_id: null, task_id: null };
    const taskId = data.task_id ?? null;
    const accountId = data.account_id ?? null;
    const isTask = taskId !== null && accountId !== null;
    // A cancelled task is abandoned (its type puts back what it held); any other ending is the handler's own.
    const settle = async (status: TaskStatus, outcome: { result?: unknown; error?: TaskError | null }) => {
      if (isTask) await settleTask(rt.db, accountId, taskId, status, outcome, definition, status === 'cancelled');
    };

    if (isTask) {
      const task = await tasks.startTask(rt.db, accountId, taskId).catch(() => undefined);
      if (task === undefined) return void (await this.handBack(job, 'database unavailable'));
      // Finished (an earlier run got that far) or deleted: nothing left to do.
      if (task?.status !== 'running') return this.complete(job.id);
      if (task.cancel_requested) {
        await settle('cancelled', {});
        return this.complete(job.id);
      }
    }
    if (!Value.Check(definition.payload, data.payload)) {
      await settle('failed', { error: { code: 'validation_error', message: 'The job payload no longer matches its schema.' } });
      return this.complete(job.id);
    }

    const timeout = setTimeout(
      () => controller.abort(new JobTimedOut(this.limits.timeoutSeconds)),
      this.limits.timeoutSeconds * 1000,
    );
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    try {
      const context = rt.context(definition, controller, {
        payload: data.payload,
        jobId: job.id,
        attempt: job.retryCount + 1,
        lastAttempt: job.retryCount >= job.retryLimit,
        accountId,
        taskId,
      });
      const result = await Promise.race([definition.handler(context), aborted]);
      await settle('succeeded', { result: result === undefined ? null : result, error: null });
      this.complete(job.id);
    } catch (error) {
      await this.failed(job, error, settle);
    } finally {
      clearTimeout(timeout);
    }
  }

  private async failed(
    job: PgBoss.JobWithMetadata<JobData>,
    error: unknown,
    settle: (status: TaskStatus, outcome: { result?: unknown; error?: TaskError | null }) => Promise<void>,
  ): Promise<void> {
    if (error instanceof JobCancelled) {
      await settle('cancelled', {});
      return this.complete(job.id);
    }
    if (error instanceof JobHandedBack) return this.handBack(job, error.message);
    const taskId = job.data?.task_id ?? null;
    const described = describeError(error, taskId);
    // Only what may go another way later is retried. A handler that outran its own timeout would again: final.
    const retries = isTransient(error) && job.retryCount < job.retryLimit;
    if (!(error instanceof AppError && error.status < 500) && !(error instanceof JobTimedOut)) {
      // The detail (message, stack, the failed statement) goes to the log only, under the task id the user sees.
      this.rt.log.error(
        { err: error, job: this.definition.name, job_id: job.id, task_id: taskId, attempt: job.retryCount + 1, retries },
        'job failed',
      );
    }
    await settle(retries ? 'queued' : 'failed', { error: described });
    if (!retries) {
      // Failed for good: completed, so the queue does not run it again (its task already reads failed).
      return this.complete(job.id);
    }
    await this.rt.boss.fail(this.definition.name, job.id, described).catch(() => {});
  }

  /**
   * Gives an unfinished job back to the queue, ready at once, and shows its task as queued. It does not count as
   * an attempt: the stop was this process's (a shutdown, the database gone at start), not the job's, and a job
   * handed back at each of a few rolling restarts would otherwise run out of attempts and stay unfinished, its
   * task queued for ever. pg-boss counts an attempt when it fetches a job it started before (`started_on` set),
   * so the job goes back as never started. A process that dies instead is still counted, by pg-boss's expiry.
   */
  private async handBack(job: PgBoss.JobWithMetadata<JobData>, reason: string): Promise<void> {
    const { account_id: accountId, task_id: taskId } = job.data ?? {};
    await this.rt.db
      .transaction(async (tx) => {
        if (accountId && taskId) await tasks.settleTask(tx, accountId, taskId, { status: 'queued' });
        await tx.execute(
          sql`UPDATE ${sql.raw(SCHEMA)}.job SET state = 'created', started_on = NULL, start_after = now()
               WHERE name = ${this.definition.name} AND id = ${job.id} AND state = 'active'`,
        );
      })
      .catch((error) => {
        // Left active: pg-boss's expiry puts it back later (as an attempt).
        this.rt.log.warn({ err: error, job: this.definition.name, job_id: job.id, reason }, 'could not hand a job back');
      });
  }

  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    const graceOver = Symbol('grace');
    const outcome = await Promise.race([all(), sleep(graceSeconds * 1000).then(() => graceOver)]);
    if (outcome === graceOver) {
      for (const { controller } of this.running.values()) controller.abort(new JobHandedBack());
      await all();
    }
    await this.flushing;
  }
}

/** A task's final (or retry-pending) state, with its event in the same transaction when it is final. */
async function settleTask(
  db: Db,
  accountId: number,
  taskId: number,
  status: TaskStatus,
  outcome: { result?: unknown; error?: TaskError | null },
  definition: AnyJobDefinition,
  /** It ends without its handler's last word (cancelled, or lost): its type's `onAbandoned` puts back what it held. */
  abandoned = false,
): Promise<boolean> {
  const type = definition.name;
  return db.transaction(async (tx) => {
    const row = await tasks.settleTask(tx, accountId, taskId, { status, ...outcome });
    if (!row) return false;
    if (status === 'queued') return true;
    if (abandoned) {
      const ending: TaskEnding = status === 'cancelled' ? CANCELLED : { status: 'failed', error: outcome.error ?? WORKER_LOST };
      await definition.onAbandoned?.(tx, { payload: row.payload, accountId, taskId }, ending);
    }
    await record(tx, {
      account_id: accountId,
      site_id: row.site_id,
      type: `task.${status}`,
      source_agent: 'worker',
      actor_id: row.actor_id,
      object_type: 'task',
      object_id: taskId,
      payload: { task_type: type, ...(outcome.error ? { error: outcome.error } : {}) },
    });
    return true;
  });
}
