import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { fieldError } from '../../core/errors.js';
import { listQuerySchema } from '../../core/lists.js';
import { serveEventStream } from '../../core/sse.js';
import { accountContext } from '../../core/tenancy.js';
import { EVENT_LIST } from './events.repository.js';
import type { EventsStream } from './events.stream.service.js';

const {
  page: _p,
  page_size: _s,
  limit: _l,
  offset: _o,
  cursor: _c,
  ...filterProperties
} = listQuerySchema(EVENT_LIST).properties;
const StreamQuery = Type.Object(
  {
    ...filterProperties,
    last_event_id: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Where to resume, for clients that cannot send the `Last-Event-ID` header.' }),
    ),
  },
  { additionalProperties: false },
);

export async function eventsStreamRoutes(fastify: FastifyInstance, deps: { eventsStream: EventsStream }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const events = deps.eventsStream;

  app.get(
    '/api/v1/events/stream',
    {
      schema: {
        tags: ['events'],
        summary: "The account's events, live, as server-sent events",
        description:
          'A `text/event-stream`: each event as it commits (from any server process), as `id: <event id>` and `data: <the event as the feed shows it>`, oldest first. ' +
          'Filters as the feed: `type`, `type__in`, `source_agent`, `object_type`, `object_id`, `created_after`, `created_before`. ' +
          'Resumes after the `Last-Event-ID` header (sent by EventSource when it reconnects) or `?last_event_id=`, with nothing missed; without either, starts with the next event. ' +
          'A `: heartbeat` comment every 15 s keeps idle connections open.',
        querystring: StreamQuery,
        response: { 200: { description: 'Server-sent events.', content: { 'text/event-stream': { schema: Type.String() } } } },
      },
      config: { access: 'read' },
    },
    async (request, reply) => {
      const ctx = accountContext(request);
      const { last_event_id: resumeQuery, ...query } = request.query;
      const header = request.headers['last-event-id'];
      if (header !== undefined && !/^\d{1,10}$/.test(String(header))) {
        throw fieldError('Last-Event-ID', 'Must be the id of an event (a whole number).');
      }
      const filters = events.filters(query);
      const resume = header !== undefined ? Number(header) : resumeQuery;
      const from = resume ?? (await events.latestId(ctx));
      await serveEventStream(
        request,
        reply,
        async (stream) => {
          for await (const event of events.follow(ctx, filters, from, stream.signal)) {
            if (event === null) stream.send({ comment: `heartbeat ${new Date().toISOString()}` });
            else stream.send({ id: event.id, data: event });
          }
        },
        'reconnect with Last-Event-ID',
      );
    },
  );
}
