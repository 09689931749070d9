import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { fieldError } from '../../core/errors.js';
import { listQuerySchema } from '../../core/lists.js';
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
  const stream = deps.eventsStream;

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
      const filters = stream.filters(query);
      const resume = header !== undefined ? Number(header) : resumeQuery;
      const from = resume ?? (await stream.latestId(ctx));
      const closed = new AbortController();
      request.raw.on('close', () => closed.abort());
      reply.hijack();
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 2000\n\n');
      try {
        for await (const event of stream.follow(ctx, filters, from, closed.signal)) {
          if (event === null) reply.raw.write(`: heartbeat ${new Date().toISOString()}\n\n`);
          else reply.raw.write(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
        }
      } catch (error) {
        request.log.warn({ err: error }, 'events stream failed');
        reply.raw.write(
          `event: error\ndata: ${JSON.stringify({ code: 'internal_error', message: 'The stream stopped; reconnect with Last-Event-ID.' })}\n\n`,
        );
      }
      reply.raw.end();
    },
  );
}
