import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Envelope, noContent, ok, PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { SUBSCRIPTION_LIST } from './events.subscriptions.repository.js';
import {
  CreateSubscriptionBody,
  ReplaceSubscriptionBody,
  SubscriptionSchema,
  SubscriptionWithSecretSchema,
  UpdateSubscriptionBody,
} from './events.subscriptions.schemas.js';
import type { SubscriptionsService } from './events.subscriptions.service.js';

const tags = ['events'];
const PATH = '/api/v1/events/subscriptions';

export async function eventsSubscriptionsRoutes(fastify: FastifyInstance, deps: { subscriptions: SubscriptionsService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { subscriptions } = deps;
  // Admins who reach every site, checked before the body (403 comes before 400).
  const reach = async (request: FastifyRequest) => subscriptions.checkReach(accountContext(request));
  const admin = { access: 'admin' as const };

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'List webhook subscriptions',
        description: 'Filters: `is_active`; `search` in url and description; `ordering` by created_at, url.',
        querystring: listQuerySchema(SUBSCRIPTION_LIST),
        response: { 200: PageEnvelope(SubscriptionSchema) },
      },
      config: admin,
      preValidation: reach,
    },
    async (request) => sendPage(request, await subscriptions.list(accountContext(request), request.query)),
  );

  app.post(
    PATH,
    {
      schema: {
        tags,
        summary: 'Subscribe a receiver to events',
        description:
          'Every event of the account whose type matches `event_types` is POSTed to `url` as JSON `{type, timestamp, data}` (`data`: the event as the feed shows it), signed the Standard Webhooks way: `webhook-id` (the event id), `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256>`). ' +
          'A 2xx answer is success; 410 disables the subscription; anything else (or no answer within 10 s) is retried with growing gaps for 24 hours. The answer carries `secret`, shown only here.',
        body: CreateSubscriptionBody,
        response: { 201: Envelope(SubscriptionWithSecretSchema) },
      },
      config: admin,
      preValidation: reach,
    },
    async (request, reply) => {
      const created = await subscriptions.create(accountContext(request), request.body);
      reply.code(201).header('Location', `${PATH}/${created.id}/`);
      return ok(request, created);
    },
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: { tags, summary: 'Get a webhook subscription', params: IdParams, response: { 200: Envelope(SubscriptionSchema) } },
      config: admin,
      preValidation: reach,
    },
    async (request, reply) => sendDetail(request, reply, await subscriptions.get(accountContext(request), request.params.id)),
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: `${PATH}/:id`,
      schema: {
        tags,
        summary: method === 'PATCH' ? 'Update part of a webhook subscription' : 'Replace a webhook subscription',
        description:
          'Setting `is_active` back to true after the server disabled it clears `disabled_reason` and `failing_since`.',
        params: IdParams,
        body: method === 'PATCH' ? UpdateSubscriptionBody : ReplaceSubscriptionBody,
        response: { 200: Envelope(SubscriptionSchema) },
      },
      config: admin,
      preValidation: reach,
      handler: async (request) => {
        const changes: UpdateSubscriptionBody = request.body;
        const ctx = accountContext(request);
        return ok(request, await subscriptions.update(ctx, request.params.id, changes, request.headers['if-match']));
      },
    });
  }

  app.delete(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a webhook subscription',
        description: 'Its deliveries and their attempts go with it.',
        params: IdParams,
        response: { 204: Type.Null() },
      },
      config: admin,
      preValidation: reach,
    },
    async (request, reply) => {
      await subscriptions.remove(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );

  app.post(
    `${PATH}/:id/rotate_secret`,
    {
      schema: {
        tags,
        summary: "Rotate a subscription's signing secret",
        description:
          'Answers the new `secret`, shown only here. The previous one keeps signing beside it for 24 hours (`webhook-signature` then lists both), so a receiver can switch without missing a delivery.',
        params: IdParams,
        response: { 200: Envelope(SubscriptionWithSecretSchema) },
      },
      config: admin,
      preValidation: reach,
    },
    async (request) => ok(request, await subscriptions.rotateSecret(accountContext(request), request.params.id)),
  );
}
