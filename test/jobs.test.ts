import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Db } from '../src/core/db.js';
import type { RequestContext } from '../src/core/tenancy.js';
import { signUp } from './factories.js';
import { buildTestApp, type TestApp, testConfig } from './harness.js';
import { stepsJob } from './job-types.js';

/** Jobs and tasks through the real queue on the test database, with this process as the worker. */

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', SHUTDOWN_GRACE_SECONDS: '1' }, { jobs: [stepsJob] });
});
afterAll(() => t?.close());

let nextAccount = 1000;
const ctxFor = (accountId: number): RequestContext & { accountId: number } => ({
  scheme: 'jwt',
  user: { id: 1, email: 'a@example.com', is_staff: false, is_superuser: false },
  apiKey: null,
  sessionId: null,
  accountId,
  role: 'owner',
  siteIds: null,
});

async function startSteps(
  accountId: number,
  payload: Partial<typeof stepsJob extends { sample: (...a: never[]) => infer P } ? P : never> = {},
) {
  const { jobs } = t.app.services;
  return t.database.db.transaction((tx) =>
    jobs.startTask(tx, { accountId, actorId: 1 }, 'test.steps', { account_id: accountId, steps: 3, delay_ms: 0, ...payload }),
  );
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const rowsOf = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;

const stepped = async (db: Db, accountId: number) => {
  const result = await db.execute(
    sql`select count(*)::int as n from events_events where account_id = ${accountId} and type = 'test.stepped'`,
  );
  return rowsOf(result)[0]?.n as number;
};

describe('tasks through the queue', () => {
  it('goes queued → running → succeeded, with progress and a result', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 4, delay_ms: 150 });
    expect(task.status).toBe('queued');
    const { tasks } = t.app.services;
    const seen = new Set<string>();
    const running = await until(
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => (seen.add(row.status), row.status === 'running' && row.progress.current >= 1),
    );
    expect(running.progress.total).toBe(4);
    expect(running.started_at).toBeInstanceOf(Date);
    const done = await until(
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'succeeded',
    );
    expect(done.progress).toEqual({ current: 4, total: 4, message: 'step 4 of 4' });
    expect(done.result).toEqual({ steps: 4 });
    expect(done.error).toBeNull();
    expect(done.finished_at).toBeInstanceOf(Date);
    expect(await stepped(t.database.db, accountId)).toBe(4);
  });

  it('stops a cancelled running task between units', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 50, delay_ms: 100 });
    const { tasks } = t.app.services;
    await until(
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => row.progress.current >= 2,
    );
    const { pending } = await tasks.cancel(ctxFor(accountId), task.id);
    expect(pending).toBe(true);
    const done = await until(
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'cancelled',
    );
    expect(done.progress.current).toBeLessThan(50);
    expect(await stepped(t.database.db, accountId)).toBeLessThanOrEqual(done.progress.current + 1);
    await expect(tasks.cancel(ctxFor(accountId), task.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('cancels a queued task before it starts', async () => {
    const accountId = ++nextAccount;
    const { tasks, jobs } = t.app.services;
    // Enqueued and cancelled in one transaction, so no worker can pick it up in between.
    const result = await t.database.db.transaction(async (tx) => {
      const task = await jobs.startTask(tx, { accountId, actorId: 1 }, 'test.steps', {
        account_id: accountId,
        steps: 2,
        delay_ms: 0,
      });
      return { task };
    });
    const cancelled = await tasks.cancel(ctxFor(accountId), result.task.id).catch((e) => e);
    if (cancelled instanceof Error) {
      // The worker was faster than the test: it may already be finished.
      expect(cancelled).toMatchObject({ code: 'conflict' });
      return;
    }
    expect(cancelled.task.status === 'cancelled' || cancelled.pending).toBe(true);
    const done = await until(
      () => tasks.get(ctxFor(accountId), result.task.id),
      (row) => row.status === 'cancelled',
    );
    expect(done.finished_at).toBeInstanceOf(Date);
  });

  it('retries a failed attempt and then succeeds, once', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 2, fail_attempts: 1 });
    const done = await until(
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'succeeded' || row.status === 'failed',
    );
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(2);
    expect(await stepped(t.database.db, accountId)).toBe(2);
  });

  it('does not retry a failure a retry cannot fix', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { refuse: true });
    const done = await until(
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'failed',
    );
    expect(done.attempts).toBe(1);
    expect(done.error).toEqual({ code: 'insufficient_credits', message: 'Not enough credits for this test.' });
  });

  it('fails a bug at once, as internal_error with the task id and none of the thrown detail', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { bug: true });
    const done = await until(
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'failed',
    );
    expect(done.attempts).toBe(1);
    expect(done.error).toEqual({
      code: 'internal_error',
      message: `Something went wrong on our side; the error has been logged (task ${task.id}).`,
    });
    expect(JSON.stringify(done)).not.toMatch(/select|argon2|params/i);
  });

  it('takes expiry, timeout and retries from the job type, whatever the environment of the process', async () => {
    // A second process on the same queue with other JOBS_* settings: the queue keeps the job type's own.
    const other = await buildApp({
      config: testConfig({
        WORKER: 'false',
        JOBS_CONCURRENCY: 'test.steps=7',
        JOBS_TIMEOUT_SECONDS: 'test.steps=1700',
        JOBS_EXPIRE_SECONDS: 'test.steps=1800',
      }),
      database: t.database,
      logger: false,
      jobs: [stepsJob],
    });
    await other.ready();
    try {
      const { rows } = (await t.database.db.execute(
        sql`select expire_seconds, retry_limit, retry_delay from pgboss.queue where name = 'test.steps'`,
      )) as unknown as { rows: Record<string, number>[] };
      // expireSeconds 3 is raised to the timeout + 5 s, so a live attempt is never presumed dead.
      expect(rows[0]).toEqual({ expire_seconds: 11, retry_limit: 3, retry_delay: 0 });
      const task = await startSteps(++nextAccount);
      const job = (await t.database.db.execute(
        sql`select extract(epoch from expire_in)::int as expire, retry_limit from pgboss.job where id = ${task.job_id}::uuid`,
      )) as unknown as { rows: Record<string, number>[] };
      expect(job.rows[0]).toEqual({ expire: 11, retry_limit: 3 });
    } finally {
      await other.close();
    }
  });

  it('keeps tasks to their account', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId);
    await expect(t.app.services.tasks.get(ctxFor(accountId + 1), task.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(t.app.services.tasks.cancel(ctxFor(accountId + 1), task.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a payload that does not match the job type', async () => {
    await expect(
      t.database.db.transaction((tx) =>
        t.app.services.jobs.startTask(tx, { accountId: 1, actorId: null }, 'test.steps', { steps: 'x' } as never),
      ),
    ).rejects.toThrow(/Payload for job "test.steps" is invalid/);
  });

  it('reports the queue in health', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/system/health/' });
    expect(res.json().data.job_queue.status).toBe('ok');
  });
});

