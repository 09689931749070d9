import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config.js';
import { connect, type Database, migrate } from '../src/core/db.js';
import { noopJob } from './noop-job.js';

/**
 * Jobs per second through the queue with a no-op handler:
 *  - Postgres: N jobs enqueued first, then 2 `worker` processes drain them (wall time from their start).
 *  - PGlite: the API process's own worker (the only one PGlite allows) drains them.
 * `npm run bench:jobs` (BENCH_PG_URL, default the local server; BENCH_JOBS, BENCH_CONCURRENCY).
 */

const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const total = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = process.env.BENCH_CONCURRENCY ?? '32';
const baseEnv = {
  NODE_ENV: 'production',
  SECRET_KEY: 'bench-secret-key-that-is-long-enough-to-sign-tokens',
  LOG_LEVEL: 'warn',
  THROTTLE_DISABLED: 'true',
  JOBS_CONCURRENCY: `bench.noop=${concurrency}`,
  JOBS_POLL_MS: '200',
  DATA_DIR: mkdtempSync(join(tmpdir(), 'cf-bench-')),
};

async function enqueue(database: Database, count: number): Promise<number> {
  const config = loadConfig({ ...baseEnv, WORKER: 'false', ...(database.kind === 'postgres' ? {} : {}) });
  const app = await buildApp({ config, database, logger: false, jobs: [noopJob] });
  await app.ready();
  const started = performance.now();
  for (let done = 0; done < count; done += 500) {
    await database.db.transaction(async (tx) => {
      for (let i = done; i < Math.min(done + 500, count); i++) await app.services.jobs.enqueue(tx, 'bench.noop', { i });
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  return count / seconds;
}

async function completed(database: Database): Promise<number> {
  const result = (await database.db.execute(
    sql`select count(*)::int as n from pgboss.job where name = 'bench.noop' and state = 'completed'`,
  )) as unknown as { rows: { n: number }[] };
  return result.rows[0]?.n ?? 0;
}

async function waitFor(database: Database, count: number): Promise<void> {
  while ((await completed(database)) < count) await new Promise((r) => setTimeout(r, 50));
}

async function postgres() {
  const name = `cf_bench_jobs_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await connect({ databaseUrl: url.toString(), poolSize: 10, pgliteDir: 'memory://' });
  try {
    await migrate(database);
    const enqueueRate = await enqueue(database, total);
    const env = { ...process.env, ...baseEnv, DATABASE_URL: url.toString() };
    const workers = [0, 1].map(() =>
      spawn(process.execPath, ['--import', 'tsx', 'bench/noop-worker.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] }),
    );
    // Timed from the first completed job, so the workers' start (tsx compiling) is not counted.
    let first = await completed(database);
    while (first === 0) {
      await new Promise((r) => setTimeout(r, 10));
      first = await completed(database);
    }
    const started = performance.now();
    await waitFor(database, total);
    const seconds = (performance.now() - started) / 1000;
    const measured = total - first;
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
    return { enqueueRate, rate: measured / seconds, seconds };
  } finally {
    await database.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

async function pglite() {
  const count = Math.min(total, 5000);
  const database = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: 'memory://' });
  await migrate(database);
  const enqueueRate = await enqueue(database, count);
  const config = loadConfig({ ...baseEnv, WORKER: 'true' });
  const started = performance.now();
  const app = await buildApp({ config, database, logger: false, jobs: [noopJob] });
  await app.ready();
  await waitFor(database, count);
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  await database.close();
  return { enqueueRate, rate: count / seconds, seconds, count };
}

const pgResult = await postgres();
console.log(
  `Postgres, 2 worker processes x ${concurrency} slots: ${total} no-op jobs in ${pgResult.seconds.toFixed(1)} s = ${Math.round(pgResult.rate)} jobs/s (enqueue: ${Math.round(pgResult.enqueueRate)} jobs/s, one by one in transactions of 500)`,
);
const liteResult = await pglite();
console.log(
  `PGlite, the API process's worker x ${concurrency} slots: ${liteResult.count} no-op jobs in ${liteResult.seconds.toFixed(1)} s = ${Math.round(liteResult.rate)} jobs/s (enqueue: ${Math.round(liteResult.enqueueRate)} jobs/s)`,
);
console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
process.exit(0);
