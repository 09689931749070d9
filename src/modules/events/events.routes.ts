import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { accountContext } from '../../core/tenancy.js';
import { EVENT_LIST } from './events.repository.js';
import { EventSchema } from './events.schemas.js';
import type { EventsService } from './events.service.js';

export async function eventsRoutes(fastify: FastifyInstance, services: { events: EventsService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'The events feed',
        description:
          'Everything that changed in the account, newest first; read-only. Cursor pages by default (`count` null, `next` to go on); filters: `type`, `type__in`, `source_agent`, `object_type`, `object_id`, `created_after`, `created_before`.',
        querystring: listQuerySchema(EVENT_LIST),
        response: { 200: PageEnvelope(EventSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await services.events.list(accountContext(request), request.query)),
  );
}
