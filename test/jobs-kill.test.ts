import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './harness.js';
import { stepsJob } from './job-types.js';
import { until } from './wait.js';

/**
 * A `worker` process killed with SIGKILL in the middle of a task: another worker picks the job up after its
 * expiry and finishes it, and each unit's effect happens once. Needs Postgres (PGlite is one process's).
 */

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('a worker killed mid-task (Postgres)', () => {
  let t: TestApp;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    // The API process does not work jobs here: only the spawned workers do.
    t = await buildTestApp({ WORKER: 'false' }, { jobs: [stepsJob] });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await t?.close();
  });

  function startWorker(): ChildProcess {
    const databaseUrl = (t.database.pool as unknown as { options: { connectionString: string } }).options.connectionString;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/steps-worker.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        SECRET_KEY: 'test-secret-key-that-is-long-enough-to-sign-tokens',
        LOG_LEVEL: 'warn',
        JOBS_POLL_MS: '100',
        JOBS_MAINTENANCE_SECONDS: '1',
        SHUTDOWN_GRACE_SECONDS: '1',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    return child;
  }

  const task = (id: number) => t.app.services.tasks.get({ accountId: 77 } as never, id);

  it('finishes the task on a restarted worker, each unit once', async () => {
    const started = await t.database.db.transaction((tx) =>
      t.app.services.jobs.startTask(tx, { accountId: 77, actorId: null }, 'test.steps', {
        account_id: 77,
        steps: 8,
        delay_ms: 300,
      }),
    );
    const first = startWorker();
    await until(
      'the task',
      () => task(started.id),
      (row) => row.progress.current >= 3,
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const stalled = await task(started.id);
    expect(stalled.status).toBe('running');
    expect(stalled.progress.current).toBeLessThan(8);

    startWorker();
    const done = await until(
      'the task',
      () => task(started.id),
      (row) => row.status === 'succeeded',
    );
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.result).toEqual({ steps: 8 });
    const { rows } = (await t.database.db.execute(
      sql`select payload->>'step' as step, count(*)::int as n from events_events where account_id = 77 and type = 'test.stepped' group by 1 order by 1`,
    )) as unknown as { rows: { step: string; n: number }[] };
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  }, 90_000);
});
