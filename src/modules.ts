import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createAiFunctions } from './core/ai.functions.js';
import { createAi } from './core/ai.js';
import { createChanges } from './core/changes.js';
import type { Config } from './core/config.js';
import type { Database, Db } from './core/db.js';
import { type AnyJobDefinition, createJobs, type JobLimits } from './core/jobs.js';
import { createMailer } from './core/mailer.js';
import { mediaRoutes } from './core/media.js';
import { publicFetch } from './core/public-network.js';
import { attachReadCaches, createReadCaches } from './core/read-cache.js';
import type { ScopedContext } from './core/resource.js';
import { createSecretBox } from './core/secrets.js';
import { createStorage } from './core/storage.js';
import { accountRoutes } from './modules/account/account.routes.js';
import { createAccountService, createApiKeyLookup } from './modules/account/account.service.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { createAccountBalances } from './modules/auth/auth.balances.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createSiteDirectory, siteAccess } from './modules/auth/auth.sites.js';
import type { Actor, AutomationCredits, AutomationStages } from './modules/automation/automation.deps.js';
import { automationJobs } from './modules/automation/automation.jobs.js';
import { automationRoutes } from './modules/automation/automation.routes.js';
import { type AutomationService, createAutomationService } from './modules/automation/automation.service.js';
import { billingJobs } from './modules/billing/billing.jobs.js';
import { billingRoutes } from './modules/billing/billing.routes.js';
import { createBillingService } from './modules/billing/billing.service.js';
import { createStripeWebhooks } from './modules/billing/billing.webhooks.js';
import { eventsJobs } from './modules/events/events.deliveries.jobs.js';
import { eventsDeliveriesRoutes } from './modules/events/events.deliveries.routes.js';
import { createWebhookDeliveries } from './modules/events/events.deliveries.service.js';
import { eventsRoutes } from './modules/events/events.routes.js';
import { createEventsService } from './modules/events/events.service.js';
import { eventsStreamRoutes } from './modules/events/events.stream.routes.js';
import { createEventsStream } from './modules/events/events.stream.service.js';
import { eventsSubscriptionsRoutes } from './modules/events/events.subscriptions.routes.js';
import { createSubscriptionsService } from './modules/events/events.subscriptions.service.js';
import { integrationJobs } from './modules/integration/integration.jobs.js';
import { integrationRoutes } from './modules/integration/integration.routes.js';
import { createIntegrationService, createSiteConnections } from './modules/integration/integration.service.js';
import { createSyncRunner } from './modules/integration/integration.sync.js';
import { createIncomingWebhooks } from './modules/integration/integration.webhooks.js';
import { linkerJobs } from './modules/linker/linker.jobs.js';
import { linkerRoutes } from './modules/linker/linker.routes.js';
import { createLinkerService } from './modules/linker/linker.service.js';
import { optimizerAiFunctions } from './modules/optimizer/optimizer.ai.js';
import { optimizerJobs } from './modules/optimizer/optimizer.jobs.js';
import { optimizerRoutes } from './modules/optimizer/optimizer.routes.js';
import { createOptimizerService } from './modules/optimizer/optimizer.service.js';
import { plannerAiFunctions } from './modules/planner/planner.ai.js';
import { createContentBriefs } from './modules/planner/planner.briefs.service.js';
import { plannerJobs } from './modules/planner/planner.jobs.js';
import { createPlannerPipeline } from './modules/planner/planner.pipeline.service.js';
import { plannerRoutes } from './modules/planner/planner.routes.js';
import { createPlannerDirectory, createPlannerServices } from './modules/planner/planner.service.js';
import { publisherDeploymentJobs } from './modules/publisher/publisher.deployments.jobs.js';
import { publisherDeploymentRoutes } from './modules/publisher/publisher.deployments.routes.js';
import { createDeploymentsService } from './modules/publisher/publisher.deployments.service.js';
import { publisherJobs } from './modules/publisher/publisher.jobs.js';
import { publisherRoutes } from './modules/publisher/publisher.routes.js';
import { createPublisherService } from './modules/publisher/publisher.service.js';
import { systemAiRoutes } from './modules/system/system.ai.routes.js';
import { createSystemAiService } from './modules/system/system.ai.service.js';
import { systemFileJobs } from './modules/system/system.files.jobs.js';
import { createStoredFiles } from './modules/system/system.files.service.js';
import { systemRoutes } from './modules/system/system.routes.js';
import { createSystemService } from './modules/system/system.service.js';
import { systemTasksRoutes } from './modules/system/system.tasks.routes.js';
import { createTasksService } from './modules/system/system.tasks.service.js';
import { writerAiFunctions } from './modules/writer/writer.ai.js';
import { writerGenerateRoutes } from './modules/writer/writer.generate.routes.js';
import { createWriterGenerateService } from './modules/writer/writer.generate.service.js';
import { writerImageAiFunctions } from './modules/writer/writer.images.ai.js';
import { writerImageJobs } from './modules/writer/writer.images.jobs.js';
import { writerImageRoutes } from './modules/writer/writer.images.routes.js';
import { createWriterImagesService } from './modules/writer/writer.images.service.js';
import { writerJobs } from './modules/writer/writer.jobs.js';
import { createWriterPipeline } from './modules/writer/writer.pipeline.service.js';
import { writerRoutes } from './modules/writer/writer.routes.js';
import { createContentLinks, createWriterService } from './modules/writer/writer.service.js';

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
  /**
   * Tests only (never configuration): limits replacing some job types' own, e.g. a short expiry for a test
   * that kills a worker. Every process sharing the queue must get the same, as the limits are the queue's.
   */
  jobLimits?: Readonly<Record<string, JobLimits>>;
}

