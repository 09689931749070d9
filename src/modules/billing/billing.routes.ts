import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { Envelope, ok, originOf, PageEnvelope, sendPage } from '../../core/envelope.js';
import type { Jobs } from '../../core/jobs.js';
import { listQuerySchema } from '../../core/lists.js';
import { registerResource } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { TRANSACTION_LIST, USAGE_LIST } from './billing.repository.js';
import {
  BalanceSchema,
  PackSchema,
  PlanSchema,
  PortalQuery,
  PortalSchema,
  ReceivedSchema,
  SessionBody,
  SessionSchema,
  StatusSchema,
  SummaryQuery,
  SummarySchema,
  TransactionSchema,
  UsageSchema,
} from './billing.schemas.js';
import type { BillingService } from './billing.service.js';
import { billing_credit_packs, billing_plans } from './billing.tables.js';
import type { StripeWebhooks } from './billing.webhooks.js';

interface Deps {
  db: Db;
  config: Config;
  jobs: Jobs;
  billing: BillingService;
  billingWebhooks: StripeWebhooks;
}

const tags = ['billing'];
const throttle = 'billing' as const;

export async function billingRoutes(fastify: FastifyInstance, deps: Deps) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { billing, config } = deps;
  const baseUrl = config.publicUrl;

  for (const [path, names, table, item] of [
    ['/api/v1/billing/plans', ['plan', 'plans'], billing_plans, PlanSchema],
    ['/api/v1/billing/credit-packs', ['credit pack', 'credit packs'], billing_credit_packs, PackSchema],
  ] as const) {
    registerResource(app, deps.db, {
      path,
      tag: 'billing',
      names: [names[0], names[1]],
      table,
      scope: 'global',
      item,
      actions: ['list', 'retrieve'],
      access: { list: 'public', retrieve: 'public' },
      throttle,
      // Retired plans and packs stay for the accounts on them, but are no longer offered.
      baseWhere: [eq(table.is_active, true)],
      list: {
        ordering: { price_cents: table.price_cents, created_at: table.created_at },
        defaultOrdering: 'price_cents',
      },
    });
  }

  app.get(
    '/api/v1/billing/credits/balance',
    {
      schema: {
        tags,
        summary: "The account's credit balance",
        description: 'Readable by every member.',
        response: { 200: Envelope(BalanceSchema) },
      },
      config: { access: 'read', throttle },
    },
    async (request) => {
      const ctx = accountContext(request);
      return ok(request, { account_id: ctx.accountId, balance: await billing.balance(ctx) });
    },
  );

  app.get(
    '/api/v1/billing/credits/transactions',
    {
      schema: {
        tags,
        summary: 'The credit ledger',
        description:
          'Every change of the balance, newest first; a cursor feed unless page, offset or ordering is asked for. Filters: `type`, `type__in`, `operation`, `operation__in`, `object_type`, `object_id`, `amount__gte`, `amount__lte`, `created_after`, `created_before`; `search` in descriptions.',
        querystring: listQuerySchema(TRANSACTION_LIST),
        response: { 200: PageEnvelope(TransactionSchema) },
      },
      config: { access: 'admin', throttle },
    },
    async (request) => sendPage(request, await billing.transactions(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/billing/credits/usage',
    {
      schema: {
        tags,
        summary: 'AI usage, one row per call',
        description:
          'Newest first; a cursor feed unless page, offset or ordering is asked for. Filters: `operation`, `operation__in`, `model`, `object_type`, `object_id`, `credits__gte`, `credits__lte`, `created_after`, `created_before`.',
        querystring: listQuerySchema(USAGE_LIST),
        response: { 200: PageEnvelope(UsageSchema) },
      },
      config: { access: 'admin', throttle },
    },
    async (request) => sendPage(request, await billing.usage(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/billing/credits/usage/summary',
    {
      schema: {
        tags,
        summary: 'AI usage totals per operation per day, week or month',
        querystring: SummaryQuery,
        response: { 200: Envelope(SummarySchema) },
      },
      config: { access: 'admin', throttle },
    },
    async (request) => ok(request, await billing.usageSummary(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/billing/status',
    {
      schema: {
        tags,
        summary: "The account's subscription",
        description: '`provider` is null for a plan renewed by this server (the free plan).',
        response: { 200: Envelope(StatusSchema) },
      },
      config: { access: 'admin', throttle },
    },
    async (request) => ok(request, await billing.status(accountContext(request))),
  );

  app.post(
    '/api/v1/billing/session',
    {
      schema: {
        tags,
        summary: 'Start a checkout for a plan or a credit pack',
        description:
          "Answers the provider's checkout URL. `503` when payments are not configured. The session, its customer and its subscription carry `metadata.account_id`.",
        body: SessionBody,
        response: { 200: Envelope(SessionSchema) },
      },
      config: { access: 'admin', throttle, errors: ['service_unavailable'] },
    },
    async (request) => {
      const ctx = accountContext(request);
      return ok(request, await billing.checkoutSession(ctx, request.body, originOf(request, baseUrl)));
    },
  );

  app.get(
    '/api/v1/billing/portal',
    {
      schema: {
        tags,
        summary: "The provider's customer portal",
        description: "`503` when payments are not configured; `409` before the account's first checkout.",
        querystring: PortalQuery,
        response: { 200: Envelope(PortalSchema) },
      },
      config: { access: 'admin', throttle },
    },
    async (request) => ok(request, await billing.portal(accountContext(request), request.query, originOf(request, baseUrl))),
  );

  app.post(
    '/api/v1/billing/webhooks/stripe',
    {
      schema: {
        tags,
        summary: "Stripe's events (signed)",
        description:
          'No auth: Stripe signs the raw body (`Stripe-Signature`, 300 s tolerance). Each event is stored once by its id and applied by a job; every accepted delivery, first or repeated, answers `200 {received: true}`. A missing, bad or stale signature, or no STRIPE_WEBHOOK_SECRET, is `400`.',
        response: { 200: Envelope(ReceivedSchema) },
      },
      config: { access: 'public', rawBody: true, idempotency: false, throttle },
    },
    async (request) => {
      const { received } = await deps.billingWebhooks.receive(request.rawBodyText, request.headers['stripe-signature']);
      return ok(request, { received });
    },
  );
}
