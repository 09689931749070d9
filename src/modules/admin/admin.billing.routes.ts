import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type TObject, Type } from 'typebox';
import { Envelope, noContent, ok, PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { checkIfMatch, IdParams, sendDetail } from '../../core/resource.js';
import { ACCOUNT_LIST } from '../auth/auth.service.js';
import {
  CostCreate,
  CostSchema,
  PackCreate,
  PackSchema,
  PlanCreate,
  PlanSchema,
  SummaryQuery,
  SummarySchema,
  UsageSchema,
} from '../billing/billing.schemas.js';
import { type BillingService, CATALOG_LISTS, type CatalogKind, STAFF_USAGE_LIST } from '../billing/billing.service.js';
import {
  AdjustBody,
  AdjustSchema,
  AdminAccountDetailSchema,
  AdminAccountSchema,
  StatsQuery,
  StatsSchema,
} from './admin.schemas.js';

/**
 * Staff's billing routes (`config.access: 'staff'`): accounts with balances and plans, credit adjustments
 * through the same ledger every module uses, plans, credit packs and credit costs, usage across accounts and
 * stats. Staff act outside accounts, so nothing here goes through tenant scoping.
 */

const tags = ['admin'];
const config = { access: 'staff' as const, throttle: 'billing' as const };

export async function adminBillingRoutes(fastify: FastifyInstance, deps: { billing: BillingService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { billing } = deps;
  const staff = billing.staff;

  app.get(
    '/api/v1/admin/accounts',
    {
      schema: {
        tags,
        summary: 'Accounts with their balances and plans',
        description:
          'Filters: `status`, `plan_id`, `credits__gte`, `credits__lte`; `search` in name and slug; ordering by created_at, credits, name.',
        querystring: listQuerySchema(ACCOUNT_LIST),
        response: { 200: PageEnvelope(AdminAccountSchema) },
      },
      config,
    },
    async (request) => sendPage(request, await staff.accounts(request.query)),
  );

  app.get(
    '/api/v1/admin/accounts/:id',
    {
      schema: {
        tags,
        summary: 'An account with its balance, ledger sum and subscription',
        params: IdParams,
        response: { 200: Envelope(AdminAccountDetailSchema) },
      },
      config,
    },
    async (request, reply) => sendDetail(request, reply, await staff.account(request.params.id)),
  );

  app.post(
    '/api/v1/admin/accounts/:id/adjust_credits',
    {
      schema: {
        tags,
        summary: "Add or take an account's credits",
        description:
          'Written to the ledger as an `adjustment` with the reason; one that would take the balance below zero is `400` and changes nothing.',
        params: IdParams,
        body: AdjustBody,
        response: { 200: Envelope(AdjustSchema) },
      },
      config,
    },
    async (request) => ok(request, await billing.adjustByStaff(request.params.id, request.body, request.ctx?.user?.id ?? null)),
  );

  app.get(
    '/api/v1/admin/usage',
    {
      schema: {
        tags,
        summary: 'AI usage across accounts',
        description:
          'Newest first; a cursor feed unless page, offset or ordering is asked for. Filters as on billing/credits/usage/, plus `account_id`.',
        querystring: listQuerySchema(STAFF_USAGE_LIST),
        response: { 200: PageEnvelope(UsageSchema) },
      },
      config,
    },
    async (request) => sendPage(request, await billing.usage(null, request.query)),
  );

  app.get(
    '/api/v1/admin/usage/summary',
    {
      schema: {
        tags,
        summary: 'AI usage totals across accounts per operation per period',
        querystring: SummaryQuery,
        response: { 200: Envelope(SummarySchema) },
      },
      config,
    },
    async (request) => ok(request, await billing.usageSummary(null, request.query)),
  );

  app.get(
    '/api/v1/admin/stats',
    {
      schema: {
        tags,
        summary: 'Billing stats: credits granted, spent and outstanding; spent by operation and day',
        querystring: StatsQuery,
        response: { 200: Envelope(StatsSchema) },
      },
      config,
    },
    async (request) => ok(request, await staff.stats(request.query.days ?? 30)),
  );

  catalogRoutes(app, staff, 'plans', '/api/v1/admin/plans', ['plan', 'plans'], PlanSchema, PlanCreate);
  catalogRoutes(
    app,
    staff,
    'credit_packs',
    '/api/v1/admin/credit-packs',
    ['credit pack', 'credit packs'],
    PackSchema,
    PackCreate,
  );
  catalogRoutes(
    app,
    staff,
    'credit_costs',
    '/api/v1/admin/credit-costs',
    ['credit cost', 'credit costs'],
    CostSchema,
    CostCreate,
  );
}

/** List, retrieve, create, PATCH/PUT and delete of one kind of billing reference data. */
function catalogRoutes(
  fastify: FastifyInstance,
  staff: BillingService['staff'],
  kind: CatalogKind,
  path: string,
  [singular, plural]: [string, string],
  item: TObject,
  create: TObject,
) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const detail = `${path}/:id`;
  app.get(
    path,
    {
      schema: {
        tags,
        summary: `List ${plural}`,
        querystring: listQuerySchema(CATALOG_LISTS[kind]),
        response: { 200: PageEnvelope(item) },
      },
      config,
    },
    async (request) => sendPage(request, await staff.list(kind, request.query)),
  );
  app.get(
    detail,
    { schema: { tags, summary: `Get a ${singular}`, params: IdParams, response: { 200: Envelope(item) } }, config },
    async (request, reply) => sendDetail(request, reply, await staff.get(kind, request.params.id)),
  );
  app.post(
    path,
    { schema: { tags, summary: `Create a ${singular}`, body: create, response: { 201: Envelope(item) } }, config },
    async (request, reply) => {
      const row = await staff.create(kind, request.body);
      reply.code(201).header('Location', `${path}/${row.id}/`);
      return ok(request, row);
    },
  );
  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: detail,
      schema: {
        tags,
        summary: method === 'PATCH' ? `Update part of a ${singular}` : `Replace a ${singular}`,
        params: IdParams,
        body: method === 'PATCH' ? Type.Partial(create, { additionalProperties: false }) : create,
        response: { 200: Envelope(item) },
      },
      config,
      handler: async (request) => {
        const row = await staff.update(kind, request.params.id, { ...request.body }, (current) => checkIfMatch(request, current));
        return ok(request, row);
      },
    });
  }
  app.delete(
    detail,
    { schema: { tags, summary: `Delete a ${singular}`, params: IdParams, response: { 204: Type.Null() } }, config },
    async (request, reply) => {
      await staff.remove(kind, request.params.id);
      return noContent(reply);
    },
  );
}
