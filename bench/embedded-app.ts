import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config.js';
import { connect, migrate } from '../src/core/db.js';

/**
 * The real app on an embedded PGlite database in memory, its process working the jobs, configured as production
 * (benchmarks measure what runs there), with a registered account: what the in-process benches start from.
 */
export async function embeddedBenchApp(name: string, env: Record<string, string> = {}) {
  const config = loadConfig({
    NODE_ENV: 'production',
    SECRET_KEY: 'bench-secret-key-that-is-long-enough-to-sign-tokens',
    INTEGRATION_KEY: 'YmVuY2gtaW50ZWdyYXRpb24ta2V5LTMyLWJ5dGVzISE=',
    DATA_DIR: mkdtempSync(join(tmpdir(), `cf-bench-${name}-`)),
    LOG_LEVEL: 'warn',
    THROTTLE_DISABLED: 'true',
    WORKER: 'true',
    ...env,
  });
  const database = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: 'memory://' });
  await migrate(database);
  const app = await buildApp({ config, database, logger: false });
  await app.ready();

  /** A call through the app; anything but a success stops the bench with its answer. */
  async function api(method: 'GET' | 'POST', url: string, token: string | null, payload?: object) {
    const res = await app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(payload ? { payload } : {}),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json().data;
  }

  const registered = await api('POST', '/api/v1/auth/register/', null, {
    email: `bench-${Date.now()}@example.com`,
    password: 'correct horse battery staple',
    account_name: 'Bench',
  });
  return {
    app,
    database,
    db: database.db,
    api,
    token: registered.access as string,
    accountId: registered.account.id as number,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
