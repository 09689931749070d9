import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Envelope, ok, PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { DELIVERY_LIST } from './events.deliveries.repository.js';
import { DeliveryDetailSchema, DeliverySchema } from './events.deliveries.schemas.js';
import type { WebhookDeliveries } from './events.deliveries.service.js';
import type { SubscriptionsService } from './events.subscriptions.service.js';

const tags = ['events'];
const PATH = '/api/v1/events/deliveries';

export async function eventsDeliveriesRoutes(
  fastify: FastifyInstance,
  deps: { deliveries: WebhookDeliveries; subscriptions: SubscriptionsService },
) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { deliveries } = deps;
  // The log holds every site's events and the receivers' answers: the subscriptions' admins only.
  const reach = async (request: FastifyRequest) => deps.subscriptions.checkReach(accountContext(request));
  const admin = { access: 'admin' as const };

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'List webhook deliveries',
        description:
          'One per event and subscription, newest first; a feed (cursor pages by default, `count` null). Filters: `subscription_id`, `status` (`pending`, `succeeded`, `failed`), `event_type` (each with `__in`), `event_id`, `created_after`, `created_before`.',
        querystring: listQuerySchema(DELIVERY_LIST),
        response: { 200: PageEnvelope(DeliverySchema) },
      },
      config: admin,
      preValidation: reach,
    },
    async (request) => sendPage(request, await deliveries.list(accountContext(request), request.query)),
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'A webhook delivery with its attempts',
        description: '`attempt_log`: every attempt with its response code, the first 2 KiB of the answer, latency and error.',
        params: IdParams,
        response: { 200: Envelope(DeliveryDetailSchema) },
      },
      config: admin,
      preValidation: reach,
    },
    async (request, reply) => sendDetail(request, reply, await deliveries.detail(accountContext(request), request.params.id)),
  );

  app.post(
    `${PATH}/:id/redeliver`,
    {
      schema: {
        tags,
        summary: 'Send a delivery again',
        description:
          'Whatever its state, the delivery is pending again and attempted as soon as its subscription is free (a new attempt, with the retry schedule starting over). `409` when the subscription is disabled.',
        params: IdParams,
        response: { 200: Envelope(DeliverySchema) },
      },
      config: { ...admin, errors: ['conflict'] },
      preValidation: reach,
    },
    async (request) => ok(request, await deliveries.redeliver(accountContext(request), request.params.id), 'Redelivery queued.'),
  );
}
