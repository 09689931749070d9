import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { type Config, ConfigError, loadConfig } from './core/config.js';
import { connect, migrate } from './core/db.js';
import type { AnyJobDefinition, JobLimits } from './core/jobs.js';
import { loggerOptions, stdoutDestination } from './core/logger.js';
import { exitOnSignals } from './core/shutdown.js';
import { createServices } from './modules.js';

/**
 * A worker only: takes jobs from the shared Postgres database and runs them, with no HTTP. Start any number,
 * on any machine that reaches the database (`npm run worker`). The embedded PGlite database belongs to one
 * process, so with it the API process runs the jobs itself (`npm start`, WORKER on).
 */

export async function runWorker(
  options: { config?: Config; extraJobs?: AnyJobDefinition[]; jobLimits?: Readonly<Record<string, JobLimits>> } = {},
) {
  const config = options.config ?? loadConfig();
  if (!config.databaseUrl) {
    throw new ConfigError([
      "DATABASE_URL: a separate worker needs a Postgres server; the embedded database (PGlite) is one process's, so " +
        'without DATABASE_URL run `npm start` (its API process runs the jobs unless WORKER=off)',
    ]);
  }
  const log = pino({ ...loggerOptions(config), base: { role: 'worker', pid: process.pid } }, stdoutDestination());
  const database = await connect({
    databaseUrl: config.databaseUrl,
    poolSize: config.databasePoolSize,
    pgliteDir: config.pgliteDir,
  });
  await migrate(database);
  // ioredis is loaded only when REDIS_URL is set (about 20 MB of memory otherwise held for nothing).
  const redis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, {
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        enableOfflineQueue: false,
      })
    : null;
  redis?.on('error', () => {});
  const services = createServices({
    config,
    database,
    db: database.db,
    redis,
    log,
    extraJobs: options.extraJobs,
    jobLimits: options.jobLimits,
  });
  // Heard changes wake the workers when a job is made ready, and keep this process's caches exact.
  await services.changes.start();
  await services.jobs.start();
  services.jobs.startWorkers();
  log.info({ job_types: [...services.jobs.definitions.keys()] }, 'worker ready');

  exitOnSignals({
    graceSeconds: config.shutdownGraceSeconds,
    log,
    message: 'worker stopping: letting running jobs finish',
    close: async () => {
      await services.jobs.stop(config.shutdownGraceSeconds);
      await services.changes.stop();
      redis?.disconnect();
      await database.close();
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runWorker().catch((error) => {
    console.error(
      error instanceof ConfigError ? error.message : `Worker failed to start: ${error instanceof Error ? error.message : error}`,
    );
    process.exit(1);
  });
}