export function createServices(deps: ServiceDeps) {
  // Stored files (generated images): DATA_DIR/media, or the S3-compatible bucket when configured.
  const storage = createStorage(deps.config.storage, deps.config.publicUrl);
  // Files the modules let go of, deleted from storage by system.purge_released_files.
  const storedFiles = createStoredFiles();
  // Committed writes to account tables, heard in every process (core/changes.ts): the lists' exact counts and
  // detail rows are remembered until the account's rows change (core/read-cache.ts); started with the app (app.ts).
  const changes = createChanges({ database: deps.database, log: deps.log });
  const readCaches = createReadCaches(changes);
  attachReadCaches(deps.db, readCaches);
  const countCache = readCaches.counts;
  const mailer = createMailer({ db: deps.db, smtpUrl: deps.config.smtpUrl, from: deps.config.mailFrom, log: deps.log });
  // Job types come from each module's *.jobs.ts plus any extra ones; queues are made at start.
  const jobs = createJobs({ config: deps.config, database: deps.database, log: deps.log, changes });
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
  // A key revoked, a member removed or a session ended in another process stops working here as soon as it is
  // heard, not only when the credential cache's 30 s run out.
  for (const table of ['account_api_keys', 'auth_memberships', 'auth_sessions']) {
    changes.on(table, (accounts) => {
      if (accounts === null) auth.credentials.forgetAll();
      else for (const accountId of accounts) auth.credentials.forgetAccount(accountId);
    });
  }
  // A user deactivated or an account suspended elsewhere: every cached credential is checked again.
  for (const table of ['auth_users', 'auth_accounts']) changes.on(table, () => auth.credentials.forgetAll());
  changes.onReset(() => auth.credentials.forgetAll());
  // Staff's edits of the credit costs reach every process's estimates as they commit.
  changes.on('billing_credit_costs', () => billing.invalidateCosts());
  const account = createAccountService({ db: deps.db, auth, mailer });
  // The secrets read back (integrations' application passwords and webhook secrets, webhook subscriptions'
  // signing secrets), encrypted at rest under INTEGRATION_KEY (core/secrets.ts); the publisher reaches a site's
  // WordPress through siteConnections, never through the integration's rows.
  const secrets = createSecretBox(deps.config.integrationKeys);
  // How every call to a tenant's WordPress (or webhook endpoint) is made: WORDPRESS_TIMEOUT_SECONDS a request, and
  // through a fetch that refuses the server's own network unless INTEGRATION_ALLOW_PRIVATE (core/public-network.ts).
  const wordpress = {
    timeoutMs: deps.config.wordpressTimeoutSeconds * 1000,
    fetch: publicFetch(deps.config.integrationAllowPrivate),
  };
  const siteConnections = createSiteConnections({ db: deps.db, secrets, transport: wordpress });
  const siteDirectory = createSiteDirectory(auth.lockPlanLimits);
  // The linker reads and revises articles through the writer, a site's URL through auth.
  const contentLinks = createContentLinks();
  // Outgoing webhooks: deliveries are written by the events table's trigger with each event, so an event's commit,
  // heard here from any process, is when its deliveries are dispatched (a sweep job catches what no process heard).
  const webhookDeliveries = createWebhookDeliveries({ db: deps.db, jobs, config: deps.config.webhooks, log: deps.log, secrets });
  changes.on('events_events', (accounts) => webhookDeliveries.wake(accounts));
  changes.onReset(() => webhookDeliveries.wake(null));
  const subscriptions = createSubscriptionsService({ db: deps.db, config: deps.config.webhooks, secrets });
  const eventsStream = createEventsStream({ db: deps.db, changes, heartbeatMs: deps.config.webhooks.heartbeatMs });
  // What a run's units cost, read from billing's ledger; the balance each unit is checked against.
  const automationCredits: AutomationCredits = {
    balance: (accountId) => billing.balance({ accountId }),
    chargedUnder: (accountId, prefix) => billing.chargedUnder({ accountId }, prefix),
  };
  const jobTypes = [
    ...billingJobs({ billing, webhooks: billingWebhooks }),
    ...plannerJobs({ ai: () => ai, sites: siteDirectory }),
    // The writer reads ideas and clusters through the planner, author profiles through the system module.
    ...writerJobs({
      ai: () => ai,
      briefs: createContentBriefs(deps.db),
      authors: () => ({ profile: (accountId, id) => systemAi.authorProfile({ accountId }, id) }),
      sites: siteDirectory,
    }),
    ...writerImageJobs({ ai: () => ai, storage, settings: (accountId) => systemAi.store.settings(accountId) }),
    // Deletes the stored files the modules let go of (their rows' triggers release them; system.tables.ts).
    ...systemFileJobs({ storage }),
    // The optimizer reads and revises articles through the writer, a site's URL through auth's directory.
    ...optimizerJobs({ ai: () => ai, articles: () => writer.articles, sites: siteDirectory, language: (id) => language(id) }),
    ...linkerJobs({ content: contentLinks, sites: siteDirectory }),
    ...eventsJobs({ deliveries: webhookDeliveries }),
    // A sync imports a site's posts through the writer (its one sanitising and versioning path), made below.
    ...integrationJobs({
      sync: createSyncRunner({
        db: deps.db,
        secrets,
        transport: wordpress,
        content: { upsert: (...args) => writer.imports.upsert(...args) },
      }),
      webhooks: () => incomingWebhooks,
    }),
    // Static exports read the published articles through the writer, the site through auth's directory.
    ...publisherDeploymentJobs({
      storage,
      files: storedFiles,
      keepVersions: deps.config.deploymentKeepVersions,
      articles: () => writer,
      sites: siteDirectory,
      authorName: async (accountId, id) => (await systemAi.authorProfile({ accountId }, id))?.name ?? null,
    }),
    // Automation drives the stages through the modules' own services (made below, hence lazy).
    ...automationJobs({
      ai: () => ai,
      credits: automationCredits,
      stages: () => stages,
      service: () => automation,
    }),
    // The publisher reads and marks articles through the writer, reaches WordPress through siteConnections.
    ...publisherJobs({ articles: () => writer.publishing, connections: siteConnections, storage }),
    ...(deps.extraJobs ?? []),
  ];
  jobs.register(jobTypes.map((definition) => ({ ...definition, ...deps.jobLimits?.[definition.name] })));
  // Each module's AI functions, registered once: the engine runs them and system/prompts/ lists them.
  const aiFunctions = createAiFunctions([
    ...plannerAiFunctions,
    ...writerAiFunctions,
    ...optimizerAiFunctions,
    ...writerImageAiFunctions,
  ]);
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
  const tasks = createTasksService({ db: deps.db, jobs, changes });
  const events = createEventsService({ db: deps.db });
  const language = async (accountId: number) => (await systemAi.store.settings(accountId)).language;
  const defaultWordCount = async (accountId: number) => (await systemAi.store.settings(accountId)).default_word_count;
  // The writer reads the planner's clusters and ideas through its directory (the planner's services, made
  // below, queue writer tasks through the writer's).
  const writer = createWriterService({
    db: deps.db,
    siteAccess,
    planner: createPlannerDirectory(),
    settings: {
      defaultWordCount,
      hasAuthorProfile: async (accountId, id) => (await systemAi.authorProfile({ accountId }, id)) !== null,
    },
    // Approving with `publish: true` queues the publication through the publisher, made below.
    publishing: () => publisher,
  });
  const integrations = createIntegrationService({
    db: deps.db,
    jobs,
    secrets,
    siteAccess,
    transport: wordpress,
    allowPrivate: deps.config.integrationAllowPrivate,
  });
  const incomingWebhooks = createIncomingWebhooks({ db: deps.db, jobs, secrets });
  const optimizer = createOptimizerService({ db: deps.db, jobs, ai, articles: writer.articles, sites: siteDirectory, language });
  const writerGenerate = createWriterGenerateService({ db: deps.db, jobs, ai });
  const writerImages = createWriterImagesService({ db: deps.db, jobs, ai, storage, log: deps.log });
  const deployments = createDeploymentsService({ db: deps.db, jobs, storage, sites: siteDirectory, siteAccess });
  const linker = createLinkerService({ db: deps.db, jobs, content: contentLinks, sites: siteDirectory });
  const publisher = createPublisherService({ db: deps.db, jobs, articles: writer.publishing, connections: siteConnections });
  const planner = createPlannerServices({
    db: deps.db,
    jobs,
    siteAccess,
    sites: siteDirectory,
    writer,
    ai,
    defaultWordCount,
    log: deps.log,
  });
  // A run moves content through the API's own rules (submit, approve, queue ideas) as the user who started it;
  // its events say `automation` did it, on behalf of that user.
  const actingAs = (actor: Actor): ScopedContext => ({
    scheme: 'jwt',
    user: actor.actorId === null ? null : { id: actor.actorId, email: '', is_staff: false, is_superuser: false },
    apiKey: null,
    sessionId: null,
    accountId: actor.accountId,
    role: 'editor',
    siteIds: null,
    agent: 'automation',
  });
  const plannerPipeline = createPlannerPipeline({ db: deps.db, jobs, ideas: planner.ideas });
  const writerPipeline = createWriterPipeline({ db: deps.db, jobs, content: writer.content, approvals: writer.approvals });
  const stages: AutomationStages = {
    planner: { ...plannerPipeline, queueIdeas: (actor, ids) => plannerPipeline.queueIdeas(actingAs(actor), ids) },
    writer: {
      ...writerPipeline,
      submitForReview: (actor, id) => writerPipeline.submitForReview(actingAs(actor), id),
      approve: (actor, id) => writerPipeline.approve(actingAs(actor), id),
    },
    optimizer: { optimize: (unit, id) => optimizer.optimizeOne(unit, id) },
    linker: { link: (unit, id) => linker.linkOne(unit, id) },
    // Approval off and auto-publish on: the run's approved articles go to the publisher's own queue.
    publish: (actor, contentIds, status) => publisher.publishAll(actingAs(actor), contentIds, status),
  };
  const automation: AutomationService = createAutomationService({
    db: deps.db,
    jobs,
    ai,
    credits: automationCredits,
    sites: { check: (db, ctx, siteId) => siteAccess.check(db, ctx, siteId, null) },
    stages,
    defaultWordCount,
  });
  return {
    config: deps.config,
    db: deps.db,
    automation,
    storage,
    changes,
    countCache,
    readCaches,
    mailer,
    auth,
    account,
    system,
    jobs,
    tasks,
    events,
    secrets,
    siteConnections,
    webhookDeliveries,
    subscriptions,
    eventsStream,
    integrations,
    incomingWebhooks,
    writer,
    writerGenerate,
    writerImages,
    optimizer,
    planner,
    linker,
    deployments,
    publisher,
    billing,
    billingWebhooks,
    systemAi,
    ai,
  };
}
export type AppServices = ReturnType<typeof createServices>;

export async function registerModules(app: FastifyInstance, services: AppServices): Promise<void> {
  app.addHook('onClose', async () => services.storage.close());
  await mediaRoutes(app, services);
  await systemRoutes(app, services);
  await systemTasksRoutes(app, services);
  await systemAiRoutes(app, services);
  await eventsRoutes(app, services);
  await eventsStreamRoutes(app, services);
  await eventsSubscriptionsRoutes(app, services);
  await eventsDeliveriesRoutes(app, { deliveries: services.webhookDeliveries, subscriptions: services.subscriptions });
  await authRoutes(app, services);
  await accountRoutes(app, services);
  await billingRoutes(app, services);
  await adminRoutes(app, { db: services.db, billing: services.billing });
  await plannerRoutes(app, { db: services.db, jobs: services.jobs, siteAccess, ...services.planner });
  await writerRoutes(app, services);
  await writerGenerateRoutes(app, services);
  await writerImageRoutes(app, { images: services.writerImages });
  await optimizerRoutes(app, services);
  await linkerRoutes(app, services);
  await integrationRoutes(app, services);
  await publisherDeploymentRoutes(app, services);
  await automationRoutes(app, services);
  await publisherRoutes(app, services);
}
