import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createAiFunctions } from './core/ai.functions.js';
import { createAi } from './core/ai.js';
import type { Config } from './core/config.js';
import type { Database, Db } from './core/db.js';
import { type AnyJobDefinition, createJobs } from './core/jobs.js';
import { createMailer } from './core/mailer.js';
import { accountRoutes } from './modules/account/account.routes.js';
import { createAccountService, createApiKeyLookup } from './modules/account/account.service.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { createAccountBalances } from './modules/auth/auth.balances.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createSiteDirectory, siteAccess } from './modules/auth/auth.sites.js';
import { billingJobs } from './modules/billing/billing.jobs.js';
import { billingRoutes } from './modules/billing/billing.routes.js';
import { createBillingService } from './modules/billing/billing.service.js';
import { createStripeWebhooks } from './modules/billing/billing.webhooks.js';
import { eventsRoutes } from './modules/events/events.routes.js';
import { createEventsService } from './modules/events/events.service.js';
import { plannerAiFunctions } from './modules/planner/planner.ai.js';
import { plannerJobs } from './modules/planner/planner.jobs.js';
import { plannerRoutes } from './modules/planner/planner.routes.js';
import { createPlannerServices } from './modules/planner/planner.service.js';
import { writingAiFunctions } from './modules/system/system.ai.functions.js';
import { systemAiRoutes } from './modules/system/system.ai.routes.js';
import { createSystemAiService } from './modules/system/system.ai.service.js';
import { systemRoutes } from './modules/system/system.routes.js';
import { createSystemService } from './modules/system/system.service.js';
import { systemTasksRoutes } from './modules/system/system.tasks.routes.js';
import { createTasksService } from './modules/system/system.tasks.service.js';
import { createWriterService } from './modules/writer/writer.service.js';

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
  /** Job types beyond the modules' own (tests and benchmarks define theirs). */
  extraJobs?: AnyJobDefinition[];
}

export function createServices(deps: ServiceDeps) {
  const mailer = createMailer({ db: deps.db, smtpUrl: deps.config.smtpUrl, from: deps.config.mailFrom, log: deps.log });
  // Job types come from each module's *.jobs.ts plus any extra ones; queues are made at start.
  const jobs = createJobs({ config: deps.config, database: deps.database, log: deps.log });
  // Billing comes before auth: registration grants the free plan's credits through billing's ledger.
  // The balance lives on auth's accounts; billing moves it (and the plan) through auth's AccountBalances.
  const billing = createBillingService({ db: deps.db, config: deps.config, jobs, accounts: createAccountBalances(deps.db) });
  const billingWebhooks = createStripeWebhooks({ db: deps.db, config: deps.config, jobs, billing });
  // Auth's credential check reads API keys through the account module, which owns them.
  const apiKeys = createApiKeyLookup(deps.db);
  const auth = createAuthService({
    db: deps.db,
    config: deps.config,
    mailer,
    redis: deps.redis,
    log: deps.log,
    billing,
    apiKeys,
  });
  const account = createAccountService({ db: deps.db, auth, mailer });
  const siteDirectory = createSiteDirectory(auth.lockPlanLimits);
  jobs.register([
    ...billingJobs({ billing, webhooks: billingWebhooks }),
    ...plannerJobs({ ai: () => ai, sites: siteDirectory }),
    ...(deps.extraJobs ?? []),
  ]);
  // Each module's AI functions, registered once: the engine runs them and system/prompts/ lists them.
  const aiFunctions = createAiFunctions([...plannerAiFunctions, ...writingAiFunctions]);
  const systemAi = createSystemAiService({ db: deps.db, config: deps.config.ai, functions: aiFunctions });
  const ai = createAi({
    config: deps.config.ai,
    db: deps.db,
    billing,
    store: systemAi.store,
    log: deps.log,
    functions: aiFunctions,
  });
  const system = createSystemService({
    database: deps.database,
    probe: { jobQueue: () => jobs.health(), aiConfigured: () => ai.configured },
  });
  const tasks = createTasksService({ db: deps.db, jobs });
  const events = createEventsService({ db: deps.db });
  const writer = createWriterService();
  const planner = createPlannerServices({
    db: deps.db,
    jobs,
    siteAccess,
    sites: siteDirectory,
    writer,
    ai,
    defaultWordCount: async (accountId) => (await systemAi.store.settings(accountId)).default_word_count,
    log: deps.log,
  });
  return {
    config: deps.config,
    db: deps.db,
    mailer,
    auth,
    account,
    system,
    jobs,
    tasks,
    events,
    writer,
    planner,
    billing,
    billingWebhooks,
    systemAi,
    ai,
  };
}
export type AppServices = ReturnType<typeof createServices>;

export async function registerModules(app: FastifyInstance, services: AppServices): Promise<void> {
  await systemRoutes(app, services);
  await systemTasksRoutes(app, services);
  await systemAiRoutes(app, services);
  await eventsRoutes(app, services);
  await authRoutes(app, services);
  await accountRoutes(app, services);
  await billingRoutes(app, services);
  await adminRoutes(app, { db: services.db, billing: services.billing });
  await plannerRoutes(app, { db: services.db, jobs: services.jobs, siteAccess, ...services.planner });
}
