import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './core/config.js';
import type { Database, Db } from './core/db.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { systemRoutes } from './modules/system/system.routes.js';
import { createSystemService } from './modules/system/system.service.js';

/**
 * The explicit wiring: every service is made here from what it uses, and every module's routes are registered
 * here, in this order. Nothing is discovered or auto-loaded.
 */

export interface ServiceDeps {
  config: Config;
  database: Database;
  db: Db;
  redis: Redis | null;
  log: FastifyBaseLogger;
}

export function createServices(deps: ServiceDeps) {
  const auth = createAuthService({ db: deps.db });
  const system = createSystemService({ database: deps.database, probe: {} });
  return { config: deps.config, db: deps.db, auth, system };
}
export type AppServices = ReturnType<typeof createServices>;

export async function registerModules(app: FastifyInstance, services: AppServices): Promise<void> {
  const baseUrl = services.config.publicUrl;
  await systemRoutes(app, services);
  await authRoutes(app, { db: services.db, baseUrl });
}
