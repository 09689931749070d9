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
 * Then the pickup latency of one job on an idle queue, both databases.
 * `npm run bench:jobs` (BENCH_PG_URL, default the local server; BENCH_JOBS, BENCH_CONCURRENCY; BENCH_ONLY=latency).
 */

const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const total = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = process.env.BENCH_CONCURRENCY ?? '32';
const baseEnv = {
  NODE_ENV: 'production',
  SECRET_KEY: 'bench-secret-key-that-is-long-enough-to-sign-tokens',
  INTEGRATION_KEY: 'YmVuY2gtaW50ZWdyYXRpb24ta2V5LTMyLWJ5dGVzISE=',
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

/** A migrated database of its own on the Postgres server for `work`, dropped afterwards. */
async function withThrowawayDatabase<T>(label: string, work: (database: Database, url: string) => Promise<T>): Promise<T> {
  const name = `cf_bench_${label}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await connect({ databaseUrl: url.toString(), poolSize: 10, pgliteDir: 'memory://' });
  try {
    await migrate(database);
    return await work(database, url.toString());
  } finally {
    await database.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

function postgres() {
  return withThrowawayDatabase('jobs', async (database, url) => {
    const enqueueRate = await enqueue(database, total);
    const env = { ...process.env, ...baseEnv, DATABASE_URL: url };
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
  });
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

/**
 * How long a job waits between its commit and its start, one job at a time on an idle queue, at the default
 * JOBS_POLL_MS (1000): pg-boss's own timestamps (`started_on - created_on`), so the measuring adds nothing.
 */
async function pickupLatency(database: Database, jobs = 30) {
  const { JOBS_POLL_MS: _poll, ...env } = baseEnv;
  const app = await buildApp({ config: loadConfig({ ...env, WORKER: 'true' }), database, logger: false, jobs: [noopJob] });
  await app.ready();
  const done = await completed(database);
  for (let i = 0; i < jobs; i++) {
    await database.db.transaction((tx) => app.services.jobs.enqueue(tx, 'bench.noop', { i }));
    await waitFor(database, done + i + 1);
    // A gap of its own length before the next, so no job is found by the probe that found the last one.
    await new Promise((r) => setTimeout(r, 37 + ((i * 53) % 300)));
  }
  await app.close();
  const result = (await database.db.execute(
    sql`select extract(epoch from started_on - created_on) * 1000 as ms from pgboss.job
         where name = 'bench.noop' and state = 'completed' order by created_on desc limit ${jobs}`,
  )) as unknown as { rows: { ms: string }[] };
  const ms = result.rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)] ?? 0, p95: ms[Math.floor(ms.length * 0.95)] ?? 0, max: ms.at(-1) ?? 0 };
}

async function latencies() {
  const lite = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: 'memory://' });
  await migrate(lite);
  const pgliteLatency = await pickupLatency(lite);
  await lite.close();
  return { pgliteLatency, postgresLatency: await withThrowawayDatabase('latency', (database) => pickupLatency(database)) };
}

const show = (l: { median: number; p95: number; max: number }) =>
  `median ${l.median.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`;
// BENCH_ONLY=latency: the pickup latency alone.
if (process.env.BENCH_ONLY !== 'latency') {
  const pgResult = await postgres();
  console.log(
    `Postgres, 2 worker processes x ${concurrency} slots: ${total} no-op jobs in ${pgResult.seconds.toFixed(1)} s = ${Math.round(pgResult.rate)} jobs/s (enqueue: ${Math.round(pgResult.enqueueRate)} jobs/s, one by one in transactions of 500)`,
  );
  const liteResult = await pglite();
  console.log(
    `PGlite, the API process's worker x ${concurrency} slots: ${liteResult.count} no-op jobs in ${liteResult.seconds.toFixed(1)} s = ${Math.round(liteResult.rate)} jobs/s (enqueue: ${Math.round(liteResult.enqueueRate)} jobs/s)`,
  );
}
const { pgliteLatency, postgresLatency } = await latencies();
console.log(
  `Pickup at JOBS_POLL_MS=1000, commit to start, one job at a time: PGlite ${show(pgliteLatency)}; Postgres ${show(postgresLatency)}`,
);
console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
process.exit(0);
