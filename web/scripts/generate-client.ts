import { writeFile } from 'node:fs/promises';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { connect, migrate } from '../../src/core/db.js';
import { renderClient, SCHEMA_FILE } from './render-client.js';

/**
 * `npm run web:client`: builds the app in this process on a throwaway in-memory database, reads its OpenAPI
 * document through app.inject (no port, no network) and writes web/src/api/schema.d.ts.
 */
async function main() {
  const config = loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: 'client-generation-only-secret-key-long-enough',
    DATA_DIR: '/nonexistent-contentflow-client',
    LOG_LEVEL: 'silent',
    WORKER: 'false',
    THROTTLE_DISABLED: 'true',
  });
  const database = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: 'memory://' });
  await migrate(database);
  const app = await buildApp({ config, database, logger: false, version: 'client' });
  try {
    const response = await app.inject({ method: 'GET', url: '/api/schema' });
    if (response.statusCode !== 200) throw new Error(`GET /api/schema answered ${response.statusCode}`);
    await writeFile(SCHEMA_FILE, await renderClient(response.json()));
    console.log(`wrote ${SCHEMA_FILE.pathname}`);
  } finally {
    await app.close();
    await database.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