describe('idempotent handlers', () => {
  /** Rows per table, all tables of ours: a second run of a handler must leave every count unchanged. */
  async function counts(db: Db): Promise<Record<string, number>> {
    const tables = await db.execute(
      sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> '__drizzle_migrations' order by 1`,
    );
    const result: Record<string, number> = {};
    for (const { table_name: name } of rowsOf(tables) as { table_name: string }[]) {
      const rows = await db.execute(sql`select count(*)::int as n from ${sql.identifier(name)}`);
      result[name] = rowsOf(rows)[0]?.n as number;
    }
    return result;
  }

  it('runs every registered handler twice with the effect of one run', async () => {
    const { jobs } = t.app.services;
    expect(jobs.definitions.size).toBeGreaterThan(0);
    for (const definition of jobs.definitions.values()) {
      // A real account (samples may make sites, keywords, credits for it), made as a user would.
      const { accountId } = await signUp(t);
      const payload = await definition.sample({ db: t.database.db, accountId });
      const jobId = crypto.randomUUID();
      await jobs.runHandler(definition.name, payload, { jobId, accountId });
      const after = await counts(t.database.db);
      await jobs.runHandler(definition.name, payload, { jobId, accountId });
      expect(await counts(t.database.db), `second run of ${definition.name}`).toEqual(after);
    }
  });
});

describe('graceful shutdown', () => {
  it('lets a running job finish within the grace period', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 3, delay_ms: 200 });
    await until(
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'running',
    );
    const other = await buildTestApp({ WORKER: 'false' }, { jobs: [stepsJob] });
    try {
      // A second app on its own database shows stop() returns at once with nothing running.
      await other.app.services.jobs.stop(5);
    } finally {
      await other.close();
    }
    await t.app.services.jobs.stop(10);
    const done = await t.app.services.tasks.get(ctxFor(accountId), task.id);
    expect(done.status).toBe('succeeded');
    await t.app.services.jobs.start();
    t.app.services.jobs.startWorkers();
  });

  it('hands a job back to the queue when the grace period is over, and it finishes later, once', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 6, delay_ms: 400 });
    await until(
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.progress.current >= 1,
    );
    await t.app.services.jobs.stop(0);
    const handedBack = await t.app.services.tasks.get(ctxFor(accountId), task.id);
    expect(handedBack.status).toBe('queued');
    expect(handedBack.progress.current).toBeLessThan(6);
    await t.app.services.jobs.start();
    t.app.services.jobs.startWorkers();
    const done = await until(
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'succeeded',
    );
    expect(done.attempts).toBe(2);
    expect(await stepped(t.database.db, accountId)).toBe(6);
  });
});
