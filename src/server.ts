import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './core/config.js';
import { connect, migrate, PROJECT_ROOT } from './core/db.js';
import { loggerOptions, stdoutDestination } from './core/logger.js';
import { exitOnSignals } from './core/shutdown.js';

/** Start: config → database → migrations → API (→ worker) → listen; on SIGTERM/SIGINT, a graceful close. */
async function main() {
  const config = loadConfig();
  const version = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version as string;
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
  const app = await buildApp({
    config,
    database,
    redis,
    version,
    logger: { ...loggerOptions(config), stream: stdoutDestination() },
  });

  exitOnSignals({
    graceSeconds: config.shutdownGraceSeconds,
    log: app.log,
    message: 'shutting down: finishing in-flight requests',
    close: async () => {
      await app.close();
      redis?.disconnect();
      await database.close();
    },
  });

  await app.listen({ port: config.port, host: config.host });
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const base = config.publicUrl || `http://${shown}:${config.port}`;
  app.log.info(
    { database: database.kind === 'pglite' ? `PGlite in ${config.pgliteDir}` : 'Postgres (DATABASE_URL)' },
    `API ready at ${base}/api/v1/ — docs at ${base}/api/docs (ReDoc: ${base}/api/redoc, schema: ${base}/api/schema)`,
  );
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
